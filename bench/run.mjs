// npm run bench: the revocation module under load on real PostgreSQL, against a floor (bare node:http + pg
// doing the same two statements) and a peer (oidc-provider 8 on a PostgreSQL adapter).
//
// What runs, in order, each server alone on the machine (PostgreSQL, the server and autocannon share it):
//   1. build (npm run build), a bench database nor_bench_<run>_main: the module's migrations, a confidential
//      client from the admin CLI, BENCH_GRANTS grants (access + refresh token each) loaded with COPY, and the
//      peer's own table in the same database with as many grants minted through oidc-provider's models;
//   2. scenarios, each on a freshly started server after VACUUM ANALYZE, CHECKPOINT and pg_prewarm of the
//      tables, a warm-up, then the measured phase, 32 connections, every request a token no earlier request used
//      (except introspect_hit):
//        revoke_live       module (client cache on, group commit: the defaults), module_nocache
//                          (CACHE_TTL_SECONDS=0), module_ungrouped (REVOCATION_STATEMENTS_IN_FLIGHT=0), floor,
//                          peer: revoke live tokens (half access, half refresh, one per grant), confidential
//                          client, client_secret_basic; BENCH_ROUNDS rounds (3), the servers in turn, then in
//                          reverse turn, and so on; pooled; ratios of both module rows to the floor and the peer
//                          (issue 14's targets for the module: ≥ 0.85 of the floor, ≥ 1.2× the peer: reported
//                          as met or not, never asserted)
//        revoke_unknown    module: well-formed tokens that are not stored
//        revoke_anonymous  module: live tokens, no client authentication
//        introspect_live   module: POST /oauth2/introspect of live tokens, confidential client, Basic
//        introspect_hit    module: introspect the same live access token every request (token check cache hit)
//        introspect_miss   module: introspect a new live access token every request (token check cache miss)
//        propagation       two module instances on the database: revoke through A, poll B's introspection until
//                          inactive; the delay from A's 200 over BENCH_PROPAGATION_TRIALS trials (p50/p99/max)
//        profile           module and floor under node --cpu-prof, revoke_live again (not comparable:
//                          the profiler's cost), split by kind of code
//      A phase during which other processes used over 10% of the machine is repeated (BENCH_RETRY_NOISY).
//      Tokens: each phase is sized before it starts and again after its warm-up, from the rates measured in
//      this run (see TokenFeed); feeds that would run short are topped up with new grants between phases. A
//      phase that runs out of tokens anyway, or gets answers its scenario does not expect, is marked failed
//      (repeated once) and reported as FAILED, never as a number; the run then exits non-zero.
//   3. scale: revoke_live on the module with 10,000 and 1,000,000 grants (a database each), the same fixed
//      number of requests on both (a 10,000-grant database has only 10,000 grants to revoke), in BENCH_ROUNDS
//      rounds in alternating order (the small database is seeded anew for each round), pooled;
//   4. results in bench/results/<timestamp>.json, a table on stdout; `npm run bench:summary` turns a results
//      file into BENCHMARKS.md. The bench databases are dropped.
//
// Settings (environment): BENCH_DATABASE_URL (postgres://postgres@127.0.0.1:5432/), BENCH_QUICK=1 (short
// phases, fewer grants, no scale, no profile: for development), BENCH_SCALE=0|1, BENCH_PROFILE=0|1,
// BENCH_PEER=0|1, BENCH_PROPAGATION=0|1, BENCH_PROPAGATION_TRIALS (300), BENCH_DURATION / BENCH_WARMUP (s),
// BENCH_CONNECTIONS, BENCH_POOL_SIZE, BENCH_GRANTS, BENCH_RATE_GUESS (req/s assumed before any phase ran:
// 3000), BENCH_TOPUP_MIN (fewest grants per top-up), BENCH_SCALE_GRANTS (list), BENCH_SCALE_WARMUP /
// BENCH_SCALE_REQUESTS, BENCH_RETRY_NOISY=0|1, BENCH_ROUNDS, BENCH_SKIP_BUILD=1, BENCH_AUTH_FAILURE_STORE
// (memory|postgres|redis: the module's AUTH_FAILURE_STORE; unset: the host's default, postgres here),
// BENCH_NOTIFY_TRIGGERS=0 (an experiment: the notification triggers disabled in the bench database, to measure
// what the invalidation and outbox notifications cost; never a reference run).
// `node bench/run.mjs --cleanup` drops bench databases an interrupted run left behind.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { createDatabase, dropDatabase, listBenchDatabases, serverVersion, settle, withClient } from './lib/databases.mjs';
import { combineLoads, runLoad } from './lib/load.mjs';
import { addModuleGrants, MODULE_TABLES, prepareModuleDatabase, seedModuleGrants, tokenFormat } from './lib/module-seed.mjs';
import { measurePropagation } from './lib/propagation.mjs';
import { cpuMeter, runNode, startServer, stopServer } from './lib/processes.mjs';
import { analyseProfile } from './lib/profile.mjs';
import { formatTable } from './lib/report.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const env = process.env;
const flag = (name, fallback) => (env[name] === undefined || env[name] === '' ? fallback : env[name] === '1' || env[name] === 'true');
const num = (name, fallback) => (env[name] ? Number(env[name]) : fallback);

