// What group commit saves PostgreSQL: the revoke path's statement run once per revocation, against the same
// requests sent several per statement (oauth_revoke_tokens, one transaction each), on a database of its own.
// Prints revocations/s, PostgreSQL CPU (its own processes and this database's backends: the bench's
// cpuMeter) and this process's CPU per revocation, for each way, in two rounds. An experiment, not part of npm run bench; needs
// a build (npm run build) and a PostgreSQL on this machine you may create databases on.
//
// Environment: BENCH_DATABASE_URL (postgres://postgres@127.0.0.1:5432/), GROUP_COST_GRANTS (200000),
// GROUP_COST_REQUESTS (8000 per way and round).
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { createDatabase, databaseUrl, dropDatabase } from './lib/databases.mjs';
import { prepareModuleDatabase, seedModuleGrants, tokenFormat } from './lib/module-seed.mjs';
import { cpuMeter } from './lib/processes.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const serverUrl = process.env.BENCH_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/';
const grants = Number(process.env.GROUP_COST_GRANTS || 200_000);
const perWay = Number(process.env.GROUP_COST_REQUESTS || 8_000);
const ways = [
  { label: 'one statement each', group: 1, workers: 10 },
  { label: 'groups of 16', group: 16, workers: 3 },
  { label: 'groups of 4', group: 4, workers: 3 },
];
const rounds = 2;

const { hashToken, parseTokenKind } = tokenFormat(root);
const { ANNOUNCE_AFTER_COMMIT_OPTION } = await import(path.join(root, 'dist/src/database/invalidation-listener.js'));
const name = `nor_group_cost_${process.pid}`;
await createDatabase(serverUrl, name);
const url = databaseUrl(serverUrl, name);
try {
  await prepareModuleDatabase(root, url, 'costc');
  const tokens = await seedModuleGrants(root, url, { clientId: 'costc', grants, keep: perWay * ways.length * rounds + 100 });
  const pool = new pg.Pool({ connectionString: url, max: 10, options: ANNOUNCE_AFTER_COMMIT_OPTION });
  const ONE = { name: 'one', text: 'SELECT outcome FROM oauth_revoke_token($1, $2, $3, $4)' };
  const MANY = { name: 'many', text: 'SELECT request, outcome FROM oauth_revoke_tokens($1::bytea[], $2::text[], $3::text[], $4::text[])' };
  let next = 0;
  for (let round = 1; round <= rounds; round++) {
    for (const way of ways) {
      await pool.query('CHECKPOINT');
      const [meter, t0] = [cpuMeter(process.pid, name), Date.now()];
      let sent = 0;
      const worker = async () => {
        while (sent < perWay) {
          const batch = tokens.slice(next, next + way.group);
          next += way.group;
          sent += way.group;
          const values = [batch.map(hashToken), batch.map((t) => parseTokenKind(t)), batch.map(() => 'costc'), batch.map(() => 'revoke')];
          if (way.group === 1) await pool.query({ ...ONE, values: values.map((v) => v[0]) });
          else await pool.query({ ...MANY, values });
        }
      };
      await Promise.all(Array.from({ length: way.workers }, worker));
      const ms = Date.now() - t0;
      const cpu = meter();
      console.log(
        `round ${round}, ${way.label}: ${sent} revocations, ${Math.round((sent / ms) * 1000)}/s, PostgreSQL ${Math.round((cpu.postgres_ms * 1000) / sent)} µs/revocation, ` +
          `client ${Math.round((cpu.load_generator_ms * 1000) / sent)} µs/revocation`,
      );
    }
  }
  await pool.end();
} finally {
  await dropDatabase(serverUrl, name);
}

