import { IsOptional, IsString, MaxLength } from 'class-validator';

/**
 * The body that revocation (RFC 7009 §2.1) and introspection (RFC 7662 §2.1) requests share: one token,
 * an optional hint, and the client's credentials when sent in the body. Unknown parameters are ignored.
 */
export class TokenParamDto {
  // class-validator runs the bottom decorator first: presence before length.
  @MaxLength(4096, { message: 'token is longer than any token this server issues' })
  @IsString({ message: 'token is required: send the access or refresh token' })
  token: string;

  /** Only an optimisation (RFC 7009 §2.1, RFC 7662 §2.1); the token's prefix decides, so any value is accepted. */
  @IsOptional() @IsString()
  token_type_hint?: string;

  @IsOptional() @IsString()
  client_id?: string;

  @IsOptional() @IsString()
  client_secret?: string;
}
