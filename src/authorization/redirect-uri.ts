const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/**
 * RFC 6749 §3.1.2.3, RFC 9700 §2.1: a redirect URI matches a registered one by exact string comparison.
 * The one exception, RFC 8252 §7.3: a loopback `http` URI registered without a port matches any port,
 * since a native app listens on whatever port the system gives it.
 */
export function matchesRegisteredRedirectUri(requested: string, registered: readonly string[]): boolean {
  if (registered.includes(requested)) return true;
  if (!URL.canParse(requested)) return false;
  const url = new URL(requested);
  if (url.protocol !== 'http:' || !LOOPBACK_HOSTS.has(url.hostname) || url.port === '' || url.username || url.password || url.hash) return false;
  url.port = '';
  const withoutPort = url.toString();
  return registered.some((r) => URL.canParse(r) && new URL(r).port === '' && new URL(r).toString() === withoutPort && r.startsWith('http://'));
}

/**
 * The client's redirect URI with the response parameters (RFC 6749 §4.1.2): added to its query, or put in
 * the fragment when the client asked for response_mode=fragment (OAuth 2.0 Multiple Response Type Encoding
 * Practices §2.1). Absent values are left out.
 */
export function clientRedirect(redirectUri: string, mode: 'query' | 'fragment', params: Record<string, string | null | undefined>): string {
  const url = new URL(redirectUri);
  const encoded = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) if (value !== undefined && value !== null) encoded.set(name, value);
  if (mode === 'fragment') {
    url.hash = encoded.toString();
  } else {
    for (const [name, value] of encoded) url.searchParams.append(name, value);
  }
  return url.toString();
}
