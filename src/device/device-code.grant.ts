import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { AuthenticatedClient } from '../clients/authenticated-client';
import { revocationEvent, RevokedGrantRow } from '../core/revocation-event';
import { RevocationEvents } from '../core/revocation-events';
import { hashToken } from '../grants/token-format';
import { TokensService } from '../grants/tokens.service';
import { OAuthException } from '../http/oauth.exception';
import { TokenGrantHandler } from '../token-endpoint/token-grant-handler.decorator';
import type { GrantHandler, TokenRequest, TokenResponse } from '../token-endpoint/token-grant-handler.interface';
import { withScope } from '../token-endpoint/token-grant.service';
import { DEVICE_CODE_GRANT_TYPE } from './device.constants';

type PollOutcome = 'authorization_pending' | 'slow_down' | 'access_denied' | 'expired_token' | 'reuse' | 'invalid_grant';

interface PollRow extends RevokedGrantRow {
  outcome: PollOutcome;
  interval_seconds: number | null;
}

/** RFC 8628 §3.5: what the device is told while it waits, and how long it should then wait. */
const WAITING: Partial<Record<PollOutcome, string>> = {
  authorization_pending: 'The person has not answered yet; poll again after the interval.',
  slow_down: 'Polled too soon; the interval is now 5 seconds longer.',
  access_denied: 'The person denied the request.',
  expired_token: 'The device code expired; start again with a new device authorization request.',
};
/** RFC 8628 §3.5: "the interval MUST be increased by 5 seconds for this and all subsequent requests". */
const SLOW_DOWN_STEP_SECONDS = 5;
/**
 * True when the code's subject is a local user of the built-in login who is disabled; subjects that are not
 * local users (a host's own login) are never refused here.
 */
const SUBJECT_DISABLED = `coalesce((SELECT u.disabled_at IS NOT NULL FROM users u
    WHERE u.id = CASE WHEN device_codes.subject ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' THEN device_codes.subject::uuid END
    FOR SHARE), false)`;
const INVALID_CODE = 'The device code is invalid, was issued to another client, or was already used; start again with a new device authorization request.';

/**
 * `CTE` of the issuing statement: the approved, unexpired device code of this client becomes `issued`, with
 * the id of the grant the same statement creates. A conditional UPDATE: of two redemptions at once, the
 * second waits for the first's row lock, then finds the code no longer `approved`, and issues nothing.
 * A code approved by a local user who has since been disabled (deactivated on the account page, or
 * user:disable) becomes `denied` instead, so the poll answers `access_denied` and no grant starts. The
 * user's row is read FOR SHARE: a disabling transaction under way is waited for (and its result seen), and
 * one that starts later waits for this statement, so its revocation of every grant sees the new one.
 */
const REDEEM = `d AS (
  UPDATE device_codes SET status = CASE WHEN ${SUBJECT_DISABLED} THEN 'denied' ELSE 'issued' END,
    grant_id = CASE WHEN ${SUBJECT_DISABLED} THEN NULL ELSE gen_random_uuid() END, last_polled_at = now()
  WHERE device_code_hash = $1 AND client_id = $2 AND status = 'approved' AND expires_at > now()
  RETURNING grant_id, client_id, subject, scope, status)`;
const GRANT = `INSERT INTO grants (id, client_id, subject, scope) SELECT grant_id, client_id, subject, scope FROM d WHERE status = 'issued' RETURNING id, scope`;

/**
 * RFC 8628 §3.4-3.5: the device polls with its device code. An approved code becomes a new grant (the
 * person as subject, the scope they granted) with its first access and refresh token, minted by
 * TokensService like every other new grant; otherwise oauth_poll_device_code says why not, under the
 * code's row lock, and revokes what the code produced when it comes back after its redemption.
 */
@Injectable()
@TokenGrantHandler()
export class DeviceCodeGrantHandler implements GrantHandler {
  readonly grantType = DEVICE_CODE_GRANT_TYPE;

  constructor(
    private readonly dataSource: DataSource,
    private readonly tokens: TokensService,
    private readonly events: RevocationEvents,
  ) {}

  async handle(request: TokenRequest, client: AuthenticatedClient): Promise<TokenResponse> {
    const deviceCode = request.device_code;
    if (deviceCode === undefined) throw OAuthException.invalidRequest(`device_code is required with grant_type ${DEVICE_CODE_GRANT_TYPE}.`);
    if (deviceCode.length > 256) throw new OAuthException('invalid_grant', INVALID_CODE);
    const hash = hashToken(deviceCode);
    const issued = await this.tokens.issueGrantAfter(REDEEM, GRANT, [hash, client.clientId]);
    if (issued) {
      return withScope({ access_token: issued.access_token, token_type: 'Bearer', expires_in: issued.expires_in, refresh_token: issued.refresh_token }, issued.scope || undefined);
    }
    const [row]: PollRow[] = await this.dataSource.query(
      'SELECT outcome, interval_seconds, grant_id, client_id, subject, scope, reason, revoked_at FROM oauth_poll_device_code($1, $2, $3)',
      [hash, client.clientId, SLOW_DOWN_STEP_SECONDS],
    );
    const waiting = WAITING[row.outcome];
    if (waiting) throw new OAuthException(row.outcome as 'authorization_pending', waiting);
    // RFC 6749 §4.1.2, applied to device codes: a code used twice revokes what its first use produced.
    if (row.outcome === 'reuse' && row.reason) await this.events.emit(revocationEvent(row, null, client.clientId));
    throw new OAuthException('invalid_grant', INVALID_CODE);
  }
}
