import { IsOptional, IsString, MaxLength } from 'class-validator';
import { ScopedClientRequestDto } from '../http/scoped-client-request.dto';

/**
 * The body of a token request (RFC 6749 §4.4.2, §6). Which parameters a grant type needs is the
 * service's decision, so that an unsupported grant_type answers unsupported_grant_type rather than a
 * complaint about some other parameter. Unknown parameters are ignored (RFC 6749 §3.2).
 */
export class TokenRequestDto extends ScopedClientRequestDto {
  /** Every parameter of the form reaches the grant handler; those declared here and in the base are checked. */
  [parameter: string]: string | undefined;

  @IsString({ message: 'grant_type is required: send refresh_token or client_credentials' })
  grant_type: string;

  @IsOptional()
  @MaxLength(4096, { message: 'refresh_token is longer than any token this server issues' })
  @IsString()
  refresh_token?: string;
}
