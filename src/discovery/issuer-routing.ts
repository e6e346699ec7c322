import { DISCOVERY_ROOT_ROUTES } from './discovery.constants';
import { InvalidIssuerError, issuerPath } from './issuer';

/** What a Nest host passes to `app.setGlobalPrefix(prefix, { exclude })` for an issuer with a path. */
export interface IssuerRouting {
  prefix: string;
  exclude: string[];
}

// Plain URL path characters: anything else would mean something to Nest's route syntax (":", "*", "{").
const ROUTE_SAFE_PATH = /^(\/[A-Za-z0-9._~%-]+)+$/;

/**
 * Endpoint URLs are `<issuer>/<route>`, so an issuer with a path (`https://auth.example.com/tenant1`)
 * needs the host's routes under that path: a global prefix `tenant1`. The discovery routes that RFC 8414
 * §3.1 and Matrix put at the origin's root are excluded from it. Undefined for an issuer without a path.
 */
export function issuerRouting(issuer: string): IssuerRouting | undefined {
  const path = issuerPath(issuer);
  if (path === '') return undefined;
  if (!ROUTE_SAFE_PATH.test(path)) {
    throw new InvalidIssuerError(issuer, `its path cannot be a route prefix: use letters, digits, ".", "_", "~", "%", "-" and "/"`);
  }
  return { prefix: path.slice(1), exclude: [...DISCOVERY_ROOT_ROUTES] };
}
