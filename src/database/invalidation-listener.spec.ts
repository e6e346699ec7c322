import { subscriberPayloads } from './invalidation-listener';

describe('invalidation payloads as subscribers hear them', () => {
  const grant = '0b9f6c1e-6d1e-4f3c-9a43-2f1d8f0a7b11';

  it('split a revocation audit row into its grant (for the caches) and its audit id (for the events)', () => {
    expect(subscriberPayloads(`r:42:${grant}`)).toEqual([`g:${grant}`, 'r:42']);
  });

  it('pass every other payload on as it is', () => {
    for (const payload of [`g:${grant}`, 'c:client-1', 'f:', 'r:42']) expect(subscriberPayloads(payload)).toEqual([payload]);
  });
});
