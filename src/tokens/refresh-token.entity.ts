import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

@Entity({ name: 'refresh_tokens' })
export class RefreshTokenEntity {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Index('refresh_tokens_grant_id_idx')
  @Column({ name: 'grant_id', type: 'uuid' })
  grantId: string;

  /** SHA-256 of the token; the plaintext is never stored. */
  @Index('refresh_tokens_token_hash_key', { unique: true })
  @Column({ name: 'token_hash', type: 'bytea', select: false })
  tokenHash: Buffer;

  /** The access token issued together with this refresh token (revoked when the pair is rotated). */
  @Column({ name: 'access_token_id', type: 'uuid', nullable: true })
  accessTokenId: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  /** Null: never expires on its own. */
  @Column({ name: 'expires_at', type: 'timestamptz', nullable: true })
  expiresAt: Date | null;

  @Column({ name: 'revoked_at', type: 'timestamptz', nullable: true })
  revokedAt: Date | null;

  /** Set when the token was exchanged at the token endpoint (rotation). */
  @Column({ name: 'consumed_at', type: 'timestamptz', nullable: true })
  consumedAt: Date | null;

  /** The refresh token that replaced this one. */
  @Column({ name: 'successor_id', type: 'uuid', nullable: true })
  successorId: string | null;
}
