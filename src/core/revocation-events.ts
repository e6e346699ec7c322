import { Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { DataSource, QueryRunner } from 'typeorm';
import { InvalidationListener, InvalidationSubscriber } from '../database/invalidation-listener';
import type { TokenKind } from '../grants/token-format';
import { revocationEvent, RevocationEvent, RevocationListener } from './revocation-event';

interface AuditRow {
  id: string;
  grant_id: string;
  client_id: string;
  subject: string | null;
  scope: string | null;
  token_type: TokenKind | null;
  revoking_client_id: string | null;
  reason: string;
  revoked_at: Date;
}

/** What the health check reports about event delivery. */
export interface RevocationEventStats {
  /** Failed deliveries since this process started (each is retried). */
  failedDeliveries: number;
}

interface OnceListener {
  name: string;
  listener: RevocationListener;
  running?: Promise<void>;
  retryAt: number;
  backoffMs: number;
}

const AUDIT_COLUMNS = `a.id::text AS id, a.grant_id, a.client_id, a.subject, g.scope, a.token_type, a.revoking_client_id, a.reason, a.revoked_at`;
/** Commits can land out of id order (ids are taken at insert): catch-ups look this far back. */
const LATE_COMMIT_MARGIN = 1000;
const POLL_MS = 2000;
const ONCE_BATCH = 100;
const ONCE_TIMEOUT_MS = 30_000;

/**
 * Revocation events, from the outbox: every revocation writes its audit row in the revoking transaction,
 * whichever process made it (this server, another instance, the admin CLI), and this delivers them,
 * woken by the database's notification with a polling fallback.
 *
 * - `subscribe(listener)`: **every instance** hears every revocation committed after it started (cache
 *   eviction, metrics). Listeners run detached: one that throws or never settles cannot block delivery;
 *   its failure is logged and counted.
 * - `subscribeOnce(name, listener)`: **once per cluster**, at least once and in audit order, also across
 *   restarts (delete a device, notify a user). The instance that holds the listener's lock awaits it; a
 *   failure is logged, counted and retried with backoff, and later events wait behind it.
 */
@Injectable()
export class RevocationEvents implements InvalidationSubscriber, OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('RevocationEvents');
  private readonly listeners = new Set<RevocationListener>();
  private readonly once = new Map<string, OnceListener>();
  /** Audit ids delivered to this instance's listeners within the late-commit margin (caught up without repeats). */
  private readonly seen = new Set<bigint>();
  private lastSeen = 0n;
  /** Rows up to here were committed before this instance started: not announced to its listeners. */
  private startHorizon = 0n;
  /** Revocations this process made and announced itself at once (grant, reason, time), so the outbox does not repeat them. */
  private readonly announced = new Map<string, number>();
  private readonly pending: bigint[] = [];
  private pendingTimer?: NodeJS.Timeout;
  private started = false;
  private stopped = false;
  private catchingUp?: Promise<void>;
  private timer?: NodeJS.Timeout;
  private failures = 0;

  constructor(
    private readonly dataSource: DataSource,
    private readonly invalidation: InvalidationListener,
  ) {
    invalidation.subscribe(this);
  }

  /** Adds a listener on this instance; returns a function that removes it. */
  subscribe(listener: RevocationListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Adds a listener that runs once per event in the whole cluster, under `name` (the same name on every
   * instance). A new name is owed the events committed from now on. Returns a function that stops this
   * instance delivering to it.
   */
  subscribeOnce(name: string, listener: RevocationListener): () => void {
    if (this.once.has(name)) throw new Error(`A once-per-cluster revocation listener named ${JSON.stringify(name)} is already subscribed here`);
    const entry: OnceListener = { name, listener, retryAt: 0, backoffMs: 1000 };
    this.once.set(name, entry);
    void this.register(name).then(() => this.wakeOnce(entry), (err: unknown) => this.logger.error(`Could not register listener ${name}: ${(err as Error).message}`));
    return () => this.once.delete(name);
  }

  stats(): RevocationEventStats {
    return { failedDeliveries: this.failures };
  }

  async onApplicationBootstrap(): Promise<void> {
    const [{ max }]: Array<{ max: string | null }> = await this.dataSource.query('SELECT max(id)::text AS max FROM revocation_audit');
    this.lastSeen = this.startHorizon = BigInt(max ?? 0);
    this.started = true;
    this.timer = setInterval(() => this.tick(), POLL_MS);
    this.timer.unref();
  }

  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    clearTimeout(this.pendingTimer);
    await Promise.allSettled([this.catchingUp, ...[...this.once.values()].map((o) => o.running)]);
  }

  /** The database announced audit rows (`r:<id>`); grant and client payloads are the caches'. */
  evict(payload: string): void {
    if (!payload.startsWith('r:') || !this.started) return;
    const id = BigInt(payload.slice(2));
    if (this.listeners.size === 0) {
      // Nobody here to tell: noted as seen, without reading the row (the revoke path's cost stays its own).
      this.seen.add(id);
      if (id > this.lastSeen) this.lastSeen = id;
    } else {
      this.pending.push(id);
      // Announcements that arrive together are read together, in one query.
      this.pendingTimer ??= setTimeout(() => {
        const ids = this.pending.splice(0).map(String);
        this.pendingTimer = undefined;
        void this.deliverRows(`a.id = ANY ($1::bigint[])`, [ids]);
      }, 2);
    }
    for (const entry of this.once.values()) this.wakeOnce(entry);
  }

  /** The listener went down or came back: what was announced meanwhile is fetched from the outbox. */
  flush(): void {
    if (this.started) this.catchUp();
  }

  private tick(): void {
    // Without notifications (listener down, or the embedded database) the outbox is polled.
    if (!this.invalidation.active) this.catchUp();
    for (const entry of this.once.values()) this.wakeOnce(entry);
    // A catch-up never looks below lastSeen - margin, so what is below it need not be remembered.
    for (const id of this.seen) if (id <= this.lastSeen - BigInt(LATE_COMMIT_MARGIN)) this.seen.delete(id);
    const old = Date.now() - 10 * 60_000;
    for (const [key, at] of this.announced) if (at < old) this.announced.delete(key);
  }

  private catchUp(): void {
    const from = this.lastSeen - BigInt(LATE_COMMIT_MARGIN);
    this.catchingUp ??= this.deliverRows(`a.id > $1`, [String(from > this.startHorizon ? from : this.startHorizon)]).finally(() => {
      this.catchingUp = undefined;
    });
  }

  private async deliverRows(where: string, params: unknown[]): Promise<void> {
    if (this.stopped) return;
    let rows: AuditRow[];
    try {
      rows = await this.dataSource.query(`SELECT ${AUDIT_COLUMNS} FROM revocation_audit a LEFT JOIN grants g ON g.id = a.grant_id WHERE ${where} ORDER BY a.id LIMIT 1000`, params);
    } catch (err) {
      this.logger.warn(`Could not read revocation events: ${(err as Error).message}`);
      return;
    }
    for (const row of rows) {
      const id = BigInt(row.id);
      if (id <= this.startHorizon || this.seen.has(id)) continue;
      this.seen.add(id);
      if (id > this.lastSeen) this.lastSeen = id;
      const event = toEvent(row);
      if (this.announced.delete(keyOf(event))) continue;
      this.deliver(event);
    }
  }

  /**
   * A revocation this process just committed: its listeners hear of it at once, without waiting for the
   * outbox (which then does not repeat it here). Other instances hear of it through the outbox.
   */
  emit(event: RevocationEvent): void {
    if (this.started) this.announced.set(keyOf(event), Date.now());
    this.deliver(event);
  }

  /** Delivers an event to this instance's listeners, detached from the caller. */
  private deliver(event: RevocationEvent): void {
    for (const listener of this.listeners) {
      setImmediate(() => {
        try {
          Promise.resolve(listener(event)).catch((err: unknown) => this.report(event, err));
        } catch (err) {
          this.report(event, err);
        }
      });
    }
  }

  private report(event: RevocationEvent, err: unknown): void {
    this.failures++;
    this.logger.error(`A revocation listener failed for grant ${event.grantId}: ${err instanceof Error ? err.message : String(err)}`);
  }

  private async register(name: string): Promise<void> {
    await this.dataSource.query(
      `INSERT INTO revocation_event_listeners (listener, horizon) SELECT $1, coalesce(max(id), 0) FROM revocation_audit ON CONFLICT (listener) DO NOTHING`,
      [name],
    );
  }

  private wakeOnce(entry: OnceListener): void {
    if (this.stopped || entry.running || Date.now() < entry.retryAt || this.once.get(entry.name) !== entry) return;
    entry.running = this.deliverOnce(entry).finally(() => {
      entry.running = undefined;
    });
  }

  /**
   * One batch for a once-per-cluster listener, in one transaction holding its row: the events after its
   * horizon it has not had, in audit order; each success is recorded with the listener still holding the
   * lock, so a crash before the commit means delivering again (at least once), never skipping.
   */
  private async deliverOnce(entry: OnceListener): Promise<void> {
    const runner: QueryRunner = this.dataSource.createQueryRunner();
    try {
      await runner.connect();
      await runner.startTransaction();
      const locked: Array<{ horizon: string }> = await runner.query(
        'SELECT horizon::text AS horizon FROM revocation_event_listeners WHERE listener = $1 FOR UPDATE SKIP LOCKED',
        [entry.name],
      );
      if (locked.length === 0) return void (await runner.commitTransaction()); // another instance is at it
      const rows: AuditRow[] = await runner.query(
        `SELECT ${AUDIT_COLUMNS} FROM revocation_audit a LEFT JOIN grants g ON g.id = a.grant_id
         WHERE a.id > $2 AND NOT EXISTS (SELECT 1 FROM revocation_event_deliveries d WHERE d.listener = $1 AND d.audit_id = a.id)
         ORDER BY a.id LIMIT ${ONCE_BATCH}`,
        [entry.name, locked[0].horizon],
      );
      let failed = false;
      for (const row of rows) {
        try {
          await withTimeout(Promise.resolve(entry.listener(toEvent(row))), ONCE_TIMEOUT_MS);
        } catch (err) {
          failed = true;
          this.failures++;
          const message = err instanceof Error ? err.message : String(err);
          this.logger.error(`Revocation listener ${entry.name} failed for grant ${row.grant_id}; retrying in ${entry.backoffMs / 1000} s: ${message}`);
          await runner.query('UPDATE revocation_event_listeners SET failures = failures + 1, last_error = $2, last_failure_at = now() WHERE listener = $1', [entry.name, message.slice(0, 500)]);
          entry.retryAt = Date.now() + entry.backoffMs;
          entry.backoffMs = Math.min(entry.backoffMs * 2, 60_000);
          break;
        }
        await runner.query('INSERT INTO revocation_event_deliveries (listener, audit_id) VALUES ($1, $2)', [entry.name, row.id]);
      }
      if (!failed) entry.backoffMs = 1000;
      // Move the horizon past rows that are delivered and old enough that no earlier id can still commit.
      await runner.query(
        `WITH pending AS (
           SELECT min(a.id) AS first FROM revocation_audit a WHERE a.id > $2
             AND NOT EXISTS (SELECT 1 FROM revocation_event_deliveries d WHERE d.listener = $1 AND d.audit_id = a.id)
         ), settled AS (
           SELECT max(a.id) AS last FROM revocation_audit a WHERE a.id > $2 AND a.revoked_at < now() - interval '1 minute'
         ), next AS (
           -- (LEAST ignores NULL: without a settled row the horizon stays.)
           SELECT CASE WHEN settled.last IS NULL THEN NULL WHEN pending.first IS NULL THEN settled.last ELSE LEAST(pending.first - 1, settled.last) END AS horizon
           FROM pending, settled
         ), moved AS (
           UPDATE revocation_event_listeners l SET horizon = next.horizon FROM next
           WHERE l.listener = $1 AND next.horizon IS NOT NULL AND next.horizon > l.horizon RETURNING l.horizon
         )
         DELETE FROM revocation_event_deliveries d USING moved WHERE d.listener = $1 AND d.audit_id <= moved.horizon`,
        [entry.name, locked[0].horizon],
      );
      await runner.commitTransaction();
      if (!failed && rows.length === ONCE_BATCH) setImmediate(() => this.wakeOnce(entry));
    } catch (err) {
      if (runner.isTransactionActive) await runner.rollbackTransaction().catch(() => undefined);
      this.logger.warn(`Could not deliver revocation events to ${entry.name}: ${(err as Error).message}`);
    } finally {
      await runner.release();
    }
  }
}

/** A revocation is one grant revoked once, for one reason, at one database time. */
function keyOf(event: RevocationEvent): string {
  return `${event.grantId}|${event.reason}|${event.revokedAt.getTime()}`;
}

function toEvent(row: AuditRow): RevocationEvent {
  return revocationEvent(row, row.token_type, row.revoking_client_id);
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${ms / 1000} s`)), ms);
    }),
  ]);
}
