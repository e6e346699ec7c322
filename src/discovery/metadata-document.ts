import { DiscoveryConfigError } from './discovery-config.error';
import { validateIssuer } from './issuer';

/** The fields one contributor produced, with a name that error messages can point at. */
export interface MetadataContribution {
  source: string;
  fields: Record<string, unknown>;
}

export type MetadataDocument = Readonly<Record<string, unknown>>;

// Client authentication methods that sign a JWT: a client needs to know which algorithms to use.
const JWT_AUTH_METHODS = ['private_key_jwt', 'client_secret_jwt'];

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value) && Object.getPrototypeOf(value) === Object.prototype;

/**
 * A server-wide list (`grant_types_supported`, `scopes_supported`, `response_types_supported`, …) that
 * several modules and the host may each add values to. An endpoint's own client authentication lists
 * (`revocation_endpoint_auth_methods_supported`, …) are not shared: only the module serving that endpoint
 * knows what it accepts.
 */
function isSharedList(name: string, existing: unknown, added: unknown): boolean {
  return name.endsWith('_supported') && !name.includes('_endpoint_auth_') && Array.isArray(existing) && Array.isArray(added);
}

/** The values of both lists, each once, in the order first seen. */
function union(existing: unknown[], added: unknown[]): unknown[] {
  return [...new Set([...existing, ...added])];
}

/**
 * Merges the issuer, the contributors' fields and the host's fields into one document, checks it and
 * freezes it. Shared lists (see isSharedList) are merged, each value once. Throws DiscoveryConfigError
 * naming the field when two sources claim the same other field, when the host's fields would replace a
 * computed one, or when the result breaks a rule of RFC 8414 §2.
 */
export function buildMetadataDocument(issuer: string, contributions: MetadataContribution[], hostFields: Record<string, unknown>): MetadataDocument {
  validateIssuer(issuer);
  const merged: Record<string, unknown> = { issuer };
  const owners = new Map<string, string>([['issuer', 'the issuer (OAuthCoreModule option issuer)']]);
  for (const { source, fields } of contributions) {
    if (!isPlainObject(fields)) throw new DiscoveryConfigError(`${source}.metadata() must return a plain object of metadata fields`);
    for (const [name, value] of Object.entries(fields)) {
      const owner = owners.get(name);
      if (owner && isSharedList(name, merged[name], value)) {
        merged[name] = union(merged[name] as unknown[], value as unknown[]);
        owners.set(name, `${owner} and ${source}`);
        continue;
      }
      if (owner) throw new DiscoveryConfigError(`Authorization server metadata field "${name}" is produced by both ${owner} and ${source}`);
      owners.set(name, source);
      merged[name] = value;
    }
  }
  for (const [name, value] of Object.entries(hostFields)) {
    const owner = owners.get(name);
    if (owner && isSharedList(name, merged[name], value)) {
      merged[name] = union(merged[name] as unknown[], value as unknown[]);
      continue;
    }
    if (owner) {
      throw new DiscoveryConfigError(
        `DiscoveryModule option metadata.${name} cannot overwrite the field "${name}" computed by ${owner}: remove it from the options`,
      );
    }
    merged[name] = value;
  }
  const document = withoutEmptyValues(merged);
  checkFieldTypes(document, issuer);
  checkSigningAlgorithms(document);
  // A copy: freezing must not freeze the contributors' own arrays (often shared constants).
  return deepFreeze(structuredClone(inCanonicalOrder(document)));
}

/** RFC 8414 §3.2: "Claims with zero elements MUST be omitted"; undefined and null count as no value. */
export function withoutEmptyValues(fields: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(fields).filter(([, value]) => value !== undefined && value !== null && !(Array.isArray(value) && value.length === 0)),
  );
}

/**
 * RFC 8414 §2: every `*_auth_signing_alg_values_supported` list must leave out "none", and it must be
 * present when the matching `*_auth_methods_supported` list has `private_key_jwt` or `client_secret_jwt`.
 */
export function checkSigningAlgorithms(document: Record<string, unknown>): void {
  for (const [name, value] of Object.entries(document)) {
    if (name.endsWith('_auth_signing_alg_values_supported') && Array.isArray(value) && value.includes('none')) {
      throw new DiscoveryConfigError(`Authorization server metadata field "${name}" must not contain "none" (RFC 8414 §2)`);
    }
    const methods = name.match(/^(.+)_auth_methods_supported$/);
    if (!methods || !Array.isArray(value)) continue;
    const jwtMethods = value.filter((method) => JWT_AUTH_METHODS.includes(method as string));
    const algsField = `${methods[1]}_auth_signing_alg_values_supported`;
    if (jwtMethods.length > 0 && document[algsField] === undefined) {
      throw new DiscoveryConfigError(
        `Authorization server metadata field "${name}" lists ${jwtMethods.join(' and ')}, so "${algsField}" must be present (RFC 8414 §2)`,
      );
    }
  }
}

/** Lists of values are arrays of strings, and endpoints are absolute URLs a client may call (RFC 8414 §2). */
function checkFieldTypes(document: Record<string, unknown>, issuer: string): void {
  const loopbackIssuer = validateIssuer(issuer).protocol === 'http:';
  for (const [name, value] of Object.entries(document)) {
    // Flags such as RFC 9207's authorization_response_iss_parameter_supported are booleans.
    if (name.endsWith('_parameter_supported')) {
      if (typeof value !== 'boolean') throw new DiscoveryConfigError(`Authorization server metadata field "${name}" must be true or false`);
    } else if (name.endsWith('_supported') && !(Array.isArray(value) && value.every((v) => typeof v === 'string' && v !== ''))) {
      throw new DiscoveryConfigError(`Authorization server metadata field "${name}" must be an array of strings`);
    }
    if (name.endsWith('_endpoint') || name === 'jwks_uri') {
      const url = typeof value === 'string' && URL.canParse(value) ? new URL(value) : undefined;
      // RFC 6749 §3.1: no fragment; TLS everywhere but on a developer's loopback issuer (see validateIssuer).
      const scheme = url?.protocol === 'https:' || (url?.protocol === 'http:' && loopbackIssuer);
      if (!url || !scheme || (value as string).includes('#')) {
        throw new DiscoveryConfigError(
          `Authorization server metadata field "${name}" must be an absolute ${loopbackIssuer ? 'http(s)' : 'https'} URL without a fragment, got ${JSON.stringify(value)}`,
        );
      }
    }
  }
}

/** `issuer` first, then the other fields by name: the same configuration always gives the same bytes (and ETag). */
function inCanonicalOrder(document: Record<string, unknown>): Record<string, unknown> {
  const { issuer, ...rest } = document;
  const ordered: Record<string, unknown> = { issuer };
  for (const name of Object.keys(rest).sort()) ordered[name] = rest[name];
  return ordered;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}
