import { IsOptional, IsString, MaxLength } from 'class-validator';

/**
 * The parameters a client's form request to an OAuth endpoint may carry besides its own: client
 * authentication in the body (RFC 6749 §2.3.1) and scope (§3.3). Unknown parameters are ignored (§3.2)
 * and reach the service as they were sent.
 */
export class ScopedClientRequestDto {
  [parameter: string]: string | undefined;

  /** RFC 6749 §3.3: space-separated scope tokens. */
  @IsOptional()
  @MaxLength(4096, { message: 'scope is too long' })
  @IsString()
  scope?: string;

  @IsOptional() @IsString()
  client_id?: string;

  @IsOptional() @IsString()
  client_secret?: string;
}
