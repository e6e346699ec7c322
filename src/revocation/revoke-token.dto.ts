import { IsOptional, IsString, MaxLength } from 'class-validator';

/** The body of a revocation request (RFC 7009 §2.1). Unknown parameters are ignored. */
export class RevokeTokenDto {
  // class-validator runs the bottom decorator first: presence before length.
  @MaxLength(4096, { message: 'token is longer than any token this server issues' })
  @IsString({ message: 'token is required: send the access or refresh token to revoke' })
  token: string;

  /** Only an optimisation (RFC 7009 §2.1); the token's prefix decides, so any value is accepted. */
  @IsOptional() @IsString()
  token_type_hint?: string;

  @IsOptional() @IsString()
  client_id?: string;

  @IsOptional() @IsString()
  client_secret?: string;
}
