import type { ApplicationType, GrantType } from '../clients/client.entity';
import type { TokenEndpointAuthMethod } from '../clients/client-auth-methods';

/** RFC 7591 §3.2.2: the two error codes a refused registration answers with. */
export type RegistrationErrorCode = 'invalid_redirect_uri' | 'invalid_client_metadata';

/** A registration request that breaks a rule; the description names the field (never echoes its value). */
export class ClientMetadataError extends Error {
  override name = 'ClientMetadataError';
  constructor(
    readonly error: RegistrationErrorCode,
    readonly description: string,
  ) {
    super(description);
  }
}

/** What the server's options allow a registration to ask for. */
export interface RegistrationPolicy {
  /** Whether `client_secret_basic` / `client_secret_post` may be registered (a server-generated secret). */
  confidentialClients: boolean;
}

/** A registration request that passed every rule, normalised: what is stored and answered. */
export interface ValidatedClientMetadata {
  tokenEndpointAuthMethod: TokenEndpointAuthMethod;
  applicationType: ApplicationType;
  /** As registered (exact strings, duplicates removed): the authorization endpoint compares them exactly. */
  redirectUris: string[];
  responseTypes: string[];
  grantTypes: GrantType[];
  /** client_name, client_uri, logo_uri, tos_uri, policy_uri (each with its `#<language>` variants), contacts, software_id, software_version. */
  metadata: Record<string, string | string[]>;
}

/** The grant and response types a registered client may use; other values are dropped (RFC 7591 §2). */
export const REGISTRABLE_GRANT_TYPES: readonly GrantType[] = ['authorization_code', 'refresh_token', 'urn:ietf:params:oauth:grant-type:device_code'];
export const REGISTRABLE_RESPONSE_TYPES: readonly string[] = ['code'];

/** Human-readable fields that may have `#<language>` variants (RFC 7591 §2.2). */
const LOCALISABLE = ['client_name', 'client_uri', 'logo_uri', 'tos_uri', 'policy_uri'] as const;
/** `client_name#fr`, `tos_uri#de-CH`: a field and a BCP 47 language tag (RFC 5646 shape). */
const LOCALISED_KEY = /^(client_name|client_uri|logo_uri|tos_uri|policy_uri)#([A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*)$/;

/** RFC 3986 characters only: no spaces, controls or non-ASCII, so the stored string is the URI itself. */
const URI_CHARS = /^[A-Za-z0-9\-._~:/?#[\]@!$&'()*+,;=%]+$/;
const MAX_URI_LENGTH = 2000;
const MAX_TEXT_LENGTH = 256;
const SCHEME = /^([A-Za-z][A-Za-z0-9+.-]*):(.*)$/s;
/** RFC 8252 §7.3: loopback redirect URIs, registered without a port. */
const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);
/** C0 and C1 controls, DEL: nothing a name or a contact needs, and PostgreSQL's jsonb refuses NUL. */
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
/** A surrogate outside a pair (the `u` flag matches pairs as one code point): jsonb refuses it. */
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;

const metadataError = (description: string) => new ClientMetadataError('invalid_client_metadata', description);
const redirectError = (description: string) => new ClientMetadataError('invalid_redirect_uri', description);

/** `https://user@host:1/x` → `user@host:1`: the authority as written (WHATWG URL hides some of it). */
function rawAuthority(afterScheme: string): string | null {
  if (!afterScheme.startsWith('//')) return null;
  const rest = afterScheme.slice(2);
  const end = rest.search(/[/?#]/);
  return end === -1 ? rest : rest.slice(0, end);
}

/** Whether `host` is `base` or a subdomain of it (both as WHATWG URL gives them: lower case, ASCII). */
function isHostUnder(host: string, base: string): boolean {
  return host === base || host.endsWith(`.${base}`);
}

/** An absolute https URL without userinfo, as RFC 3986 characters; answers its host. */
function checkHttpsUri(value: string, field: string, fail: (d: string) => ClientMetadataError): string {
  if (value.length > MAX_URI_LENGTH || !URI_CHARS.test(value)) {
    throw fail(`${field} must be an absolute URI of at most ${MAX_URI_LENGTH} characters, percent-encoded as RFC 3986 requires.`);
  }
  const match = SCHEME.exec(value);
  const authority = match ? rawAuthority(match[2]) : null;
  if (!match || match[1].toLowerCase() !== 'https' || authority === null) throw fail(`${field} must be an https URL.`);
  if (authority.includes('@')) throw fail(`${field} must not contain a user name or password.`);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw fail(`${field} must be an absolute https URL.`);
  }
  // The host as written must be the host as parsed: `https:///host`, `https://ex%61mple.org` and the like
  // are refused rather than normalised, since the string is stored and compared as registered.
  const writtenHost = authority.replace(/:\d*$/, '').toLowerCase();
  if (!url.hostname || writtenHost !== url.hostname) throw fail(`${field} must name its host plainly: https://host[:port]/path.`);
  return url.hostname;
}

function optionalString(body: Readonly<Record<string, unknown>>, field: string): string | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw metadataError(`${field} must be a string.`);
  return value;
}

