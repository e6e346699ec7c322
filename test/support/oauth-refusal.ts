import { OAuthException } from '../../src/http/oauth.exception';

/** What a call refused with, as `<status> <error>: <description>`, or 'accepted'; other errors propagate. */
export async function refusal(p: Promise<unknown> | (() => unknown)): Promise<string> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (err) {
    if (err instanceof OAuthException) return `${err.getStatus()} ${err.error}: ${err.description}`;
    throw err;
  }
  return 'accepted';
}
