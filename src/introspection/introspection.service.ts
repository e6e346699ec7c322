import { Injectable } from '@nestjs/common';
import type { AuthenticatedClient } from '../clients/authenticated-client';
import { OAuthException } from '../http/oauth.exception';
import { TokenStateService } from '../grants/token-state.service';

/** RFC 7662 §2.2. An inactive token tells nothing more, whatever the reason. */
export type IntrospectionResponse =
  | { active: false }
  | {
      active: true;
      client_id: string;
      scope: string;
      /** Absent for client_credentials grants, which act for the client itself. */
      sub?: string;
      /** Absent for a refresh token that never expires on its own. */
      exp?: number;
      iat: number;
      token_type: 'Bearer' | 'refresh_token';
      grant_id: string;
    };

const INACTIVE: IntrospectionResponse = Object.freeze({ active: false });

/**
 * `POST /oauth2/introspect` decisions (RFC 7662). A token is active when it, and its grant, are neither
 * revoked nor expired (and, for a refresh token, not yet exchanged): TokenStateService decides, in one SQL
 * round trip, the same way for every resource server check.
 */
@Injectable()
export class IntrospectionService {
  constructor(private readonly tokens: TokenStateService) {}

  async introspectAsRequested(token: string, client: AuthenticatedClient | null): Promise<IntrospectionResponse> {
    // RFC 7662 §2.1, §4: callers must authenticate; with a secret, so that a public client (anyone)
    // cannot probe tokens.
    if (!client?.confidential) {
      throw OAuthException.invalidClient('Token introspection is for confidential clients: authenticate with the client secret.');
    }
    return this.introspect(token);
  }

  async introspect(token: string): Promise<IntrospectionResponse> {
    const live = await this.tokens.liveToken(token);
    if (!live) return INACTIVE;
    return {
      active: true,
      client_id: live.clientId,
      scope: live.scope.join(' '),
      ...(live.subject !== null ? { sub: live.subject } : {}),
      ...(live.expiresAt !== null ? { exp: epoch(live.expiresAt) } : {}),
      iat: epoch(live.issuedAt),
      token_type: live.kind === 'access_token' ? 'Bearer' : 'refresh_token',
      grant_id: live.grantId,
    };
  }
}

/** Seconds since the epoch, rounded down (RFC 7662 §2.2 NumericDate). */
function epoch(date: Date): number {
  return Math.floor(date.getTime() / 1000);
}
