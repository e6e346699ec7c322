import { HttpException } from '@nestjs/common';

/**
 * Error codes of RFC 6749 §5.2, RFC 7009 §2.2.1, RFC 6749 §4.1.2.1 (temporarily_unavailable), RFC 8628 §3.5
 * (slow_down, authorization_pending, access_denied, expired_token), RFC 7591 §3.2.2 (registration) and RFC 6750 §3.1 (invalid_token: a bearer token refused).
 */
export type OAuthErrorCode =
  | 'invalid_request'
  | 'invalid_client'
  | 'invalid_grant'
  | 'unauthorized_client'
  | 'unsupported_grant_type'
  | 'invalid_scope'
  | 'unsupported_token_type'
  | 'temporarily_unavailable'
  | 'slow_down'
  | 'authorization_pending'
  | 'access_denied'
  | 'expired_token'
  | 'invalid_redirect_uri'
  | 'invalid_client_metadata'
  | 'invalid_token'
  | 'server_error';

/**
 * An OAuth error, rendered by OAuthExceptionFilter as `{"error", "error_description"}`.
 * A description tells what was wrong and what to send instead; it never echoes a token or a secret.
 */
export class OAuthException extends HttpException {
  constructor(
    readonly error: OAuthErrorCode,
    readonly description: string,
    status = 400,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super({ error, error_description: description }, status);
  }

  static invalidRequest(description: string, status = 400, headers: Record<string, string> = {}): OAuthException {
    return new OAuthException('invalid_request', description, status, headers);
  }

  /** RFC 6749 §5.2: 401, with a WWW-Authenticate challenge when the client used the Authorization header. */
  static invalidClient(description: string, challenge?: string): OAuthException {
    return new OAuthException('invalid_client', description, 401, challenge ? { 'WWW-Authenticate': challenge } : {});
  }

  static temporarilyUnavailable(retryAfterSeconds: number): OAuthException {
    return new OAuthException('temporarily_unavailable', 'The authorization server cannot reach its database; retry later.', 503, {
      'Retry-After': String(retryAfterSeconds),
    });
  }
}
