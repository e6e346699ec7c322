import { Inject, Injectable } from '@nestjs/common';
import { OAUTH_CORE_OPTIONS } from '../core/oauth-core.module-definition';
import type { ResolvedOAuthCoreOptions } from '../core/oauth-core-options.interface';
import { AuthorizationServerMetadataContributor } from '../http/metadata-contributor.decorator';
import type { MetadataContributor } from '../http/metadata-contributor.interface';
import { ACCOUNT_ACTIONS, ACCOUNT_OPTIONS } from './account.constants';
import type { ResolvedAccountOptions } from './account-options.interface';

/**
 * The account page's fields of the metadata (Matrix MSC4191, MSC2965): `account_management_uri` and the
 * actions it answers, under both their MSC4191 names and the MSC2965 names clients still send. No
 * `org.matrix.profile`: there is no profile page.
 */
@Injectable()
@AuthorizationServerMetadataContributor()
export class AccountMetadataContributor implements MetadataContributor {
  constructor(
    @Inject(ACCOUNT_OPTIONS) private readonly options: ResolvedAccountOptions,
    @Inject(OAUTH_CORE_OPTIONS) private readonly core: ResolvedOAuthCoreOptions,
  ) {}

  metadata(): Record<string, unknown> {
    const uri = this.options.page ? `${this.core.issuer}/${this.options.path}` : this.options.managementUri;
    if (!uri) return {};
    return { account_management_uri: uri, account_management_actions_supported: Object.keys(ACCOUNT_ACTIONS) };
  }
}
