/** RFC 8414 §3: the well-known URI suffix registered for authorization server metadata. */
export const OAUTH_AUTHORIZATION_SERVER_WELL_KNOWN = '.well-known/oauth-authorization-server';

/** OpenID Connect Discovery 1.0 §4: appended to the issuer (RFC 8414 §5 keeps this for compatibility). */
export const OPENID_CONFIGURATION_WELL_KNOWN = '.well-known/openid-configuration';

/** Matrix client-server API: a homeserver's pointer to its OAuth 2.0 authorization server metadata. */
export const MATRIX_AUTH_METADATA_ROUTE = '_matrix/client/v1/auth_metadata';

/**
 * The controller's routes for the RFC 8414 document: one for an issuer without a path, one whose
 * wildcard takes the issuer's path (RFC 8414 §3.1: `/.well-known/oauth-authorization-server/tenant1`).
 */
export const METADATA_ROUTES = [OAUTH_AUTHORIZATION_SERVER_WELL_KNOWN, `${OAUTH_AUTHORIZATION_SERVER_WELL_KNOWN}/*issuerPath`];

/**
 * Routes that live at the root of the issuer's origin whatever the issuer's path, so a host that puts
 * its routes under the issuer's path (a global prefix) must exclude these from it.
 */
export const DISCOVERY_ROOT_ROUTES: readonly string[] = [...METADATA_ROUTES, MATRIX_AUTH_METADATA_ROUTE];
