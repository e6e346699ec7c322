import request from 'supertest';
import type { CreatedClient } from '../src/clients/clients.service';
import { RevocationService } from '../src/revocation/revocation.service';
import { Fixtures } from './support/fixtures';
import { startTestServer, TestServer } from './support/test-app';
import { testDatabaseKind } from './support/test-database';
import { OAuthCalls, TokenRows } from './support/token-fixtures';

/**
 * Races between the paths that touch one grant. On PostgreSQL they run truly in parallel (a pool of
 * connections); on the embedded database statements are serialised, so these check the same rules
 * under whatever order the requests arrive in.
 */
describe('token lifecycle races', () => {
  let server: TestServer;
  let fx: Fixtures;
  let calls: OAuthCalls;
  let db: TokenRows;
  let app: CreatedClient;
  let rs: CreatedClient;
  const grants = testDatabaseKind() === 'postgres' ? 60 : 12;

  beforeAll(async () => {
    // A larger pool on PostgreSQL, so that refreshes and revocations of one grant really overlap.
    server = await startTestServer(testDatabaseKind() === 'postgres' ? { DATABASE_POOL_SIZE: '16' } : {});
    fx = new Fixtures(server.app, server.pool);
    calls = new OAuthCalls(request(server.app.getHttpServer()));
    db = new TokenRows(server.pool);
    app = await fx.client('none');
    rs = await fx.client('client_secret_basic');
  });
  afterAll(() => server.close());

  /** Tokens neither revoked nor expired, counting consumed refresh tokens too: the strictest reading of "live". */
  const unrevoked = async (grantId: string): Promise<number> => {
    const { rows } = await server.pool.query(
      `SELECT (SELECT count(*)::int FROM access_tokens WHERE grant_id = $1 AND revoked_at IS NULL AND expires_at > now())
            + (SELECT count(*)::int FROM refresh_tokens WHERE grant_id = $1 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now())) AS n`,
      [grantId],
    );
    return rows[0].n;
  };

  it('leaves no live token in a grant once a revocation answered, while refreshes of that grant run in parallel', async () => {
    const issued: string[] = [];
    await Promise.all(
      Array.from({ length: grants }, async (_, i) => {
        const login = await fx.login(app.client_id);
        let afterRevocation: Promise<number> | undefined;
        const refreshes = Array.from({ length: 4 }, () =>
          calls.refresh(login.refresh_token, app).then((res) => {
            expect([200, 400]).toContain(res.status);
            if (res.status === 200) issued.push(res.body.access_token, res.body.refresh_token);
            else expect(res.body.error).toBe('invalid_grant');
          }),
        );
        const revocation = calls.revoke(i % 2 ? login.access_token : login.refresh_token, app).then((res) => {
          expect(res.status).toBe(200);
          afterRevocation = unrevoked(login.grant_id);
        });
        const introspection = calls.introspect(login.access_token, rs).then((res) => expect(res.status).toBe(200));
        await Promise.all([...refreshes, revocation, introspection]);
        expect(await afterRevocation).toBe(0);
        expect(await unrevoked(login.grant_id)).toBe(0);
        expect(await db.grant(login.grant_id)).toMatchObject({ revoked: true });
      }),
    );
    // Whatever a refresh handed out before the revocation is dead too.
    const answers = await Promise.all(issued.map((token) => calls.introspect(token, rs)));
    expect(answers.map((r) => r.text)).toEqual(issued.map(() => '{"active":false}'));
  });

  it('stops a client that keeps rotating once the grant is revoked mid-chain, whichever path revokes', async () => {
    await Promise.all(
      Array.from({ length: grants }, async (_, i) => {
        const login = await fx.login(app.client_id);
        const revokeAfter = i % 4; // fire the revocation together with the (n+1)th refresh
        let refreshToken = login.refresh_token;
        let revocation: Promise<void> | undefined;
        let afterRevocation: Promise<number> | undefined;
        let refused = false;
        for (let n = 0; n < 5 && !refused; n++) {
          if (n === revokeAfter) {
            revocation =
              i % 2
                ? calls.revoke(refreshToken, app).then((res) => {
                    expect(res.status).toBe(200);
                    afterRevocation = unrevoked(login.grant_id);
                  })
                : server.app.get(RevocationService).revokeGrant(login.grant_id, 'admin').then((revoked) => {
                    expect(revoked).toBe(true);
                    afterRevocation = unrevoked(login.grant_id);
                  });
          }
          const res = await calls.refresh(refreshToken, app);
          if (res.status === 200) refreshToken = res.body.refresh_token;
          else {
            expect(res.body.error).toBe('invalid_grant');
            refused = true;
          }
        }
        await revocation;
        expect(await afterRevocation).toBe(0);
        // Once the revocation has answered, the chain is over for good.
        expect((await calls.refresh(refreshToken, app)).body.error).toBe('invalid_grant');
        expect(await unrevoked(login.grant_id)).toBe(0);
      }),
    );
  });

  it('answers every parallel duplicate of one refresh with a pair, and leaves exactly one pair live', async () => {
    await Promise.all(
      Array.from({ length: Math.ceil(grants / 2) }, async () => {
        const login = await fx.login(app.client_id);
        const answers = await Promise.all(Array.from({ length: 5 }, () => calls.refresh(login.refresh_token, app)));
        expect(answers.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
        expect(await db.live(login.grant_id)).toEqual({ access: 1, refresh: 1 });
        expect(await db.grant(login.grant_id)).toMatchObject({ revoked: false });
        // The live pair is one that was handed out; every other handed-out pair was replaced.
        const states = await Promise.all(answers.map((r) => db.refresh(r.body.refresh_token)));
        expect(states.filter((s) => !s!.revoked)).toHaveLength(1);
        expect(states.filter((s) => s!.revoked && s!.superseded)).toHaveLength(4);
      }),
    );
  });

  it("never both lets a resource server accept a successor's access token and treats the old refresh token as a retry", async () => {
    await Promise.all(
      Array.from({ length: grants }, async () => {
        const login = await fx.login(app.client_id);
        const next = await calls.refresh(login.refresh_token, app);
        const [seen, again] = await Promise.all([calls.introspect(next.body.access_token, rs), calls.refresh(login.refresh_token, app)]);
        const grant = await db.grant(login.grant_id);
        if (seen.body.active) {
          // The successor was used: the old token coming back is reuse.
          expect(again.body.error).toBe('invalid_grant');
          expect(grant).toMatchObject({ revoked: true, revocation_reason: 'refresh_token_reuse' });
        } else {
          // A retry got there first and replaced the unused successor.
          expect(again.status).toBe(200);
          expect(grant).toMatchObject({ revoked: false });
          expect(await db.access(next.body.access_token)).toMatchObject({ revoked: true, first_used: false });
        }
      }),
    );
  });
});