function optionalStringArray(body: Readonly<Record<string, unknown>>, field: string, fail = metadataError): string[] | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) throw fail(`${field} must be an array of strings.`);
  return value as string[];
}

/** A short human-readable text: well-formed Unicode, no control characters, at most 256 characters. */
function checkText(value: string, field: string): string {
  if (value.trim() === '' || value.length > MAX_TEXT_LENGTH || CONTROL.test(value) || LONE_SURROGATE.test(value)) {
    throw metadataError(`${field} must be 1 to ${MAX_TEXT_LENGTH} characters of text without control characters.`);
  }
  return value;
}

/**
 * One redirect URI against the rules of the Matrix client-server API ("client registration"), RFC 7591 §2
 * and RFC 8252 §7 (native apps). `clientHost` is the client_uri host.
 */
function checkRedirectUri(value: unknown, field: string, applicationType: ApplicationType, clientHost: string): string {
  if (typeof value !== 'string') throw redirectError(`${field} must be a string.`);
  if (value.length > MAX_URI_LENGTH || !URI_CHARS.test(value)) {
    throw redirectError(`${field} must be an absolute URI of at most ${MAX_URI_LENGTH} characters, percent-encoded as RFC 3986 requires.`);
  }
  // RFC 6749 §3.1.2: the redirection endpoint URI MUST NOT include a fragment component.
  if (value.includes('#')) throw redirectError(`${field} must not contain a fragment (RFC 6749 section 3.1.2).`);
  const match = SCHEME.exec(value);
  if (!match) throw redirectError(`${field} must be an absolute URI with a scheme.`);
  const scheme = match[1].toLowerCase();
  const authority = rawAuthority(match[2]);
  const parse = () => {
    try {
      return new URL(value);
    } catch {
      throw redirectError(`${field} is not a valid URI.`);
    }
  };

  if (scheme === 'https') {
    const host = checkHttpsUri(value, field, redirectError);
    if (!isHostUnder(host, clientHost)) throw redirectError(`${field} must be on the client_uri host or a subdomain of it.`);
    return value;
  }
  if (applicationType === 'web') throw redirectError(`${field} must be an https URL: a web client redirects to https only (native clients may use other kinds).`);

  if (scheme === 'http') {
    // RFC 8252 §7.3: loopback only, and registered without a port: any port is accepted at authorization.
    if (authority === null) throw redirectError(`${field} must be an http URL on the loopback interface (http://127.0.0.1/callback).`);
    if (authority.includes('@')) throw redirectError(`${field} must not contain a user name or password.`);
    const host = authority.replace(/:\d*$/, '');
    if (!LOOPBACK_HOSTS.has(authority)) {
      if (LOOPBACK_HOSTS.has(host)) throw redirectError(`${field} must be registered without a port; any port is accepted at authorization (RFC 8252 section 7.3).`);
      throw redirectError(`${field} may use http only on localhost, 127.0.0.1 or [::1] (RFC 8252 section 7.3); use https otherwise.`);
    }
    parse();
    return value;
  }

  // RFC 8252 §7.1: a private-use scheme, the reverse domain name of a host the client controls.
  if (authority !== null) {
    throw redirectError(`${field} must not have an authority: a private-use scheme URI is written like com.example.app:/callback, not com.example.app://callback (RFC 8252 section 7.1).`);
  }
  const domain = scheme.split('.').reverse().join('.');
  if (!scheme.includes('.') || !isHostUnder(domain, clientHost)) {
    throw redirectError(`${field} must use a private-use scheme that is the client_uri host in reverse domain name order, or a longer name under it (com.example.app for example.com), https, or http on the loopback interface.`);
  }
  parse();
  return value;
}

