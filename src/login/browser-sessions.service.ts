import { Inject, Injectable } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { DataSource, EntityManager } from 'typeorm';
import { LOGIN_OPTIONS } from './login.constants';
import type { ResolvedLoginOptions } from './login-options.interface';
import { hashToken } from '../grants/token-format';

/** The signed-in browser: its session row and the (live, not disabled) user. */
export interface BrowserSession {
  id: string;
  userId: string;
  username: string;
  authenticatedAt: Date;
}

/** Cookie values are 256 random bits; only their SHA-256 is stored, so the table cannot sign anyone in. */
const TOKEN = /^[A-Za-z0-9_-]{43}$/;

/** Server-side browser sessions of the built-in login: revocable rows behind an opaque cookie. */
@Injectable()
export class BrowserSessionsService {
  constructor(
    private readonly dataSource: DataSource,
    @Inject(LOGIN_OPTIONS) private readonly options: ResolvedLoginOptions,
  ) {}

  /** Starts a session for a user who just entered their password; answers the cookie value. */
  async start(userId: string): Promise<string> {
    const token = randomBytes(32).toString('base64url');
    await this.dataSource.query(
      `INSERT INTO browser_sessions (token_hash, user_id, authenticated_at, expires_at) VALUES ($1, $2, now(), now() + make_interval(secs => $3))`,
      [hashToken(token), userId, this.options.sessionTtlSeconds],
    );
    return token;
  }

  /** The live session of a cookie value: not ended, not expired, its user not disabled. */
  async find(token: string | undefined): Promise<BrowserSession | null> {
    if (!token || !TOKEN.test(token)) return null;
    const rows: Array<{ id: string; user_id: string; username: string; authenticated_at: Date }> = await this.dataSource.query(
      `SELECT s.id, s.user_id, u.username, s.authenticated_at FROM browser_sessions s JOIN users u ON u.id = s.user_id
        WHERE s.token_hash = $1 AND s.ended_at IS NULL AND s.expires_at > now() AND u.disabled_at IS NULL`,
      [hashToken(token)],
    );
    const r = rows[0];
    return r ? { id: r.id, userId: r.user_id, username: r.username, authenticatedAt: new Date(r.authenticated_at) } : null;
  }

  /** The user's live sessions, newest first; `current` marks the one with this id. */
  async listOf(userId: string, currentId?: string): Promise<Array<{ id: string; startedAt: Date; authenticatedAt: Date; expiresAt: Date; current: boolean }>> {
    const rows: Array<{ id: string; created_at: Date; authenticated_at: Date; expires_at: Date }> = await this.dataSource.query(
      `SELECT id, created_at, authenticated_at, expires_at FROM browser_sessions
        WHERE user_id = $1 AND ended_at IS NULL AND expires_at > now() ORDER BY created_at DESC, id`,
      [userId],
    );
    return rows.map((r) => ({ id: r.id, startedAt: new Date(r.created_at), authenticatedAt: new Date(r.authenticated_at), expiresAt: new Date(r.expires_at), current: r.id === currentId }));
  }

  /** Ends every live session of the user but `exceptId`, on the caller's transaction when given one; answers how many. */
  async endAllOf(userId: string, exceptId?: string, manager: Pick<EntityManager, 'query'> = this.dataSource): Promise<number> {
    const [{ n }]: Array<{ n: number }> = await manager.query(
      `WITH s AS (UPDATE browser_sessions SET ended_at = now() WHERE user_id = $1 AND ended_at IS NULL AND id IS DISTINCT FROM $2::uuid RETURNING 1)
       SELECT count(*)::int AS n FROM s`,
      [userId, exceptId ?? null],
    );
    return n;
  }

  /** The password was entered again in this session (re-authentication before a destructive action). */
  async reauthenticated(id: string): Promise<void> {
    await this.dataSource.query(`UPDATE browser_sessions SET authenticated_at = now() WHERE id = $1 AND ended_at IS NULL`, [id]);
  }

  /** Ends the session of a cookie value (signing out, or another person signing in on this browser). */
  async end(token: string | undefined): Promise<void> {
    if (!token || !TOKEN.test(token)) return;
    await this.dataSource.query(`UPDATE browser_sessions SET ended_at = now() WHERE token_hash = $1 AND ended_at IS NULL`, [hashToken(token)]);
  }
}
