import { createClient } from 'redis';
import { DatabaseStartupError, redactSecretsIn, redactUrl } from '../database/database-errors';
import { AuthAttemptOutcome, AuthFailureStore, AuthFailureWindow } from './auth-failure-store.interface';

/**
 * Each key is a hash (f: failures, p: pending, s: successes) that Redis expires at the end of its window,
 * so ended windows need no sweep and memory is Redis's maxmemory to bound. Scripts keep each operation
 * atomic and one round trip.
 */
const BEGIN = `
local window = ARGV[1]
local hits = tonumber(ARGV[2])
local out = {}
for i, key in ipairs(KEYS) do
  if i <= hits then
    redis.call('HINCRBY', key, 'p', 1)
    if redis.call('PTTL', key) < 0 then redis.call('PEXPIRE', key, window) end
  end
  local v = redis.call('HMGET', key, 'f', 'p', 's')
  local ttl = redis.call('PTTL', key)
  if ttl < 0 then ttl = 0 end
  out[i] = { tonumber(v[1]) or 0, tonumber(v[2]) or 0, tonumber(v[3]) or 0, ttl }
end
return out`;

const END = `
local window = ARGV[1]
local hits = tonumber(ARGV[2])
local field = ARGV[3]
for i, key in ipairs(KEYS) do
  if i <= hits then
    if redis.call('EXISTS', key) == 1 then
      if tonumber(redis.call('HINCRBY', key, 'p', -1)) < 0 then redis.call('HSET', key, 'p', 0) end
      if field ~= '' then redis.call('HINCRBY', key, field, 1) end
    end
  else
    redis.call('HINCRBY', key, 'f', 1)
    if redis.call('PTTL', key) < 0 then redis.call('PEXPIRE', key, window) end
  end
end
return 0`;

/** The one command this store sends (EVAL), so the client's many generic types need not be spelled. */
interface Client {
  isOpen: boolean;
  sendCommand(args: string[]): Promise<unknown>;
  close(): Promise<unknown>;
}

/** Keys of this store never mix with the other keys of a shared Redis. */
const namespaced = (key: string) => `oauth2-auth-failure:${key}`;

/** The counters in Redis (`REDIS_URL`), shared by every instance that uses the same Redis. */
export class RedisAuthFailureStore implements AuthFailureStore {
  private constructor(private readonly client: Client) {}

  static async connect(url: string): Promise<RedisAuthFailureStore> {
    let connected = false;
    const client = createClient({
      url,
      // Commands fail at once while Redis is unreachable instead of queueing: the guard then answers 503.
      disableOfflineQueue: true,
      socket: {
        connectTimeout: 5000,
        // At startup an unreachable Redis is an error to report; once connected, reconnect forever. (A new
        // Error: the client checks `instanceof Error`, which a socket error from another realm can fail.)
        reconnectStrategy: (retries: number, cause: Error) => (connected ? Math.min(50 * 2 ** retries, 2000) : new Error(cause.message)),
      },
    });
    client.on('error', () => undefined); // reconnects by itself; failed commands reach their callers
    try {
      await client.connect();
    } catch (err) {
      throw new DatabaseStartupError(`Cannot reach Redis at ${redactUrl(url)} (${redactSecretsIn((err as Error).message, url)}); start it, or fix or unset REDIS_URL.`);
    }
    connected = true;
    return new RedisAuthFailureStore(client as unknown as Client);
  }

  async begin(hit: readonly string[], read: readonly string[], windowMs: number): Promise<{ hit: AuthFailureWindow[]; read: AuthFailureWindow[] }> {
    const keys = [...hit, ...read].map(namespaced);
    const rows = (await this.client.sendCommand(['EVAL', BEGIN, String(keys.length), ...keys, String(windowMs), String(hit.length)])) as number[][];
    const windows = rows.map(([failures, pending, successes, resetInMs]) => ({ failures, pending, successes, resetInMs }));
    return { hit: windows.slice(0, hit.length), read: windows.slice(hit.length) };
  }

  async end(hit: readonly string[], outcome: AuthAttemptOutcome, alsoFail: readonly string[], windowMs: number): Promise<void> {
    const keys = [...hit, ...(outcome === 'failure' ? alsoFail : [])].map(namespaced);
    const field = outcome === 'failure' ? 'f' : outcome === 'success' ? 's' : '';
    await this.client.sendCommand(['EVAL', END, String(keys.length), ...keys, String(windowMs), String(hit.length), field]);
  }

  async sweep(): Promise<void> {
    // Redis expires ended windows itself.
  }

  async close(): Promise<void> {
    if (this.client.isOpen) await this.client.close();
  }
}
