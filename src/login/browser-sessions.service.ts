import { Inject, Injectable } from '@nestjs/common';
import { createHash, randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import { LOGIN_OPTIONS } from './login.constants';
import type { ResolvedLoginOptions } from './login-options.interface';

/** The signed-in browser: its session row and the (live, not disabled) user. */
export interface BrowserSession {
  id: string;
  userId: string;
  username: string;
  authenticatedAt: Date;
}

/** Cookie values are 256 random bits; only their SHA-256 is stored, so the table cannot sign anyone in. */
const TOKEN = /^[A-Za-z0-9_-]{43}$/;
const digest = (token: string): Buffer => createHash('sha256').update(token).digest();

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
      [digest(token), userId, this.options.sessionTtlSeconds],
    );
    return token;
  }

  /** The live session of a cookie value: not ended, not expired, its user not disabled. */
  async find(token: string | undefined): Promise<BrowserSession | null> {
    if (!token || !TOKEN.test(token)) return null;
    const rows: Array<{ id: string; user_id: string; username: string; authenticated_at: Date }> = await this.dataSource.query(
      `SELECT s.id, s.user_id, u.username, s.authenticated_at FROM browser_sessions s JOIN users u ON u.id = s.user_id
        WHERE s.token_hash = $1 AND s.ended_at IS NULL AND s.expires_at > now() AND u.disabled_at IS NULL`,
      [digest(token)],
    );
    const r = rows[0];
    return r ? { id: r.id, userId: r.user_id, username: r.username, authenticatedAt: new Date(r.authenticated_at) } : null;
  }

  /** Ends the session of a cookie value (signing out, or another person signing in on this browser). */
  async end(token: string | undefined): Promise<void> {
    if (!token || !TOKEN.test(token)) return;
    await this.dataSource.query(`UPDATE browser_sessions SET ended_at = now() WHERE token_hash = $1 AND ended_at IS NULL`, [digest(token)]);
  }
}
