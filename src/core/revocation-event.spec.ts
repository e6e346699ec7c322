import { revocationEvent } from './revocation-event';

describe('revocationEvent: the one place an event is built, from what the database recorded', () => {
  const row = (reason: string) => ({
    grant_id: '6b0c5d0e-7f40-4c8a-9d0e-1f2a3b4c5d6e',
    client_id: 'owner',
    subject: '@alice:example.org',
    scope: 'openid',
    reason,
    revoked_at: new Date('2026-12-04T12:00:00.000Z'),
  });

  it('copies the grant, the reason and the database time', () => {
    expect(revocationEvent(row('client_request'), 'access_token', 'owner')).toEqual({
      grantId: '6b0c5d0e-7f40-4c8a-9d0e-1f2a3b4c5d6e',
      clientId: 'owner',
      subject: '@alice:example.org',
      scope: 'openid',
      tokenType: 'access_token',
      revokingClientId: 'owner',
      reason: 'client_request',
      suspicious: false,
      revokedAt: new Date('2026-12-04T12:00:00.000Z'),
    });
  });

  it.each([
    ['anonymous_request', true],
    ['foreign_client_request', true],
    ['refresh_token_reuse', true],
    ['authorization_code_reuse', true],
    ['client_request', false],
    ['admin', false],
  ])('%s is suspicious: %s', (reason, suspicious) => {
    expect(revocationEvent(row(reason), null, null).suspicious).toBe(suspicious);
  });

  it('answers an empty scope when the grant is gone', () => {
    expect(revocationEvent({ ...row('admin'), scope: null }, null, null).scope).toBe('');
  });
});
