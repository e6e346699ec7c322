// matrix-js-sdk 43's OAuth2.registerClient, unmodified, registering against a running server. Prints one
// JSON object { validMetadata, clientId } or { error }; exits non-zero on failure.
// Usage: node test/support/matrix-sdk-register.mjs '<json>' with { base, issuer, clientMetadata }
import { isValidAuthMetadata, OAuth2 } from 'matrix-js-sdk/lib/oauth/index.js';

const { base, issuer, clientMetadata } = JSON.parse(process.argv[2]);
// The issuer's URLs point at a name this test does not serve on: send them to the server under test.
const realFetch = globalThis.fetch;
globalThis.fetch = (input, init) => {
  const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
  return realFetch(url.startsWith(issuer) ? base + url.slice(issuer.length) : url, init);
};
try {
  const metadata = await (await fetch(`${issuer}/.well-known/oauth-authorization-server`)).json();
  const validMetadata = isValidAuthMetadata(metadata);
  const clientId = await OAuth2.registerClient(metadata, clientMetadata);
  process.stdout.write(JSON.stringify({ validMetadata, clientId }) + '\n');
} catch (err) {
  process.stdout.write(JSON.stringify({ error: err instanceof Error ? err.message : String(err) }) + '\n');
  process.exitCode = 1;
}
