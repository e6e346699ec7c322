import { Column, CreateDateColumn, Entity, ForeignKey, Index, PrimaryColumn } from 'typeorm';
import { GrantEntity } from '../grants/grant.entity';

/**
 * An authorization code (RFC 6749 §4.1.2), stored as its SHA-256 only. Its grant exists from the moment
 * the person completed the authorization; the exchange puts the first tokens into it.
 */
@Entity({ name: 'authorization_codes' })
export class AuthorizationCodeEntity {
  @PrimaryColumn({ name: 'code_hash', type: 'bytea' })
  codeHash: Buffer;

  @Index('authorization_codes_grant_id_idx')
  @ForeignKey(() => GrantEntity, { name: 'authorization_codes_grant_id_fkey', onDelete: 'CASCADE' })
  @Column({ name: 'grant_id', type: 'uuid' })
  grantId: string;

  @Column({ name: 'redirect_uri', type: 'text' })
  redirectUri: string;

  @Column({ name: 'code_challenge', type: 'text' })
  codeChallenge: string;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @Index('authorization_codes_expires_at_idx')
  @Column({ name: 'expires_at', type: 'timestamptz' })
  expiresAt: Date;

  @Column({ name: 'used_at', type: 'timestamptz', nullable: true })
  usedAt: Date | null;
}
