import { Inject, Injectable } from '@nestjs/common';
import { AuthorizationServerMetadataContributor } from '../http/metadata-contributor.decorator';
import type { MetadataContributor } from '../http/metadata-contributor.interface';
import { LOGIN_OPTIONS } from './login.constants';
import type { ResolvedLoginOptions } from './login-options.interface';

/**
 * The built-in login's field of the metadata: `prompt_values_supported` (OpenID Connect Prompt Create 1.0
 * §4.1; Matrix's account registration through `prompt=create`), published only when sign-up is open.
 */
@Injectable()
@AuthorizationServerMetadataContributor()
export class LoginMetadataContributor implements MetadataContributor {
  constructor(@Inject(LOGIN_OPTIONS) private readonly options: ResolvedLoginOptions) {}

  metadata(): Record<string, unknown> {
    return this.options.selfRegistration ? { prompt_values_supported: ['none', 'login', 'consent', 'create'] } : {};
  }
}
