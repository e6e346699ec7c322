import { Injectable } from '@nestjs/common';

/**
 * The pages a sign-in without an authorization request (`?return_to=`) and the logout may send the browser
 * back to. Only pages that registered themselves at startup (the account page registers its path): any
 * other path of this server, `/oauth2/authorize?…` above all, is refused like an open redirect, since a
 * genuine sign-in that ends on an authorization request of an attacker's client would forward the browser
 * to that client's redirect URI.
 */
@Injectable()
export class LoginReturnTargets {
  private readonly prefixes = new Set<string>();

  /** Allows `path` (absolute, with the issuer's path) and the paths below it, with any query. */
  allow(path: string): void {
    const normalized = path.replace(/\/+$/, '');
    if (!normalized.startsWith('/')) throw new Error(`LoginReturnTargets: ${JSON.stringify(path)} is not an absolute path`);
    this.prefixes.add(normalized);
  }

  /** Whether `path` (already checked by localReturnPath: local, no `..`, no fragment) is a registered page. */
  allows(path: string): boolean {
    const pathname = path.split('?', 1)[0];
    for (const prefix of this.prefixes) if (pathname === prefix || pathname.startsWith(`${prefix}/`)) return true;
    return false;
  }
}
