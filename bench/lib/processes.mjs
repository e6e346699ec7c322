// Child processes of the bench: one-shot node commands, and the servers under test (one at a time).
import { spawn } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';

/** The environment of every child: the caller's, minus what would change a server's behaviour. */
export function childEnv(extra) {
  const env = { ...process.env };
  for (const name of Object.keys(env)) {
    if (/^(DEBUG|NODE_OPTIONS|NODE_DEBUG|DATABASE_|CACHE_|AUTH_FAILURE|REVOCATION_|REDIS_URL$|PORT$|HOST$|ISSUER$|LOG_LEVEL$|MIGRATIONS_RUN$)/.test(name)) delete env[name];
  }
  return { ...env, NODE_ENV: 'production', ...extra };
}

/** Runs `node args…` to completion; resolves with its stdout, rejects with its stderr. */
export function runNode(cwd, args, env, { nodeArgs = [] } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...nodeArgs, ...args], { cwd, env: childEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`node ${args.join(' ')} exited ${code}: ${err.trim() || out.trim()}`))));
  });
}

function probe(port, path) {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path, timeout: 1000 }, (res) => {
      res.resume();
      resolve(res.statusCode);
    });
    req.on('error', () => resolve(0));
    req.on('timeout', () => req.destroy());
  });
}

/**
 * Starts a server (`node nodeArgs… script`) and waits until it answers `readyPath` on `port`. Its output,
 * stderr and stdout together (the module logs warnings such as an unreachable database on stdout), is kept:
 * the last 8 KiB, for the report.
 */
export async function startServer({ name, cwd, script, port, readyPath, env, nodeArgs = [], timeoutMs = 60_000 }) {
  const child = spawn(process.execPath, [...nodeArgs, script], { cwd, env: childEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  const server = { name, child, pid: child.pid, port, output: '', exited: null };
  const keep = (d) => (server.output = (server.output + d).slice(-8192));
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  server.exit = new Promise((resolve) => child.on('exit', (code, signal) => resolve((server.exited = { code, signal }))));
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (server.exited) throw new Error(`${name} exited during startup (${JSON.stringify(server.exited)}): ${server.output.trim()}`);
    const status = await probe(port, readyPath);
    if (status >= 200 && status < 500) return server;
    await sleep(100);
  }
  child.kill('SIGKILL');
  throw new Error(`${name} did not answer on port ${port} within ${timeoutMs} ms: ${server.output.trim()}`);
}

/** SIGTERM, then SIGKILL after a grace period. Resolves with the exit status. */
export async function stopServer(server, graceMs = 15_000) {
  if (!server.exited) {
    server.child.kill('SIGTERM');
    const timer = setTimeout(() => server.child.kill('SIGKILL'), graceMs);
    await server.exit;
    clearTimeout(timer);
  }
  return server.exited;
}

let clockTicks;
function ticksPerSecond() {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

/** utime + stime of a process, in ms (Linux /proc), or null where /proc is not there. */
function cpuMsOf(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / ticksPerSecond();
  } catch {
    return null;
  }
}

/**
 * CPU time per PostgreSQL process, in ms: the server's own processes (checkpointer, WAL writer, autovacuum…)
 * and the client backends connected to `database`; other databases' backends (someone else's work on the
 * same server) are left out.
 */
function postgresCpu(database) {
  const out = new Map();
  let entries;
  try {
    entries = readdirSync('/proc');
  } catch {
    return out;
  }
  for (const pid of entries) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      if (readFileSync(`/proc/${pid}/comm`, 'utf8').trim() !== 'postgres') continue;
      // A client backend's title: "postgres: <cluster>: <user> <database> <host>(<port>) <state>".
      const title = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
      const backend = /^postgres: [^:]+: \S+ (\S+) \S+\(\d+\)/.exec(title);
      if (backend && backend[1] !== database) continue;
    } catch {
      continue;
    }
    const ms = cpuMsOf(pid);
    if (ms !== null) out.set(pid, ms);
  }
  return out;
}

/** Busy CPU time of the whole machine (all cores), in ms, from /proc/stat; null where it is not there. */
function machineBusyMs() {
  try {
    const [, ...fields] = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/);
    const [user, nice, system, , , irq, softirq, steal] = fields.map(Number);
    return ((user + nice + system + irq + softirq + steal) * 1000) / ticksPerSecond();
  } catch {
    return null;
  }
}

/**
 * CPU time of the server process, of PostgreSQL (see postgresCpu; a process that exits in between is
 * missed) and of this process (the load generator) over a phase; `others_ms` is what the rest of the
 * machine used meanwhile (someone else's work: a sign of noise when it is more than a few percent).
 */
export function cpuMeter(serverPid, database) {
  const server0 = cpuMsOf(serverPid);
  const pg0 = postgresCpu(database);
  const self0 = process.cpuUsage();
  const machine0 = machineBusyMs();
  return () => {
    const machine1 = machineBusyMs();
    const server1 = cpuMsOf(serverPid);
    let pgMs = 0;
    for (const [pid, ms] of postgresCpu(database)) pgMs += ms - (pg0.get(pid) ?? 0);
    const self = process.cpuUsage(self0);
    const result = {
      server_ms: server0 === null || server1 === null ? null : server1 - server0,
      postgres_ms: pg0.size ? pgMs : null,
      load_generator_ms: Math.round((self.user + self.system) / 1000),
      others_ms: null,
    };
    if (machine0 !== null && machine1 !== null && result.server_ms !== null && result.postgres_ms !== null) {
      result.others_ms = Math.round(machine1 - machine0 - result.server_ms - result.postgres_ms - result.load_generator_ms);
    }
    return result;
  };
}
