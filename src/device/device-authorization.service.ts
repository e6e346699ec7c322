import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { DataSource } from 'typeorm';
import { AuthorizationService } from '../authorization/authorization.service';
import type { AuthenticatedClient } from '../clients/authenticated-client';
import type { AuthFailureLimiter } from '../clients/auth-failure-limiter';
import type { GrantType } from '../clients/client.entity';
import { OAUTH_CORE_OPTIONS } from '../core/oauth-core.module-definition';
import type { ResolvedOAuthCoreOptions } from '../core/oauth-core-options.interface';
import { parseScope } from '../grants/scope';
import { generateToken, hashToken } from '../grants/token-format';
import { OAuthException } from '../http/oauth.exception';
import { DEVICE_AUTHORIZATION_OPTIONS, DEVICE_CODE_GRANT_TYPE, USER_CODE_LIMITER } from './device.constants';
import type { ResolvedDeviceAuthorizationOptions } from './device-options.interface';
import { formatUserCode, generateUserCode, normaliseUserCode } from './user-code';

/** RFC 8628 §3.2: the device authorization response. */
export interface DeviceAuthorizationResponse {
  device_code: string;
  user_code: string;
  verification_uri: string;
  verification_uri_complete: string;
  expires_in: number;
  interval: number;
}

/** What entering a user code led to: the login step of a new pending request, or why not. */
export type UserCodeOutcome =
  | { kind: 'login'; url: string }
  | { kind: 'refused'; status: number; error: string; retryAfterSeconds?: number };

const WRONG_CODE = 'That code is not valid. Check the code on your device and enter it again.';
const EXPIRED_CODE = 'That code has expired. Start signing in again on your device to get a new one.';
const USED_CODE = 'That code was already used. Start signing in again on your device to get a new one.';
/** Device codes carry no checksum prefix of the token format: they never reach introspection or revocation. */
const DEVICE_CODE_PREFIX = 'odc_';
/** The limiter counts guesses under one key: it is the code space, not a client, that is guessed at. */
const GUESS_KEY = 'user_code';

/**
 * The device authorization grant's decisions (RFC 8628) apart from the token endpoint's: starting a device
 * authorization, entering its user code (which makes a pending authorization request of kind `device` for
 * the login step), and ending that request (approved or denied, on the device code).
 */
@Injectable()
export class DeviceAuthorizationService implements OnModuleInit {
  private authorizations: AuthorizationService;
  readonly verificationUri: string;

  constructor(
    private readonly dataSource: DataSource,
    private readonly moduleRef: ModuleRef,
    @Inject(OAUTH_CORE_OPTIONS) core: ResolvedOAuthCoreOptions,
    @Inject(DEVICE_AUTHORIZATION_OPTIONS) private readonly options: ResolvedDeviceAuthorizationOptions,
    @Inject(USER_CODE_LIMITER) private readonly guesses: AuthFailureLimiter,
  ) {
    this.verificationUri = `${core.issuer}/${options.verificationPath}`;
  }

  /**
   * The authorization endpoint's service, wherever the app provides it, looked up once all providers exist
   * (as the login step does); device requests are ended through this module.
   */
  onModuleInit(): void {
    try {
      this.authorizations = this.moduleRef.get(AuthorizationService, { strict: false });
    } catch {
      throw new Error('DeviceAuthorizationModule needs the authorization endpoint and a login step: import AuthorizationModule in the same app');
    }
    this.authorizations.registerKind('device', { complete: (id, subject, scope) => this.decide(id, 'approved', subject, scope), deny: (id) => this.decide(id, 'denied') });
  }

  /** Where entering a code sends the browser (the login step), for the verification page's form-action. */
  loginTarget(): string {
    return this.authorizations.loginUrl('request');
  }

