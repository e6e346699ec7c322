import { IsOptional, IsString, MaxLength } from 'class-validator';

/** The body of an introspection request (RFC 7662 §2.1). Unknown parameters are ignored. */
export class IntrospectTokenDto {
  // class-validator runs the bottom decorator first: presence before length.
  @MaxLength(4096, { message: 'token is longer than any token this server issues' })
  @IsString({ message: 'token is required: send the access or refresh token to introspect' })
  token: string;

  /** Only an optimisation (RFC 7662 §2.1); the token's prefix decides, so any value is accepted. */
  @IsOptional() @IsString()
  token_type_hint?: string;

  @IsOptional() @IsString()
  client_id?: string;

  @IsOptional() @IsString()
  client_secret?: string;
}
