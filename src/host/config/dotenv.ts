import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseEnv } from 'node:util';
import { ConfigError } from './environment';

/**
 * The variables the host reads its settings from: those of `.env` in the working directory, if there is
 * one, under the real environment. The real environment wins, so that what a deployment sets is never
 * overridden by a file someone left behind.
 */
export function hostEnvironment(env: NodeJS.ProcessEnv = process.env, path = resolve('.env')): NodeJS.ProcessEnv {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return env;
    throw new ConfigError(`Cannot read ${path}: ${(err as Error).message}`);
  }
  return { ...parseEnv(text), ...env };
}
