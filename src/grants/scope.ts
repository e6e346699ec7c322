/** RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E ), joined by single spaces. */
const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/;

/**
 * The scope tokens of a `scope` parameter, deduplicated in the order sent, or null when the value is not
 * RFC 6749 §3.3 syntax (the caller answers invalid_scope). Undefined stays undefined: not requested.
 */
export function parseScope(scope: string | undefined): string[] | undefined | null {
  if (scope === undefined) return undefined;
  const tokens = scope.split(' ');
  if (!tokens.every((t) => SCOPE_TOKEN.test(t))) return null;
  return [...new Set(tokens)];
}