const quick = flag('BENCH_QUICK', false);
const settings = {
  quick,
  server_url: env.BENCH_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/',
  connections: num('BENCH_CONNECTIONS', 32),
  warmup_s: num('BENCH_WARMUP', quick ? 2 : 5),
  duration_s: num('BENCH_DURATION', quick ? 5 : 20),
  pool_size: num('BENCH_POOL_SIZE', 10),
  grants: num('BENCH_GRANTS', quick ? 50_000 : 400_000),
  peer: flag('BENCH_PEER', true),
  profile: flag('BENCH_PROFILE', !quick),
  scale: flag('BENCH_SCALE', !quick),
  scale_grants: (env.BENCH_SCALE_GRANTS || '10000,1000000').split(',').map(Number),
  scale_warmup_requests: num('BENCH_SCALE_WARMUP', 2_000),
  scale_requests: num('BENCH_SCALE_REQUESTS', 7_500),
  retry_noisy: flag('BENCH_RETRY_NOISY', true),
  rounds: num('BENCH_ROUNDS', quick ? 1 : 3),
  // Requests/s assumed for the first phase of a run when sizing its tokens (see TokenFeed).
  rate_guess: num('BENCH_RATE_GUESS', 3_000),
  topup_min: num('BENCH_TOPUP_MIN', quick ? 5_000 : 20_000),
  propagation: flag('BENCH_PROPAGATION', true),
  propagation_trials: num('BENCH_PROPAGATION_TRIALS', quick ? 100 : 300),
  // The module host's brute-force counters (AUTH_FAILURE_STORE): unset, the host's default, which with
  // DATABASE_URL is postgres (two statements per authenticated request on the auth_failure_windows rows of
  // the one client and address the bench uses); memory keeps them in the process.
  auth_failure_store: env.BENCH_AUTH_FAILURE_STORE || null,
  notify_triggers: env.BENCH_NOTIFY_TRIGGERS !== '0',
};
// Issue 14's targets for revoke_live with the client cache, reported as met or not, never asserted.
const TARGETS = { module_vs_floor: 0.85, module_vs_peer: 1.2 };
const CLIENT_ID = 'bench';
const PORT = 3917;
const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '').replace('T', '-');
const runId = stamp.replace('-', '_').toLowerCase();
const log = (line) => process.stdout.write(`${line}\n`);

// ---- cleanup: bench databases and the running server go whatever happens ----
const databases = new Set();
let running = null;
const propagationServers = [];
async function cleanup() {
  if (running) await stopServer(running, 5000).catch(() => undefined);
  for (const server of propagationServers) await stopServer(server, 5000).catch(() => undefined);
  for (const name of databases) await dropDatabase(settings.server_url, name).catch(() => undefined);
}
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    log(`\n${signal}: stopping, dropping bench databases`);
    cleanup().finally(() => process.exit(130));
  });
}

async function newDatabase(what) {
  const name = `nor_bench_${runId}_${what}`;
  databases.add(name);
  return { name, url: await createDatabase(settings.server_url, name) };
}

async function forgetDatabase(db) {
  await dropDatabase(settings.server_url, db.name);
  databases.delete(db.name);
}

// ---- token feeds: each request takes the next token no earlier request used ----
// A phase is sized before it starts: it needs (warm-up + measured seconds) × the highest rate this run has
// seen for the same scenario on the same server (see expectedRate for a first time) × SAFETY, plus a margin
// for the requests in flight. After the warm-up the measured part is sized again if the warm-up went faster
// than that. A feed that has fewer tokens left than needed is topped up with new grants (refill) while nothing
// is measured. A phase that runs out anyway is marked failed (and repeated once), never reported as a number.
const SAFETY = 1.5;
const rates = new Map();

function noteRate(key, load) {
  if (load?.requests_per_s && Number.isFinite(load.requests_per_s)) rates.set(key, Math.max(rates.get(key) ?? 0, load.requests_per_s));
}

/**
 * Requests per second a phase of `key` (`<scenario>/<server>`) can be expected to reach, at most: what it
 * reached before in this run; else twice what the same server reached on revoke_live, else twice the
 * fastest phase so far, else BENCH_RATE_GUESS.
 */
function expectedRate(key) {
  if (rates.has(key)) return rates.get(key);
  const sameServer = rates.get(`revoke_live/${key.split('/')[1]}`);
  if (sameServer) return 2 * sameServer;
  return rates.size ? 2 * Math.max(...rates.values()) : settings.rate_guess;
}

const tokensFor = (rate, seconds) => Math.ceil(rate * seconds * SAFETY) + 4 * settings.connections;

class TokenFeed {
  /** `refill(n)` resolves with at least n new tokens (new grants in the database), or is absent. */
  constructor(name, tokens, kindOf, refill = null) {
    this.name = name;
    this.tokens = tokens;
    this.kindOf = kindOf;
    this.refill = refill;
    this.next = 0;
  }

  get left() {
    return this.tokens.length - this.next;
  }

  /** The next unused token, or null. */
  take() {
    return this.next < this.tokens.length ? this.tokens[this.next++] : null;
  }

  /** Tops the feed up to `needed` unused tokens when it has fewer (and can). */
  async ensure(needed, why) {
    if (this.left >= needed) return;
    if (!this.refill) {
      log(`  !! ${this.name}: ${this.left.toLocaleString('en')} tokens left, ${needed.toLocaleString('en')} wanted, and no way to add more`);
      return;
    }
    const started = Date.now();
    const wanted = Math.max(needed - this.left, settings.topup_min);
    const added = await this.refill(wanted);
    this.tokens = this.tokens.slice(this.next).concat(added);
    this.next = 0;
    const seconds = Number(((Date.now() - started) / 1000).toFixed(1));
    topUps.push({ feed: this.name, why, grants: added.length, seconds });
    log(`  topped up ${this.name}: ${added.length.toLocaleString('en')} new grants for ${why} (${seconds} s)`);
  }

