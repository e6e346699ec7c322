import { randomBytes } from 'node:crypto';
import { Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { InvalidatedCache } from '../database/invalidated-cache';
import { InvalidationListener } from '../database/invalidation-listener';
import { CLIENT_AUTH_OPTIONS, ClientAuthOptions } from './client-auth-options';
import { ApplicationType, ClientEntity, GRANT_TYPES, GrantType, TOKEN_ENDPOINT_AUTH_METHODS, TokenEndpointAuthMethod } from './client.entity';
import { generateClientSecret, hashClientSecret } from './client-secret';
import { decideStatementNaming, PreparedStatement } from '../database/prepared-statement';

export interface CreateClientInput {
  clientId: string;
  authMethod: TokenEndpointAuthMethod;
  grantTypes?: GrantType[];
  name?: string;
  /** RFC 6749 §3.1.2: where authorizations may redirect; compared exactly (loopback ports aside). */
  redirectUris?: string[];
}

export interface CreatedClient {
  client_id: string;
  /** Shown once, at creation; only its hash is kept. Absent for public clients. */
  client_secret?: string;
  token_endpoint_auth_method: TokenEndpointAuthMethod;
  grant_types: GrantType[];
  redirect_uris?: string[];
}

/** A client that registered itself (RFC 7591), its metadata already checked (see registration/). */
export interface RegisterClientInput {
  tokenEndpointAuthMethod: TokenEndpointAuthMethod;
  grantTypes: GrantType[];
  redirectUris: string[];
  responseTypes: string[];
  applicationType: ApplicationType;
  /** The rest of its metadata, as registered (client_name and its variants, client_uri, …). */
  metadata: Record<string, unknown>;
}

export interface RegisteredClient {
  clientId: string;
  /** Shown once, in the registration response; only its hash is kept. Absent for public clients. */
  clientSecret?: string;
  registeredAt: Date;
}

/** What client authentication needs to know about a client: one indexed lookup. */
export interface ClientCredentialsRecord {
  clientId: string;
  tokenEndpointAuthMethod: TokenEndpointAuthMethod;
  secretHash: string | null;
  grantTypes: GrantType[];
  disabled: boolean;
}

/** Client authentication runs this on every authenticated request. */
const FIND_CREDENTIALS = new PreparedStatement<{
  client_id: string;
  token_endpoint_auth_method: TokenEndpointAuthMethod;
  secret_hash: string | null;
  grant_types: GrantType[];
  disabled: boolean;
}>(
  'oauth_find_client_credentials',
  `SELECT client_id, token_endpoint_auth_method, secret_hash, grant_types, disabled_at IS NOT NULL AS disabled
   FROM clients WHERE client_id = $1`,
);

export class ClientInputError extends Error {
  override name = 'ClientInputError';
}

export const CLIENT_ID_PATTERN = /^[\x21-\x7e]{1,255}$/;

@Injectable()
export class ClientsService implements OnApplicationBootstrap {
  /** Client records by id, for client authentication; any change to a client (the trigger notifies) evicts it. */
  private readonly credentials: InvalidatedCache<ClientCredentialsRecord>;

  constructor(
    private readonly dataSource: DataSource,
    listener: InvalidationListener,
    @Inject(CLIENT_AUTH_OPTIONS) options: ClientAuthOptions,
  ) {
    this.credentials = new InvalidatedCache(listener, { ttlMs: options.cache.ttlSeconds * 1000, maxEntries: options.cache.maxEntries });
  }

  /** The hot path's statements are named or not from the first request on (see decideStatementNaming). */
  async onApplicationBootstrap(): Promise<void> {
    await decideStatementNaming(this.dataSource);
  }

  async create(input: CreateClientInput): Promise<CreatedClient> {
    if (!CLIENT_ID_PATTERN.test(input.clientId)) {
      throw new ClientInputError('client id must be 1-255 visible ASCII characters without spaces');
    }
    if (!TOKEN_ENDPOINT_AUTH_METHODS.includes(input.authMethod)) {
      throw new ClientInputError(`auth method must be one of ${TOKEN_ENDPOINT_AUTH_METHODS.join(', ')}`);
    }
    const confidential = input.authMethod !== 'none';
    const grantTypes = input.grantTypes ?? (confidential ? ['refresh_token', 'client_credentials'] : ['refresh_token']);
    const unknown = grantTypes.filter((g) => !GRANT_TYPES.includes(g));
    if (unknown.length > 0) throw new ClientInputError(`unknown grant type ${unknown.join(', ')}; use ${GRANT_TYPES.join(', ')}`);
    if (!confidential && grantTypes.includes('client_credentials')) {
      throw new ClientInputError('a public client (auth method none) cannot use client_credentials');
    }
    const redirectUris = [...new Set(input.redirectUris ?? [])];
    const invalid = redirectUris.find((u) => !URL.canParse(u) || u.includes('#'));
    if (invalid !== undefined) throw new ClientInputError(`redirect URI ${JSON.stringify(invalid)} must be an absolute URI without a fragment`);
    if (grantTypes.includes('authorization_code') && redirectUris.length === 0) {
      throw new ClientInputError('a client of the authorization_code grant needs at least one redirect URI');
    }
    const secret = confidential ? generateClientSecret() : undefined;
    const rows: unknown[] = await this.dataSource.query(
      `INSERT INTO clients (client_id, name, token_endpoint_auth_method, secret_hash, grant_types, redirect_uris, response_types, metadata)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (client_id) DO NOTHING RETURNING client_id`,
      [
        input.clientId,
        input.name ?? null,
        input.authMethod,
        secret ? hashClientSecret(secret) : null,
        [...new Set(grantTypes)],
        redirectUris,
        grantTypes.includes('authorization_code') ? ['code'] : [],
        input.name ? { client_name: input.name } : {},
      ],
    );
    if (rows.length === 0) throw new ClientInputError(`a client with id ${JSON.stringify(input.clientId)} already exists`);
    return {
      client_id: input.clientId,
      ...(secret ? { client_secret: secret } : {}),
      token_endpoint_auth_method: input.authMethod,
      grant_types: [...new Set(grantTypes)],
      ...(redirectUris.length ? { redirect_uris: redirectUris } : {}),
    };
  }

  /**
   * Stores a dynamically registered client under a new random id (128 bits), with a server-generated
   * secret when it is confidential; `registered_at` marks it for the cleanup of unused registrations.
   */
  async register(input: RegisterClientInput): Promise<RegisteredClient> {
    const clientId = randomBytes(16).toString('base64url');
    const secret = input.tokenEndpointAuthMethod !== 'none' ? generateClientSecret() : undefined;
    const name = typeof input.metadata.client_name === 'string' ? input.metadata.client_name : null;
    const [row]: Array<{ registered_at: Date }> = await this.dataSource.query(
      `INSERT INTO clients (client_id, name, token_endpoint_auth_method, secret_hash, grant_types, redirect_uris, response_types,
                            application_type, metadata, registered_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb, now()) RETURNING registered_at`,
      [
        clientId,
        name,
        input.tokenEndpointAuthMethod,
        secret ? hashClientSecret(secret) : null,
        input.grantTypes,
        input.redirectUris,
        input.responseTypes,
        input.applicationType,
        JSON.stringify(input.metadata),
      ],
    );
    return { clientId, ...(secret ? { clientSecret: secret } : {}), registeredAt: row.registered_at };
  }

  /** Every client, oldest first, without secrets. */
  async list(): Promise<ClientEntity[]> {
    return this.dataSource.getRepository(ClientEntity).find({ order: { createdAt: 'ASC', clientId: 'ASC' } });
  }

  async findCredentials(clientId: string): Promise<ClientCredentialsRecord | null> {
    // No client can have such an id; and PostgreSQL refuses text with a NUL byte (a 500, not a 401).
    if (!CLIENT_ID_PATTERN.test(clientId)) return null;
    // Unknown ids are not cached: a flood of made-up ids must not fill memory.
    const found = await this.credentials.get(
      clientId,
      async () => {
        const [row] = await FIND_CREDENTIALS.run(this.dataSource, [clientId]);
        return row && {
          clientId: row.client_id,
          tokenEndpointAuthMethod: row.token_endpoint_auth_method,
          secretHash: row.secret_hash,
          grantTypes: row.grant_types,
          disabled: row.disabled,
        };
      },
      () => ({ tags: [`c:${clientId}`], until: Number.POSITIVE_INFINITY }),
    );
    return found ?? null;
  }

  /** Disables a client: its credentials stop working at once; its grants stay as they are. */
  async disable(clientId: string): Promise<boolean> {
    // As a SELECT: TypeORM answers a bare UPDATE with [rows, count].
    const rows: unknown[] = await this.dataSource.query(
      `WITH u AS (UPDATE clients SET disabled_at = now() WHERE client_id = $1 AND disabled_at IS NULL RETURNING client_id) SELECT client_id FROM u`,
      [clientId],
    );
    return rows.length > 0;
  }

  /**
   * A new secret for a confidential client, shown once; the old one stops working at once, on every
   * instance (the clients trigger notifies their caches). Null when there is no such confidential client.
   */
  async rotateSecret(clientId: string): Promise<string | null> {
    const secret = generateClientSecret();
    const rows: unknown[] = await this.dataSource.query(
      `WITH u AS (UPDATE clients SET secret_hash = $2 WHERE client_id = $1 AND token_endpoint_auth_method <> 'none' RETURNING client_id) SELECT client_id FROM u`,
      [clientId, hashClientSecret(secret)],
    );
    return rows.length > 0 ? secret : null;
  }

  /**
   * Deletes a client with its grants and tokens, in one transaction. Its live grants are revoked first,
   * through the same function as every revocation (audit rows, events, cache eviction everywhere); audit
   * rows stay. True when the client existed.
   */
  async delete(clientId: string): Promise<boolean> {
    return this.dataSource.transaction(async (m) => {
      // Locked in id order, as RevocationService.revokeGrantsOf locks them, so the two cannot deadlock.
      await m.query(
        `SELECT r.outcome FROM (SELECT id FROM grants WHERE client_id = $1 AND revoked_at IS NULL ORDER BY id) g, LATERAL oauth_revoke_grant(g.id, NULL, NULL, 'admin') r`,
        [clientId],
      );
      const rows: unknown[] = await m.query(
        `WITH g AS (DELETE FROM grants WHERE client_id = $1), c AS (DELETE FROM clients WHERE client_id = $1 RETURNING client_id) SELECT client_id FROM c`,
        [clientId],
      );
      return rows.length > 0;
    });
  }
}
