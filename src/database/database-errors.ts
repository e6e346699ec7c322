/** A startup problem with the database, told in one line that names the setting to change. */
export class DatabaseStartupError extends Error {
  override name = 'DatabaseStartupError';
}

/** The URL without its password, for messages. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparseable DATABASE_URL)';
  }
}
