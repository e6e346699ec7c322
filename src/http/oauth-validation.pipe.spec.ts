import 'reflect-metadata';
import { RevokeTokenDto } from '../revocation/revoke-token.dto';
import { TokenRequestDto } from '../token-endpoint/token-request.dto';
import { OAuthException } from './oauth.exception';
import { OAuthValidationPipe } from './oauth-validation.pipe';

const form = (entries: Record<string, string>) => Object.freeze(Object.assign(Object.create(null), entries));

describe('OAuthValidationPipe', () => {
  const pipe = new OAuthValidationPipe();
  const run = (metatype: new () => object, entries: Record<string, string>) => pipe.transform(form(entries), { type: 'custom', metatype });
  const refusal = (metatype: new () => object, entries: Record<string, string>) => {
    try {
      run(metatype, entries);
    } catch (err) {
      return err instanceof OAuthException ? `${err.error}: ${err.description}` : err;
    }
    return 'accepted';
  };

  it('returns an instance of the DTO holding the form parameters, unknown ones included but inert', () => {
    const dto = run(RevokeTokenDto, { token: 'abc', token_type_hint: 'refresh_token', extra: 'x' });
    expect(dto).toBeInstanceOf(RevokeTokenDto);
    expect(dto).toMatchObject({ token: 'abc', token_type_hint: 'refresh_token' });
  });

  it('answers invalid_request with the DTO message when a required parameter is missing', () => {
    expect.assertions(3);
    try {
      run(RevokeTokenDto, { client_id: 'app' });
    } catch (err) {
      expect(err).toBeInstanceOf(OAuthException);
      expect((err as OAuthException).error).toBe('invalid_request');
      expect((err as OAuthException).description).toBe('token is required: send the access or refresh token');
    }
  });

  it('reports the first violated rule of a parameter only (length after presence)', () => {
    expect(refusal(RevokeTokenDto, { token: 'x'.repeat(5000) })).toBe('invalid_request: token is longer than any token this server issues');
    expect(refusal(RevokeTokenDto, { token: 'x'.repeat(4096) })).toBe('accepted');
    expect(refusal(TokenRequestDto, { scope: 'a' })).toBe('invalid_request: grant_type is required: send refresh_token or client_credentials');
  });

  it('never lets a parameter named after a prototype key reach the prototype chain', () => {
    const dto = run(RevokeTokenDto, { token: 'abc', __proto__: 'polluted', constructor: 'x', prototype: 'y' } as Record<string, string>);
    expect(Object.getPrototypeOf(dto)).toBe(RevokeTokenDto.prototype);
    expect((dto as { constructor: unknown }).constructor).toBe(RevokeTokenDto);
    expect(Object.entries(dto).filter(([, v]) => v !== undefined)).toEqual([['token', 'abc']]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});
