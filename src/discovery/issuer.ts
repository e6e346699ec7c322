import { DiscoveryConfigError } from './discovery-config.error';

/** An issuer identifier that RFC 8414 §2 does not allow; `reason` says what to change. */
export class InvalidIssuerError extends DiscoveryConfigError {
  override name = 'InvalidIssuerError';
  constructor(
    readonly issuer: string,
    readonly reason: string,
  ) {
    super(`Invalid issuer ${JSON.stringify(issuer)}: ${reason}`);
  }
}

// Plain http is for a developer's own machine only; everywhere else the issuer must be https.
const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/**
 * Checks an issuer identifier against RFC 8414 §2 ("a URL that uses the https scheme and has no query
 * or fragment components") and returns it parsed. A trailing slash is not part of the identifier:
 * it is dropped before anything else (RFC 8414 §3.1). Throws DiscoveryConfigError naming the issuer.
 */
export function validateIssuer(issuer: string): URL {
  const fail = (reason: string): never => {
    throw new InvalidIssuerError(issuer, reason);
  };
  const trimmed = issuer.replace(/\/+$/, '');
  let url: URL;
  try {
    url = new URL(trimmed);
  } catch {
    return fail('must be an absolute URL such as https://auth.example.com');
  }
  // Checked on the text: the URL parser forgets an empty "?" or "#".
  if (trimmed.includes('?')) fail('must not have a query component (RFC 8414 §2)');
  if (trimmed.includes('#')) fail('must not have a fragment component (RFC 8414 §2)');
  if (url.protocol === 'http:') {
    if (!LOOPBACK_HOSTS.has(url.hostname)) {
      fail('must use https; plain http is accepted only for localhost, 127.0.0.1 and [::1] (RFC 8414 §2)');
    }
  } else if (url.protocol !== 'https:') {
    fail('must use the https scheme (RFC 8414 §2)');
  }
  if (url.username || url.password) fail('must not contain a user name or password');
  // Clients compare the issuer as a string (RFC 8414 §3.3): a form the URL parser would rewrite
  // (upper-case host, default port, spaces, "https:host") would not compare equal everywhere.
  const canonical = url.pathname === '/' ? url.href.slice(0, -1) : url.href;
  if (canonical !== trimmed) fail(`must be written in canonical form: ${canonical}`);
  return url;
}

/** The issuer's path without the trailing slash: `''` for `https://a.example`, `/tenant1` for `https://a.example/tenant1/`. */
export function issuerPath(issuer: string): string {
  return validateIssuer(issuer).pathname.replace(/\/+$/, '');
}
