/** Options of `AccountModule`, the account page of the built-in login. */
export interface AccountModuleOptions {
  /** The route of the account page, under the issuer; default `account`. */
  path?: string;
  /**
   * Ending a session or signing out everywhere else asks for the password again when the browser's last
   * password entry is older than this; default 300 (5 minutes). Deactivating always asks.
   */
  reauthenticateAfterSeconds?: number;
  /**
   * Serve the built-in page (default true). False: only `AccountService`, for a host that renders its own
   * page; it then publishes its own `account_management_uri` with `managementUri`.
   */
  page?: boolean;
  /** With `page: false`, the host's own account page, published as `account_management_uri` (absolute URL). */
  managementUri?: string;
}

export interface ResolvedAccountOptions {
  path: string;
  reauthenticateAfterSeconds: number;
  page: boolean;
  managementUri?: string;
}
