import { Check, Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';
import type { TokenKind } from './token-format';
import type { RevocationReason } from './grant.entity';

/**
 * One row per revocation that changed something. No foreign key to grants: audit rows outlive
 * the grants that retention cleanup deletes.
 */
@Entity({ name: 'revocation_audit' })
@Check('revocation_audit_token_type_check', `token_type IN ('access_token', 'refresh_token')`)
export class RevocationAuditEntity {
  @PrimaryGeneratedColumn({ type: 'bigint' })
  id: string;

  @Index('revocation_audit_grant_id_idx')
  @Column({ name: 'grant_id', type: 'uuid' })
  grantId: string;

  /** The client that owned the grant. */
  @Column({ name: 'client_id', type: 'text' })
  clientId: string;

  @Column({ type: 'text', nullable: true })
  subject: string | null;

  /** Which kind of token was presented; null when the grant was revoked by id (admin). */
  @Column({ name: 'token_type', type: 'text', nullable: true })
  tokenType: TokenKind | null;

  /** The authenticated client that asked; null for anonymous requests and the admin CLI. */
  @Column({ name: 'revoking_client_id', type: 'text', nullable: true })
  revokingClientId: string | null;

  @Column({ type: 'text' })
  reason: RevocationReason;

  @Column({ name: 'revoked_at', type: 'timestamptz', default: () => 'now()' })
  revokedAt: Date;
}