  /** A body source for runLoad that counts the kinds it hands out. */
  bodies() {
    const counts = { access_token: 0, refresh_token: 0 };
    const nextBody = () => {
      const token = this.take();
      if (token === null) return null;
      const kind = this.kindOf(token);
      counts[kind]++;
      // RFC 7009 §2.1 hint, correct for every token: the module and the floor ignore it, the peer uses it
      // to look in the right place first.
      return `token=${encodeURIComponent(token)}&token_type_hint=${kind}`;
    };
    return { nextBody, counts, feed: this };
  }
}
const topUps = [];

const basic = (id, secret) => `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;

// ---- servers ----
/** The module's host; `name` module_nocache with CACHE_TTL_SECONDS 0 (caches off). */
function moduleServer(db, extra = {}, { name = 'module', port = PORT } = {}) {
  return {
    name,
    script: 'dist/src/host/main.js',
    readyPath: '/health',
    env: {
      DATABASE_URL: db.url,
      DATABASE_POOL_SIZE: String(settings.pool_size),
      PORT: String(port),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      MIGRATIONS_RUN: 'true',
      ...(settings.auth_failure_store ? { AUTH_FAILURE_STORE: settings.auth_failure_store } : {}),
      ...extra,
    },
  };
}

function floorServer(db) {
  return {
    name: 'floor',
    script: 'bench/floor/server.mjs',
    readyPath: '/',
    env: { DATABASE_URL: db.url, DATABASE_POOL_SIZE: String(settings.pool_size), PORT: String(PORT), HOST: '127.0.0.1' },
  };
}

function peerServer(db, secret) {
  return {
    name: 'peer',
    script: 'bench/peer/server.mjs',
    readyPath: '/.well-known/openid-configuration',
    env: { DATABASE_URL: db.url, DATABASE_POOL_SIZE: String(settings.pool_size), PORT: String(PORT), HOST: '127.0.0.1', PEER_CLIENT_SECRET: secret },
  };
}

const countSql = {
  module: `SELECT (SELECT count(*) FROM revocation_audit)::int AS revoked_grants,
                  (SELECT count(*) FROM access_tokens WHERE first_used_at IS NOT NULL)::int AS introspected_access_tokens`,
  peer: `SELECT model, count(*)::int AS n FROM oidc_payloads GROUP BY model`,
};

async function databaseCounts(db, kind) {
  return withClient(db.url, async (c) => {
    const { rows } = await c.query(countSql[kind]);
    const counts = kind === 'module' ? rows[0] : Object.fromEntries(rows.map((r) => [r.model, r.n]));
    // Pages found in shared buffers, and pages PostgreSQL had to read in (from the OS cache or the disk).
    const stats = await c.query(`SELECT blks_hit::float8 AS blks_hit, blks_read::float8 AS blks_read FROM pg_stat_database WHERE datname = current_database()`);
    return { ...counts, ...stats.rows[0] };
  });
}

function delta(before, after) {
  return Object.fromEntries(Object.keys({ ...before, ...after }).map((k) => [k, (after[k] ?? 0) - (before[k] ?? 0)]));
}

/**
 * One scenario on one server: size its tokens, settle the database, start the server, warm up, size the
 * measured part again from the warm-up's rate, measure (with the CPU time of the server, PostgreSQL and
 * autocannon), let in-flight requests finish, stop the server. A phase that ran out of tokens, or got answers
 * the scenario does not expect, is marked `failed` with the reason: its numbers are kept in the results for
 * the record but never reported as a measurement.
 */
async function scenario({ id, title, db, server, tables, counts, path: urlPath, headers, bodies, checkBody, amount, nodeArgs, grants }) {
  log(`\n[${id} / ${server.name}] ${title}`);
  const rateKey = `${id}/${server.name}`;
  const feed = amount ? null : bodies.feed;
  const prior = expectedRate(rateKey);
  if (feed) await feed.ensure(tokensFor(prior, settings.warmup_s + settings.duration_s), `${rateKey} at up to ${Math.round(prior)} req/s`);
  const prewarmed = await settle(db.url, tables);
  const before = await databaseCounts(db, counts);
  running = await startServer({ ...server, cwd: root, port: Number(server.env.PORT), nodeArgs });
  try {
    let unexpected = 0;
    const onBody = checkBody && ((status, body) => void (checkBody(status, body) || unexpected++));
    const kinds0 = { ...bodies.counts };
    const load = { port: Number(server.env.PORT), path: urlPath, headers, connections: settings.connections, onBody };
    const warmup = await runLoad({
      ...load,
      nextBody: bodies.nextBody,
      ...(amount ? { amount: amount.warmup } : { duration: settings.warmup_s }),
    });
    log(`  warm-up  ${describe(warmup)}`);
    if (feed) {
      noteRate(rateKey, warmup);
      // Only adds when the warm-up went faster than expected: the tokens for the prior rate are there already.
      const rate = Math.max(prior, warmup.requests_per_s || 0);
      await feed.ensure(tokensFor(rate, settings.duration_s), `the measured part of ${rateKey} (warm-up ${Math.round(warmup.requests_per_s)} req/s)`);
    }
    const grantsNow = typeof grants === 'function' ? grants() : grants;
    const meter = cpuMeter(running.pid, db.name);
    const fromUs = Number(process.hrtime.bigint() / 1000n);
    const measured = await runLoad({ ...load, nextBody: bodies.nextBody, ...(amount ? { amount: amount.measured } : { duration: settings.duration_s }) });
    const toUs = Number(process.hrtime.bigint() / 1000n);
    const cpu = meter();
    log(`  measured ${describe(measured)}`);
    if (feed) noteRate(rateKey, measured);
    // Requests autocannon gave up on at the end are still being answered: let them finish first.
    await sleep(1000);
    const exit = await stopServer(running);
    const output = running.output.trim();
    running = null;
    const after = await databaseCounts(db, counts);
    const perRequest = (ms) => (ms === null ? null : Number(((ms * 1000) / measured.requests).toFixed(1)));
    const failures = [];
    if (warmup.exhausted) failures.push('ran out of tokens in the warm-up');
    if (measured.exhausted) failures.push('ran out of tokens in the measured phase');
    if (unexpected) failures.push(`${unexpected} answers were not what the scenario expects`);
    // Every scenario expects 2xx answers only: a 503 or a dropped connection is not a measurement either.
    else if (measured.non_2xx || measured.errors) failures.push(`${measured.non_2xx} non-2xx answers and ${measured.errors} errors in the measured phase`);
    const result = {
      id,
      server: server.name,
      title,
      grants: grantsNow,
      failed: failures.length ? failures.join('; ') : null,
      warmup,
      measured,
      token_kinds: bodies.counts ? delta(kinds0, bodies.counts) : null,
      unexpected_bodies: checkBody ? unexpected : null,
      cpu_ms: cpu,
      cpu_us_per_request: {
        server: perRequest(cpu.server_ms),
        postgres: perRequest(cpu.postgres_ms),
        load_generator: perRequest(cpu.load_generator_ms),
      },
      // Share of the machine's CPU (all cores) that other processes used during the measured phase.
      others_cpu_share: cpu.others_ms === null ? null : Number((cpu.others_ms / (measured.duration_s * 1000 * os.cpus().length)).toFixed(3)),
      database_delta: delta(before, after),
      prewarmed,
      server_exit: exit,
      server_output: output ? output.split('\n').slice(-20) : [],
      window_us: { from: fromUs, to: toUs },
    };
    if (result.others_cpu_share > 0.05) log(`  !! other processes used ${(100 * result.others_cpu_share).toFixed(0)}% of the machine meanwhile: noisy`);
    if (measured.non_2xx || measured.errors || warmup.non_2xx || warmup.errors) log(`  !! non-2xx or errors: ${JSON.stringify(measured.status_counts)}`);
    if (result.failed) log(`  !! FAILED, not a measurement: ${result.failed}`);
    if (output) log(`  server output (last lines):\n    ${result.server_output.join('\n    ')}`);
    return result;
  } catch (err) {
    if (running) await stopServer(running, 5000).catch(() => undefined);
    running = null;
    throw err;
  }
}

const NOISY = 0.1;
let retriesLeft = 4;

/**
 * A scenario that is repeated, after a pause, when other processes used more than 10% of the machine during
 * its measured phase (someone else's build or test run): up to twice per scenario and four times per run.
 * The quietest attempt that did not fail is kept, the others are recorded in `noisy_attempts`. Runs bounded
 * by a request count are not repeated for noise: their tokens are counted. A phase that failed (ran out of
 * tokens: its rate is known now, so the next attempt is sized for it) is repeated once, without the pause.
 */
async function quietScenario(args) {
  const attempts = [await scenario(args)];
  let failedRepeats = 0;
  for (;;) {
    const last = attempts.at(-1);
    if (last.failed && failedRepeats < 1 && retriesLeft > 0) {
      failedRepeats++;
      retriesLeft--;
      log('  repeating: the attempt failed');
    } else if (settings.retry_noisy && !args.amount && !last.failed && last.others_cpu_share > NOISY && attempts.length < 3 && retriesLeft > 0) {
      retriesLeft--;
      log(`  repeating in 30 s: the machine was busy with other work`);
      await sleep(30_000);
    } else break;
    attempts.push(await scenario(args));
  }
  attempts.sort((a, b) => (a.failed ? 1 : 0) - (b.failed ? 1 : 0) || (a.others_cpu_share ?? 0) - (b.others_cpu_share ?? 0));
  const [kept, ...dropped] = attempts;
  if (dropped.length) {
    kept.noisy_attempts = dropped.map((d) => ({ failed: d.failed, others_cpu_share: d.others_cpu_share, measured: d.measured, cpu_us_per_request: d.cpu_us_per_request }));
  }
  return kept;
}

/** revoke_live rounds of one server as one result; each round's own numbers are kept in `rounds`. */
function combineRounds(results) {
  if (results.length === 1) return results[0];
  const sum = (f) => results.reduce((total, r) => total + f(r), 0);
  const measured = combineLoads(results.map((r) => r.measured));
  const cpu = {};
  for (const key of Object.keys(results[0].cpu_ms)) cpu[key] = results.some((r) => r.cpu_ms[key] === null) ? null : sum((r) => r.cpu_ms[key]);
  const perRequest = (ms) => (ms === null ? null : Number(((ms * 1000) / measured.requests).toFixed(1)));
  const addUp = (f) => {
    const out = {};
    for (const r of results) for (const [k, v] of Object.entries(f(r) ?? {})) out[k] = (out[k] ?? 0) + v;
    return out;
  };
  const failed = results.map((r, i) => (r.failed ? `round ${i + 1}: ${r.failed}` : null)).filter(Boolean);
  return {
    ...results[0],
    // One failed round spoils the pooled numbers: the whole row is then failed.
    failed: failed.length ? failed.join('; ') : null,
    grants: results.at(-1).grants,
    warmup: combineLoads(results.map((r) => r.warmup)),
    measured,
    token_kinds: addUp((r) => r.token_kinds),
    cpu_ms: cpu,
    cpu_us_per_request: { server: perRequest(cpu.server_ms), postgres: perRequest(cpu.postgres_ms), load_generator: perRequest(cpu.load_generator_ms) },
    others_cpu_share: Math.max(...results.map((r) => r.others_cpu_share ?? 0)),
    database_delta: addUp((r) => r.database_delta),
    server_output: results.flatMap((r) => r.server_output),
    window_us: null,
    rounds: results.map((r) => ({
      failed: r.failed,
      requests_per_s: r.measured.requests_per_s,
      latency_ms: r.measured.latency_ms,
      non_2xx: r.measured.non_2xx,
      errors: r.measured.errors,
      cpu_us_per_request: r.cpu_us_per_request,
      others_cpu_share: r.others_cpu_share,
      ...(r.noisy_attempts ? { noisy_attempts: r.noisy_attempts } : {}),
    })),
  };
}

function describe(r) {
  const bad = r.non_2xx || r.errors ? `, non-2xx ${r.non_2xx}, errors ${r.errors}` : '';
  return `${r.requests} req in ${r.duration_s} s = ${r.requests_per_s} req/s, p50 ${r.latency_ms.p50} ms, p99 ${r.latency_ms.p99} ms${bad}`;
}

function packageVersions() {
  const names = [
    '@nestjs/core',
    '@nestjs/common',
    '@nestjs/platform-express',
    'express',
    'typeorm',
    'pg',
    'class-validator',
    'class-transformer',
    'oidc-provider',
    'koa',
    'autocannon',
    'pg-copy-streams',
  ];
  const versions = {};
  for (const name of names) {
    try {
      versions[name] = JSON.parse(readFileSync(path.join(root, 'node_modules', name, 'package.json'), 'utf8')).version;
    } catch {
      versions[name] = null;
    }
  }
  versions['nestjs-oauth2-revocation'] = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')).version;
  return versions;
}

function gitDescribe() {
  return new Promise((resolve) => {
    const child = spawn('git', ['rev-parse', 'HEAD'], { cwd: root, stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.on('error', () => resolve(null));
    child.on('close', () => resolve(out.trim() || null));
  });
}

function npmRunBuild() {
  return new Promise((resolve, reject) => {
    const child = spawn('npm', ['run', '--silent', 'build'], { cwd: root, stdio: 'inherit' });
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`npm run build exited ${code}`))));
  });
}

async function main() {
  if (process.argv.includes('--cleanup')) {
    for (const name of await listBenchDatabases(settings.server_url)) {
      await dropDatabase(settings.server_url, name);
      log(`dropped ${name}`);
    }
    return;
  }
  // The host reads .env from its working directory (under the real environment): one left in the
  // repository would change the module's settings (caches, brute-force store…) behind the bench's back.
  if (existsSync(path.join(root, '.env'))) {
    throw new Error(`${path.join(root, '.env')} exists: the module's host would read its settings from it. Move it away for the bench.`);
  }
  const started = Date.now();
  const elapsed = () => `${((Date.now() - started) / 1000).toFixed(0)} s`;
  if (!flag('BENCH_SKIP_BUILD', false)) {
    log('building (npm run build)');
    await npmRunBuild();
  }
  const { generateToken } = tokenFormat(root);
  const kindOf = (token) => (token.startsWith('oat_') ? 'access_token' : 'refresh_token');

  const results = {
    run_id: runId,
    date: new Date().toISOString(),
    quick,
    machine: {
      cpu_model: os.cpus()[0]?.model ?? null,
      cores: os.cpus().length,
      memory_gb: Number((os.totalmem() / 2 ** 30).toFixed(1)),
      os: `${os.type()} ${os.release()}`,
      node: process.version,
      postgres: await serverVersion(settings.server_url),
    },
    packages: packageVersions(),
    git_commit: await gitDescribe(),
    settings: { ...settings, server_url: undefined },
    scenarios: [],
    scale: null,
    propagation: null,
    profile: null,
    ratios: null,
    top_ups: [],
  };
  log(`machine: ${results.machine.cpu_model}, ${results.machine.cores} cores, node ${process.version}, PostgreSQL ${results.machine.postgres.version}`);

  // ---- the main database: module tables + the peer's table ----
  const main = await newDatabase('main');
  log(`\nseeding ${main.name}: ${settings.grants.toLocaleString('en')} grants for the module (${elapsed()})`);
  const secret = await prepareModuleDatabase(root, main.url, CLIENT_ID);
  const kept = await seedModuleGrants(root, main.url, { clientId: CLIENT_ID, grants: settings.grants, keep: settings.grants, log });
  // Grants in the module's tables now (top-ups add to them): the grants column of a phase.
  let mainGrants = settings.grants;
  const moduleTopUp = (pick) => async (n) => {
    const pairs = await addModuleGrants(root, main.url, { clientId: CLIENT_ID, grants: n });
    mainGrants += n;
    return pairs.map((pair, i) => (pick === 'access' || i % 2 === 0 ? pair.access : pair.refresh));
  };
  const feed = new TokenFeed('module tokens', kept, kindOf, moduleTopUp('mixed'));
  // Access tokens only, of grants no other phase touches: token checks (only access token checks are cached).
  const accessFeed = new TokenFeed('module access tokens', [], kindOf, moduleTopUp('access'));
  const auth = basic(CLIENT_ID, secret);
  const moduleCounts = { tables: MODULE_TABLES, counts: 'module', grants: () => mainGrants };

  let peerFeed = null;
  let peerGrants = settings.grants;
  const peerSecret = 'peer-' + Buffer.from(kept[0]).toString('base64url').slice(0, 32);
  const peerKind = new Map();
  const seedPeer = async (grants, append) => {
    const tokensFile = path.join(os.tmpdir(), `nor_bench_${runId}_peer_tokens.txt`);
    const out = await runNode(root, ['bench/peer/seed.mjs', main.url, String(grants), String(grants), peerSecret, tokensFile, ...(append ? ['append'] : [])], {});
    const lines = readFileSync(tokensFile, 'utf8').trim().split('\n');
    rmSync(tokensFile, { force: true });
    log(`  ${out.trim()}`);
    return lines.map((line) => {
      const [kind, token] = line.split(' ');
      peerKind.set(token, kind);
      return token;
    });
  };
  if (settings.peer) {
    log(`seeding the peer's table in ${main.name}: ${settings.grants.toLocaleString('en')} grants through oidc-provider (${elapsed()})`);
    peerFeed = new TokenFeed('peer tokens', await seedPeer(settings.grants, false), (t) => peerKind.get(t), async (n) => {
      const tokens = await seedPeer(n, true);
      peerGrants += n;
      return tokens;
    });
  }
  log(`seeded (${elapsed()})`);

  const add = (r) => results.scenarios.push(r);
  const s1 = 'revoke live tokens, one per grant, half access / half refresh; confidential client, client_secret_basic';

  // revoke_live on the servers in rounds, in turn and in reverse turn (module, module without caches, module
  // without group commit, floor, peer, then peer, floor, …), so that drift over the run (table growth, the machine's mood) falls on all.
  const moduleLive = (title, server) => ({ id: 'revoke_live', title, db: main, server, ...moduleCounts, path: '/oauth2/revoke', headers: { authorization: auth }, bodies: feed.bodies() });
  const live = [
    moduleLive(s1, moduleServer(main)),
    moduleLive(`${s1}; caches off (CACHE_TTL_SECONDS=0)`, moduleServer(main, { CACHE_TTL_SECONDS: '0' }, { name: 'module_nocache' })),
    moduleLive(`${s1}; no group commit (REVOCATION_STATEMENTS_IN_FLIGHT=0)`, moduleServer(main, { REVOCATION_STATEMENTS_IN_FLIGHT: '0' }, { name: 'module_ungrouped' })),
    moduleLive(s1, floorServer(main)),
  ];
  if (peerFeed) {
    live.push({
      id: 'revoke_live',
      title: s1,
      db: main,
      server: peerServer(main, peerSecret),
      tables: ['oidc_payloads'],
      counts: 'peer',
      grants: () => peerGrants,
      path: '/token/revocation',
      headers: { authorization: basic('bench', peerSecret) },
      bodies: peerFeed.bodies(),
    });
  }
  const rounds = new Map(live.map((args) => [args.server.name, []]));
  for (let round = 0; round < settings.rounds; round++) {
    for (const args of round % 2 === 0 ? live : [...live].reverse()) {
      log(`\n(round ${round + 1} of ${settings.rounds})`);
      rounds.get(args.server.name).push(await quietScenario(args));
    }
  }
  for (const args of live) add(combineRounds(rounds.get(args.server.name)));

  const unknown = {
    counts: { access_token: 0, refresh_token: 0 },
    nextBody() {
      const kind = unknown.counts.access_token <= unknown.counts.refresh_token ? 'access_token' : 'refresh_token';
      unknown.counts[kind]++;
      return `token=${generateToken(kind === 'access_token' ? 'oat_' : 'ort_')}&token_type_hint=${kind}`;
    },
  };
  add(
    await quietScenario({
      id: 'revoke_unknown',
      title: 'revoke well-formed tokens that are not stored; confidential client, client_secret_basic',
      db: main,
      server: moduleServer(main),
      ...moduleCounts,
      path: '/oauth2/revoke',
      headers: { authorization: auth },
      bodies: unknown,
    }),
  );
  add(
    await quietScenario({
      id: 'revoke_anonymous',
      title: 'revoke live tokens without client authentication (a secret scanner)',
      db: main,
      server: moduleServer(main),
      ...moduleCounts,
      path: '/oauth2/revoke',
      headers: {},
      bodies: feed.bodies(),
    }),
  );
  // Every token these phases present is live: every answer must say so.
  const activeAnswer = (status, body) => status === 200 && body.startsWith('{"active":true');
  add(
    await quietScenario({
      id: 'introspect_live',
      title: 'introspect live tokens (each once, half access / half refresh); confidential client, client_secret_basic',
      db: main,
      server: moduleServer(main),
      ...moduleCounts,
      path: '/oauth2/introspect',
      headers: { authorization: auth },
      bodies: feed.bodies(),
      checkBody: activeAnswer,
    }),
  );

  // Token checks through the cache that introspection and the bearer guard share: the same live access token
  // every request (after the first, a hit: no SQL), and a new access token every request (a miss: the check's
  // one statement, which also records the token's first use).
  await accessFeed.ensure(1, 'introspect_hit');
  const hitToken = accessFeed.take();
  const hitBodies = {
    counts: { access_token: 0, refresh_token: 0 },
    nextBody() {
      hitBodies.counts.access_token++;
      return `token=${encodeURIComponent(hitToken)}&token_type_hint=access_token`;
    },
  };
  add(
    await quietScenario({
      id: 'introspect_hit',
      title: 'introspect one live access token over and over (token check cache hit); confidential client, client_secret_basic',
      db: main,
      server: moduleServer(main),
      ...moduleCounts,
      path: '/oauth2/introspect',
      headers: { authorization: auth },
      bodies: hitBodies,
      checkBody: activeAnswer,
    }),
  );
  add(
    await quietScenario({
      id: 'introspect_miss',
      title: 'introspect live access tokens, each once (token check cache miss); confidential client, client_secret_basic',
      db: main,
      server: moduleServer(main),
      ...moduleCounts,
      path: '/oauth2/introspect',
      headers: { authorization: auth },
      bodies: accessFeed.bodies(),
      checkBody: activeAnswer,
    }),
  );

  // ---- A→B propagation: two instances on the main database ----
  if (settings.propagation) {
    const trials = settings.propagation_trials;
    log(`\n[propagation] revoke on instance A, poll instance B's introspection until inactive: ${trials} trials`);
    await accessFeed.ensure(trials + 10, 'propagation');
    await settle(main.url, MODULE_TABLES);
    const serverA = moduleServer(main, {}, { name: 'module_a', port: PORT });
    const serverB = moduleServer(main, {}, { name: 'module_b', port: PORT + 1 });
    try {
      propagationServers.push(await startServer({ ...serverA, cwd: root, port: PORT }));
      propagationServers.push(await startServer({ ...serverB, cwd: root, port: PORT + 1 }));
      const meter = cpuMeter(propagationServers[1].pid, main.name);
      const started = performance.now();
      const r = await measurePropagation({ portA: PORT, portB: PORT + 1, auth, nextToken: () => accessFeed.take(), trials });
      const seconds = (performance.now() - started) / 1000;
      const cpu = meter();
      const failures = [];
      if (r.setup_failures) failures.push(`${r.setup_failures} trials could not be set up (${r.setup_errors.join('; ')})`);
      if (!r.measured) failures.push('no trial measured');
      results.propagation = {
        ...r,
        failed: failures.length ? failures.join('; ') : null,
        bound_ms: 100,
        within_bound: r.measured ? r.timed_out === 0 && r.delay_ms.max < 100 : null,
        seconds: Number(seconds.toFixed(1)),
        // Instance A's CPU counts here too (one revocation per trial).
        others_cpu_share: cpu.others_ms === null ? null : Number((cpu.others_ms / (seconds * 1000 * os.cpus().length)).toFixed(3)),
      };
      const d = r.delay_ms;
      log(`  ${r.measured} trials: p50 ${d.p50} ms, p99 ${d.p99} ms, max ${d.max} ms; ${r.timed_out} still active after ${r.timeout_ms} ms`);
      if (results.propagation.failed) log(`  !! FAILED, not a measurement: ${results.propagation.failed}`);
    } finally {
      for (const server of propagationServers.splice(0)) {
        await stopServer(server, 5000).catch(() => undefined);
        const output = server.output.trim();
        if (output && results.propagation) (results.propagation.server_output ??= []).push(...output.split('\n').slice(-10));
      }
    }
  }

  if (settings.profile) {
    // The module, and the floor for comparison, under the V8 sampling profiler (1 sample per ms).
    results.profile = {};
    for (const server of [moduleServer(main), floorServer(main)]) {
      const dir = path.join(root, 'bench/results/profiles', runId, server.name);
      mkdirSync(dir, { recursive: true });
      const r = await quietScenario({
        id: 'profile',
        title: `${s1}; under node --cpu-prof`,
        db: main,
        server,
        ...moduleCounts,
        path: '/oauth2/revoke',
        headers: { authorization: auth },
        bodies: feed.bodies(),
        nodeArgs: ['--cpu-prof', '--cpu-prof-dir', dir],
      });
      const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
      results.profile[server.name] = {
        failed: r.failed,
        file: file ? path.relative(root, path.join(dir, file)) : null,
        run: { requests_per_s: r.measured.requests_per_s, latency_ms: r.measured.latency_ms, non_2xx: r.measured.non_2xx, errors: r.measured.errors },
        others_cpu_share: r.others_cpu_share,
        cpu_ms: r.cpu_ms,
        cpu_us_per_request: r.cpu_us_per_request,
        window_us: r.window_us,
        ...(file ? analyseProfile(path.join(dir, file), { fromUs: r.window_us.from, toUs: r.window_us.to, requests: r.measured.requests }) : {}),
      };
      log(`  profile: ${results.profile[server.name].file}`);
    }
  }
  log(`\n${feed.left.toLocaleString('en')} module tokens and ${accessFeed.left.toLocaleString('en')} access tokens left unused; ${topUps.length} top-ups`);
  await forgetDatabase(main);

  // ---- scale: the same requests against a small and a large table, in rounds like revoke_live ----
  if (settings.scale) {
    const perRound = settings.scale_warmup_requests + settings.scale_requests + 2 * settings.connections + 100;
    const dbs = new Map();
    let seq = 0;
    // A database with tokens left for one more round; a small one is seeded anew when it has none left.
    const scaleDatabase = async (grants) => {
      const known = dbs.get(grants);
      if (known && known.feed.left >= perRound) return known;
      if (known) await forgetDatabase(known.db);
      const db = await newDatabase(`g${grants}_${++seq}`);
      log(`\nseeding ${db.name}: ${grants.toLocaleString('en')} grants (${elapsed()})`);
      const secret = await prepareModuleDatabase(root, db.url, CLIENT_ID);
      const tokens = await seedModuleGrants(root, db.url, { clientId: CLIENT_ID, grants, keep: Math.min(grants, perRound * settings.rounds), log });
      const entry = { db, secret, feed: new TokenFeed(`${db.name} tokens`, tokens, kindOf) };
      dbs.set(grants, entry);
      return entry;
    };
    const byGrants = new Map(settings.scale_grants.map((g) => [g, []]));
    for (let round = 0; round < settings.rounds; round++) {
      for (const grants of round % 2 === 0 ? settings.scale_grants : [...settings.scale_grants].reverse()) {
        const { db, secret: scaleSecret, feed: scaleFeed } = await scaleDatabase(grants);
        log(`\n(scale round ${round + 1} of ${settings.rounds})`);
        const r = await scenario({
          id: 'revoke_live_scale',
          title: `${s1}; ${settings.scale_warmup_requests} warm-up + ${settings.scale_requests} measured requests`,
          db,
          server: moduleServer(db),
          tables: MODULE_TABLES,
          counts: 'module',
          grants,
          path: '/oauth2/revoke',
          headers: { authorization: basic(CLIENT_ID, scaleSecret) },
          bodies: scaleFeed.bodies(),
          amount: { warmup: settings.scale_warmup_requests, measured: settings.scale_requests },
        });
        byGrants.get(grants).push(r);
      }
    }
    for (const { db } of dbs.values()) await forgetDatabase(db);
    const points = settings.scale_grants.map((g) => combineRounds(byGrants.get(g)));
    const usable = !points[0].failed && !points.at(-1).failed;
    const first = points[0].measured.latency_ms.p99;
    const last = points.at(-1).measured.latency_ms.p99;
    results.scale = {
      points,
      p99_difference_ms: usable ? Number((last - first).toFixed(2)) : null,
      p99_difference_per_round_ms: byGrants.get(settings.scale_grants[0]).map((small, i) => {
        const large = byGrants.get(settings.scale_grants.at(-1))[i];
        return small.failed || large.failed ? null : Number((large.measured.latency_ms.p99 - small.measured.latency_ms.p99).toFixed(2));
      }),
      bound_ms: 20,
      within_bound: usable ? last - first <= 20 : null,
    };
  }

  // ---- ratios and output ----
  // revoke_live req/s of the module (with and without its caches) over the floor's and the peer's, from the
  // same run; a failed row gives no ratio.
  const liveOf = (server) => results.scenarios.find((s) => s.id === 'revoke_live' && s.server === server && !s.failed);
  const ratio = (a, b) => (a && b ? Number((a.requests_per_s / b.requests_per_s).toFixed(3)) : null);
  const measuredOf = (server) => liveOf(server)?.measured;
  results.ratios = {
    module_vs_floor: ratio(measuredOf('module'), measuredOf('floor')),
    module_vs_peer: ratio(measuredOf('module'), measuredOf('peer')),
    module_nocache_vs_floor: ratio(measuredOf('module_nocache'), measuredOf('floor')),
    module_nocache_vs_peer: ratio(measuredOf('module_nocache'), measuredOf('peer')),
    module_vs_module_nocache: ratio(measuredOf('module'), measuredOf('module_nocache')),
    module_ungrouped_vs_floor: ratio(measuredOf('module_ungrouped'), measuredOf('floor')),
    module_ungrouped_vs_peer: ratio(measuredOf('module_ungrouped'), measuredOf('peer')),
    module_vs_module_ungrouped: ratio(measuredOf('module'), measuredOf('module_ungrouped')),
  };
  results.ratios.targets = { ...TARGETS };
  results.ratios.targets_met = Object.fromEntries(
    Object.entries(TARGETS).map(([key, target]) => [key, results.ratios[key] === null ? null : results.ratios[key] >= target]),
  );
  // The same ratios per round, to show how far one round can be trusted.
  const roundOf = (server, i) => {
    const rd = liveOf(server)?.rounds?.[i] ?? (i === 0 && !liveOf(server)?.rounds ? liveOf(server)?.measured : undefined);
    return rd && !rd.failed ? rd : undefined;
  };
  results.ratios.per_round = Array.from({ length: settings.rounds }, (_, i) => ({
    module_vs_floor: ratio(roundOf('module', i), roundOf('floor', i)),
    module_vs_peer: ratio(roundOf('module', i), roundOf('peer', i)),
    module_nocache_vs_floor: ratio(roundOf('module_nocache', i), roundOf('floor', i)),
    module_nocache_vs_peer: ratio(roundOf('module_nocache', i), roundOf('peer', i)),
    module_ungrouped_vs_floor: ratio(roundOf('module_ungrouped', i), roundOf('floor', i)),
    module_ungrouped_vs_peer: ratio(roundOf('module_ungrouped', i), roundOf('peer', i)),
  }));
  results.top_ups = topUps;
  results.total_seconds = Math.round((Date.now() - started) / 1000);

  const dir = path.join(root, 'bench/results');
  if (!existsSync(dir)) mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${stamp}${quick ? '-quick' : ''}.json`);
  writeFileSync(file, JSON.stringify(results, null, 2) + '\n');
  log(`\n${formatTable(results)}`);
  log(`\nresults: ${path.relative(root, file)} (${elapsed()}); summary into BENCHMARKS.md: npm run bench:summary`);
  const bad = [...results.scenarios, ...(results.scale?.points ?? [])].filter((s) => s.measured.non_2xx || s.measured.errors || s.warmup.non_2xx || s.warmup.errors);
  if (bad.length) {
    log(`!! non-2xx answers or errors in: ${bad.map((s) => `${s.id}/${s.server}`).join(', ')}`);
    process.exitCode = 1;
  }
  const failed = [...results.scenarios, ...(results.scale?.points ?? [])].filter((s) => s.failed);
  if (results.propagation?.failed) failed.push({ id: 'propagation', server: 'module_a/module_b', failed: results.propagation.failed });
  for (const [name, p] of Object.entries(results.profile ?? {})) if (p.failed) failed.push({ id: 'profile', server: name, failed: p.failed });
  if (failed.length) {
    log(`!! failed phases (no numbers reported for them): ${failed.map((s) => `${s.id}/${s.server}: ${s.failed}`).join('; ')}`);
    process.exitCode = 1;
  }
}

main()
  .catch(async (err) => {
    process.stderr.write(`bench failed: ${err.stack ?? err}\n`);
    process.exitCode = 1;
  })
  .finally(cleanup);
