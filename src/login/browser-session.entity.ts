import { Column, CreateDateColumn, Entity, ForeignKey, Index, PrimaryGeneratedColumn, Unique } from 'typeorm';
import { UserEntity } from './user.entity';

/** A browser signed in to the built-in login: the cookie holds a random token, this row its SHA-256. */
@Entity({ name: 'browser_sessions' })
@Unique('browser_sessions_token_hash_key', ['tokenHash'])
export class BrowserSessionEntity {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ name: 'token_hash', type: 'bytea', select: false })
  tokenHash: Buffer;

  @Index('browser_sessions_user_id_idx')
  @ForeignKey(() => UserEntity, { name: 'browser_sessions_user_id_fkey', onDelete: 'CASCADE' })
  @Column({ name: 'user_id', type: 'uuid' })
  userId: string;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  /** When the password was last entered in this session (prompt=login, re-authentication). */
  @Column({ name: 'authenticated_at', type: 'timestamptz', default: () => 'now()' })
  authenticatedAt: Date;

  @Column({ name: 'expires_at', type: 'timestamptz' })
  expiresAt: Date;

  @Column({ name: 'ended_at', type: 'timestamptz', nullable: true })
  endedAt: Date | null;
}
