// Tables of a results file, as plain text (stdout) and as Markdown (BENCHMARKS.md).

const fmt = (n, digits = 1) => (n === null || n === undefined ? '–' : Number(n).toLocaleString('en', { minimumFractionDigits: digits, maximumFractionDigits: digits }));

/** One table row of a measured phase (a scenario or a scale point). */
const row = (s, scenario = s.id) => ({
  scenario,
  server: s.server,
  grants: s.grants,
  rps: s.measured.requests_per_s,
  p50: s.measured.latency_ms.p50,
  p99: s.measured.latency_ms.p99,
  requests: s.measured.requests,
  non2xx: s.measured.non_2xx + s.warmup.non_2xx,
  errors: s.measured.errors + s.warmup.errors + s.measured.timeouts + s.warmup.timeouts,
  serverCpu: s.cpu_us_per_request.server,
  pgCpu: s.cpu_us_per_request.postgres,
});

function rows(results) {
  return [
    ...results.scenarios.filter((s) => s.id !== 'profile').map((s) => row(s)),
    ...(results.scale?.points ?? []).map((s) => row(s, 'revoke_live (scale)')),
  ];
}

const HEADERS = ['scenario', 'server', 'grants', 'req/s', 'p50 ms', 'p99 ms', 'requests', 'non-2xx', 'errors', 'server CPU µs/req', 'PG CPU µs/req'];

function cells(r) {
  return [r.scenario, r.server, r.grants.toLocaleString('en'), fmt(r.rps), fmt(r.p50, 2), fmt(r.p99, 2), r.requests.toLocaleString('en'), String(r.non2xx), String(r.errors), fmt(r.serverCpu, 0), fmt(r.pgCpu, 0)];
}

function ratioLines(results) {
  const lines = [];
  const { module_vs_floor: floor, module_vs_peer: peer } = results.ratios ?? {};
  if (floor !== null && floor !== undefined) lines.push(`module / floor (revoke_live req/s): ${fmt(floor, 3)}`);
  if (peer !== null && peer !== undefined) lines.push(`module / peer  (revoke_live req/s): ${fmt(peer, 3)}`);
  if (results.scale) {
    const [a, b] = [results.scale.points[0], results.scale.points.at(-1)];
    lines.push(
      `scale: p99 ${fmt(a.measured.latency_ms.p99, 2)} ms at ${a.grants.toLocaleString('en')} grants, ${fmt(b.measured.latency_ms.p99, 2)} ms at ` +
        `${b.grants.toLocaleString('en')}: ${results.scale.p99_difference_ms >= 0 ? '+' : ''}${fmt(results.scale.p99_difference_ms, 2)} ms ` +
        `(bound +${results.scale.bound_ms} ms: ${results.scale.within_bound ? 'within' : 'EXCEEDED'})` +
        (results.scale.p99_difference_per_round_ms?.length > 1
          ? `; per round: ${results.scale.p99_difference_per_round_ms.map((d) => `${d >= 0 ? '+' : ''}${fmt(d, 2)} ms`).join(', ')}`
          : ''),
    );
  }
  return lines;
}

export function formatTable(results) {
  const table = [HEADERS, ...rows(results).map(cells)];
  const widths = HEADERS.map((_, i) => Math.max(...table.map((r) => r[i].length)));
  const line = (r) => r.map((c, i) => (i < 2 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [line(table[0]), widths.map((w) => '-'.repeat(w)).join('  '), ...table.slice(1).map(line), '', ...ratioLines(results)].join('\n');
}

export function markdownTable(results) {
  const md = (r) => `| ${r.join(' | ')} |`;
  return [md(HEADERS), md(HEADERS.map((_, i) => (i < 2 ? '---' : '---:'))), ...rows(results).map((r) => md(cells(r)))].join('\n');
}

export { ratioLines, fmt };
