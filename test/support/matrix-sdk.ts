import { execFile } from 'node:child_process';

/**
 * Runs one of the matrix-js-sdk scripts of test/support (ES modules: matrix-js-sdk 43 is ESM) with its
 * JSON configuration, and parses the one JSON object it prints last: what it saw.
 */
export function runMatrixSdkScript(script: string, config: Record<string, string | boolean>): Promise<Record<string, any>> {
  return new Promise((resolve, reject) => {
    execFile('node', [`test/support/${script}`, JSON.stringify(config)], { timeout: 60_000 }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`matrix-js-sdk run failed: ${stderr || err.message}`));
      resolve(JSON.parse(stdout.trim().split('\n').pop()!));
    });
  });
}
