/** The login step tried to answer an authorization request that is unknown, expired or already answered. */
export class AuthorizationRequestError extends Error {
  override name = 'AuthorizationRequestError';
}
