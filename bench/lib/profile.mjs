// Reads a V8 .cpuprofile (node --cpu-prof) and tells where the time went: self time per category of code
// (Nest, Express, class-validator, pg, TypeORM, crypto, …) and the top functions by self time.
import { readFileSync } from 'node:fs';

/** Categories, first match wins, by the script URL of the function. */
const CATEGORIES = [
  ['Nest core (router, guards, pipes, interceptors, DI)', /node_modules\/@nestjs\/core\//],
  ['Nest common (decorators, pipes, exceptions)', /node_modules\/@nestjs\/common\//],
  ['Nest Express adapter', /node_modules\/@nestjs\/platform-express\//],
  ['class-validator', /node_modules\/(class-validator|validator|libphonenumber-js)\//],
  ['class-transformer', /node_modules\/class-transformer\//],
  ['rxjs', /node_modules\/rxjs\//],
  [
    'Express and its middleware',
    /node_modules\/(express|router|body-parser|finalhandler|send|serve-static|on-finished|qs|path-to-regexp|content-type|type-is|mime-types|mime-db|accepts|negotiator|parseurl|proxy-addr|forwarded|ipaddr\.js|vary|cookie|cookie-signature|depd|debug|ms|statuses|http-errors|encodeurl|escape-html|etag|fresh|range-parser|raw-body|iconv-lite|bytes|content-disposition|merge-descriptors|setprototypeof|inherits|utils-merge|methods|media-typer|safe-buffer|cors|object-assign|router)\//,
  ],
  ['pg (driver, pool, protocol)', /node_modules\/(pg|pg-pool|pg-protocol|pg-types|pg-connection-string|postgres-array|postgres-bytea|postgres-date|postgres-interval|pgpass|split2|buffer-writer|packet-reader)\//],
  ['TypeORM', /node_modules\/typeorm\//],
  ['reflect-metadata', /node_modules\/reflect-metadata\//],
  ['other node_modules', /node_modules\//],
  ['this package (dist/src)', /\/dist\/src\//],
  ['bench code (floor, peer)', /\/bench\/(floor|peer)\//],
  ['node: crypto', /^node:(internal\/)?crypto/],
  ['node: http', /^node:(internal\/)?_?http|^node:internal\/http/],
  ['node: net, streams, timers, events', /^node:(internal\/)?(net|stream|streams|timers|events|buffer|dns|async_hooks|process\/task_queues)/],
  ['node: other', /^node:/],
];

const SPECIAL = new Map([
  ['(garbage collector)', 'garbage collection'],
  ['(idle)', 'idle'],
  ['(program)', 'V8/native, not attributed (program)'],
  ['(root)', 'V8/native, not attributed (program)'],
]);

/** Native socket writes (the write syscalls and what V8 does to hand them a string or buffer). */
const SOCKET_WRITES = new Set(['writev', 'writeBuffer', 'writeLatin1String', 'writeUtf8String', 'writeAsciiString', 'writeUcs2String']);
const PG_URL = /node_modules\/pg(-pool|-protocol)?\//;

function categoryOfUrl(url) {
  for (const [name, pattern] of CATEGORIES) if (pattern.test(url)) return name;
  return url ? 'other' : null;
}

function shortUrl(url) {
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) return url.slice(nm + 'node_modules/'.length);
  const dist = url.indexOf('/dist/');
  if (dist >= 0) return url.slice(dist + 1);
  return url.replace(/^file:\/\//, '');
}

/**
 * Self time per category and per function, over the samples taken between `fromUs` and `toUs` (the
 * profile's clock: CLOCK_MONOTONIC in µs, the same as process.hrtime in another process on Linux); all
 * samples when the window does not overlap the profile. Built-in functions without a script (RegExp
 * exec, JSON, …) are charged to the category of their nearest caller that has one.
 */
export function analyseProfile(file, { fromUs, toUs, requests } = {}) {
  const profile = JSON.parse(readFileSync(file, 'utf8'));
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

  const categoryCache = new Map();
  const categoryOf = (id) => {
    if (categoryCache.has(id)) return categoryCache.get(id);
    const { callFrame } = nodes.get(id);
    let category = SPECIAL.get(callFrame.functionName) ?? categoryOfUrl(callFrame.url);
    if (!category && SOCKET_WRITES.has(callFrame.functionName)) {
      let p = parent.get(id);
      while (p !== undefined && !PG_URL.test(nodes.get(p).callFrame.url)) p = parent.get(p);
      category = p === undefined ? 'socket writes: HTTP answers (syscalls)' : 'socket writes: PostgreSQL queries (syscalls)';
    }
    if (!category) {
      const p = parent.get(id);
      category = p === undefined ? 'V8/native, not attributed (program)' : categoryOf(p);
    }
    categoryCache.set(id, category);
    return category;
  };

  // Sample i was taken at startTime + sum(timeDeltas[0..i]); its duration is the next delta.
  const times = [];
  let t = profile.startTime;
  for (const d of profile.timeDeltas) times.push((t += d));
  let inWindow = (i) => times[i] >= fromUs && times[i] < toUs;
  if (fromUs === undefined || !times.some((_, i) => inWindow(i))) inWindow = () => true;

  const selfByNode = new Map();
  let totalUs = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    if (!inWindow(i)) continue;
    const dt = i + 1 < times.length ? times[i + 1] - times[i] : 0;
    selfByNode.set(profile.samples[i], (selfByNode.get(profile.samples[i]) ?? 0) + dt);
    totalUs += dt;
  }

  const byCategory = new Map();
  const byFunction = new Map();
  for (const [id, us] of selfByNode) {
    const category = categoryOf(id);
    byCategory.set(category, (byCategory.get(category) ?? 0) + us);
    const { functionName, url, lineNumber } = nodes.get(id).callFrame;
    const key = `${functionName || '(anonymous)'} ${url ? `${shortUrl(url)}:${lineNumber + 1}` : ''}`.trim();
    const entry = byFunction.get(key) ?? { function: key, category, us: 0 };
    entry.us += us;
    byFunction.set(key, entry);
  }

  const busyUs = totalUs - (byCategory.get('idle') ?? 0);
  const row = (us) => ({
    ms: Number((us / 1000).toFixed(1)),
    pct_of_busy: busyUs ? Number(((100 * us) / busyUs).toFixed(1)) : null,
    us_per_request: requests ? Number((us / requests).toFixed(1)) : null,
  });
  return {
    window_ms: Number((totalUs / 1000).toFixed(1)),
    busy_ms: Number((busyUs / 1000).toFixed(1)),
    requests: requests ?? null,
    busy_us_per_request: requests ? Number((busyUs / requests).toFixed(1)) : null,
    categories: [...byCategory]
      .filter(([name]) => name !== 'idle')
      .sort((a, b) => b[1] - a[1])
      .map(([name, us]) => ({ category: name, ...row(us) })),
    top_functions: [...byFunction.values()]
      .filter((f) => f.category !== 'idle')
      .sort((a, b) => b.us - a.us)
      .slice(0, 25)
      .map((f) => ({ function: f.function, category: f.category, ...row(f.us) })),
  };
}
