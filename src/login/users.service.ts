import { Injectable } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { DataSource, EntityManager } from 'typeorm';
import { hashPassword, verifyPassword } from './password-hash';
import { BrowserSessionsService } from './browser-sessions.service';

/** Local usernames: lower case, as Matrix localparts are (letters, digits and `._=-`), 1 to 64 characters. */
export const USERNAME_PATTERN = /^[a-z0-9._=-]{1,64}$/;
/** OWASP ASVS 2.1.1/2.1.2: at least 8 characters; bounded so that hashing stays cheap to ask for. */
export const PASSWORD_MIN_LENGTH = 8;
export const PASSWORD_MAX_LENGTH = 1024;

/** Bad input to user:create or the sign-up form; the message says what to send instead. */
export class UserInputError extends Error {
  override name = 'UserInputError';
}

export interface LocalUser {
  /** The subject of the grants this user makes. */
  id: string;
  username: string;
}

export interface DisabledUser extends LocalUser {
  /** Browser sessions this call ended. */
  endedSessions: number;
}

/** Revokes every grant of `subject` on the disabling transaction `manager` (see UsersService.disable). */
export type RevokeGrantsOf<T> = (manager: EntityManager, subject: string) => Promise<T>;

/** Usernames are compared in lower case; surrounding spaces (a phone keyboard's) are not part of one. */
export function normalizeUsername(username: string): string {
  return username.trim().toLowerCase();
}

/**
 * Local accounts of the built-in login. Passwords are scrypt hashes (password-hash.ts); an unknown or
 * disabled username costs the same hash computation as a wrong password, so the time of an answer does
 * not tell whether a username exists.
 */
@Injectable()
export class UsersService {
  /** A hash of a random password, to verify against when there is no user: the same work as a real check. */
  private dummyHash?: Promise<string>;

  constructor(
    private readonly dataSource: DataSource,
    private readonly sessions: BrowserSessionsService,
  ) {}

  async create(username: string, password: string): Promise<LocalUser> {
    const name = normalizeUsername(username);
    if (!USERNAME_PATTERN.test(name)) {
      throw new UserInputError('The username must be 1 to 64 characters: lower-case letters, digits, and . _ = -');
    }
    checkPassword(password);
    const hash = await hashPassword(password);
    const rows: Array<{ id: string; username: string }> = await this.dataSource.query(
      `INSERT INTO users (username, password_hash) VALUES ($1, $2) ON CONFLICT (username) DO NOTHING RETURNING id, username`,
      [name, hash],
    );
    if (rows.length === 0) throw new UserInputError(`The username ${JSON.stringify(name)} is taken.`);
    return { id: rows[0].id, username: rows[0].username };
  }

  /** The user whose password this is, or null: unknown, disabled and wrong password alike, after equal work. */
  async authenticate(username: string, password: string): Promise<LocalUser | null> {
    const name = normalizeUsername(username);
    const rows: Array<{ id: string; username: string; password_hash: string }> =
      USERNAME_PATTERN.test(name) && password.length <= PASSWORD_MAX_LENGTH
        ? await this.dataSource.query(`SELECT id, username, password_hash FROM users WHERE username = $1 AND disabled_at IS NULL`, [name])
        : [];
    const user = rows[0];
    const ok = await verifyPassword(password.slice(0, PASSWORD_MAX_LENGTH), user?.password_hash ?? (await this.dummy()));
    return user && ok ? { id: user.id, username: user.username } : null;
  }

  /** A live (not disabled) user by id: a browser session is only good while its user is. */
  async findActive(id: string): Promise<LocalUser | null> {
    const rows: LocalUser[] = await this.dataSource.query(`SELECT id, username FROM users WHERE id = $1 AND disabled_at IS NULL`, [id]);
    return rows[0] ?? null;
  }

  /**
   * Disables a user, ends their browser sessions and runs `revokeGrants` (the revocation service's
   * `revokeGrantsOfIn`: every grant whose subject they are) on the same transaction, so either all of it
   * happens or none: a failure leaves the user enabled, able to sign in and try again, never disabled with
   * live grants. Their approved device codes can no longer be redeemed once this commits (the device grant
   * refuses a disabled user). Null when there is no such user. An already disabled user matches too (their
   * first `disabled_at` stays): disabling again ends and revokes whatever is still live.
   */
  disable<T>(username: string, revokeGrants: RevokeGrantsOf<T>): Promise<(DisabledUser & { revoked: T }) | null> {
    return this.disableWhere('username', normalizeUsername(username), revokeGrants);
  }

  /** `disable` by user id (the account page's deactivation). */
  disableById<T>(id: string, revokeGrants: RevokeGrantsOf<T>): Promise<(DisabledUser & { revoked: T }) | null> {
    return this.disableWhere('id', id, revokeGrants);
  }

  private disableWhere<T>(column: 'username' | 'id', value: string, revokeGrants: RevokeGrantsOf<T>): Promise<(DisabledUser & { revoked: T }) | null> {
    return this.dataSource.transaction(async (m) => {
      // As SELECTs: TypeORM answers a bare UPDATE … RETURNING with [rows, count]. The row lock it takes
      // also makes a concurrent device-code redemption for this user wait, then see them disabled.
      const users: LocalUser[] = await m.query(
        `WITH u AS (UPDATE users SET disabled_at = coalesce(disabled_at, now()) WHERE ${column === 'id' ? 'id = $1::uuid' : 'username = $1'} RETURNING id, username) SELECT * FROM u`,
        [value],
      );
      if (users.length === 0) return null;
      const n = await this.sessions.endAllOf(users[0].id, undefined, m);
      const revoked = await revokeGrants(m, users[0].id);
      return { ...users[0], endedSessions: n, revoked };
    });
  }

  private dummy(): Promise<string> {
    return (this.dummyHash ??= hashPassword(randomBytes(16).toString('base64url')));
  }
}

export function checkPassword(password: string): void {
  if (password.length < PASSWORD_MIN_LENGTH) throw new UserInputError(`The password must be at least ${PASSWORD_MIN_LENGTH} characters.`);
  if (password.length > PASSWORD_MAX_LENGTH) throw new UserInputError(`The password must be at most ${PASSWORD_MAX_LENGTH} characters.`);
}
