import { Module } from '@nestjs/common';
import { BearerTokenGuard } from './bearer-token.guard';

/**
 * Bearer tokens for the host's own routes: import this module (next to OAuthCoreModule) and put
 * `@UseGuards(BearerTokenGuard)` on a controller or route, `@RequireScopes(...)` where a scope is needed,
 * and read the token with `@BearerToken()`.
 */
@Module({
  providers: [BearerTokenGuard],
  exports: [BearerTokenGuard],
})
export class BearerAuthModule {}
