// A→B propagation: two instances of the module on one database. Per trial: B introspects a live access token
// (and caches the answer), A revokes it, then B is asked again and again until it answers inactive; the
// trial's delay is from A's 200 to B's first inactive answer. The bench version of the two-instance spec in
// test/invalidation.e2e-spec.ts, over more trials and reported as a distribution, without a bound asserted.
import http from 'node:http';

/** POST a form on one keep-alive connection; resolves with the status and the body. */
function poster(port) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const post = (path, headers, body) =>
    new Promise((resolve, reject) => {
      const req = http.request(
        {
          host: '127.0.0.1',
          port,
          path,
          method: 'POST',
          agent,
          headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(body), ...headers },
          timeout: 5000,
        },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (d) => (text += d));
          res.on('end', () => resolve({ status: res.statusCode, body: text }));
        },
      );
      req.on('timeout', () => req.destroy(new Error(`POST ${path} on port ${port} timed out`)));
      req.on('error', reject);
      req.end(body);
    });
  post.close = () => agent.destroy();
  return post;
}

const isActive = (answer) => {
  if (answer.status !== 200) throw new Error(`introspection answered ${answer.status}: ${answer.body.slice(0, 200)}`);
  return JSON.parse(answer.body).active === true;
};

const round = (n) => (n === null || n === undefined ? null : Number(n.toFixed(2)));
const pct = (sorted, p) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] : null);

/**
 * `trials` trials, each with the token `nextToken()` gives (a live access token of the client that `auth`
 * authenticates). A trial whose token B does not see active at first, or whose revocation A does not answer
 * 200, is not a measurement: it is counted in `setup_failures`. A trial in which B still answers active
 * `timeoutMs` after A's 200 is counted in `timed_out` (its delay is not in the distribution).
 */
export async function measurePropagation({ portA, portB, auth, nextToken, trials, timeoutMs = 2000, introspectPath = '/oauth2/introspect', revokePath = '/oauth2/revoke' }) {
  const a = poster(portA);
  const b = poster(portB);
  const headers = { authorization: auth };
  const delays = [];
  const polls = [];
  let setupFailures = 0;
  let timedOut = 0;
  const firstSetupErrors = [];
  try {
    for (let i = 0; i < trials; i++) {
      const token = nextToken();
      if (token === null) throw new Error(`ran out of tokens after ${i} trials`);
      const body = `token=${encodeURIComponent(token)}&token_type_hint=access_token`;
      if (!isActive(await b(introspectPath, headers, body))) {
        setupFailures++;
        if (firstSetupErrors.length < 3) firstSetupErrors.push('B did not see the token active before the revocation');
        continue;
      }
      const revoked = await a(revokePath, headers, body);
      const at = performance.now();
      if (revoked.status !== 200) {
        setupFailures++;
        if (firstSetupErrors.length < 3) firstSetupErrors.push(`A answered ${revoked.status} to the revocation`);
        continue;
      }
      let n = 0;
      let inactiveAt = null;
      while (performance.now() - at <= timeoutMs) {
        n++;
        const still = isActive(await b(introspectPath, headers, body));
        if (!still) {
          inactiveAt = performance.now();
          break;
        }
      }
      if (inactiveAt === null) {
        timedOut++;
        continue;
      }
      delays.push(inactiveAt - at);
      polls.push(n);
    }
  } finally {
    a.close();
    b.close();
  }
  const sorted = Float64Array.from(delays).sort();
  const sortedPolls = Int32Array.from(polls).sort();
  return {
    trials,
    measured: sorted.length,
    setup_failures: setupFailures,
    setup_errors: firstSetupErrors,
    timed_out: timedOut,
    timeout_ms: timeoutMs,
    delay_ms: {
      min: round(sorted[0] ?? null),
      p50: round(pct(sorted, 50)),
      p90: round(pct(sorted, 90)),
      p99: round(pct(sorted, 99)),
      max: round(sorted[sorted.length - 1] ?? null),
      mean: round(sorted.length ? sorted.reduce((x, y) => x + y, 0) / sorted.length : null),
    },
    // How many introspections of B each trial took until the inactive answer (1: the first one after A's 200).
    polls: { p50: pct(sortedPolls, 50), p99: pct(sortedPolls, 99), max: sortedPolls[sortedPolls.length - 1] ?? null },
    delays_ms: Array.from(delays, round),
  };
}
