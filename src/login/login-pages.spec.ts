import { createHash } from 'node:crypto';
import { formActionSource, pageHeaders, renderPage, STYLE_HASH } from './login-pages';
import { describeScope } from './scope-labels';

const client = { clientName: '<script>alert(1)</script>', action: '?request=r1', csrf: 'tok"en' };

describe('login pages', () => {
  it('escapes every value a client or a person supplied', () => {
    const html = renderPage({ page: 'login', view: { ...client, username: '"><img src=x onerror=alert(1)>', error: '<b>x</b>' } });
    expect(html).not.toContain('<script>alert(1)');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).not.toContain('"><img');
    expect(html).toContain('value="tok&quot;en"');
  });

  it('allows its one stylesheet by hash and no script at all', () => {
    const html = renderPage({ page: 'error', view: { heading: 'h', message: 'm' } });
    const css = /<style>([\s\S]*?)<\/style>/.exec(html)![1];
    expect(STYLE_HASH).toBe(`'sha256-${createHash('sha256').update(css).digest('base64')}'`);
    expect(html).not.toMatch(/<script/i);
    expect(html).toContain('<meta name="viewport" content="width=device-width, initial-scale=1">');
    const csp = pageHeaders()['Content-Security-Policy'];
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain(`style-src ${STYLE_HASH}`);
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain('script-src');
  });

  it('lets forms lead to the client\'s redirect URI: its origin, or its private-use scheme', () => {
    expect(formActionSource('https://app.example.com/cb?x=1')).toBe('https://app.example.com');
    expect(formActionSource('http://127.0.0.1:51234/cb')).toBe('http://127.0.0.1:51234');
    expect(formActionSource('com.example.app:/cb')).toBe('com.example.app:');
    expect(formActionSource('not a uri')).toBeUndefined();
    expect(pageHeaders('com.example.app:/cb')['Content-Security-Policy']).toContain("form-action 'self' com.example.app:;");
  });

  it('shows Matrix scopes in words, the device id as a detail, and unknown scopes as sent', () => {
    expect(describeScope('urn:matrix:client:api:*').label).toMatch(/Full access to your Matrix account/);
    expect(describeScope('urn:matrix:org.matrix.msc2967.client:api:*').label).toMatch(/Full access/);
    expect(describeScope('urn:matrix:client:device:ABCDEF')).toEqual({ scope: 'urn:matrix:client:device:ABCDEF', label: expect.stringMatching(/device/), detail: 'device ID ABCDEF' });
    expect(describeScope('photos:read')).toEqual({ scope: 'photos:read', label: 'photos:read' });
  });
});
