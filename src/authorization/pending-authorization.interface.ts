/**
 * An authorization request the authorization endpoint validated and handed to the login step (the
 * host's own, or the built-in login of `LoginModule`). The login step authenticates the person its way,
 * asks for consent if it wants, and ends the request with `AuthorizationService.complete()` or `.deny()`,
 * whose answer is the URL to send the browser to.
 */
export interface PendingAuthorization {
  /** Opaque, unguessable; the login step receives it as `?request=<id>`. */
  id: string;
  clientId: string;
  /** The client's registered metadata, as registered (client_name and `client_name#<lang>`, client_uri, logo_uri, tos_uri, policy_uri, …). */
  clientMetadata: Readonly<Record<string, unknown>>;
  /** The requested scope tokens (RFC 6749 §3.3), deduplicated, in the order sent. */
  scope: string[];
  /** The `prompt` values of the request (`login`, `none`, `consent`, `create`), empty when none was sent. */
  prompt: string[];
  redirectUri: string;
  expiresAt: Date;
  /** `code` for the authorization endpoint's requests; `device` for a device authorization (RFC 8628). */
  kind: AuthorizationRequestKind;
  /** For a device request: the user code the device shows (`XXXX-XXXX`), so the person can compare. */
  userCode?: string;
}

/** What kind of request the login step is answering; both are ended by complete() or deny(). */
export type AuthorizationRequestKind = 'code' | 'device';

/**
 * How pending requests of a kind other than `code` end: the module owning the kind registers it with
 * AuthorizationService.registerKind(). Each answers where the browser goes next, or null when the request
 * is no longer pending; each ends the request (finished_at) in the statement that records the decision.
 */
export interface AuthorizationRequestKindSteps {
  complete(id: string, subject: string, scope: string[]): Promise<string | null>;
  deny(id: string): Promise<string | null>;
}

/** What the login step established: who the person is, and optionally a narrower scope they agreed to. */
export interface AuthorizationCompletion {
  subject: string;
  /** The scope tokens granted; default: every requested one. Must be a subset of the request's scope. */
  scope?: string[];
  /**
   * The login step's browser session (a UUID) the person approved in, stored on the grant so that an
   * account page can tell which session is "this browser". The built-in login sets it.
   */
  browserSessionId?: string;
}

/** Errors the login step may answer with, by redirect to the client (RFC 6749 §4.1.2.1, OpenID Connect Core §3.1.2.6). */
export type AuthorizationDenial = 'access_denied' | 'login_required' | 'consent_required' | 'interaction_required';
