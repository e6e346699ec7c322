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
  /**
   * The pool's sessions leave a revocation's notification to the process, which sends it once the
   * revocation has committed (see ANNOUNCE_AFTER_COMMIT_OPTION); PostgreSQL only (`url` set).
   */
  announceAfterCommit: boolean;
  /** pg's PGOPTIONS, which pg ignores once options are given: passed on with the setting above. */
  pgOptions?: string;
}
