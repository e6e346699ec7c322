import { localisedClientMetadata } from '../clients/localised-client-metadata';
import type { ClientView } from './login-pages';

/**
 * What a page shows of a client (consent page, account page), in the language the browser prefers where
 * the client registered one (`client_name#fr`, …): only http(s) links, only an https logo (the CSP allows
 * no other).
 */
export function describeClient(clientId: string, metadata: Readonly<Record<string, unknown>> | null, acceptLanguage?: string): ClientView {
  const m = localisedClientMetadata(metadata ?? {}, acceptLanguage) as Record<string, unknown>;
  const name = typeof m.client_name === 'string' && m.client_name.trim() ? m.client_name.trim() : clientId;
  const clientUri = webUrl(m.client_uri);
  return {
    clientName: name,
    clientUri,
    clientHost: clientUri ? new URL(clientUri).host : undefined,
    logoUri: webUrl(m.logo_uri, true),
    tosUri: webUrl(m.tos_uri),
    policyUri: webUrl(m.policy_uri),
  };
}

function webUrl(value: unknown, httpsOnly = false): string | undefined {
  if (typeof value !== 'string') return undefined;
  try {
    const url = new URL(value);
    if (url.protocol === 'https:' || (!httpsOnly && url.protocol === 'http:')) return url.href;
  } catch {
    // not a URL: not shown
  }
  return undefined;
}
