/** What a scope token means, in words a person can judge on the consent page. */
export interface ScopeLabel {
  scope: string;
  label: string;
  /** A detail worth showing (a device id), or undefined. */
  detail?: string;
}

// Matrix client-server API, "OAuth 2.0 API" scopes; MSC2967's unstable prefix is still sent by clients.
const MATRIX_PREFIXES = ['urn:matrix:client:', 'urn:matrix:org.matrix.msc2967.client:'];

/** The Matrix device id a scope carries (`urn:matrix:client:device:<id>`, or MSC2967's unstable form), if any. */
export function matrixDeviceId(scope: readonly string[]): string | undefined {
  for (const token of scope) {
    for (const prefix of MATRIX_PREFIXES) if (token.startsWith(`${prefix}device:`) && token.length > prefix.length + 7) return token.slice(prefix.length + 7);
  }
  return undefined;
}

/** The scope tokens that name a Matrix device, in each accepted form. */
export function matrixDeviceScopes(deviceId: string): string[] {
  return MATRIX_PREFIXES.map((prefix) => `${prefix}device:${deviceId}`);
}

export function describeScope(scope: string): ScopeLabel {
  for (const prefix of MATRIX_PREFIXES) {
    if (!scope.startsWith(prefix)) continue;
    const rest = scope.slice(prefix.length);
    if (rest === 'api:*') return { scope, label: 'Full access to your Matrix account: read and send messages, manage rooms and settings' };
    if (rest.startsWith('device:')) return { scope, label: 'Sign in as a device of your account', detail: `device ID ${rest.slice('device:'.length)}` };
    if (rest === 'api:guest') return { scope, label: 'Guest access to Matrix' };
  }
  if (scope === 'openid') return { scope, label: 'Know who you are (your account identifier)' };
  if (scope === 'offline_access') return { scope, label: 'Stay signed in when you are not using it' };
  return { scope, label: scope };
}
