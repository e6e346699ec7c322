import { createHash, randomBytes } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { OAUTH_CORE_OPTIONS } from '../core/oauth-core.module-definition';
import type { ResolvedOAuthCoreOptions } from '../core/oauth-core-options.interface';
import { parseScope } from '../grants/scope';
import { hashToken } from '../grants/token-format';
import { AUTHORIZATION_OPTIONS } from './authorization.constants';
import type { ResolvedAuthorizationOptions } from './authorization-options.interface';
import { AuthorizationRequestError } from './authorization-request.error';
import type { AuthorizationCompletion, AuthorizationDenial, AuthorizationRequestKind, AuthorizationRequestKindSteps, PendingAuthorization } from './pending-authorization.interface';
import { clientRedirect, matchesRegisteredRedirectUri } from './redirect-uri';

/** The answer to an authorization request: a page (nothing can be redirected safely) or a redirect. */
export type AuthorizationAnswer = { kind: 'page'; status: number; message: string } | { kind: 'redirect'; location: string };

/** RFC 6749 §4.1.2.1 error codes that go back to the client. */
type RedirectError = 'invalid_request' | 'unsupported_response_type' | 'invalid_scope' | 'unauthorized_client' | 'server_error' | AuthorizationDenial;

interface ClientRow {
  client_id: string;
  grant_types: string[];
  response_types: string[];
  redirect_uris: string[];
  disabled: boolean;
}

interface PendingRow {
  id: string;
  client_id: string;
  redirect_uri: string;
  response_mode: 'query' | 'fragment';
  state: string | null;
  scope: string;
  prompt: string | null;
  expires_at: Date;
  metadata: Record<string, unknown>;
  kind: AuthorizationRequestKind;
  user_code: string | null;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** RFC 7636 §4.2: BASE64URL(SHA256(verifier)) is 43 characters; the spec allows 43-128 of this alphabet. */
const CODE_CHALLENGE = /^[A-Za-z0-9\-._~]{43,128}$/;
const PROMPTS = new Set(['none', 'login', 'consent', 'create']);
const SINGLE = ['client_id', 'redirect_uri', 'response_type', 'response_mode', 'scope', 'state', 'code_challenge', 'code_challenge_method', 'prompt'];

/** BASE64URL(SHA256(code_verifier)), RFC 7636 §4.6. */
export function s256(verifier: string): string {
  return createHash('sha256').update(verifier, 'ascii').digest('base64url');
}

/**
 * The authorization endpoint's decisions (RFC 6749 §4.1, RFC 7636, RFC 9700 §2.1, RFC 9207), and the
 * hand-off to the login step. Nothing is redirected before the client and its exact redirect URI are
 * known (no open redirector); after that, every error goes back to the client.
 */
@Injectable()
export class AuthorizationService {
  private readonly kinds = new Map<AuthorizationRequestKind, AuthorizationRequestKindSteps>();

  constructor(
    private readonly dataSource: DataSource,
    @Inject(OAUTH_CORE_OPTIONS) private readonly core: ResolvedOAuthCoreOptions,
    @Inject(AUTHORIZATION_OPTIONS) private readonly options: ResolvedAuthorizationOptions,
  ) {}

