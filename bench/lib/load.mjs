// The load generator: autocannon's programmatic API, one request body per request from a feeder.
import autocannon from 'autocannon';

/**
 * Runs autocannon against 127.0.0.1:`port` with POST `path`. `nextBody()` gives each request's form body
 * (each request its own token); when it returns null the run stops early and is marked exhausted.
 * `duration` (s) or `amount` (requests) bounds the run. `onBody(status, body)`, if given, sees every answer.
 */
export function runLoad({ port, path, headers, nextBody, connections, duration, amount, onBody }) {
  let exhausted = false;
  let instance;
  const request = {
    method: 'POST',
    path,
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    setupRequest(req) {
      let body = nextBody();
      if (body === null) {
        // autocannon cannot skip a request: send a harmless one and stop the run.
        if (!exhausted) setImmediate(() => instance.stop());
        exhausted = true;
        body = 'token=exhausted';
      }
      req.body = body;
      return req;
    },
  };
  if (onBody) request.onResponse = (status, body) => onBody(status, body);
  // autocannon's own histogram keeps whole milliseconds of 2xx answers only: keep every answer's exact time.
  const latencies = [];
  let startedAt;
  let lastAnswerAt;
  return new Promise((resolve, reject) => {
    instance = autocannon(
      {
        url: `http://127.0.0.1:${port}`,
        connections,
        pipelining: 1,
        timeout: 10,
        // autocannon notices the end of an `amount` run only at its next sample tick: tick often.
        sampleInt: 100,
        ...(amount ? { amount } : { duration }),
        requests: [request],
      },
      (err, result) => (err ? reject(err) : resolve(summarise(result, latencies, exhausted, (lastAnswerAt - startedAt) / 1000))),
    );
    startedAt = performance.now();
    instance.on('response', (_client, _status, _bytes, ms) => {
      latencies.push(ms);
      lastAnswerAt = performance.now();
    });
  });
}

const round = (n, digits = 2) => (n === undefined || n === null || Number.isNaN(n) ? null : Number(n.toFixed(digits)));

function percentile(sorted, p) {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

function latencySummary(sorted) {
  const mean = sorted.reduce((sum, v) => sum + v, 0) / (sorted.length || 1);
  return {
    samples: sorted.length,
    mean: round(mean),
    p50: round(percentile(sorted, 50)),
    p90: round(percentile(sorted, 90)),
    p99: round(percentile(sorted, 99)),
    p99_9: round(percentile(sorted, 99.9)),
    max: round(sorted[sorted.length - 1]),
  };
}

/** Keeps the sorted answer times on a summary for combineLoads, out of its JSON. */
function withRaw(summary, sorted) {
  Object.defineProperty(summary, 'raw', { value: sorted, enumerable: false });
  return summary;
}

/** The numbers kept from an autocannon result and the answers' times (ms). */
function summarise(r, latencies, exhausted, answeringSeconds) {
  const sorted = Float64Array.from(latencies).sort();
  return withRaw(
    {
      requests: r.requests.total,
      duration_s: round(r.duration, 3),
      answering_s: round(answeringSeconds, 3),
      // From the start to the last answer: autocannon's own duration also counts the wait for its next tick.
      requests_per_s: round(latencies.length / answeringSeconds, 1),
      latency_ms: latencySummary(sorted),
      autocannon_latency_ms: { p50: r.latency.p50, p99: r.latency.p99, max: r.latency.max },
      status_counts: Object.fromEntries(Object.entries(r.statusCodeStats ?? {}).map(([code, v]) => [code, v.count])),
      non_2xx: r.non2xx,
      errors: r.errors,
      timeouts: r.timeouts,
      resets: r.resets ?? 0,
      mismatches: r.mismatches ?? 0,
      exhausted,
    },
    sorted,
  );
}

/** Several runs as one: requests over the summed answering time, percentiles over all answers. */
export function combineLoads(runs) {
  const sum = (f) => runs.reduce((total, r) => total + f(r), 0);
  const all = new Float64Array(sum((r) => r.raw.length));
  let at = 0;
  for (const r of runs) {
    all.set(r.raw, at);
    at += r.raw.length;
  }
  all.sort();
  const statusCounts = {};
  for (const r of runs) for (const [code, n] of Object.entries(r.status_counts)) statusCounts[code] = (statusCounts[code] ?? 0) + n;
  const answering = sum((r) => r.answering_s);
  return withRaw(
    {
      requests: sum((r) => r.requests),
      duration_s: round(sum((r) => r.duration_s), 3),
      answering_s: round(answering, 3),
      requests_per_s: round(all.length / answering, 1),
      latency_ms: latencySummary(all),
      status_counts: statusCounts,
      non_2xx: sum((r) => r.non_2xx),
      errors: sum((r) => r.errors),
      timeouts: sum((r) => r.timeouts),
      resets: sum((r) => r.resets),
      mismatches: sum((r) => r.mismatches),
      exhausted: runs.some((r) => r.exhausted),
    },
    all,
  );
}
