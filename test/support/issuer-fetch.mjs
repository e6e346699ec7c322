/**
 * The issuer's URLs (http://localhost:3000 in tests) point at a name the test does not serve on: from now
 * on, this process's fetch sends them to the server under test at `base`.
 */
export function routeIssuerTo(issuer, base) {
  const realFetch = globalThis.fetch;
  globalThis.fetch = (input, init) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    return realFetch(url.startsWith(issuer) ? base + url.slice(issuer.length) : url, init);
  };
}
