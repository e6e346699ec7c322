import { localisedClientMetadata } from './localised-client-metadata';

describe('localisedClientMetadata (RFC 7591 §2.2)', () => {
  const metadata = {
    client_name: 'My App',
    'client_name#fr': 'Mon appli',
    'client_name#de-CH': 'Mis App',
    client_uri: 'https://example.com/',
    'tos_uri#fr': 'https://example.com/fr/cgu',
    tos_uri: 'https://example.com/tos',
    contacts: ['ops@example.com'],
  };

  it('answers the fields without a language tag when the browser sends no Accept-Language', () => {
    expect(localisedClientMetadata(metadata, undefined)).toEqual({ client_name: 'My App', client_uri: 'https://example.com/', tos_uri: 'https://example.com/tos' });
  });

  it('picks the variant of the most preferred language, field by field, and falls back to the untagged value', () => {
    expect(localisedClientMetadata(metadata, 'fr-FR,fr;q=0.9,en;q=0.8')).toEqual({ client_name: 'Mon appli', client_uri: 'https://example.com/', tos_uri: 'https://example.com/fr/cgu' });
  });

  it('honours q-values over order, ignores q=0 and *, and matches tags case-insensitively', () => {
    expect(localisedClientMetadata(metadata, 'fr;q=0.1, DE-ch;q=0.5').client_name).toBe('Mis App');
    expect(localisedClientMetadata(metadata, 'fr;q=0, *').client_name).toBe('My App');
  });

  it('takes a more specific variant for a general range (de → de-CH)', () => {
    expect(localisedClientMetadata(metadata, 'de').client_name).toBe('Mis App');
  });

  it('survives a malformed header', () => {
    expect(localisedClientMetadata(metadata, ';;,q=,<script>,fr;q=abc').client_name).toBe('Mon appli');
  });
});
