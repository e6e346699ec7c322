/** What a contributor is told when the document is built. */
export interface MetadataContext {
  /** The issuer identifier, without a trailing slash. */
  issuer: string;
  /** The absolute URL of one of the host's routes: `endpointUrl('oauth2/revoke')` → `<issuer>/oauth2/revoke`. */
  endpointUrl(path: string): string;
}

/**
 * A provider that adds its own fields to the authorization server metadata (RFC 8414 §2), e.g. the
 * revocation module's `revocation_endpoint`. Mark the class with `@Injectable()` and
 * `@AuthorizationServerMetadataContributor()` and register it in any module of the app: DiscoveryModule
 * finds it at startup.
 */
export interface MetadataContributor {
  /** Called once, at startup. Fields whose value is undefined or an empty array are left out. */
  metadata(ctx: MetadataContext): Record<string, unknown>;
}
