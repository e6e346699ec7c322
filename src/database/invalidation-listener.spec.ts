import { auditIdOfPayload, grantOfPayload } from './invalidation-listener';

describe('invalidation payloads', () => {
  const grant = '0b9f6c1e-6d1e-4f3c-9a43-2f1d8f0a7b11';

  it('name the grant of a revocation by hand (g:) and of an audited revocation (r:<id>:<grant>)', () => {
    expect(grantOfPayload(`g:${grant}`)).toBe(grant);
    expect(grantOfPayload(`r:42:${grant}`)).toBe(grant);
    expect(grantOfPayload('c:client-1')).toBeUndefined();
    expect(grantOfPayload('r:42')).toBeUndefined();
    expect(grantOfPayload('f:')).toBeUndefined();
  });

  it('name the audit row of an r: payload, and nothing else', () => {
    expect(auditIdOfPayload(`r:42:${grant}`)).toBe(42n);
    expect(auditIdOfPayload('r:9007199254740993')).toBe(9007199254740993n);
    expect(auditIdOfPayload(`g:${grant}`)).toBeUndefined();
    expect(auditIdOfPayload('r:x:y')).toBeUndefined();
    expect(auditIdOfPayload('r:')).toBeUndefined();
  });
});
