/**
 * The client authentication methods of this server (RFC 6749 §2.3, RFC 7591 §2): the one list that the
 * guard accepts, clients are registered with, and discovery publishes.
 */
export const TOKEN_ENDPOINT_AUTH_METHODS = ['client_secret_basic', 'client_secret_post', 'none'] as const;
export type TokenEndpointAuthMethod = (typeof TOKEN_ENDPOINT_AUTH_METHODS)[number];

/** The methods that prove possession of a secret: what confidential clients use. */
export const CONFIDENTIAL_AUTH_METHODS = TOKEN_ENDPOINT_AUTH_METHODS.filter((m) => m !== 'none');
