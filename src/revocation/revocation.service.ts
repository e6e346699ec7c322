import { Inject, Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import type { AuthenticatedClient } from '../clients/authenticated-client';
import { OAUTH_CORE_OPTIONS } from '../core/oauth-core.module-definition';
import type { ResolvedOAuthCoreOptions } from '../core/oauth-core-options.interface';
import { revocationEvent, RevokedGrantRow } from '../core/revocation-event';
import { RevocationEvents } from '../core/revocation-events';
import { GroupAnswerError, GroupedStatements, RUN_ALONE } from '../database/grouped-statements';
import { PreparedStatement } from '../database/prepared-statement';
import type { RevocationReason } from '../grants/grant.entity';
import { hashToken, parseTokenKind, TokenKind } from '../grants/token-format';
import { OAuthException } from '../http/oauth.exception';
import { REVOCATION_OPTIONS } from './revocation.constants';
import type { ForeignClientPolicy, ResolvedRevocationOptions } from './revocation-options.interface';

/**
 * `revoked`: this call revoked the grant. `already_revoked`, `not_found`: nothing to do.
 * `foreign_ignore`, `foreign_reject`: another client's token, left alone by policy.
 */
export type RevocationOutcome = 'revoked' | 'already_revoked' | 'not_found' | 'foreign_ignore' | 'foreign_reject';

interface RevokeRow extends RevokedGrantRow {
  outcome: RevocationOutcome;
}

/** Revocations made inside a transaction that has not committed yet: their events wait (announceRevoked). */
export interface PendingRevocations {
  readonly rows: readonly RevokeRow[];
}

const COLUMNS = 'outcome, grant_id, client_id, subject, scope, reason, revoked_at';

/** The revoke path's one statement (see migrations/*-revocation-outcome.ts). */
const REVOKE_TOKEN = new PreparedStatement<RevokeRow>('oauth_revoke_token', `SELECT ${COLUMNS} FROM oauth_revoke_token($1, $2, $3, $4)`);
/** The same for several requests, in one transaction (migrations/*-grouped-revocation.ts). */
const REVOKE_TOKENS = new PreparedStatement<RevokeRow & { request: number }>(
  'oauth_revoke_tokens',
  `SELECT request, ${COLUMNS} FROM oauth_revoke_tokens($1::bytea[], $2::text[], $3::text[], $4::text[])`,
);

/** One revocation request, as oauth_revoke_token takes it. */
type RevokeParams = [tokenHash: Buffer, kind: TokenKind, revokingClientId: string | null, foreignClient: ForeignClientPolicy];

/**
 * Revocation decisions. The SQL functions decide the outcome, the reason and the time, in one round
 * trip; this service turns their answer into an HTTP refusal or a revocation event. Only the anonymous
 * policy is applied before the database: refusing an unidentified caller needs no lookup.
 */
@Injectable()
export class RevocationService {
  /** Requests that arrive while `statementsInFlight` statements run go together in the next (group commit). */
  private readonly statements: GroupedStatements<RevokeParams, RevokeRow>;

  constructor(
    private readonly dataSource: DataSource,
    @Inject(OAUTH_CORE_OPTIONS) private readonly core: ResolvedOAuthCoreOptions,
    private readonly events: RevocationEvents,
    @Inject(REVOCATION_OPTIONS) private readonly options: ResolvedRevocationOptions,
  ) {
    this.statements = new GroupedStatements<RevokeParams, RevokeRow>(
      {
        one: async (params) => (await REVOKE_TOKEN.run(dataSource, params))[0],
        many: (group) => this.revokeGroup(group),
      },
      options.statementsInFlight,
    );
  }

  /**
   * A revocation request as the endpoint received it, under the configured policies. Resolves for
   * success and for tokens that do not exist (RFC 7009 §2.2: no oracle); throws OAuthException when a
   * policy refuses the request.
   */
  async revokeAsRequested(token: string, client: AuthenticatedClient | null): Promise<void> {
    if (client === null && this.options.anonymous === 'deny') {
      throw OAuthException.invalidClient('This server requires client authentication to revoke tokens.');
    }
    const outcome = await this.revokeToken(token, client?.clientId ?? null, this.options.foreignClient);
    if (outcome === 'foreign_reject') {
      // Strict RFC 7009 §2.1: a client may only revoke its own tokens.
      throw new OAuthException('unauthorized_client', 'The token was not issued to this client.', 401);
    }
  }

  /**
   * Revokes the whole grant of `token` (Matrix: both the access and the refresh token), in one SQL
   * round trip. A token that is not well-formed is not looked up: it cannot exist.
   */
  async revokeToken(token: string, revokingClientId: string | null, foreignClient: ForeignClientPolicy): Promise<RevocationOutcome> {
    // RFC 7009 §2.1: the hint is only an optimisation; the prefix tells the type for certain.
    const kind = parseTokenKind(token, this.core.tokenPrefixes);
    if (!kind) return 'not_found';
    const row = await this.statements.run([hashToken(token), kind, revokingClientId, foreignClient]);
    await this.announce(row, kind, revokingClientId);
    return row.outcome;
  }

  /**
   * Several requests in one statement; each row answers the request at its 1-based position. A request
   * whose grant another transaction held (`deferred`) runs alone once the group has committed, waiting for
   * that grant as a request alone would, while the group's other requests are answered.
   */
  private async revokeGroup(group: readonly RevokeParams[]): Promise<Array<RevokeRow | typeof RUN_ALONE>> {
    const column = <I extends number>(i: I) => group.map((params) => params[i]);
    const rows = await REVOKE_TOKENS.run(this.dataSource, [column(0), column(1), column(2), column(3)]);
    const answers: RevokeRow[] = [];
    for (const { request, ...row } of rows) answers[request - 1] = row;
    // n rows, and no request left without one (a hole reads as undefined): each request answered exactly once.
    if (rows.length !== group.length || answers.includes(undefined as never)) {
      // The statement has run and may have committed: running its requests again would misreport them.
      throw new GroupAnswerError(`oauth_revoke_tokens answered ${rows.length} rows for ${group.length} requests`);
    }
    return answers.map((row) => ((row.outcome as string) === 'deferred' ? RUN_ALONE : row));
  }

  /** Revokes a grant by id, as an operator (`grant:revoke`). True when this call revoked something. */
  async revokeGrant(grantId: string, reason: RevocationReason = 'admin'): Promise<boolean> {
    const [row]: RevokeRow[] = await this.dataSource.query(`SELECT ${COLUMNS} FROM oauth_revoke_grant($1, NULL, NULL, $2)`, [grantId, reason]);
    await this.announce(row, null, null);
    return row.outcome === 'revoked';
  }

  /**
   * Revokes every grant of `subject` (but those in `except`) in one statement, so in one transaction: the
   * same SQL function, audit row and event per grant as `revokeGrant`. The grants are locked in id order,
   * so two such calls cannot deadlock. Answers the ids this call revoked.
   */
  async revokeGrantsOf(subject: string, reason: RevocationReason, except: readonly string[] = []): Promise<string[]> {
    return this.announceRevoked(await this.revokeGrantsOfIn(this.dataSource.manager, subject, reason, except));
  }

  /**
   * The statement of `revokeGrantsOf` on the caller's transaction (`manager`), without the events: the
   * caller passes the answer to `announceRevoked` once that transaction has committed, and drops it when
   * the transaction rolled back (nothing was revoked then).
   */
  async revokeGrantsOfIn(manager: EntityManager, subject: string, reason: RevocationReason, except: readonly string[] = []): Promise<PendingRevocations> {
    const rows: RevokeRow[] = await manager.query(
      `SELECT r.*
         FROM (SELECT id FROM grants WHERE subject = $1 AND revoked_at IS NULL AND id <> ALL ($2::uuid[]) ORDER BY id) g,
              LATERAL oauth_revoke_grant(g.id, NULL, NULL, $3) r`,
      [subject, except, reason],
    );
    return { rows };
  }

  /** Emits the events of committed revocations (from `revokeGrantsOfIn`); answers the ids revoked. */
  async announceRevoked(pending: PendingRevocations): Promise<string[]> {
    const revoked = pending.rows.filter((row) => row.outcome === 'revoked');
    await Promise.all(revoked.map((row) => this.announce(row, null, null)));
    return revoked.map((row) => row.grant_id!);
  }

  /** Listeners and every instance's caches hear of a revocation once it has committed (the statement above). */
  private announce(row: RevokeRow, tokenType: TokenKind | null, revokingClientId: string | null): Promise<void> | undefined {
    if (row.outcome === 'revoked') return this.events.emit(revocationEvent(row, tokenType, revokingClientId));
  }
}
