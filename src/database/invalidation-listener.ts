import { Inject, Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy, Optional } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { Client, ClientConfig, Notification, Pool } from 'pg';
import { DataSource } from 'typeorm';

/** The settings of TypeORM's own pg pool, for a dedicated connection to the same database. */
export function connectionConfigOf(dataSource: DataSource): ClientConfig | undefined {
  const pool = (dataSource.driver as unknown as { master?: Pool & { options: ClientConfig } }).master;
  return pool ? { ...pool.options } : undefined;
}

/** The channel the schema's triggers notify on (see migrations/*-invalidation.ts). */
export const INVALIDATION_CHANNEL = 'oauth_invalidate';

/**
 * The startup option (pg's `options`) of a pool whose process announces its revocations after they commit
 * (`InvalidationListener.announce`, which `RevocationEvents.emit` calls): the revocation's audit row then
 * notifies nobody from inside the revoking transaction, where a notification would make every revocation
 * in the cluster wait for the one before it to reach disk (see migrations/*-announce-after-commit.ts).
 */
export const ANNOUNCE_AFTER_COMMIT_OPTION = '-c oauth.announce_after_commit=on';

/**
 * How long after its last successful read of the revocation outbox (by RevocationEvents, a few times a
 * second) a cache may still answer: the outbox is what guarantees that a revocation whose announcement was
 * lost (its process died between commit and announcement) still reaches every cache.
 */
export const OUTBOX_READ_LEASE_MS = 1000;

/** Longest a revocation's answer waits for its announcement; past it the outbox carries it (see announce). */
export const ANNOUNCE_WAIT_MS = 1000;

/**
 * What the subscribers hear of one notification. A revocation's audit row (`r:<audit id>:<grant id>`)
 * speaks for its grant too: it is heard as `g:<grant id>` (the caches) and `r:<audit id>` (the events).
 */
export function subscriberPayloads(payload: string): string[] {
  const colon = payload.startsWith('r:') ? payload.indexOf(':', 2) : -1;
  return colon < 0 ? [payload] : [`g:${payload.slice(colon + 1)}`, payload.slice(0, colon)];
}

export interface InvalidationSubscriber {
  /** A payload as subscriberPayloads gives it: `g:<grant id>`, `r:<audit id>`, `c:<client id>` or `f:`. */
  evict(payload: string): void;
  /** Forget everything: the listener went down or came back, and notifications may have been missed. */
  flush(): void;
}

/** Injection token of InvalidationListenerOptions (OAuthCoreModule provides it from its `cache` option). */
export const INVALIDATION_LISTENER_OPTIONS = Symbol('INVALIDATION_LISTENER_OPTIONS');

export interface InvalidationListenerOptions {
  /** False: never listen, so every cache is bypassed. Default true. */
  enabled?: boolean;
  /** Where to LISTEN, when not through the pool's own settings (e.g. the pool goes through a transaction-mode pooler). */
  url?: string;
  /** First reconnect delay; doubles up to 30 s. Default 500 ms. */
  reconnectDelayMs?: number;
  /**
   * How often a heartbeat notification is sent through the pool and must come back on the listening
   * connection; one that does not within this time counts as a lost connection. Default 5000 ms.
   */
  heartbeatMs?: number;
}

/**
 * One dedicated connection per process that LISTENs for the schema's invalidation notifications and
 * tells the caches what to evict. Caches may answer from memory only while `active`: from the moment
 * the connection fails until it listens again they are bypassed (every check goes to the database: slower,
 * never stale) and they are flushed both when it goes down and when it comes back, since notifications
 * sent in between were lost. On the embedded database (PGlite serves every socket from one session, and
 * does not deliver notifications to other connections) it never becomes active: nothing is cached there.
 *
 * A revocation is announced twice over: by a notification (from its transaction, or from its process right
 * after the commit: `announce`), and by its audit row, which RevocationEvents reads a few times a second on
 * every instance and hands back here (`evictGrant`). The notification is the fast way; the outbox is the
 * sure one, so the caches answer only while its reads succeed (`outboxRead`, `OUTBOX_READ_LEASE_MS`).
 */
