import { resolveDiscoveryOptions } from './discovery-module-options.interface';

describe('resolveDiscoveryOptions', () => {
  it('defaults to no host fields, a one-hour max-age and both aliases off', () => {
    expect(resolveDiscoveryOptions()).toEqual({ metadata: {}, maxAgeSeconds: 3600, openidConfigurationAlias: false, matrixAuthMetadataAlias: false });
  });

  it('keeps what is given, including a max-age of 0', () => {
    const options = { metadata: { scopes_supported: ['openid'] }, maxAgeSeconds: 0, openidConfigurationAlias: true, matrixAuthMetadataAlias: true };
    expect(resolveDiscoveryOptions(options)).toEqual(options);
  });

  it.each([-1, 1.5, Number.NaN])('refuses maxAgeSeconds=%s, naming the option', (maxAgeSeconds) => {
    expect(() => resolveDiscoveryOptions({ maxAgeSeconds })).toThrow(`DiscoveryModule option maxAgeSeconds=${maxAgeSeconds}`);
  });

  it('refuses metadata that is not an object of fields', () => {
    expect(() => resolveDiscoveryOptions({ metadata: ['issuer'] as unknown as Record<string, unknown> })).toThrow('DiscoveryModule option metadata');
  });
});
