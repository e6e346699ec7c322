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
   * True when someone other than the grant's own client revoked it (anonymous or another client):
   * the token may have leaked, and a host may want to warn its owner.
   */
  suspicious: boolean;
  revokedAt: Date;
}

export type RevocationListener = (event: RevocationEvent) => unknown;