@Injectable()
export class InvalidationListener implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('InvalidationListener');
  private readonly subscribers = new Set<InvalidationSubscriber>();
  private client?: Client;
  private listening = false;
  private stopped = false;
  private delay: number;
  private timer?: NodeJS.Timeout;
  private heartbeat?: NodeJS.Timeout;
  /** The heartbeat sent and not yet heard back. */
  private awaiting?: string;
  /** When the last successful read of the revocation outbox started (see outboxRead). */
  private outboxReadAt = -Infinity;
  /** The embedded database: notifications reach nobody, so nothing is announced. */
  private embedded = false;
  /**
   * The pool's sessions leave revocations' notifications to announce() (ANNOUNCE_AFTER_COMMIT_OPTION). Until
   * start() has asked them, assumed: an announcement too many costs a statement, one too few a delay.
   */
  private announcing = true;
  /** Grant announcements waiting for the batch in flight to finish, and that batch. */
  private queued: string[] = [];
  private sending?: Promise<void>;
  private nextBatch?: Promise<void>;
  private announceFailedAt = -Infinity;

  private readonly options: InvalidationListenerOptions;

  constructor(
    private readonly dataSource: DataSource,
    @Optional() @Inject(INVALIDATION_LISTENER_OPTIONS) options?: InvalidationListenerOptions,
  ) {
    this.options = options ?? {};
    this.delay = this.options.reconnectDelayMs ?? 500;
  }

  onApplicationBootstrap(): Promise<void> {
    return this.start();
  }

  onModuleDestroy(): Promise<void> {
    return this.stop();
  }

  /**
   * True while notifications are being received and the revocation outbox was read within the lease: only
   * then may a cache answer without asking the database.
   */
  get active(): boolean {
    return this.listening && performance.now() - this.outboxReadAt < OUTBOX_READ_LEASE_MS;
  }

  /** True while notifications are being received (the outbox is then read often: see RevocationEvents). */
  get receiving(): boolean {
    return this.listening;
  }

  /** A read of the revocation outbox that started at `startedAt` (`performance.now()`) succeeded. */
  outboxRead(startedAt: number): void {
    if (startedAt > this.outboxReadAt) this.outboxReadAt = startedAt;
  }

  /** The outbox holds a revocation of `grantId` (perhaps never announced): every cache here forgets it. */
  evictGrant(grantId: string): void {
    this.deliverPayload(`g:${grantId}`);
  }

  /**
   * Announces revocations that have committed, to every instance (this one at once): one notification per
   * grant, those asked for while a batch is in flight sent together in the next. Resolves once sent, or
   * after ANNOUNCE_WAIT_MS at the latest (a busy or failing pool must not hold the answer back); a failure
   * is logged and leaves it to the outbox (every instance reads it within a moment).
   */
  announce(grantIds: readonly string[]): Promise<void> {
    for (const id of grantIds) this.evictGrant(id);
    // Sessions that notify from inside the revoking transaction have announced it already.
    if (this.embedded || !this.announcing || grantIds.length === 0) return Promise.resolve();
    for (const id of grantIds) this.queued.push(`g:${id}`);
    // The wait is counted from the batch's first request: nobody waits longer, even behind a batch that hangs.
    this.nextBatch ??= withDeadline((this.sending ?? Promise.resolve()).then(() => this.sendQueued()), ANNOUNCE_WAIT_MS);
    return this.nextBatch;
  }

  private sendQueued(): Promise<void> {
    this.nextBatch = undefined; // from now on, announcements wait for the next batch
    const batch = this.queued;
    this.queued = [];
    const sent = this.dataSource.query(`SELECT pg_notify('${INVALIDATION_CHANNEL}', p) FROM unnest($1::text[]) p`, [batch]).then(
      () => undefined,
      (err: Error) => {
        // At most one line per minute: when the database is gone every revocation fails the same way.
        if (performance.now() - this.announceFailedAt < 60_000) return;
        this.announceFailedAt = performance.now();
        this.logger.warn(`Could not announce ${batch.length} revocation(s); every instance reads them from the outbox instead: ${err.message}`);
      },
    );
    // The next batch goes once this one is sent, or once it has had ANNOUNCE_WAIT_MS.
    this.sending = withDeadline(sent, ANNOUNCE_WAIT_MS);
    return sent;
  }

  subscribe(subscriber: InvalidationSubscriber): () => void {
    this.subscribers.add(subscriber);
    return () => this.subscribers.delete(subscriber);
  }

  /** Starts listening (and keeps trying in the background); resolves once the first attempt is over. */
  async start(): Promise<void> {
    await this.inspectPool();
    // Not listening here does not stop other instances listening: announce() still tells them.
    if (this.options.enabled === false) return;
    if (this.embedded) return this.embeddedDatabase();
    const config = this.connectionConfig();
    if (!config) return;
    await this.connect(config);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all([this.sending, this.nextBatch]); // announcements asked for are sent before the pool closes
    clearTimeout(this.timer);
    clearInterval(this.heartbeat);
    this.listening = false;
    await this.client?.end().catch(() => undefined);
  }

  /** Whether the pool's sessions are the embedded database's, and whether they leave notifications to announce(). */
  private async inspectPool(): Promise<void> {
    try {
      const [row]: Array<{ version: string; announce: string | null }> = await this.dataSource.query(
        `SELECT version() AS version, current_setting('oauth.announce_after_commit', true) AS announce`,
      );
      this.embedded = /PGlite/.test(row.version);
      this.announcing = row.announce === 'on';
    } catch (err) {
      this.logger.warn(`Could not ask the database how its sessions notify; announcing every revocation: ${(err as Error).message}`);
    }
  }

  private embeddedDatabase(): void {
    this.logger.log('Embedded database: notifications do not reach other connections, so nothing is cached');
    this.embedded = true;
    this.stopped = true;
  }

  private connectionConfig(): ClientConfig | undefined {
    if (this.options.url) return { connectionString: this.options.url };
    return connectionConfigOf(this.dataSource);
  }

  private async connect(config: ClientConfig): Promise<void> {
    if (this.stopped) return;
    const client = new Client({ ...config, application_name: 'nestjs-oauth2-revocation listener', keepAlive: true, keepAliveInitialDelayMillis: 10_000 });
    this.client = client;
    const lost = (reason: string) => this.lost(client, config, reason);
    client.on('error', (err) => lost(err.message));
    client.on('end', () => lost('connection ended'));
    client.on('notification', (n: Notification) => this.deliver(n));
    try {
      await client.connect();
      const [{ version }] = (await client.query<{ version: string }>('SELECT version()')).rows;
      if (/PGlite/.test(version)) {
        // Only when the pool could not be asked (inspectPool). Stopped before the connection ends: no reconnect.
        this.embeddedDatabase();
        await client.end();
        return;
      }
      await client.query(`LISTEN ${INVALIDATION_CHANNEL}`);
    } catch (err) {
      lost((err as Error).message);
      return;
    }
    if (this.client !== client) return;
    this.delay = this.options.reconnectDelayMs ?? 500;
    this.flushAll();
    this.listening = true;
    this.startHeartbeat(client, config);
  }

  /**
   * A connection can die without telling (a partition, a NAT that forgot it) or listen where nothing is
   * sent (a transaction pooler, another database): proof of life is a notification sent through the
   * pool's own connections arriving here. No answer within the interval counts as a lost connection.
   */
  private startHeartbeat(client: Client, config: ClientConfig): void {
    clearInterval(this.heartbeat);
    this.awaiting = undefined;
    const every = this.options.heartbeatMs ?? 5000;
    this.heartbeat = setInterval(() => {
      if (this.client !== client) return clearInterval(this.heartbeat);
      if (this.awaiting) return this.lost(client, config, 'heartbeat not received');
      const nonce = randomBytes(8).toString('hex');
      this.awaiting = nonce;
      this.dataSource.query(`SELECT pg_notify('${INVALIDATION_CHANNEL}', $1)`, [`h:${nonce}`]).catch((err: Error) => this.lost(client, config, `heartbeat not sent: ${err.message}`));
    }, every);
    this.heartbeat.unref();
  }

  private lost(client: Client, config: ClientConfig, reason: string): void {
    if (this.client !== client) return;
    this.client = undefined;
    clearInterval(this.heartbeat);
    this.awaiting = undefined;
    const was = this.listening;
    this.listening = false;
    this.flushAll();
    client.removeAllListeners('end');
    client.end().catch(() => undefined);
    if (this.stopped) return;
    if (was) this.logger.warn(`Invalidation listener lost its connection (${reason}); caches are bypassed until it listens again`);
    this.timer = setTimeout(() => void this.connect(config), this.delay);
    this.timer.unref();
    this.delay = Math.min(this.delay * 2, 30_000);
  }

  private deliver(notification: Notification): void {
    if (notification.channel !== INVALIDATION_CHANNEL || !notification.payload) return;
    if (notification.payload.startsWith('h:')) {
      if (notification.payload === `h:${this.awaiting}`) this.awaiting = undefined;
      return;
    }
    this.deliverPayload(notification.payload);
  }

  private deliverPayload(payload: string): void {
    for (const part of subscriberPayloads(payload)) for (const s of this.subscribers) s.evict(part);
  }

  private flushAll(): void {
    for (const s of this.subscribers) s.flush();
  }
}

/** `promise`, or nothing once `ms` have passed (the timer does not keep the process alive). */
function withDeadline(promise: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<void>((resolve) => {
      timer = setTimeout(resolve, ms);
      timer.unref();
    }),
  ]);
}
