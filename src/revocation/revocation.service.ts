import { Inject, Injectable, Optional } from '@nestjs/common';
import type { AuthenticatedClient } from '../clients/authenticated-client';
import { OAuthException } from '../http/oauth.exception';
import { DataSource } from 'typeorm';
import { OAUTH_CORE_OPTIONS } from '../core/oauth-core.module-definition';
import type { ResolvedOAuthCoreOptions } from '../core/oauth-core-options.interface';
import type { RevocationReason } from '../grants/grant.entity';
import { hashToken, parseTokenKind, TokenKind } from '../grants/token-format';
import { ForeignClientPolicy, resolveRevocationOptions, ResolvedRevocationOptions } from './revocation-options.interface';
import { REVOCATION_OPTIONS } from './revocation.module-definition';
import { RevocationEvents } from '../core/revocation-events';
import { PreparedStatement } from '../database/prepared-statement';

/**
 * `revoked`: this call revoked the grant. `already_revoked`, `not_found`: nothing to do.
 * `foreign_ignore`, `foreign_reject`: another client's token, left alone by policy.
 */
export type RevocationOutcome = 'revoked' | 'already_revoked' | 'not_found' | 'foreign_ignore' | 'foreign_reject';

interface RevokeRow {
  outcome: RevocationOutcome;
  grant_id: string | null;
  client_id: string | null;
  subject: string | null;
  scope: string | null;
}

/** The revoke path's one statement (see migrations/1763790000001-revocation-functions.ts). */
const REVOKE_TOKEN = new PreparedStatement<RevokeRow>(
  'oauth_revoke_token',
  'SELECT outcome, grant_id, client_id, subject, scope FROM oauth_revoke_token($1, $2, $3, $4)',
);

@Injectable()
export class RevocationService {
  constructor(
    private readonly dataSource: DataSource,
    @Inject(OAUTH_CORE_OPTIONS) private readonly core: ResolvedOAuthCoreOptions,
    private readonly events: RevocationEvents,
    @Optional() @Inject(REVOCATION_OPTIONS) options?: ResolvedRevocationOptions,
  ) {
    // Without RevocationModule (the admin CLI) the service runs with the default policies.
    this.options = options ?? resolveRevocationOptions();
  }

  private readonly options: ResolvedRevocationOptions;

  /**
   * A revocation request as the endpoint received it, under the configured policies. Resolves for
   * success and for tokens that do not exist (RFC 7009 §2.2: no oracle); throws OAuthException when a
   * policy refuses the request.
   */
  async revokeAsRequested(token: string, client: AuthenticatedClient | null): Promise<void> {
    if (client === null && this.options.anonymous === 'deny') {
      throw OAuthException.invalidClient('This server requires client authentication to revoke tokens.');
    }
    const outcome = await this.revokeToken(token, client?.clientId ?? null, this.options.foreignClient);
    if (outcome === 'foreign_reject') {
      // Strict RFC 7009 §2.1: a client may only revoke its own tokens.
      throw new OAuthException('unauthorized_client', 'The token was not issued to this client.', 401);
    }
  }

  /**
   * Revokes the whole grant of `token` (Matrix: both the access and the refresh token), in one SQL
   * round trip. A token that is not well-formed is not looked up: it cannot exist.
   */
  async revokeToken(token: string, revokingClientId: string | null, foreignClient: ForeignClientPolicy): Promise<RevocationOutcome> {
    // RFC 7009 §2.1: the hint is only an optimisation; the prefix tells the type for certain.
    const kind = parseTokenKind(token, this.core.tokenPrefixes);
    if (!kind) return 'not_found';
    const rows = await REVOKE_TOKEN.run(this.dataSource, [hashToken(token), kind, revokingClientId, foreignClient]);
    return this.finish(rows[0], kind, revokingClientId);
  }

  /** Revokes a grant by id (operators, reuse detection). True when this call revoked something. */
  async revokeGrant(grantId: string, reason: RevocationReason = 'admin', revokingClientId: string | null = null): Promise<boolean> {
    const rows: RevokeRow[] = await this.dataSource.query(
      'SELECT outcome, grant_id, client_id, subject, scope FROM oauth_revoke_grant($1, NULL, $2, $3)',
      [grantId, revokingClientId, reason],
    );
    return this.finish(rows[0], null, revokingClientId, reason) === 'revoked';
  }

  private finish(row: RevokeRow, tokenType: TokenKind | null, revokingClientId: string | null, reason?: RevocationReason): RevocationOutcome {
    if (row.outcome === 'revoked') {
      const ownClient = revokingClientId !== null && revokingClientId === row.client_id;
      this.events.emit({
        grantId: row.grant_id!,
        clientId: row.client_id!,
        subject: row.subject,
        scope: row.scope ?? '',
        tokenType,
        revokingClientId,
        reason: reason ?? (revokingClientId === null ? 'anonymous_request' : ownClient ? 'client_request' : 'foreign_client_request'),
        suspicious: reason === undefined && !ownClient,
        revokedAt: new Date(),
      });
    }
    return row.outcome;
  }
}
