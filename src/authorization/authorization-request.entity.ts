import { Check, Column, CreateDateColumn, Entity, ForeignKey, Index, PrimaryGeneratedColumn } from 'typeorm';
import { ClientEntity } from '../clients/client.entity';

/** A validated authorization request (RFC 6749 §4.1.1) waiting for the login step; single use, short-lived. */
@Entity({ name: 'authorization_requests' })
@Check('authorization_requests_response_mode_check', `response_mode IN ('query', 'fragment')`)
export class AuthorizationRequestEntity {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Index('authorization_requests_client_id_idx')
  @ForeignKey(() => ClientEntity, { name: 'authorization_requests_client_id_fkey', onDelete: 'CASCADE' })
  @Column({ name: 'client_id', type: 'text' })
  clientId: string;

  /** As the request sent it (a loopback redirect URI may carry any port, RFC 8252 §7.3). */
  @Column({ name: 'redirect_uri', type: 'text' })
  redirectUri: string;

  @Column({ name: 'response_mode', type: 'text' })
  responseMode: 'query' | 'fragment';

  @Column({ type: 'text', nullable: true })
  state: string | null;

  @Column({ type: 'text', default: '' })
  scope: string;

  /** RFC 7636: the S256 challenge. */
  @Column({ name: 'code_challenge', type: 'text' })
  codeChallenge: string;

  @Column({ type: 'text', nullable: true })
  prompt: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @Index('authorization_requests_expires_at_idx')
  @Column({ name: 'expires_at', type: 'timestamptz' })
  expiresAt: Date;

  /** Set when the login step completed or denied it: a request is answered once. */
  @Column({ name: 'finished_at', type: 'timestamptz', nullable: true })
  finishedAt: Date | null;
}
