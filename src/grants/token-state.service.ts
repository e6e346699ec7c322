import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { InvalidatedCache } from '../database/invalidated-cache';
import { InvalidationListener } from '../database/invalidation-listener';
import { GrantActivity } from './grant-activity.service';
import { GRANTS_OPTIONS, GrantsOptions } from './grants-options';
import { hashToken, parseTokenKind, TokenKind } from './token-format';

/** A live token, as a resource server or introspection needs to know it. */
export interface LiveToken {
  kind: TokenKind;
  grantId: string;
  clientId: string;
  /** Null for client_credentials grants, which act for the client itself. */
  subject: string | null;
  /** The token's scope tokens (an access token may carry a narrower scope than its grant, RFC 6749 §6). */
  scope: string[];
  issuedAt: Date;
  /** Null for a refresh token that never expires on its own. */
  expiresAt: Date | null;
}

interface TokenRow {
  active: boolean;
  grant_id: string;
  client_id: string;
  subject: string | null;
  scope: string;
  iat: Date;
  exp: Date | null;
}

/**
 * Whether a token is live: neither it nor its grant is revoked or expired (and, for a refresh token, not
 * yet exchanged), and its client is not disabled: disabling stops a client at once, and resource servers
 * stop accepting its tokens with it, while the tokens stay stored (still revocable, reuse still detected).
 * One SQL round trip. Introspection and the bearer guard both ask here, so they can never
 * disagree about a token.
 */
@Injectable()
export class TokenStateService {
  /**
   * Live access tokens, by hash, until their expiry and at most the cache TTL; a revocation of their grant
   * (any path: the triggers notify) evicts them, and any client change flushes them all.
   */
  private readonly cache: InvalidatedCache<LiveToken>;

  constructor(
    private readonly dataSource: DataSource,
    @Inject(GRANTS_OPTIONS) private readonly options: GrantsOptions,
    listener: InvalidationListener,
    private readonly activity: GrantActivity,
  ) {
    this.cache = new InvalidatedCache(listener, { ttlMs: options.cache.ttlSeconds * 1000, maxEntries: options.cache.maxEntries }, (p) => p.startsWith('c:'));
  }

  /** The live token, or null for anything else (unknown, malformed, revoked, expired, used). */
  async liveToken(token: string): Promise<LiveToken | null> {
    const kind = parseTokenKind(token, this.options.tokenPrefixes);
    if (!kind) return null;
    const hash = hashToken(token);
    if (kind === 'refresh_token') return this.toLive(kind, (await this.refreshToken(hash))[0]) ?? null;
    const live = await this.cache.get(
      hash.toString('base64'),
      async () => {
        const live = this.toLive(kind, (await this.accessToken(hash))[0]);
        // The cache miss is the token's first check in this process: the grant was used.
        if (live) this.activity.checked(live.grantId);
        return live;
      },
      (t) => ({ tags: [`g:${t.grantId}`], until: t.expiresAt!.getTime() }),
    );
    return live ?? null;
  }

  private toLive(kind: TokenKind, row: TokenRow | undefined): LiveToken | undefined {
    if (!row?.active) return undefined;
    // Frozen: a cached answer is shared by every later check of the token.
    return Object.freeze({
      kind,
      grantId: row.grant_id,
      clientId: row.client_id,
      subject: row.subject,
      scope: Object.freeze(row.scope ? row.scope.split(' ') : []) as string[],
      issuedAt: row.iat,
      expiresAt: row.exp,
    });
  }

  /**
   * Also marks the token's first use, which reuse detection reads: once a resource server has seen the
   * successor of a consumed refresh token, the old one coming back is reuse, not a retry. The first use
   * is an UPDATE that waits for, and then respects, a retry or revocation holding the row: if that
   * revoked the token meanwhile, the answer is inactive. Later uses only read.
   */
  private accessToken(hash: Buffer): Promise<TokenRow[]> {
    return this.dataSource.query(
      `WITH t AS (
         SELECT a.id, a.first_used_at, g.id AS grant_id, g.client_id, g.subject, coalesce(a.scope, g.scope) AS scope,
                a.created_at AS iat, a.expires_at AS exp
         FROM access_tokens a JOIN grants g ON g.id = a.grant_id JOIN clients c ON c.client_id = g.client_id AND c.disabled_at IS NULL
         WHERE a.token_hash = $1 AND a.revoked_at IS NULL AND a.expires_at > now() AND g.revoked_at IS NULL
       ), first_use AS (
         UPDATE access_tokens a SET first_used_at = coalesce(a.first_used_at, now())
         FROM t WHERE a.id = t.id AND t.first_used_at IS NULL AND a.revoked_at IS NULL
         RETURNING a.id
       )
       SELECT t.first_used_at IS NOT NULL OR EXISTS (SELECT 1 FROM first_use) AS active,
              t.grant_id, t.client_id, t.subject, t.scope, t.iat, t.exp
       FROM t`,
      [hash],
    );
  }

  private refreshToken(hash: Buffer): Promise<TokenRow[]> {
    return this.dataSource.query(
      `SELECT true AS active, g.id AS grant_id, g.client_id, g.subject, g.scope, r.created_at AS iat, r.expires_at AS exp
       FROM refresh_tokens r JOIN grants g ON g.id = r.grant_id JOIN clients c ON c.client_id = g.client_id AND c.disabled_at IS NULL
       WHERE r.token_hash = $1 AND r.revoked_at IS NULL AND r.consumed_at IS NULL
         AND (r.expires_at IS NULL OR r.expires_at > now()) AND g.revoked_at IS NULL`,
      [hash],
    );
  }
}
