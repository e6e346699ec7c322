import { mkdirSync, openSync, readFileSync, rmSync, writeFileSync, closeSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { PGlite } from '@electric-sql/pglite';
import type { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import { DatabaseStartupError } from './database-errors';

/** What the lock file beside an embedded data directory says about the process that holds it. */
interface LockInfo {
  pid: number;
  port?: number;
}

export const MEMORY_DATA_DIR = 'memory://';

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The live process holding `dataDir`, if any (a stale lock of a dead process does not count). */
export function readLock(dataDir: string): LockInfo | null {
  try {
    const info = JSON.parse(readFileSync(lockPath(dataDir), 'utf8')) as LockInfo;
    return typeof info.pid === 'number' && isAlive(info.pid) ? info : null;
  } catch {
    return null;
  }
}

function lockPath(dataDir: string): string {
  return resolve(dataDir) + '.lock';
}

function acquireLock(dataDir: string): void {
  const path = lockPath(dataDir);
  mkdirSync(dirname(path), { recursive: true });
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, 'wx');
      writeFileSync(fd, JSON.stringify({ pid: process.pid }));
      closeSync(fd);
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const holder = readLock(dataDir);
      if (holder && holder.pid !== process.pid) {
        throw new DatabaseStartupError(
          `The embedded database directory ${dataDir} is in use by process ${holder.pid}; stop that process, or set EMBEDDED_DATA_DIR to another directory (or DATABASE_URL to use PostgreSQL).`,
        );
      }
      rmSync(path, { force: true }); // stale lock of a process that is gone
    }
  }
  throw new DatabaseStartupError(`Could not lock the embedded database directory ${dataDir}; set EMBEDDED_DATA_DIR to another directory.`);
}

/**
 * PGlite is an optional peer dependency (28 MB that PostgreSQL-only hosts need not install): say what to
 * install, or what to set instead, when it is missing.
 */
async function loadPGlite(): Promise<{ PGlite: typeof PGlite; PGLiteSocketServer: typeof PGLiteSocketServer }> {
  try {
    const [{ PGlite }, { PGLiteSocketServer }] = await Promise.all([import('@electric-sql/pglite'), import('@electric-sql/pglite-socket')]);
    return { PGlite, PGLiteSocketServer };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'MODULE_NOT_FOUND' && code !== 'ERR_MODULE_NOT_FOUND') throw err;
    throw new DatabaseStartupError(
      'No DATABASE_URL is set, and the embedded database is not installed: set DATABASE_URL to a PostgreSQL URL, or npm install @electric-sql/pglite @electric-sql/pglite-socket',
    );
  }
}

/**
 * PGlite (PostgreSQL compiled to WASM) served in-process on a loopback socket, so that TypeORM reaches it
 * through the same `pg` driver as a real server. PGlite runs one query at a time; the socket server
 * queues queries from its connections and keeps a transaction's queries together.
 */
export class EmbeddedDatabase {
  private constructor(
    readonly dataDir: string,
    readonly url: string,
    private readonly db: PGlite,
    private readonly server: PGLiteSocketServer,
    private readonly locked: boolean,
  ) {}

  static async start(dataDir: string, options: { maxConnections?: number } = {}): Promise<EmbeddedDatabase> {
    const inMemory = dataDir === MEMORY_DATA_DIR;
    if (!inMemory) acquireLock(dataDir);
    try {
      const { PGlite, PGLiteSocketServer } = await loadPGlite();
      if (!inMemory) mkdirSync(dataDir, { recursive: true });
      const db = await PGlite.create(inMemory ? MEMORY_DATA_DIR : resolve(dataDir));
      const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: 0, maxConnections: options.maxConnections ?? 8 });
      await server.start();
      const port = Number(server.getServerConn().split(':').pop());
      if (!inMemory) writeFileSync(lockPath(dataDir), JSON.stringify({ pid: process.pid, port } satisfies LockInfo));
      return new EmbeddedDatabase(dataDir, `postgres://postgres@127.0.0.1:${port}/postgres`, db, server, !inMemory);
    } catch (err) {
      if (!inMemory) rmSync(lockPath(dataDir), { force: true });
      if (err instanceof DatabaseStartupError) throw err;
      throw new DatabaseStartupError(
        `Could not open the embedded database in ${dataDir} (${(err as Error).message}); check EMBEDDED_DATA_DIR or set DATABASE_URL.`,
      );
    }
  }

  /** Lets a short-lived process (the TypeORM CLI) exit once its own work is done. */
  unref(): void {
    (this.server as unknown as { server?: { unref(): void } }).server?.unref();
  }

  /** Closes the socket, flushes PGlite to disk and releases the directory. */
  async stop(): Promise<void> {
    await this.server.stop();
    await this.db.close();
    if (this.locked) rmSync(lockPath(this.dataDir), { force: true });
  }
}
