import { Column, CreateDateColumn, Entity, ForeignKey, Index, PrimaryGeneratedColumn, Unique } from 'typeorm';
import { GrantEntity } from './grant.entity';

@Entity({ name: 'access_tokens' })
@Unique('access_tokens_token_hash_key', ['tokenHash'])
export class AccessTokenEntity {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Index('access_tokens_grant_id_idx')
  @ForeignKey(() => GrantEntity, { name: 'access_tokens_grant_id_fkey', onDelete: 'CASCADE' })
  @Column({ name: 'grant_id', type: 'uuid' })
  grantId: string;

  /** SHA-256 of the token; the plaintext is never stored. */
  @Column({ name: 'token_hash', type: 'bytea', select: false })
  tokenHash: Buffer;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @Index('access_tokens_expires_at_idx')
  @Column({ name: 'expires_at', type: 'timestamptz' })
  expiresAt: Date;

  @Column({ name: 'revoked_at', type: 'timestamptz', nullable: true })
  revokedAt: Date | null;

  /** When introspection first answered active for it: from then on its refresh token's successor counts as used. */
  @Column({ name: 'first_used_at', type: 'timestamptz', nullable: true })
  firstUsedAt: Date | null;

  /** A narrower scope asked for at refresh (RFC 6749 §6); null: the grant's scope. */
  @Column({ type: 'text', nullable: true })
  scope: string | null;
}
