/** Where the database is and how the process talks to it (the host's configuration fills it in). */
export interface DatabaseSettings {
  /** Set: connect to this PostgreSQL. Unset: start the embedded PGlite database. */
  url?: string;
  poolSize: number;
  statementTimeoutMs: number;
  connectTimeoutMs: number;
  /** Where the embedded database keeps its files; `memory://` for a throwaway database. */
  embeddedDataDir: string;
  migrationsRun: boolean;
}
