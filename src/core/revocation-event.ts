import type { RevocationReason } from '../grants/grant.entity';
import type { TokenKind } from '../grants/token-format';

/** What hosts receive when a grant is revoked. */
export interface RevocationEvent {
  grantId: string;
  /** The client that owned the grant. */
  clientId: string;
  subject: string | null;
  scope: string;
  /** The kind of token presented; null when the grant was revoked by id. */
  tokenType: TokenKind | null;
  /** The authenticated client that asked; null for anonymous requests and operators. */
  revokingClientId: string | null;
  reason: RevocationReason;
  /**
   * True when the token may have leaked and a host may want to warn its owner: someone other than the
   * grant's own client revoked it (anonymous or another client), or a used refresh token or code came back.
   */
  suspicious: boolean;
  /** When the database recorded the revocation. */
  revokedAt: Date;
}

export type RevocationListener = (event: RevocationEvent) => unknown;

/** A revocation function's answer about the grant it revoked (see migrations/*-revocation-outcome.ts). */
export interface RevokedGrantRow {
  grant_id: string | null;
  client_id: string | null;
  subject: string | null;
  scope: string | null;
  reason: string | null;
  revoked_at: Date | null;
}

const SUSPICIOUS_REASONS: ReadonlySet<string> = new Set<RevocationReason>(['anonymous_request', 'foreign_client_request', 'refresh_token_reuse', 'authorization_code_reuse', 'device_code_reuse']);

/** The one place a revocation event is built: from what the database decided and recorded. */
export function revocationEvent(row: RevokedGrantRow, tokenType: TokenKind | null, revokingClientId: string | null): RevocationEvent {
  return {
    grantId: row.grant_id!,
    clientId: row.client_id!,
    subject: row.subject,
    scope: row.scope ?? '',
    tokenType,
    revokingClientId,
    reason: row.reason as RevocationReason,
    suspicious: SUSPICIOUS_REASONS.has(row.reason!),
    revokedAt: row.revoked_at!,
  };
}
