// Tables of a results file, as plain text (stdout) and as Markdown (BENCHMARKS.md).

const fmt = (n, digits = 1) => (n === null || n === undefined ? '–' : Number(n).toLocaleString('en', { minimumFractionDigits: digits, maximumFractionDigits: digits }));

/** One table row of a measured phase (a scenario or a scale point). */
const row = (s, scenario = s.id) => ({
  scenario,
  server: s.server,
  failed: s.failed ?? null,
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
  // A failed phase (it ran out of tokens, or got answers its scenario does not expect) is not a measurement:
  // no number of it is shown, only why it failed (see failureLines).
  if (r.failed) return [r.scenario, r.server, r.grants.toLocaleString('en'), 'FAILED', '–', '–', '–', '–', '–', '–', '–'];
  return [r.scenario, r.server, r.grants.toLocaleString('en'), fmt(r.rps), fmt(r.p50, 2), fmt(r.p99, 2), r.requests.toLocaleString('en'), String(r.non2xx), String(r.errors), fmt(r.serverCpu, 0), fmt(r.pgCpu, 0)];
}

const ratioLabel = {
  module_vs_floor: 'module / floor',
  module_vs_peer: 'module / peer',
  module_nocache_vs_floor: 'module without caches / floor',
  module_nocache_vs_peer: 'module without caches / peer',
  module_vs_module_nocache: 'module / module without caches',
  module_ungrouped_vs_floor: 'module without group commit / floor',
  module_ungrouped_vs_peer: 'module without group commit / peer',
  module_vs_module_ungrouped: 'module / module without group commit',
};

function ratioLines(results) {
  const lines = [];
  const ratios = results.ratios ?? {};
  const targets = ratios.targets ?? {};
  const liveFailed = (server) => results.scenarios.some((s) => s.id === 'revoke_live' && s.server === server && s.failed);
  for (const [key, label] of Object.entries(ratioLabel)) {
    const value = ratios[key];
    const servers = key.split('_vs_');
    const why = servers.filter(liveFailed).map((server) => `revoke_live/${server} failed`);
    if (value === null || value === undefined) {
      if (why.length) lines.push(`${label} (revoke_live req/s): not measured (${why.join(', ')})`);
      continue;
    }
    const target = targets[key];
    const verdict = target === undefined ? '' : `; target ≥ ${fmt(target, 2)}: ${value >= target ? 'met' : 'NOT met'}`;
    lines.push(`${label} (revoke_live req/s): ${fmt(value, 3)}${verdict}`);
  }
  if (results.scale) {
    const [a, b] = [results.scale.points[0], results.scale.points.at(-1)];
    if (results.scale.p99_difference_ms === null || results.scale.p99_difference_ms === undefined) {
      lines.push('scale: not measured (a scale point failed)');
    } else {
      lines.push(
        `scale: p99 ${fmt(a.measured.latency_ms.p99, 2)} ms at ${a.grants.toLocaleString('en')} grants, ${fmt(b.measured.latency_ms.p99, 2)} ms at ` +
          `${b.grants.toLocaleString('en')}: ${results.scale.p99_difference_ms >= 0 ? '+' : ''}${fmt(results.scale.p99_difference_ms, 2)} ms ` +
          `(bound +${results.scale.bound_ms} ms: ${results.scale.within_bound ? 'within' : 'EXCEEDED'})` +
          (results.scale.p99_difference_per_round_ms?.length > 1
            ? `; per round: ${results.scale.p99_difference_per_round_ms.map((d) => (d === null ? 'failed' : `${d >= 0 ? '+' : ''}${fmt(d, 2)} ms`)).join(', ')}`
            : ''),
      );
    }
  }
  const p = results.propagation;
  if (p) lines.push(propagationLine(p));
  return lines;
}

/** The A→B propagation distribution in one line, or why there is none. */
function propagationLine(p) {
  if (p.failed) return `propagation A→B: FAILED, not a measurement (${p.failed})`;
  const d = p.delay_ms;
  const late = p.timed_out ? `; ${p.timed_out} of ${p.trials} trials still active after ${fmt(p.timeout_ms, 0)} ms` : '';
  return (
    `propagation A→B (A's 200 to B's first inactive introspection, ${p.measured} trials): p50 ${fmt(d.p50, 2)} ms, p99 ${fmt(d.p99, 2)} ms, ` +
    `max ${fmt(d.max, 2)} ms${late} (bound ${p.bound_ms} ms: ${p.within_bound ? 'within' : 'EXCEEDED'})`
  );
}

/** Why each failed phase failed: the rows that show FAILED instead of numbers. */
function failureLines(results) {
  const failed = [...results.scenarios.filter((s) => s.id !== 'profile'), ...(results.scale?.points ?? [])].filter((s) => s.failed);
  return failed.map((s) => `FAILED ${s.id}/${s.server}: ${s.failed}; its numbers are left out`);
}

export function formatTable(results) {
  const table = [HEADERS, ...rows(results).map(cells)];
  const widths = HEADERS.map((_, i) => Math.max(...table.map((r) => r[i].length)));
  const line = (r) => r.map((c, i) => (i < 2 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [line(table[0]), widths.map((w) => '-'.repeat(w)).join('  '), ...table.slice(1).map(line), '', ...failureLines(results), ...ratioLines(results)].join('\n');
}

export function markdownTable(results) {
  const md = (r) => `| ${r.join(' | ')} |`;
  return [md(HEADERS), md(HEADERS.map((_, i) => (i < 2 ? '---' : '---:'))), ...rows(results).map((r) => md(cells(r)))].join('\n');
}

export { failureLines, fmt, propagationLine, ratioLines };
