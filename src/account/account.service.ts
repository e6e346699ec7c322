import { Injectable, OnModuleInit } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { DataSource } from 'typeorm';
import { BrowserSessionsService } from '../login/browser-sessions.service';
import { describeClient } from '../login/client-view';
import type { ClientView } from '../login/login-pages';
import { matrixDeviceId, matrixDeviceScopes } from '../login/scope-labels';
import { DisabledUser, LocalUser, RevokeGrantsOf, UsersService } from '../login/users.service';
import { PendingRevocations, RevocationService } from '../revocation/revocation.service';

/** One live grant of a person, as the account page lists it. */
export interface AccountSession {
  /** The grant id. */
  id: string;
  clientId: string;
  client: ClientView;
  startedAt: Date;
  /** Last refresh or first use of an access token (at most once a minute); null when never used. */
  lastUsedAt: Date | null;
  scope: string[];
  /** The Matrix device id its scope carries (`urn:matrix:client:device:<id>`), if any. */
  deviceId?: string;
  /** Approved in the browser session that asks (its grant carries that session's id). */
  currentBrowser: boolean;
}

/** One live browser session of the built-in login. */
export interface AccountBrowserSession {
  id: string;
  startedAt: Date;
  /** When the password was last entered in it. */
  authenticatedAt: Date;
  expiresAt: Date;
  current: boolean;
}

/** Which session: by grant id, or by the Matrix device id in its scope. */
export type SessionRef = { grantId: string } | { deviceId: string };

export interface DeactivatedAccount {
  revokedGrants: number;
  endedBrowserSessions: number;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Matrix device ids are opaque strings; these bounds only keep odd input out of the query (and out of URLs). */
export const PLAIN_PARAMETER = /^[\x21-\x7e]{1,255}$/;

/**
 * A live session: the grant is not revoked, its client is not disabled, and it still holds a token that
 * works, an access token not revoked and not expired, or a refresh token not revoked, not exchanged and
 * not expired. A grant whose tokens all expired or were revoked (or that only holds an unused
 * authorization code) is not a session any more: nothing can act through it. `g` is the grant.
 */
const LIVE = `g.revoked_at IS NULL
  AND EXISTS (SELECT 1 FROM clients c WHERE c.client_id = g.client_id AND c.disabled_at IS NULL)
  AND (EXISTS (SELECT 1 FROM access_tokens a WHERE a.grant_id = g.id AND a.revoked_at IS NULL AND a.expires_at > now())
    OR EXISTS (SELECT 1 FROM refresh_tokens r WHERE r.grant_id = g.id AND r.revoked_at IS NULL AND r.consumed_at IS NULL
      AND (r.expires_at IS NULL OR r.expires_at > now())))`;

interface SessionRow {
  id: string;
  client_id: string;
  metadata: Record<string, unknown> | null;
  created_at: Date;
  last_used_at: Date | null;
  scope: string;
  current: boolean;
}

const SESSION_COLUMNS = `g.id, g.client_id, cl.metadata, g.created_at, g.last_used_at, g.scope,
  coalesce(g.browser_session_id = $2::uuid, false) AS current
  FROM grants g JOIN clients cl ON cl.client_id = g.client_id`;

/**
 * What a person can do about their own sessions (issue 15), for the built-in account page and for a host
 * that renders its own: list them, end one, end all others, deactivate the account. `userId` is always
 * the signed-in person's (the grants' subject), and every query is limited to their grants in SQL, so no
 * id or device id of another person's session can be seen or ended. Revocations go through
 * `RevocationService` (the revocation endpoint's SQL function, audit row and event).
 */
@Injectable()
export class AccountService implements OnModuleInit {
  private revocation: RevocationService;
  private users: UsersService;
  private browserSessions: BrowserSessionsService;

  constructor(
    private readonly dataSource: DataSource,
    private readonly moduleRef: ModuleRef,
  ) {}

  /** The revocation module's and the login module's services, wherever the app provides them. */
  onModuleInit(): void {
    this.revocation = appProvider(this.moduleRef, RevocationService, 'RevocationModule');
    this.users = appProvider(this.moduleRef, UsersService, 'LoginModule');
    this.browserSessions = appProvider(this.moduleRef, BrowserSessionsService, 'LoginModule');
  }

  /** Every live session of the person, newest first; `browserSessionId` marks the ones approved in that browser. */
  async listSessions(userId: string, browserSessionId?: string, acceptLanguage?: string): Promise<AccountSession[]> {
    const rows: SessionRow[] = await this.dataSource.query(
      `SELECT ${SESSION_COLUMNS} WHERE g.subject = $1 AND ${LIVE} ORDER BY g.created_at DESC, g.id`,
      [userId, uuidOrNull(browserSessionId)],
    );
    return rows.map((r) => toSession(r, acceptLanguage));
  }

