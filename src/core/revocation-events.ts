import { Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { connectionConfigOf, InvalidationListener, InvalidationSubscriber } from '../database/invalidation-listener';
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
const AUDIT_FROM = `revocation_audit a LEFT JOIN grants g ON g.id = a.grant_id`;
/**
 * Commits can land out of id order (an id is taken at insert, the row appears at commit): an id skipped by a
 * read is a gap, looked for again at every read until its row appears or GAP_TTL_MS has passed (its
 * transaction rolled back: no revoking transaction stays open that long). At startup, the ids missing among
 * the last STARTUP_LOOKBACK are gaps too. At most MAX_GAPS are kept, the oldest dropped first.
 */
const GAP_TTL_MS = 5 * 60_000;
const STARTUP_LOOKBACK = 1000n;
const MAX_GAPS = 10_000;
const PAGE = 1000;
/** How often the outbox is read while notifications are heard (the caches' guarantee, see InvalidationListener). */
const TAIL_MS = 250;
/** How often it is read otherwise (no notifications, or the embedded database), and once-per-cluster listeners woken. */
const POLL_MS = 2000;
/**
 * How long a revocation delivered from the outbox is remembered (an announcement comes milliseconds after its
 * commit), and at most how many (the oldest forgotten first).
 */
const DELIVERED_MEMORY_MS = 10_000;
const MAX_DELIVERED = 50_000;
const ONCE_BATCH = 100;
const ONCE_TIMEOUT_MS = 30_000;

/**
 * Revocation events, from the outbox: every revocation writes its audit row in the revoking transaction,
 * whichever process made it (this server, another instance, the admin CLI), and this delivers them,
 * woken by the database's notification with a polling fallback. While notifications are heard, it also
 * reads the outbox every TAIL_MS and tells the caches of each revocation it finds (the guarantee for one
 * whose announcement after commit was lost); the caches answer only while these reads succeed.
 *
 * - `subscribe(listener)`: **every instance** hears every revocation committed after it started (cache
 *   eviction, metrics), at least once and normally once: rarely twice, e.g. when the process that made it
 *   announces it more than 10 s after the outbox delivered it, or the outbox cannot be read for minutes
 *   after an announcement. A new listener may also hear revocations committed just before
 *   it subscribed (those of the outbox read under way then), never fewer. Listeners run detached: one that
 *   throws or never settles cannot block delivery; its failure is logged and counted.
 * - `subscribeOnce(name, listener)`: **once per cluster**, at least once and in audit order, also across
 *   restarts (delete a device, notify a user). One instance at a time delivers to a name, under a session
 *   advisory lock on a connection of its own (released at once if the process dies); it awaits the
 *   listener outside any transaction and records each delivery after it succeeded. A failure is logged,
 *   counted and retried with backoff, and later events wait behind it.
 */
@Injectable()
export class RevocationEvents implements InvalidationSubscriber, OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('RevocationEvents');
  private readonly listeners = new Set<RevocationListener>();
  private readonly once = new Map<string, OnceListener>();
  /** Every audit id up to here has been read, or is a gap. */
  private position = 0n;
  /** Ids below the position whose rows had not appeared when it passed them → when that was noticed. */
  private readonly gaps = new Map<bigint, number>();
  /** Ids above the position already delivered (read by id, or announced with nobody here to tell). */
  private readonly seen = new Set<bigint>();
  /** Revocations this process made and announced itself at once (grant, reason, time), so the outbox does not repeat them. */
  private readonly announced = new Map<string, number>();
  /**
   * Revocations the outbox delivered here to listeners, for DELIVERED_MEMORY_MS, so this process's own
   * announcement does not repeat one its outbox read found between the commit and the announcement.
   */
  private readonly delivered = new Map<string, number>();
  private readonly pending: bigint[] = [];
  private pendingTimer?: NodeJS.Timeout;
  private started = false;
  private stopped = false;
  /** A read failed or a flush arrived mid-catch-up: catch up again at the next tick. */
  private missed = false;
  private catchingUp?: Promise<void>;
  private timer?: NodeJS.Timeout;
  private nextPollAt = 0;
  private readFailedAt = -Infinity;
  private failures = 0;
  private lockConnection?: Promise<Client | undefined>;

  constructor(
    private readonly dataSource: DataSource,
    private readonly invalidation: InvalidationListener,
  ) {
    invalidation.subscribe(this);
  }

  /** Adds a listener on this instance (see the class comment for what it hears); returns a function that removes it. */
  subscribe(listener: RevocationListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Adds a listener that runs once per event in the whole cluster, under `name` (the same name on every
   * instance). A new name is owed the events committed from now on. Make it idempotent: a crash between
   * its success and the record of the delivery delivers again. Returns a function that stops this
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
    // Rows committed before this instance started are not announced to its listeners (nor cached here yet);
    // ids missing just below the newest may still commit, and are looked for (gaps).
    const [{ newest, present }]: Array<{ newest: string | null; present: string[] | null }> = await this.dataSource.query(
      `SELECT max(id)::text AS newest, (SELECT array_agg(id::text) FROM revocation_audit WHERE id > (SELECT max(id) FROM revocation_audit) - ${STARTUP_LOOKBACK}) AS present
       FROM revocation_audit`,
    );
    this.position = BigInt(newest ?? 0);
    this.addGaps(this.position > STARTUP_LOOKBACK ? this.position - STARTUP_LOOKBACK : 0n, this.position + 1n, new Set((present ?? []).map(BigInt)));
    this.started = true;
    // Announcements that arrived while the horizon was read are in the outbox too: the catch-up reads them.
    if (this.pending.length > 0) {
      this.pending.length = 0;
      this.catchUp();
    }
    this.timer = setInterval(() => this.tick(), TAIL_MS);
    this.timer.unref();
  }

  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    clearTimeout(this.pendingTimer);
    await Promise.allSettled([this.catchingUp, ...[...this.once.values()].map((o) => o.running)]);
    const client = await this.lockConnection;
    await client?.end().catch(() => undefined);
  }

  /** The database announced an audit row (`r:<id>`); grant and client payloads are the caches'. */
  evict(payload: string): void {
    if (!payload.startsWith('r:')) return;
    const id = BigInt(payload.slice(2));
    if (!this.started) {
      this.pending.push(id);
      return;
    }
    if (this.listeners.size === 0) {
      // Nobody here to tell: noted as read, without reading the row (its grant was evicted with it).
      this.take(id);
    } else {
      this.pending.push(id);
      // Announcements that arrive together are read together, in one query.
      this.pendingTimer ??= setTimeout(() => {
        this.pendingTimer = undefined;
        // A page at a time: a read answers at most one page.
        while (this.pending.length > 0) void this.deliverPage(`a.id = ANY ($1::bigint[])`, [this.pending.splice(0, PAGE).map(String)]);
      }, 2);
      this.pendingTimer.unref();
    }
    for (const entry of this.once.values()) this.wakeOnce(entry);
  }

  /** The listener went down or came back: what was announced meanwhile is fetched from the outbox. */
  flush(): void {
    if (this.started) this.catchUp();
  }

  private tick(): void {
    const pollDue = Date.now() >= this.nextPollAt;
    if (pollDue) this.nextPollAt = Date.now() + POLL_MS;
    // While notifications are heard, the outbox is read at every tick (the caches' guarantee); without them
    // (listener down, or the embedded database) it is polled.
    if (this.invalidation.receiving || pollDue || this.missed) this.catchUp();
    if (!pollDue) return;
    for (const entry of this.once.values()) this.wakeOnce(entry);
    // Range reads pass what was seen above the position; gaps that outlived any transaction are given up.
    for (const id of this.seen) if (id <= this.position) this.seen.delete(id);
    const expired = Date.now() - GAP_TTL_MS;
    for (const [id, at] of this.gaps) if (at < expired) this.gaps.delete(id);
    const old = Date.now() - 10 * 60_000;
    for (const [key, at] of this.announced) if (at < old) this.announced.delete(key);
    const forgotten = Date.now() - DELIVERED_MEMORY_MS;
    for (const [key, at] of this.delivered) {
      if (at >= forgotten) break; // insertion order is time order
      this.delivered.delete(key);
    }
  }

  private catchUp(): void {
    if (this.catchingUp) {
      this.missed = true; // asked again while running: run again at the next tick
      return;
    }
    this.missed = false;
    this.catchingUp = (async () => {
      let startedAt: number | undefined;
      let found = false;
      // New rows, and the gaps' rows that have appeared since; page until the outbox is read.
      for (;;) {
        // (Not `a.id > $1 OR …`, which the planner may answer by walking the whole index in id order.)
        const read = await this.deliverPage(
          `a.id = ANY (ARRAY(SELECT id FROM revocation_audit WHERE id > $1 ORDER BY id LIMIT ${PAGE}) || $2::bigint[])`,
          [String(this.position), [...this.gaps.keys()].map(String)],
          true,
        );
        if (read === undefined) return;
        startedAt ??= read.startedAt;
        found ||= read.count > 0;
        if (read.advanced < PAGE) break;
      }
      if (startedAt !== undefined) this.invalidation.outboxRead(startedAt);
      if (found) for (const entry of this.once.values()) this.wakeOnce(entry);
    })().finally(() => {
      this.catchingUp = undefined;
    });
  }

  /** A read of the outbox failed: the next tick reads again; logged at most every 10 s (it is read 4 times a second). */
  private readFailed(err: unknown): void {
    this.missed = true;
    if (performance.now() - this.readFailedAt < 10_000) return;
    this.readFailedAt = performance.now();
    this.logger.warn(`Could not read revocation events; retrying: ${(err as Error).message}`);
  }

  /**
   * Reads up to a page of audit rows and delivers the ones not read before (to the caches, and to this
   * instance's listeners: only the grant when there are none); undefined when the read failed. A range
   * read (`advance`) moves the position past what it read, noting the ids it skipped as gaps.
   */
  private async deliverPage(where: string, params: unknown[], advance = false): Promise<{ count: number; advanced: number; startedAt: number } | undefined> {
    if (this.stopped) return undefined;
    let heard = this.listeners.size > 0;
    let rows: AuditRow[];
    let startedAt: number;
    // The read's time is taken once it has a connection: every row committed before it is in its answer.
    // (Timed from before a wait for a busy pool, a read could outlive the caches' lease for nothing.)
    const runner = this.dataSource.createQueryRunner();
    try {
      await runner.connect();
      startedAt = performance.now();
      const sql = (full: boolean, w: string) =>
        full ? `SELECT ${AUDIT_COLUMNS} FROM ${AUDIT_FROM} WHERE ${w} ORDER BY a.id` : `SELECT a.id::text AS id, a.grant_id FROM revocation_audit a WHERE ${w} ORDER BY a.id`;
      rows = await runner.query(sql(heard, where), params);
      if (!heard && this.listeners.size > 0 && rows.length > 0) {
        // A listener subscribed while the rows were read without what it needs: read them again, whole.
        rows = await runner.query(sql(true, 'a.id = ANY ($1::bigint[])'), [rows.map((row) => row.id)]);
        heard = true;
      }
    } catch (err) {
      this.readFailed(err);
      return undefined;
    } finally {
      await runner.release();
    }
    const ids = rows.map((row) => BigInt(row.id));
    const fresh = rows.filter((_, i) => this.take(ids[i]));
    const beyond = advance ? ids.filter((id) => id > this.position) : [];
    if (beyond.length > 0) {
      const last = beyond[beyond.length - 1];
      this.addGaps(this.position, last, new Set(beyond));
      this.position = last;
    }
    for (const row of fresh) {
      this.invalidation.evictGrant(row.grant_id);
      if (!heard) continue;
      const event = toEvent(row);
      const key = keyOf(event);
      if (this.announced.delete(key)) continue;
      if (this.delivered.size >= MAX_DELIVERED) this.delivered.delete(this.delivered.keys().next().value as string);
      this.delivered.set(key, Date.now());
      this.deliver(event);
    }
    return { count: rows.length, advanced: beyond.length, startedAt };
  }

  /** Whether the row `id` is read for the first time (then remembered as read). */
  private take(id: bigint): boolean {
    if (this.gaps.delete(id)) return true;
    if (id <= this.position || this.seen.has(id)) return false;
    this.seen.add(id);
    return true;
  }

  /**
   * Notes as gaps the ids strictly between `after` and `before` that are in neither `present` nor seen. Of a
   * jump wider than MAX_GAPS (a sequence moved by hand), only both ends: the ids just above `after` (taken by
   * transactions open before the jump) and those just below `before` (taken just before the newest row).
   */
  private addGaps(after: bigint, before: bigint, present: ReadonlySet<bigint>): void {
    const half = BigInt(MAX_GAPS / 2);
    if (before - after - 1n > 2n * half) {
      this.addGaps(after, after + half + 1n, present);
      this.addGaps(before - half - 1n, before, present);
      return;
    }
    const now = Date.now();
    for (let id = after + 1n; id < before; id++) {
      if (present.has(id) || this.seen.has(id)) continue;
      if (this.gaps.size >= MAX_GAPS) this.gaps.delete(this.gaps.keys().next().value as bigint);
      this.gaps.set(id, now);
    }
  }

  /**
   * A revocation this process just committed: its listeners hear of it at once, without waiting for the
   * outbox (which then normally does not repeat it here), and every instance's caches are told (see
   * InvalidationListener.announce). Other instances' listeners hear of it through the outbox. Resolves once
   * the announcement is sent (or failed, leaving it to the outbox): await it before answering the request.
   */
  emit(event: RevocationEvent): Promise<void> {
    const key = keyOf(event);
    // Already delivered by an outbox read that landed between the commit and this announcement: not twice.
    // Otherwise remembered only when the outbox will deliver it here too (to a listener of this process):
    // without listeners the outbox is read without the columns that would match it, and the map would hold
    // every revocation for minutes.
    if (!this.delivered.delete(key)) {
      if (this.started && this.listeners.size > 0) this.announced.set(key, Date.now());
      this.deliver(event);
    }
    return this.invalidation.announce([event.grantId]);
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

  /** A connection of this process's own, for the session advisory locks of once-per-cluster delivery. */
  private lockClient(): Promise<Client | undefined> {
    this.lockConnection ??= (async () => {
      const config = connectionConfigOf(this.dataSource);
      if (!config) return undefined;
      const client = new Client({ ...config, application_name: 'nestjs-oauth2-revocation events' });
      client.on('error', () => {
        // A lost connection loses its locks with it: another instance (or this one, reconnected) goes on.
        this.lockConnection = undefined;
      });
      await client.connect();
      return client;
    })().catch((err: unknown) => {
      this.lockConnection = undefined;
      this.logger.warn(`Could not open the events connection: ${(err as Error).message}`);
      return undefined;
    });
    return this.lockConnection;
  }

  /** One batch for a once-per-cluster listener, by the instance that holds its advisory lock. */
  private async deliverOnce(entry: OnceListener): Promise<void> {
    const client = await this.lockClient();
    if (!client || this.stopped) return;
    const key = `oauth_revocation_events:${entry.name}`;
    let locked = false;
    try {
      locked = (await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock(hashtextextended($1, 0)) AS locked', [key])).rows[0].locked;
      if (!locked) return; // another instance is at it
      const [listenerRow]: Array<{ horizon: string }> = await this.dataSource.query('SELECT horizon::text AS horizon FROM revocation_event_listeners WHERE listener = $1', [entry.name]);
      if (!listenerRow) return;
      const rows: AuditRow[] = await this.dataSource.query(
        `SELECT ${AUDIT_COLUMNS} FROM ${AUDIT_FROM}
         WHERE a.id > $2 AND NOT EXISTS (SELECT 1 FROM revocation_event_deliveries d WHERE d.listener = $1 AND d.audit_id = a.id)
         ORDER BY a.id LIMIT ${ONCE_BATCH}`,
        [entry.name, listenerRow.horizon],
      );
      let failed = false;
      for (const row of rows) {
        if (this.stopped) break;
        try {
          await withTimeout(Promise.resolve(entry.listener(toEvent(row))), ONCE_TIMEOUT_MS);
        } catch (err) {
          failed = true;
          this.failures++;
          const message = err instanceof Error ? err.message : String(err);
          this.logger.error(`Revocation listener ${entry.name} failed for grant ${row.grant_id}; retrying in ${entry.backoffMs / 1000} s: ${message}`);
          await this.dataSource.query('UPDATE revocation_event_listeners SET failures = failures + 1, last_error = $2, last_failure_at = now() WHERE listener = $1', [
            entry.name,
            message.slice(0, 500),
          ]);
          entry.retryAt = Date.now() + entry.backoffMs;
          entry.backoffMs = Math.min(entry.backoffMs * 2, 60_000);
          break;
        }
        await this.dataSource.query('INSERT INTO revocation_event_deliveries (listener, audit_id) VALUES ($1, $2) ON CONFLICT DO NOTHING', [entry.name, row.id]);
      }
      if (!failed) entry.backoffMs = 1000;
      await this.advanceHorizon(entry.name);
      if (!failed && !this.stopped && rows.length === ONCE_BATCH) setImmediate(() => this.wakeOnce(entry));
    } catch (err) {
      this.logger.warn(`Could not deliver revocation events to ${entry.name}: ${(err as Error).message}`);
    } finally {
      if (locked) await client.query('SELECT pg_advisory_unlock(hashtextextended($1, 0))', [key]).catch(() => undefined);
    }
  }

  /**
   * Moves a listener's horizon past rows that are delivered and an hour old — old enough that no revoking
   * transaction (single statements, under the statement timeout) can still commit an earlier id — and
   * forgets their delivery records, so neither table nor scan grows with time.
   */
  private async advanceHorizon(name: string): Promise<void> {
    await this.dataSource.query(
      `WITH l AS (SELECT horizon FROM revocation_event_listeners WHERE listener = $1), pending AS (
         SELECT min(a.id) AS first FROM revocation_audit a, l WHERE a.id > l.horizon
           AND NOT EXISTS (SELECT 1 FROM revocation_event_deliveries d WHERE d.listener = $1 AND d.audit_id = a.id)
       ), settled AS (
         SELECT max(a.id) AS last FROM revocation_audit a, l WHERE a.id > l.horizon AND a.revoked_at < now() - interval '1 hour'
       ), next AS (
         -- (LEAST ignores NULL: without a settled row the horizon stays.)
         SELECT CASE WHEN settled.last IS NULL THEN NULL WHEN pending.first IS NULL THEN settled.last ELSE LEAST(pending.first - 1, settled.last) END AS horizon
         FROM pending, settled
       ), moved AS (
         UPDATE revocation_event_listeners l SET horizon = next.horizon FROM next
         WHERE l.listener = $1 AND next.horizon IS NOT NULL AND next.horizon > l.horizon RETURNING l.horizon
       )
       DELETE FROM revocation_event_deliveries d USING moved WHERE d.listener = $1 AND d.audit_id <= moved.horizon`,
      [name],
    );
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
      timer.unref();
    }),
  ]);
}
