import { Check, Column, CreateDateColumn, Entity, Index, PrimaryColumn } from 'typeorm';
import type { TokenEndpointAuthMethod } from './client-auth-methods';

export { TOKEN_ENDPOINT_AUTH_METHODS } from './client-auth-methods';
export type { TokenEndpointAuthMethod };

export const GRANT_TYPES = ['refresh_token', 'client_credentials', 'authorization_code', 'urn:ietf:params:oauth:grant-type:device_code'] as const;
export type GrantType = (typeof GRANT_TYPES)[number];

export type ApplicationType = 'web' | 'native';

@Entity({ name: 'clients' })
@Check('clients_token_endpoint_auth_method_check', `token_endpoint_auth_method IN ('client_secret_basic', 'client_secret_post', 'none')`)
@Check('clients_application_type_check', `application_type IN ('web', 'native')`)
@Check('clients_secret_matches_method', `(token_endpoint_auth_method = 'none') = (secret_hash IS NULL)`)
export class ClientEntity {
  @PrimaryColumn({ name: 'client_id', type: 'text' })
  clientId: string;

  @Column({ name: 'name', type: 'text', nullable: true })
  name: string | null;

  @Column({ name: 'token_endpoint_auth_method', type: 'text' })
  tokenEndpointAuthMethod: TokenEndpointAuthMethod;

  /** `sha256$<digest>` of the secret; null for public clients. The secret itself is never stored. */
  @Column({ name: 'secret_hash', type: 'text', nullable: true, select: false })
  secretHash: string | null;

  @Column({ name: 'grant_types', type: 'text', array: true, default: () => "'{}'" })
  grantTypes: GrantType[];

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @Column({ name: 'disabled_at', type: 'timestamptz', nullable: true })
  disabledAt: Date | null;

  /** RFC 6749 §3.1.2: the only URIs an authorization may redirect to, compared exactly. */
  @Column({ name: 'redirect_uris', type: 'text', array: true, default: () => "'{}'" })
  redirectUris: string[];

  @Column({ name: 'response_types', type: 'text', array: true, default: () => "'{}'" })
  responseTypes: string[];

  /** RFC 7591 §2 (OpenID registration's application_type): which redirect URIs are allowed. */
  @Column({ name: 'application_type', type: 'text', default: 'web' })
  applicationType: ApplicationType;

  /** The rest of the registered metadata as registered (client_name and its localised variants, client_uri, …). */
  @Column({ type: 'jsonb', default: () => "'{}'" })
  metadata: Record<string, unknown>;

  /** When the client registered itself (RFC 7591); null for clients an operator created. */
  @Index('clients_registered_at_idx', { where: 'registered_at IS NOT NULL' })
  @Column({ name: 'registered_at', type: 'timestamptz', nullable: true })
  registeredAt: Date | null;
}
