import { Check, Column, CreateDateColumn, Entity, ForeignKey, Index, PrimaryGeneratedColumn } from 'typeorm';
import { ClientEntity } from '../clients/client.entity';
import type { AuthorizationRequestKind } from './pending-authorization.interface';

/** A validated authorization request (RFC 6749 §4.1.1) waiting for the login step; single use, short-lived. */
@Entity({ name: 'authorization_requests' })
@Check('authorization_requests_response_mode_check', `response_mode IN ('query', 'fragment')`)
@Check('authorization_requests_kind_check', `kind IN ('code', 'device')`)
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

  /**
   * `code`: an authorization request of the authorization endpoint (RFC 6749 §4.1.1). `device`: a person
   * entered the user code of a device authorization (RFC 8628 §3.3); completing it approves the device code.
   */
  @Column({ type: 'text', default: 'code' })
  kind: AuthorizationRequestKind;

  /** For a device request: the user code as the device shows it (`BCDF-GHJK`), for the consent page. */
  @Column({ name: 'user_code', type: 'text', nullable: true })
  userCode: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @Index('authorization_requests_expires_at_idx')
  @Column({ name: 'expires_at', type: 'timestamptz' })
  expiresAt: Date;

  /** Set when the login step completed or denied it: a request is answered once. */
  @Column({ name: 'finished_at', type: 'timestamptz', nullable: true })
  finishedAt: Date | null;
}