  /** One live session of the person, or null: unknown, ended, or someone else's all look the same. */
  async findSession(userId: string, ref: SessionRef, browserSessionId?: string, acceptLanguage?: string): Promise<AccountSession | null> {
    let rows: SessionRow[];
    if ('grantId' in ref) {
      if (!UUID.test(ref.grantId)) return null;
      rows = await this.dataSource.query(`SELECT ${SESSION_COLUMNS} WHERE g.id = $3 AND g.subject = $1 AND ${LIVE}`, [userId, uuidOrNull(browserSessionId), ref.grantId]);
    } else {
      if (!PLAIN_PARAMETER.test(ref.deviceId)) return null;
      // The newest, should a device id have been reused by a client.
      rows = await this.dataSource.query(
        `SELECT ${SESSION_COLUMNS} WHERE g.subject = $1 AND string_to_array(g.scope, ' ') && $3::text[] AND ${LIVE} ORDER BY g.created_at DESC LIMIT 1`,
        [userId, uuidOrNull(browserSessionId), matrixDeviceScopes(ref.deviceId)],
      );
    }
    return rows[0] ? toSession(rows[0], acceptLanguage) : null;
  }

  /**
   * Ends one of the person's sessions: revokes its grant with reason `user_request`. False when it was not
   * theirs, not live, or already ended (by a concurrent request).
   */
  async endSession(userId: string, ref: SessionRef): Promise<boolean> {
    const session = await this.findSession(userId, ref);
    return session ? this.revocation.revokeGrant(session.id, 'user_request') : false;
  }

  /**
   * "Sign out everywhere else": every session of the person except those approved in `browserSessionId`,
   * in one transaction (reason `user_request`), and their other browser sessions. Answers the counts.
   */
  async endOtherSessions(userId: string, browserSessionId: string): Promise<{ revokedGrants: number; endedBrowserSessions: number }> {
    const keep: Array<{ id: string }> = await this.dataSource.query(
      `SELECT id FROM grants WHERE subject = $1 AND revoked_at IS NULL AND browser_session_id = $2::uuid`,
      [userId, browserSessionId],
    );
    const revoked = await this.revocation.revokeGrantsOf(userId, 'user_request', keep.map((k) => k.id));
    const endedBrowserSessions = await this.browserSessions.endAllOf(userId, browserSessionId);
    return { revokedGrants: revoked.length, endedBrowserSessions };
  }

  /**
   * Deactivates the account: the user is disabled, their browser sessions end and every grant is revoked
   * with reason `user_deactivated`, in one transaction (a failure leaves the account as it was); the
   * revocation events follow its commit. Null when there is no such user.
   */
  async deactivate(userId: string): Promise<DeactivatedAccount | null> {
    return disableAndRevoke(this.revocation, (revoke) => this.users.disableById(userId, revoke), 'user_deactivated');
  }

  /** The person's live browser sessions of the built-in login, newest first. */
  listBrowserSessions(userId: string, currentId?: string): Promise<AccountBrowserSession[]> {
    return this.browserSessions.listOf(userId, currentId);
  }
}

/**
 * Disables a user through `disable` (UsersService.disable or disableById) with the revocation of all their
 * grants for `reason` on the same transaction, then announces the revocations once it has committed. The
 * account page's deactivation and the admin CLI's user:disable. Null when there is no such user.
 */
export async function disableAndRevoke(
  revocation: RevocationService,
  disable: (revoke: RevokeGrantsOf<PendingRevocations>) => Promise<(DisabledUser & { revoked: PendingRevocations }) | null>,
  reason: Parameters<RevocationService['revokeGrantsOfIn']>[2],
): Promise<(DeactivatedAccount & LocalUser) | null> {
  const disabled = await disable((manager, subject) => revocation.revokeGrantsOfIn(manager, subject, reason));
  if (!disabled) return null;
  const revoked = await revocation.announceRevoked(disabled.revoked);
  return { id: disabled.id, username: disabled.username, revokedGrants: revoked.length, endedBrowserSessions: disabled.endedSessions };
}

/**
 * A provider of another module of the app (looked up once all exist, so neither module imports the
 * other's instance, as LoginService finds the authorization service); startup fails naming the module.
 */
export function appProvider<T>(moduleRef: ModuleRef, token: (abstract new (...args: never[]) => T) | symbol, module: string): T {
  try {
    return moduleRef.get<T>(token as never, { strict: false });
  } catch {
    throw new Error(`AccountModule needs ${module}: import it in the same app`);
  }
}

function uuidOrNull(id: string | undefined): string | null {
  return id !== undefined && UUID.test(id) ? id : null;
}

function toSession(r: SessionRow, acceptLanguage: string | undefined): AccountSession {
  const scope = r.scope ? r.scope.split(' ') : [];
  return {
    id: r.id,
    clientId: r.client_id,
    client: describeClient(r.client_id, r.metadata, acceptLanguage),
    startedAt: new Date(r.created_at),
    lastUsedAt: r.last_used_at ? new Date(r.last_used_at) : null,
    scope,
    deviceId: matrixDeviceId(scope),
    currentBrowser: r.current,
  };
}
