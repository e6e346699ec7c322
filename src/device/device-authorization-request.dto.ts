import { IsOptional, IsString, MaxLength } from 'class-validator';

/** RFC 8628 §3.1: client_id (or client authentication) and an optional scope. Unknown parameters are ignored. */
export class DeviceAuthorizationRequestDto {
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
