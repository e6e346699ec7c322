/**
 * A discovery setting or a contributed metadata field that cannot be served. Thrown while the
 * application starts, so a bad document is never served; the message names the field or setting.
 */
export class DiscoveryConfigError extends Error {
  override name = 'DiscoveryConfigError';
}
