import request from 'supertest';
import { ClientsService, CreatedClient } from '../../src/clients/clients.service';
import type { TokenEndpointAuthMethod } from '../../src/clients/client.entity';
import type { DeviceAuthorizationResponse } from '../../src/device/device-authorization.service';
import { DEVICE_CODE_GRANT_TYPE } from '../../src/device/device.constants';
import { text, TestBrowser, Page } from './browser';
import { Fixtures } from './fixtures';
import { LoginHarness, PASSWORD } from './login-harness';
import { OAuthCalls } from './token-fixtures';
import { uniqueId } from './test-app';

/** The issuer of the test servers; they listen elsewhere (see test-app.ts). */
export const ISSUER = 'http://localhost:3000';

/** The device flow against a login harness: a device that starts and polls, a person who answers in a TestBrowser. */
export class DeviceFlow {
  readonly calls: OAuthCalls;
  readonly fx: Fixtures;

  constructor(readonly h: LoginHarness) {
    this.calls = new OAuthCalls(request(h.app.getHttpServer()));
    this.fx = new Fixtures(h.app, h.pool);
  }

  /** A client registered for the device grant (and refresh_token); `metadata` as registered. */
  async client(method: TokenEndpointAuthMethod = 'none', metadata: Record<string, unknown> = {}, grantTypes = [DEVICE_CODE_GRANT_TYPE, 'refresh_token']): Promise<CreatedClient> {
    const c = await this.h.app.get(ClientsService).create({ clientId: uniqueId('tv'), authMethod: method, grantTypes: grantTypes as never });
    await this.h.pool.query('UPDATE clients SET metadata = $2 WHERE client_id = $1', [c.client_id, metadata]);
    return c;
  }

  start(client: CreatedClient, params: Record<string, string> = {}): request.Test {
    return this.calls.post('/oauth2/device', params, client);
  }

  async started(client: CreatedClient, scope = 'urn:matrix:client:api:*'): Promise<DeviceAuthorizationResponse> {
    const res = await this.start(client, { scope });
    if (res.status !== 200) throw new Error(`the device endpoint answered ${res.status} ${JSON.stringify(res.body)}`);
    return res.body as DeviceAuthorizationResponse;
  }

  poll(client: CreatedClient, deviceCode: string): request.Test {
    return this.calls.post('/oauth2/token', { grant_type: DEVICE_CODE_GRANT_TYPE, device_code: deviceCode }, client);
  }

  /** The row of a device code, found by its user code as shown. */
  async row(userCode: string): Promise<Record<string, any>> {
    const { rows } = await this.h.pool.query('SELECT * FROM device_codes WHERE user_code = $1', [userCode.replace('-', '')]);
    return rows[0];
  }

  /** Follows a redirect the TestBrowser stopped at because it names the issuer, not the test server. */
  follow(b: TestBrowser): Promise<Page> {
    const to = b.clientRedirect;
    if (!to?.startsWith(ISSUER)) throw new Error(`expected a redirect to the issuer, got ${to}`);
    return b.get(this.h.url + to.slice(ISSUER.length));
  }

  /** Enters `typed` on the verification page; answers the page it lands on (the login page for a good code). */
  async enter(b: TestBrowser, typed: string): Promise<Page> {
    const page = await b.get(`${this.h.url}/device`);
    const next = await b.submit(page, { user_code: typed });
    return b.clientRedirect ? this.follow(b) : next;
  }

  /** A person enters the code, signs in, sees the consent page and answers; answers the consent page and the result page. */
  async answer(b: TestBrowser, userCode: string, username: string, decision: 'allow' | 'deny' = 'allow'): Promise<{ consent: Page; result: Page }> {
    const login = await this.enter(b, userCode);
    if (text(login.doc.querySelector('h1')) !== 'Sign in') throw new Error(`expected the login page, got ${login.status}: ${login.html.slice(0, 400)}`);
    const consent = await b.submit(login, { username, password: PASSWORD });
    await b.submit(consent, {}, { name: 'decision', value: decision });
    return { consent, result: await this.follow(b) };
  }
}
