import { Column, CreateDateColumn, Entity, ForeignKey, Index, PrimaryGeneratedColumn } from 'typeorm';
import { ClientEntity } from '../clients/client.entity';

/** What a revocation records as its cause. */
export const REVOCATION_REASONS = [
  'client_request', // the token's own client asked
  'anonymous_request', // no client identified itself (e.g. a secret scanner)
  'foreign_client_request', // another client presented the token
  'admin', // an operator, through the admin CLI
  'refresh_token_reuse', // a consumed refresh token came back (RFC 9700 §4.14.2)
  'authorization_code_reuse', // an authorization code was presented a second time (RFC 6749 §4.1.2)
  'user_disabled', // an operator disabled the local user whose grant it was (user:disable)
  'device_code_reuse', // a redeemed device code was presented again (RFC 8628, as RFC 6749 §4.1.2 for codes)
  'user_request', // the person whose grant it was ended it (account page: end a session, sign out everywhere else)
  'user_deactivated', // the person deactivated their own account (account page)
] as const;
export type RevocationReason = (typeof REVOCATION_REASONS)[number];

/** One login session: every access and refresh token it ever produced points here by grant_id. */
@Entity({ name: 'grants' })
export class GrantEntity {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Index('grants_client_id_idx')
  @ForeignKey(() => ClientEntity, { name: 'grants_client_id_fkey' })
  @Column({ name: 'client_id', type: 'text' })
  clientId: string;

  /** Null for client_credentials grants, which act for the client itself. */
  @Index('grants_subject_idx', { where: 'revoked_at IS NULL' })
  @Column({ type: 'text', nullable: true })
  subject: string | null;

  @Column({ type: 'text', default: '' })
  scope: string;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @Index('grants_revoked_at_idx', { where: 'revoked_at IS NOT NULL' })
  @Column({ name: 'revoked_at', type: 'timestamptz', nullable: true })
  revokedAt: Date | null;

  @Column({ name: 'revoked_by_client_id', type: 'text', nullable: true })
  revokedByClientId: string | null;

  @Column({ name: 'revocation_reason', type: 'text', nullable: true })
  revocationReason: RevocationReason | null;

  /** Last refresh or first check of an access token, recorded at most once a minute (GrantActivity). */
  @Column({ name: 'last_used_at', type: 'timestamptz', nullable: true })
  lastUsedAt: Date | null;

  /** The login step's browser session the grant was made in, when it said (AuthorizationCompletion.browserSessionId). */
  @Column({ name: 'browser_session_id', type: 'uuid', nullable: true })
  browserSessionId: string | null;
}
