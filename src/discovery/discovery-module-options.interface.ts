import { DiscoveryConfigError } from './discovery-config.error';

export interface DiscoveryModuleOptions {
  /**
   * Fields the host adds to the document as they are, e.g. its own `authorization_endpoint`,
   * `registration_endpoint`, `response_types_supported`, `code_challenge_methods_supported` or
   * `service_documentation`. They cannot replace `issuer` or a field a module contributes.
   */
  metadata?: Record<string, unknown>;
  /** `Cache-Control: public, max-age=<this>` on the document, in seconds; default 3600. */
  maxAgeSeconds?: number;
  /** Also serve the document at `<issuer>/.well-known/openid-configuration`; default false. */
  openidConfigurationAlias?: boolean;
  /** Also serve the document at the Matrix client-server API's `GET /_matrix/client/v1/auth_metadata`; default false. */
  matrixAuthMetadataAlias?: boolean;
}

export interface ResolvedDiscoveryOptions {
  metadata: Readonly<Record<string, unknown>>;
  maxAgeSeconds: number;
  openidConfigurationAlias: boolean;
  matrixAuthMetadataAlias: boolean;
}

export function resolveDiscoveryOptions(options: DiscoveryModuleOptions = {}): ResolvedDiscoveryOptions {
  const maxAgeSeconds = options.maxAgeSeconds ?? 3600;
  if (!Number.isSafeInteger(maxAgeSeconds) || maxAgeSeconds < 0) {
    throw new DiscoveryConfigError(`DiscoveryModule option maxAgeSeconds=${String(maxAgeSeconds)}: must be a whole number of seconds, 0 or more`);
  }
  const metadata = options.metadata ?? {};
  if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata)) {
    throw new DiscoveryConfigError('DiscoveryModule option metadata: must be an object of metadata fields');
  }
  return {
    metadata,
    maxAgeSeconds,
    openidConfigurationAlias: options.openidConfigurationAlias ?? false,
    matrixAuthMetadataAlias: options.matrixAuthMetadataAlias ?? false,
  };
}