  /** An authorization request as received: each parameter with every value it was sent with. */
  async authorize(params: ReadonlyMap<string, readonly string[]>): Promise<AuthorizationAnswer> {
    for (const [name, values] of params) {
      // PostgreSQL text cannot hold a NUL byte, and no parameter needs one.
      if (name.includes('\0') || values.some((v) => v.includes('\0'))) return page('The request contains a character that no parameter may hold.');
    }
    const one = (name: string) => params.get(name)?.[0];
    const clientId = one('client_id');
    if (!clientId || (params.get('client_id')?.length ?? 0) > 1) return page('The request does not name one client (client_id).');
    const client = await this.client(clientId);
    if (!client || client.disabled) return page('This application is not known to the authorization server.');
    const redirectUri = one('redirect_uri');
    if (!redirectUri || (params.get('redirect_uri')?.length ?? 0) > 1) return page('The request does not name one redirect URI (redirect_uri).');
    if (!matchesRegisteredRedirectUri(redirectUri, client.redirect_uris)) {
      return page('The redirect URI of this request is not registered for this application.');
    }

    // From here on the client's redirect URI is trusted: errors go back to it.
    const state = one('state');
    const responseMode = one('response_mode') === 'fragment' ? 'fragment' : 'query';
    const fail = (error: RedirectError, description: string): AuthorizationAnswer => ({
      kind: 'redirect',
      location: clientRedirect(redirectUri, responseMode, { error, error_description: description, state, iss: this.core.issuer }),
    });
    const repeated = SINGLE.find((name) => (params.get(name)?.length ?? 0) > 1);
    if (repeated) return fail('invalid_request', `The parameter ${repeated} was sent more than once.`);
    const mode = one('response_mode');
    if (mode !== undefined && mode !== 'query' && mode !== 'fragment') return fail('invalid_request', 'response_mode must be query or fragment.');
    const responseType = one('response_type');
    if (responseType === undefined) return fail('invalid_request', 'response_type is required: send code.');
    if (responseType !== 'code') return fail('unsupported_response_type', 'This server supports response_type code only.');
    if (!client.grant_types.includes('authorization_code') || !client.response_types.includes('code')) {
      return fail('unauthorized_client', 'This client is not registered for the authorization code grant.');
    }
    // RFC 9700 §2.1.1: PKCE for every client, and only S256 (plain would show the verifier).
    const challenge = one('code_challenge');
    if (challenge === undefined) return fail('invalid_request', 'code_challenge is required (PKCE, RFC 7636).');
    if (one('code_challenge_method') !== 'S256') return fail('invalid_request', 'code_challenge_method must be S256.');
    if (!CODE_CHALLENGE.test(challenge)) return fail('invalid_request', 'code_challenge must be 43 to 128 characters of the base64url alphabet.');
    const prompt = one('prompt')?.split(' ') ?? [];
    if (prompt.some((p) => !PROMPTS.has(p)) || (prompt.includes('none') && prompt.length > 1)) {
      return fail('invalid_request', 'prompt must be none, or some of login, consent and create.');
    }
    const requested = parseScope(one('scope'));
    if (requested === null) return fail('invalid_scope', 'scope must be scope tokens separated by single spaces (RFC 6749 §3.3).');
    let scope: string[];
    try {
      scope = await this.allowedScope(clientId, requested ?? []);
    } catch (err) {
      return fail('invalid_scope', (err as Error).message);
    }
    const [{ id }]: Array<{ id: string }> = await this.dataSource.query(
      `INSERT INTO authorization_requests (client_id, redirect_uri, response_mode, state, scope, code_challenge, prompt, expires_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, now() + make_interval(secs => $8)) RETURNING id`,
      [clientId, redirectUri, responseMode, state ?? null, scope.join(' '), challenge, prompt.length ? prompt.join(' ') : null, this.options.requestTtlSeconds],
    );
    return { kind: 'redirect', location: this.loginUrl(id) };
  }

  /**
   * The scope a client may ask for, as the host's `scopePolicy` decides (every entry point that starts an
   * authorization asks here); throws an Error whose message says why when the policy refuses.
   */
  async allowedScope(clientId: string, scope: string[]): Promise<string[]> {
    if (!this.options.scopePolicy) return scope;
    try {
      return await this.options.scopePolicy({ clientId, scope });
    } catch (err) {
      throw new Error(err instanceof Error && err.message ? err.message : 'The requested scope is not allowed.');
    }
  }

  /** Lets another module own pending requests of `kind` (the device module: RFC 8628 device requests). */
  registerKind(kind: Exclude<AuthorizationRequestKind, 'code'>, steps: AuthorizationRequestKindSteps): void {
    if (this.kinds.has(kind)) throw new Error(`Two modules end authorization requests of kind ${kind}`);
    this.kinds.set(kind, steps);
  }

  /** The request waiting for the login step, or null when it is unknown, expired or already answered. */
  async getPending(id: string): Promise<PendingAuthorization | null> {
    if (!UUID.test(id)) return null;
    const [row]: PendingRow[] = await this.dataSource.query(
      `SELECT r.id, r.client_id, r.redirect_uri, r.response_mode, r.state, r.scope, r.prompt, r.expires_at, r.kind, r.user_code, c.metadata
       FROM authorization_requests r JOIN clients c ON c.client_id = r.client_id
       WHERE r.id = $1 AND r.finished_at IS NULL AND r.expires_at > now() AND c.disabled_at IS NULL`,
      [id],
    );
    if (!row) return null;
    return {
      id: row.id,
      clientId: row.client_id,
      clientMetadata: Object.freeze({ ...row.metadata }),
      scope: row.scope ? row.scope.split(' ') : [],
      prompt: row.prompt ? row.prompt.split(' ') : [],
      redirectUri: row.redirect_uri,
      expiresAt: row.expires_at,
      kind: row.kind,
      ...(row.user_code ? { userCode: row.user_code } : {}),
    };
  }

