import type { DataSource } from 'typeorm';
import type { AuthenticatedClient } from '../clients/authenticated-client';
import { resolveCoreOptions } from '../core/oauth-core-options';
import type { RevocationEvent } from '../core/revocation-event';
import { RevocationEvents } from '../core/revocation-events';
import type { InvalidationListener } from '../database/invalidation-listener';
import { generateToken, hashToken } from '../grants/token-format';
import { OAuthException } from '../http/oauth.exception';
import { resolveRevocationOptions } from './revocation.module';
import type { RevocationModuleOptions } from './revocation-options.interface';
import { RevocationService } from './revocation.service';

const REVOKED_AT = new Date('2026-12-04T12:00:00.000Z');
const row = (outcome: string, reason: string | null = null) => ({
  outcome,
  grant_id: '6b0c5d0e-7f40-4c8a-9d0e-1f2a3b4c5d6e',
  client_id: 'owner',
  subject: '@alice:example.org',
  scope: 'openid',
  reason,
  revoked_at: reason ? REVOKED_AT : null,
});
const client = (clientId: string): AuthenticatedClient => ({ clientId, method: 'none', confidential: false, grantTypes: ['refresh_token'] });

/** The service on a stand-in database that answers as the SQL functions would; the functions themselves are covered end to end. */
function serviceWith(answer: ReturnType<typeof row>, options: RevocationModuleOptions = {}) {
  const query = jest.fn().mockResolvedValue([answer]);
  // The announcement to every instance: the request waits for it (a deferred the test settles).
  const announced: string[][] = [];
  let sent!: () => void;
  const announce = jest.fn((grantIds: string[]) => {
    announced.push(grantIds);
    return new Promise<void>((resolve) => (sent = resolve));
  });
  const events = new RevocationEvents({} as DataSource, { subscribe: () => () => undefined, announce } as unknown as InvalidationListener);
  const heard: RevocationEvent[] = [];
  events.subscribe((e) => void heard.push(e));
  const service = new RevocationService({ query, driver: {} } as unknown as DataSource, resolveCoreOptions({ issuer: 'https://auth.example.com' }), events, resolveRevocationOptions(options));
  const delivered = () => new Promise((resolve) => setImmediate(resolve)).then(() => heard);
  /** Runs `call`, settling the announcement it waits for (if any); answers whether it had resolved before that. */
  const settled = async <T>(call: Promise<T>): Promise<{ value: T; before: boolean }> => {
    let done = false;
    void call.then(() => (done = true), () => undefined);
    await new Promise((resolve) => setImmediate(resolve));
    const before = done;
    if (announce.mock.calls.length > 0) sent();
    return { value: await call, before };
  };
  return { service, query, delivered, announced, settled };
}

describe('RevocationService', () => {
  it('sends the token hash, its kind from the prefix, the caller and the foreign-client policy in one statement', async () => {
    const token = generateToken('oat_');
    const { service, query, settled } = serviceWith(row('revoked', 'client_request'), { foreignClient: 'ignore' });
    await settled(service.revokeAsRequested(token, client('owner')));
    expect(query).toHaveBeenCalledTimes(1);
    expect(query.mock.calls[0][1]).toEqual([hashToken(token), 'access_token', 'owner', 'ignore']);
  });

  it("announces a revocation with the reason and time the database recorded, suspicious when another party asked", async () => {
    const { service, delivered, announced, settled } = serviceWith(row('revoked', 'anonymous_request'));
    // The request answers only once every instance has been told (its caches), not before.
    expect((await settled(service.revokeAsRequested(generateToken('ort_'), null))).before).toBe(false);
    expect(announced).toEqual([[row('x').grant_id]]);
    expect(await delivered()).toEqual([
      { grantId: row('x').grant_id, clientId: 'owner', subject: '@alice:example.org', scope: 'openid', tokenType: 'refresh_token', revokingClientId: null, reason: 'anonymous_request', suspicious: true, revokedAt: REVOKED_AT },
    ]);
  });

  it("is not suspicious when the grant's own client or an operator revoked it", async () => {
    const own = serviceWith(row('revoked', 'client_request'));
    await own.settled(own.service.revokeAsRequested(generateToken('oat_'), client('owner')));
    expect((await own.delivered()).map((e) => [e.reason, e.suspicious])).toEqual([['client_request', false]]);
    const admin = serviceWith(row('revoked', 'admin'));
    const byOperator = await admin.settled(admin.service.revokeGrant(row('x').grant_id!));
    expect(byOperator).toEqual({ value: true, before: false });
    expect(admin.announced).toEqual([[row('x').grant_id]]);
    expect(admin.query.mock.calls[0][1]).toEqual([row('x').grant_id, 'admin']);
    expect((await admin.delivered()).map((e) => [e.reason, e.suspicious, e.tokenType])).toEqual([['admin', false, null]]);
  });

  it('announces nothing when nothing changed', async () => {
    const { service, delivered, announced } = serviceWith(row('already_revoked', 'client_request'));
    await service.revokeAsRequested(generateToken('oat_'), client('owner'));
    expect(await delivered()).toEqual([]);
    expect(announced).toEqual([]);
  });

  it('refuses an anonymous caller under anonymous=deny before asking the database', async () => {
    const { service, query } = serviceWith(row('revoked', 'anonymous_request'), { anonymous: 'deny' });
    const err = await service.revokeAsRequested(generateToken('oat_'), null).catch((e: OAuthException) => e);
    expect(err).toBeInstanceOf(OAuthException);
    expect([(err as OAuthException).getStatus(), (err as OAuthException).error]).toEqual([401, 'invalid_client']);
    expect(query).not.toHaveBeenCalled();
  });

  it("answers 401 unauthorized_client when the database left another client's token alone under foreignClient=reject", async () => {
    const { service } = serviceWith(row('foreign_reject'), { foreignClient: 'reject' });
    const err = (await service.revokeAsRequested(generateToken('oat_'), client('intruder')).catch((e: OAuthException) => e)) as OAuthException;
    expect([err.getStatus(), err.error]).toEqual([401, 'unauthorized_client']);
  });

  it('does not look up a token that is not well-formed: it cannot exist (RFC 7009 §2.2: still 200)', async () => {
    const { service, query } = serviceWith(row('revoked', 'anonymous_request'));
    await expect(service.revokeAsRequested('oat_not-a-real-token', null)).resolves.toBeUndefined();
    expect(query).not.toHaveBeenCalled();
  });
});

describe('RevocationModule options: statementsInFlight', () => {
  it('defaults to 2, takes 0 (no grouping) and whole numbers, and refuses anything else by name', () => {
    expect(resolveRevocationOptions({}).statementsInFlight).toBe(2);
    expect(resolveRevocationOptions({ statementsInFlight: 0 }).statementsInFlight).toBe(0);
    expect(resolveRevocationOptions({ statementsInFlight: 6 }).statementsInFlight).toBe(6);
    for (const bad of [-1, 1.5, Number.NaN]) expect(() => resolveRevocationOptions({ statementsInFlight: bad })).toThrow(/statementsInFlight/);
  });
});