/**
 * Checks a registration request (RFC 7591 §2, §3.1) against every rule of this server and returns what to
 * store. Members the server does not understand are ignored (RFC 7591 §2), unknown grant and response types
 * dropped; anything else that is wrong throws ClientMetadataError naming the field.
 */
export function validateClientMetadata(body: Readonly<Record<string, unknown>>, policy: RegistrationPolicy): ValidatedClientMetadata {
  // Matrix: client_uri is required, https, without userinfo; the other URIs hang off its host.
  const clientUri = optionalString(body, 'client_uri');
  if (clientUri === undefined) throw metadataError('client_uri is required: the https URL of the client home page.');
  const clientHost = checkHttpsUri(clientUri, 'client_uri', metadataError);

  const applicationType = optionalString(body, 'application_type') ?? 'web';
  if (applicationType !== 'web' && applicationType !== 'native') throw metadataError('application_type must be web or native.');

  // RFC 7591 §2: the default is client_secret_basic; a server that registers public clients only uses none.
  const allowedMethods: TokenEndpointAuthMethod[] = policy.confidentialClients ? ['none', 'client_secret_basic', 'client_secret_post'] : ['none'];
  const method = optionalString(body, 'token_endpoint_auth_method') ?? (policy.confidentialClients ? 'client_secret_basic' : 'none');
  if (!(allowedMethods as string[]).includes(method)) {
    throw metadataError(
      policy.confidentialClients
        ? `token_endpoint_auth_method must be one of ${allowedMethods.join(', ')}.`
        : 'token_endpoint_auth_method must be none: this server registers public clients only.',
    );
  }

  // RFC 7591 §2: values the server does not understand are dropped, not refused.
  const requestedGrants = optionalStringArray(body, 'grant_types') ?? ['authorization_code', 'refresh_token'];
  const grantTypes = REGISTRABLE_GRANT_TYPES.filter((g) => requestedGrants.includes(g));
  const requestedResponses = optionalStringArray(body, 'response_types') ?? ['code'];
  const responseTypes = REGISTRABLE_RESPONSE_TYPES.filter((r) => requestedResponses.includes(r));
  // The code grant is how a registered client gets tokens; Matrix requires refresh tokens with it.
  if (!grantTypes.includes('authorization_code')) throw metadataError('grant_types must include authorization_code (and refresh_token).');
  if (!grantTypes.includes('refresh_token')) throw metadataError('grant_types must include refresh_token alongside authorization_code.');
  if (!responseTypes.includes('code')) throw metadataError('response_types must include code for the authorization_code grant.');

  const requestedUris = optionalStringArray(body, 'redirect_uris', redirectError) ?? [];
  if (requestedUris.length === 0) throw redirectError('redirect_uris must list at least one redirect URI for the authorization_code grant.');
  const redirectUris = [...new Set(requestedUris.map((uri, i) => checkRedirectUri(uri, `redirect_uris[${i}]`, applicationType, clientHost)))];

  const metadata: Record<string, string | string[]> = { client_uri: clientUri };
  for (const key of Object.keys(body)) {
    const localised = LOCALISED_KEY.exec(key);
    const base = localised ? localised[1] : (LOCALISABLE as readonly string[]).includes(key) ? key : null;
    if (base === null || key === 'client_uri') continue;
    const value = optionalString(body, key);
    if (value === undefined) continue;
    if (base === 'client_name') {
      metadata[key] = checkText(value, key);
    } else {
      // Matrix: logo_uri, tos_uri and policy_uri (and every localised URI) are https on the client_uri host or under it.
      const host = checkHttpsUri(value, key, metadataError);
      if (!isHostUnder(host, clientHost)) throw metadataError(`${key} must be on the client_uri host or a subdomain of it.`);
      metadata[key] = value;
    }
  }
  const contacts = optionalStringArray(body, 'contacts');
  if (contacts !== undefined) metadata.contacts = contacts.map((c, i) => checkText(c, `contacts[${i}]`));
  for (const field of ['software_id', 'software_version']) {
    const value = optionalString(body, field);
    if (value !== undefined) metadata[field] = checkText(value, field);
  }

  return { tokenEndpointAuthMethod: method as TokenEndpointAuthMethod, applicationType, redirectUris, responseTypes, grantTypes, metadata };
}
