import { isDatabaseUnavailable } from './database-unavailable';

interface Waiting<In, Out> {
  readonly input: In;
  readonly resolve: (out: Out) => void;
  readonly reject: (err: unknown) => void;
}

/** How a GroupedStatements runs its work: one input alone, or several in one statement (one transaction). */
export interface GroupedStatementRunner<In, Out> {
  /** One input, in a statement of its own. */
  one(input: In): Promise<Out>;
  /** Several inputs in one statement; answers one output per input, in the order of `inputs`. */
  many(inputs: readonly In[]): Promise<Out[]>;
}

/**
 * Group commit for a statement the hot path runs once per request. At most `limit` statements run at
 * once; an input that arrives while all of them are busy waits, and the inputs that waited go together in
 * the next statement (at most `maxGroup` each), so the database pays one round trip, one transaction and
 * one commit for all of them. Under light load nothing waits: every input runs alone, at once.
 *
 * A group that fails for a reason other than an unreachable database (a deadlock, an error raised for one
 * input) is run again input by input, so that each caller gets exactly the answer or the error it would
 * have got alone; when the database cannot be reached, every caller of the group gets that error at once.
 * `limit` 0: no grouping, every input runs alone at once.
 *
 * A statement still running after `overdueMs` (a lock wait, a stalled disk) stops counting against
 * `limit`: the inputs behind it go on in new statements instead of waiting for it, so one slow statement
 * holds up only its own group, never the whole path.
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
    if (this.limit <= 0) return this.runner.one(input);
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

  private async settle(group: Waiting<In, Out>[]): Promise<void> {
    if (group.length === 1) {
      const [only] = group;
      await this.runner.one(only.input).then(only.resolve, only.reject);
      return;
    }
    let outs: Out[];
    try {
      outs = await this.runner.many(group.map((w) => w.input));
    } catch (err) {
      if (isDatabaseUnavailable(err)) {
        for (const w of group) w.reject(err);
        return;
      }
      // Nothing of the group committed: each input alone, for its own answer.
      await Promise.all(group.map((w) => this.runner.one(w.input).then(w.resolve, w.reject)));
      return;
    }
    group.forEach((w, i) => w.resolve(outs[i]));
  }
}
