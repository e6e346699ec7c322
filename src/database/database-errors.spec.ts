import { redactSecretsIn, redactUrl } from './database-errors';

describe('redactUrl', () => {
  it('masks the password of the userinfo', () => {
    expect(redactUrl('postgres://app:hunter2@db:5432/x')).toBe('postgres://app:***@db:5432/x');
  });

  it.each(['password', 'sslpassword', 'sslkey', 'sslcert', 'sslrootcert', 'sslcrl', 'passfile', 'PASSWORD', 'somethingnew'])(
    'masks the %s query parameter',
    (name) => {
      const shown = redactUrl(`postgres://postgres@127.0.0.1:5999/db?${name}=Sekrit123&sslmode=require`);
      expect(shown).not.toContain('Sekrit123');
      expect(shown).toContain(`${name}=***`);
      expect(shown).toContain('sslmode=require');
    },
  );

  it('masks every copy of a repeated parameter, and drops a fragment', () => {
    const shown = redactUrl('postgres://h/db?password=one&password=two#three');
    expect(shown).not.toMatch(/one|two|three/);
  });

  it('never echoes a URL it cannot parse', () => {
    expect(redactUrl('postgres://a:b@[not a host/x?password=Sekrit123')).toBe('(unparseable URL)');
  });
});

describe('redactSecretsIn', () => {
  it('masks in a driver message every value the URL carries as a credential', () => {
    const url = 'postgres://app:p%40ss@h/db?sslkey=/keys/client.key&sslmode=require';
    expect(redactSecretsIn("ENOENT: no such file or directory, open '/keys/client.key' (p@ss)", url)).toBe("ENOENT: no such file or directory, open '***' (***)");
    expect(redactSecretsIn('connect ECONNREFUSED 127.0.0.1:5432 require', url)).toBe('connect ECONNREFUSED 127.0.0.1:5432 require');
  });
});
