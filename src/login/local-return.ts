/**
 * Where a sign-in without a pending authorization request may send the browser afterwards: a path of
 * this server under the issuer's path, never another origin (no open redirect). Refused: anything not
 * starting with a single `/`, scheme-relative (`//evil`) and backslash forms (`/\evil`, which browsers
 * read as `//evil`), control characters and spaces, `..` segments, and anything the URL parser would move
 * to another origin or outside the issuer's path. Answers the path (with its query) or undefined.
 */
export function localReturnPath(value: string | undefined, issuerPath: string): string | undefined {
  if (typeof value !== 'string' || value.length === 0 || value.length > 2000) return undefined;
  if (!value.startsWith('/') || value.startsWith('//')) return undefined;
  // Only printable ASCII other than space and backslash; no fragment.
  if (!/^[\x21-\x7e]+$/.test(value) || value.includes('\\') || value.includes('#')) return undefined;
  let url: URL;
  try {
    url = new URL(value, 'http://local.invalid');
  } catch {
    return undefined;
  }
  if (url.origin !== 'http://local.invalid') return undefined;
  const path = url.pathname + url.search;
  // The parser resolved `..` or percent-encoded dots differently from the text: not what was asked for.
  if (path !== value) return undefined;
  const base = issuerPath.replace(/\/+$/, '');
  if (!(url.pathname === base || url.pathname.startsWith(`${base}/`))) return undefined;
  return path;
}
