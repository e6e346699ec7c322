import type { AuthorizationCompletion, AuthorizationDenial, PendingAuthorization } from '../authorization/pending-authorization.interface';

/**
 * What the login pages need of the authorization endpoint: the contract of `AuthorizationService`
 * (src/authorization/). LoginModule provides it under LOGIN_AUTHORIZATION.
 */
export interface LoginAuthorizationSteps {
  /** Null when the request is unknown, expired or already answered. */
  getPending(id: string): Promise<PendingAuthorization | null>;
  /** Issues the code; answers the client's redirect URL. Throws AuthorizationRequestError when no longer pending. */
  complete(id: string, completion: AuthorizationCompletion): Promise<string>;
  /** Answers the client's error redirect URL. Throws AuthorizationRequestError when no longer pending. */
  deny(id: string, error: AuthorizationDenial): Promise<string>;
}
