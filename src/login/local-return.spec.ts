import { localReturnPath } from './local-return';

describe('localReturnPath', () => {
  it('accepts a path of this server under the issuer path, with its query', () => {
    expect(localReturnPath('/account', '')).toBe('/account');
    expect(localReturnPath('/account?action=org.matrix.session_end&device_id=AB%20C', '')).toBe('/account?action=org.matrix.session_end&device_id=AB%20C');
    expect(localReturnPath('/tenant1/account', '/tenant1')).toBe('/tenant1/account');
  });

  it.each([
    ['https://evil.example/account'],
    ['//evil.example/account'],
    ['/\\evil.example'],
    ['\\\\evil.example'],
    ['/\t/evil.example'],
    ['/%2e%2e/evil'],
    ['javascript:alert(1)'],
    ['account'],
    ['/../evil'],
    ['/a/../../evil'],
    ['/account#x'],
    ['/ account'],
    [''],
  ])('refuses %j', (value) => {
    expect(localReturnPath(value, '')).toBeUndefined();
  });

  it('refuses a path outside the issuer path', () => {
    expect(localReturnPath('/other/account', '/tenant1')).toBeUndefined();
    expect(localReturnPath('/tenant10/account', '/tenant1')).toBeUndefined();
  });
});