  /** RFC 8628 §3.1-3.2: a new device code for `client`. Throws OAuthException (RFC 6749 §5.2 bodies). */
  async start(client: AuthenticatedClient | null, scopeParam: string | undefined): Promise<DeviceAuthorizationResponse> {
    if (client === null) throw OAuthException.invalidClient('The device authorization endpoint requires client_id (and the client secret for a confidential client).');
    if (!client.grantTypes.includes(DEVICE_CODE_GRANT_TYPE as GrantType)) {
      throw new OAuthException('unauthorized_client', `This client is not registered for the ${DEVICE_CODE_GRANT_TYPE} grant type.`);
    }
    const requested = parseScope(scopeParam);
    if (requested === null) throw new OAuthException('invalid_scope', 'scope must be scope tokens separated by single spaces (RFC 6749 §3.3).');
    let scope: string[];
    try {
      scope = await this.authorizations.allowedScope(client.clientId, requested ?? []);
    } catch (err) {
      throw new OAuthException('invalid_scope', (err as Error).message);
    }
    const deviceCode = generateToken(DEVICE_CODE_PREFIX);
    // 20^8 codes: a collision with a stored one is rare; a new code is drawn then.
    for (let attempt = 0; attempt < 5; attempt++) {
      const userCode = generateUserCode();
      const rows: unknown[] = await this.dataSource.query(
        `INSERT INTO device_codes (device_code_hash, user_code, client_id, scope, interval_seconds, expires_at)
         VALUES ($1, $2, $3, $4, $5, now() + make_interval(secs => $6))
         ON CONFLICT (user_code) DO NOTHING RETURNING id`,
        [hashToken(deviceCode), userCode, client.clientId, scope.join(' '), this.options.intervalSeconds, this.options.expiresInSeconds],
      );
      if (rows.length === 0) continue;
      const shown = formatUserCode(userCode);
      return {
        device_code: deviceCode,
        user_code: shown,
        verification_uri: this.verificationUri,
        verification_uri_complete: `${this.verificationUri}?user_code=${shown}`,
        expires_in: this.options.expiresInSeconds,
        interval: this.options.intervalSeconds,
      };
    }
    throw new Error('no free user code after 5 attempts');
  }

  /**
   * A person entered `typed` on the verification page from `address`. A pending code gets a new pending
   * authorization request of kind `device` (the latest one entered wins) and the browser goes to the login
   * step; wrong, expired and used codes count against the guessing limits (RFC 8628 §5.1).
   */
  async enterUserCode(typed: string, address: string | undefined): Promise<UserCodeOutcome> {
    const attempt = await this.guesses.begin(GUESS_KEY, address);
    if (attempt.retryAfterSeconds > 0) {
      const s = attempt.retryAfterSeconds;
      return { kind: 'refused', status: 429, error: `Too many wrong codes. Try again in ${s} second${s === 1 ? '' : 's'}.`, retryAfterSeconds: s };
    }
    const code = normaliseUserCode(typed);
    const rows: Array<{ status: string; expired: boolean; request_id: string | null }> = code
      ? await this.dataSource.query(
          `WITH d AS (
             SELECT id, client_id, scope, status, expires_at, user_code FROM device_codes WHERE user_code = $1 FOR UPDATE
           ), r AS (
             INSERT INTO authorization_requests (kind, client_id, redirect_uri, response_mode, scope, code_challenge, prompt, user_code, expires_at)
             SELECT 'device', d.client_id, $2, 'query', d.scope, '', 'consent', $3, d.expires_at FROM d
             WHERE d.status = 'pending' AND d.expires_at > now()
             RETURNING id
           ), u AS (
             UPDATE device_codes SET request_id = r.id FROM r, d WHERE device_codes.id = d.id
           )
           SELECT d.status, d.expires_at <= now() AS expired, r.id AS request_id FROM d LEFT JOIN r ON true`,
          // RFC 8628 §5.4: the person always sees the consent page (prompt=consent), even for a client they allowed before.
          [code, this.verificationUri, formatUserCode(code)],
        )
      : [];
    const [row] = rows;
    // A right code ends the attempt as 'abandoned', never 'success': the limiter lets a (key, address) that
    // succeeded and never failed run any number of attempts at once, and anyone can get a right code of their
    // own (start a device authorization), which would buy a burst of unreserved guesses.
    await attempt.end(row?.request_id ? 'abandoned' : 'failure');
    if (row?.request_id) return { kind: 'login', url: this.authorizations.loginUrl(row.request_id) };
    const error = !row ? WRONG_CODE : row.expired ? EXPIRED_CODE : USED_CODE;
    return { kind: 'refused', status: 400, error };
  }

  /**
   * Ends a device request (the login step's complete/deny) and records the decision on its device code, in
   * one statement; answers the page the browser goes to, or null when the request is no longer pending.
   */
  private async decide(requestId: string, status: 'approved' | 'denied', subject?: string, scope?: string[]): Promise<string | null> {
    const rows: unknown[] = await this.dataSource.query(
      `WITH r AS (
         UPDATE authorization_requests SET finished_at = now()
         WHERE id = $1 AND kind = 'device' AND finished_at IS NULL AND expires_at > now() RETURNING id
       ), d AS (
         UPDATE device_codes SET status = $2, subject = $3, scope = COALESCE($4, device_codes.scope)
         FROM r WHERE device_codes.request_id = r.id AND device_codes.status = 'pending' AND device_codes.expires_at > now()
         RETURNING device_codes.id
       ) SELECT id FROM d`,
      [requestId, status, subject ?? null, scope ? scope.join(' ') : null],
    );
    return rows.length ? `${this.verificationUri}?result=${status}` : null;
  }
}
