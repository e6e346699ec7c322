import { parseScope } from './scope';

describe('scope parameter (RFC 6749 §3.3)', () => {
  it('splits on single spaces and drops repeated tokens, keeping the order sent', () => {
    expect(parseScope('openid urn:matrix:client:api:* openid')).toEqual(['openid', 'urn:matrix:client:api:*']);
  });

  it('leaves an absent scope absent', () => {
    expect(parseScope(undefined)).toBeUndefined();
  });

  it.each([['double  space'], [' leading'], ['trailing '], ['quote"d'], ['back\\slash'], ['tab\tsep'], ['ünïcode']])('refuses %j', (value) => {
    expect(parseScope(value)).toBeNull();
  });
});