  /**
   * The person behind the browser is `subject` and agreed to `scope` (default: all requested): the request
   * is answered with a code, in one statement that also creates the grant the code will fill. Answers the
   * URL to send the browser to. Throws AuthorizationRequestError when the request is no longer pending.
   */
  async complete(id: string, completion: AuthorizationCompletion): Promise<string> {
    const pending = await this.getPending(id);
    if (!pending) throw new AuthorizationRequestError('The authorization request is unknown, expired or already answered.');
    if (typeof completion.subject !== 'string' || completion.subject === '' || completion.subject.length > 1024) {
      throw new TypeError('complete(): subject must be a non-empty string of at most 1024 characters');
    }
    if (completion.browserSessionId !== undefined && !UUID.test(completion.browserSessionId)) {
      throw new TypeError('complete(): browserSessionId must be a UUID');
    }
    const scope = completion.scope ?? pending.scope;
    const beyond = scope.filter((s) => !pending.scope.includes(s));
    if (beyond.length > 0) throw new TypeError(`complete(): scope ${beyond.join(' ')} was not requested`);
    if (pending.kind !== 'code') return this.otherKind(pending.kind, (steps) => steps.complete(id, completion.subject, [...new Set(scope)]));
    const code = randomBytes(32).toString('base64url');
    const [row]: Array<{ redirect_uri: string; response_mode: 'query' | 'fragment'; state: string | null }> = await this.dataSource.query(
      `WITH req AS (
         UPDATE authorization_requests r SET finished_at = now()
         FROM clients c
         WHERE r.id = $1 AND r.kind = 'code' AND r.finished_at IS NULL AND r.expires_at > now() AND c.client_id = r.client_id AND c.disabled_at IS NULL
         RETURNING r.client_id, r.redirect_uri, r.response_mode, r.state, r.code_challenge
       ), g AS (
         INSERT INTO grants (client_id, subject, scope, browser_session_id) SELECT client_id, $2, $3, $6::uuid FROM req RETURNING id
       ), c AS (
         INSERT INTO authorization_codes (code_hash, grant_id, redirect_uri, code_challenge, expires_at)
         SELECT $4, g.id, req.redirect_uri, req.code_challenge, now() + make_interval(secs => $5) FROM g, req
       )
       SELECT redirect_uri, response_mode, state FROM req`,
      [id, completion.subject, [...new Set(scope)].join(' '), hashToken(code), this.options.codeTtlSeconds, completion.browserSessionId ?? null],
    );
    if (!row) throw new AuthorizationRequestError('The authorization request is unknown, expired or already answered.');
    return clientRedirect(row.redirect_uri, row.response_mode, { code, state: row.state, iss: this.core.issuer });
  }

  /** The login step refuses the request (the person said no, or prompt=none cannot be honoured): the error redirect. */
  async deny(id: string, error: AuthorizationDenial = 'access_denied'): Promise<string> {
    const kind = UUID.test(id) ? (await this.getPending(id))?.kind : undefined;
    if (kind && kind !== 'code') return this.otherKind(kind, (steps) => steps.deny(id));
    const rows: Array<{ redirect_uri: string; response_mode: 'query' | 'fragment'; state: string | null }> = UUID.test(id)
      ? await this.dataSource.query(
          // As a SELECT: TypeORM answers an UPDATE with [rows, count].
          `WITH d AS (
             UPDATE authorization_requests SET finished_at = now() WHERE id = $1 AND kind = 'code' AND finished_at IS NULL AND expires_at > now()
             RETURNING redirect_uri, response_mode, state
           ) SELECT * FROM d`,
          [id],
        )
      : [];
    if (rows.length === 0) throw new AuthorizationRequestError('The authorization request is unknown, expired or already answered.');
    const [row] = rows;
    return clientRedirect(row.redirect_uri, row.response_mode, { error, error_description: DENIALS[error], state: row.state, iss: this.core.issuer });
  }

  /** Ends a request of a kind another module owns, through that module; its answer is where the browser goes. */
  private async otherKind(kind: AuthorizationRequestKind, end: (steps: AuthorizationRequestKindSteps) => Promise<string | null>): Promise<string> {
    const steps = this.kinds.get(kind);
    const url = steps ? await end(steps) : null;
    if (url === null) throw new AuthorizationRequestError('The authorization request is unknown, expired or already answered.');
    return url;
  }

  /** Where the browser goes to answer the pending request `id`: the login step, `?request=<id>`. */
  loginUrl(id: string): string {
    const login = this.options.loginPath;
    const base = /^https?:\/\//.test(login) ? login : `${this.core.issuer}/${login.replace(/^\/+/, '')}`;
    const url = new URL(base);
    url.searchParams.set('request', id);
    return url.toString();
  }

  private async client(clientId: string): Promise<ClientRow | undefined> {
    if (clientId.length > 255) return undefined;
    const [row]: ClientRow[] = await this.dataSource.query(
      `SELECT client_id, grant_types, response_types, redirect_uris, disabled_at IS NOT NULL AS disabled FROM clients WHERE client_id = $1`,
      [clientId.replace(/\0/g, '')],
    );
    return row?.client_id === clientId ? row : undefined;
  }
}

const DENIALS: Record<AuthorizationDenial, string> = {
  access_denied: 'The user or the authorization server denied the request.',
  login_required: 'The user is not logged in (prompt=none).',
  consent_required: 'The user has not agreed to this request yet (prompt=none).',
  interaction_required: 'The request needs the user to interact (prompt=none).',
};

function page(message: string): AuthorizationAnswer {
  return { kind: 'page', status: 400, message };
}
