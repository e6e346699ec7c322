import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

@Entity({ name: 'access_tokens' })
export class AccessTokenEntity {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Index('access_tokens_grant_id_idx')
  @Column({ name: 'grant_id', type: 'uuid' })
  grantId: string;

  /** SHA-256 of the token; the plaintext is never stored. */
  @Index('access_tokens_token_hash_key', { unique: true })
  @Column({ name: 'token_hash', type: 'bytea', select: false })
  tokenHash: Buffer;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @Column({ name: 'expires_at', type: 'timestamptz' })
  expiresAt: Date;

  @Column({ name: 'revoked_at', type: 'timestamptz', nullable: true })
  revokedAt: Date | null;
}
