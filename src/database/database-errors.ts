/** A startup problem with the database, told in one line that names the setting to change. */
export class DatabaseStartupError extends Error {
  override name = 'DatabaseStartupError';
}

/**
 * Query parameters of a PostgreSQL URL that carry no credential. Every other one is masked: libpq and `pg`
 * take `password`, `sslpassword`, `sslkey`, `sslcert`, `sslrootcert`, `passfile`… in the query too, and a
 * parameter this list does not know is safer masked than printed.
 */
const HARMLESS_PARAMS = new Set(['sslmode', 'connect_timeout', 'application_name', 'target_session_attrs', 'keepalives', 'keepalives_idle', 'client_encoding']);

/** The URL without its password or any other credential-bearing part, for messages. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    for (const name of new Set(u.searchParams.keys())) {
      if (!HARMLESS_PARAMS.has(name.toLowerCase())) u.searchParams.set(name, '***');
    }
    u.hash = '';
    return u.toString();
  } catch {
    return '(unparseable URL)';
  }
}

/** `text` with every value redactUrl masks in `url` replaced by `***` (for driver messages that quote one). */
export function redactSecretsIn(text: string, url: string): string {
  let secrets: string[];
  try {
    const u = new URL(url);
    secrets = [decodeURIComponent(u.password), u.password];
    for (const [name, value] of u.searchParams) if (!HARMLESS_PARAMS.has(name.toLowerCase())) secrets.push(value);
  } catch {
    return text.includes(url) ? text.split(url).join('(DATABASE_URL)') : text;
  }
  for (const secret of secrets.filter((s) => s.length > 0).sort((a, b) => b.length - a.length)) text = text.split(secret).join('***');
  return text;
}
