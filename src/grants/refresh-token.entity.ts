import { Column, CreateDateColumn, Entity, ForeignKey, Index, PrimaryGeneratedColumn, Unique } from 'typeorm';
import { AccessTokenEntity } from './access-token.entity';
import { GrantEntity } from './grant.entity';

@Entity({ name: 'refresh_tokens' })
@Unique('refresh_tokens_token_hash_key', ['tokenHash'])
export class RefreshTokenEntity {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Index('refresh_tokens_grant_id_idx')
  @ForeignKey(() => GrantEntity, { name: 'refresh_tokens_grant_id_fkey', onDelete: 'CASCADE' })
  @Column({ name: 'grant_id', type: 'uuid' })
  grantId: string;

  /** SHA-256 of the token; the plaintext is never stored. */
  @Column({ name: 'token_hash', type: 'bytea', select: false })
  tokenHash: Buffer;

  /** The access token issued together with this refresh token (revoked when the pair is rotated). */
  @Index('refresh_tokens_access_token_id_idx', { where: 'access_token_id IS NOT NULL' })
  @ForeignKey(() => AccessTokenEntity, { name: 'refresh_tokens_access_token_id_fkey', onDelete: 'SET NULL' })
  @Column({ name: 'access_token_id', type: 'uuid', nullable: true })
  accessTokenId: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  /** Null: never expires on its own. */
  @Index('refresh_tokens_expires_at_idx', { where: 'expires_at IS NOT NULL' })
  @Column({ name: 'expires_at', type: 'timestamptz', nullable: true })
  expiresAt: Date | null;

  @Column({ name: 'revoked_at', type: 'timestamptz', nullable: true })
  revokedAt: Date | null;

  /** Set when the token was exchanged at the token endpoint (rotation). */
  @Column({ name: 'consumed_at', type: 'timestamptz', nullable: true })
  consumedAt: Date | null;

  /** The refresh token that replaced this one (the latest one, after a lost-response retry). */
  @Index('refresh_tokens_successor_id_idx', { where: 'successor_id IS NOT NULL' })
  @ForeignKey(() => RefreshTokenEntity, { name: 'refresh_tokens_successor_id_fkey', onDelete: 'SET NULL' })
  @Column({ name: 'successor_id', type: 'uuid', nullable: true })
  successorId: string | null;

  /**
   * Set, with revokedAt, when a lost-response retry of its predecessor replaced this unused token:
   * presenting it afterwards is reuse (RFC 9700 §4.14.2), unlike a token revoked with its grant.
   */
  @Column({ name: 'superseded_at', type: 'timestamptz', nullable: true })
  supersededAt: Date | null;
}
