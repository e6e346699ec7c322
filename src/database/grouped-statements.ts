import { isDatabaseUnavailable } from './database-unavailable';

interface Waiting<In, Out> {
  readonly input: In;
  readonly resolve: (out: Out) => void;
  readonly reject: (err: unknown) => void;
}

/**
 * A group's statement ran, and may have committed, but its answer cannot be used: every caller of the group
 * gets this error, and nothing is run again (a retry could act twice, or misreport what the group did).
 */
export class GroupAnswerError extends Error {
  override name = 'GroupAnswerError';
}

/** What `many` answers for an input the group could not decide: it runs alone, apart from the group. */
export const RUN_ALONE: unique symbol = Symbol('run alone');

/** How a GroupedStatements runs its work: one input alone, or several in one statement (one transaction). */
export interface GroupedStatementRunner<In, Out> {
  /** One input, in a statement of its own. */
  one(input: In): Promise<Out>;
  /**
   * Several inputs in one statement; answers one output per input, in the order of `inputs`, or RUN_ALONE
   * for an input that must run alone (its caller is answered by `one`, while the others are answered at once).
   */
  many(inputs: readonly In[]): Promise<Array<Out | typeof RUN_ALONE>>;
}

/**
 * Group commit for a statement the hot path runs once per request. At most `limit` statements are counted
 * as running at once (a group run again input by input counts as one, and a statement past `overdueMs`
 * stops counting: see below); an input that arrives while all of them are busy waits, and the inputs that
 * waited go together in
 * the next statement (at most `maxGroup` each), so the database pays one round trip, one transaction and
 * one commit for all of them. Under light load nothing waits: every input runs alone, at once.
 *
 * A group that fails for a reason other than an unavailable database (an error raised for one input, say)
 * is run again input by input, so that each caller gets exactly the answer or the error it would have got
 * alone. When the database cannot be reached or does not answer in time (a connection error, a statement
 * timeout), every caller of the group gets that error at once, as each would have alone on a database that
 * cannot answer; and a GroupAnswerError is never retried.
 * `limit` 0: no grouping, every input runs alone at once.
 *
 * A statement still running after `overdueMs` (a lock wait, a stalled disk) stops counting against
 * `limit`: the inputs behind it go on in new statements instead of waiting for it, so one slow statement
 * holds up only its own group, never the whole path. (The time counts from the start, pool wait included.)
 */
export class GroupedStatements<In, Out> {
  private readonly waiting: Waiting<In, Out>[] = [];
  private running = 0;

  constructor(
    private readonly runner: GroupedStatementRunner<In, Out>,
    private readonly limit: number,
    private readonly maxGroup = 64,
    private readonly overdueMs = 250,
  ) {}

  run(input: In): Promise<Out> {
    if (this.limit <= 0) return this.one(input);
    return new Promise<Out>((resolve, reject) => {
      this.waiting.push({ input, resolve, reject });
      this.startWaiting();
    });
  }

  private startWaiting(): void {
    while (this.running < this.limit && this.waiting.length > 0) {
      const group = this.waiting.splice(0, this.maxGroup);
      this.running++;
      let counted = true;
      const release = () => {
        if (!counted) return;
        counted = false;
        this.running--;
        this.startWaiting();
      };
      const overdue = setTimeout(release, this.overdueMs);
      overdue.unref();
      void this.settle(group).finally(() => {
        clearTimeout(overdue);
        release();
      });
    }
  }

  /** `runner.one`, a synchronous throw included, as a promise (so that every caller settles). */
  private one(input: In): Promise<Out> {
    try {
      return this.runner.one(input);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  private async settle(group: Waiting<In, Out>[]): Promise<void> {
    if (group.length === 1) {
      const [only] = group;
      await this.one(only.input).then(only.resolve, only.reject);
      return;
    }
    let outs: Array<Out | typeof RUN_ALONE>;
    try {
      outs = await this.runner.many(group.map((w) => w.input));
      if (!Array.isArray(outs) || outs.length !== group.length) throw new GroupAnswerError(`${group.length} inputs, an answer of another shape`);
    } catch (err) {
      if (err instanceof GroupAnswerError || isDatabaseUnavailable(err)) {
        for (const w of group) w.reject(err);
        return;
      }
      // Nothing of the group committed: each input alone, for its own answer.
      await Promise.all(group.map((w) => this.one(w.input).then(w.resolve, w.reject)));
      return;
    }
    group.forEach((w, i) => {
      const out = outs[i];
      // Not awaited: the lone statement must not hold up the group's slot, nor its other callers.
      if (out === RUN_ALONE) void this.one(w.input).then(w.resolve, w.reject);
      else w.resolve(out);
    });
  }
}
