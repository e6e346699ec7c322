import { createHash } from 'node:crypto';
import { isNotModified, prepareMetadataResponse } from './metadata-response';

const document = Object.freeze({ issuer: 'https://auth.example.com', scopes_supported: ['openid'] });

describe('prepareMetadataResponse', () => {
  const prepared = prepareMetadataResponse(document, 600);

  it('serializes the document once, as compact JSON', () => {
    expect(prepared.body.toString('utf8')).toBe('{"issuer":"https://auth.example.com","scopes_supported":["openid"]}');
  });

  it('uses a strong ETag: the SHA-256 of the exact bytes served', () => {
    expect(prepared.etag).toBe(`"${createHash('sha256').update(prepared.body).digest('base64url')}"`);
    expect(prepared.etag.startsWith('W/')).toBe(false);
    expect(prepareMetadataResponse({ ...document, scopes_supported: ['email'] }, 600).etag).not.toBe(prepared.etag);
  });

  it('answers 304 with the cache lifetime, the ETag and CORS for any origin', () => {
    expect(prepared.notModified).toEqual({
      'Cache-Control': 'public, max-age=600',
      ETag: prepared.etag,
      'Access-Control-Allow-Origin': '*',
      'Access-Control-Expose-Headers': 'ETag',
    });
  });

  it('answers 200 with the headers of a 304 plus the JSON type and the body length', () => {
    expect(prepared.ok).toEqual({ ...prepared.notModified, 'Content-Type': 'application/json', 'Content-Length': String(prepared.body.length) });
  });

  it('answers a CORS preflight for GET and HEAD from any origin', () => {
    expect(prepared.preflight).toEqual({
      'Access-Control-Allow-Origin': '*',
      'Access-Control-Allow-Methods': 'GET, HEAD',
      'Access-Control-Allow-Headers': 'Accept, Cache-Control, If-None-Match',
      'Access-Control-Max-Age': '86400',
    });
  });
});

describe('isNotModified (RFC 9110 §13.1.2)', () => {
  const etag = '"abc"';
  it.each([
    ['"abc"', true],
    ['W/"abc"', true],
    ['"x", "abc"', true],
    ['"x",W/"abc"', true],
    ['*', true],
    ['"abd"', false],
    ['abc', false],
    ['"x", "y"', false],
    ['', false],
    [undefined, false],
  ])('If-None-Match %j → %s', (header, expected) => {
    expect(isNotModified(header, etag)).toBe(expected);
  });
});
