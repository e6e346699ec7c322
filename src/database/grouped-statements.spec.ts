import { GroupAnswerError, GroupedStatements, RUN_ALONE } from './grouped-statements';

/** A stand-in database: every statement waits until the test finishes it. */
function fakeRunner() {
  const calls: Array<{ kind: 'one' | 'many'; inputs: string[]; finish: (err?: unknown) => void }> = [];
  const statement = <T>(kind: 'one' | 'many', inputs: string[], answer: () => T) =>
    new Promise<T>((resolve, reject) => calls.push({ kind, inputs, finish: (err) => (err ? reject(err) : resolve(answer())) }));
  return {
    calls,
    runner: {
      one: (input: string) => statement('one', [input], () => `done:${input}`),
      // An input named !x is one the group cannot decide: it must run alone.
      many: (inputs: readonly string[]) => statement('many', [...inputs], () => inputs.map((i) => (i.startsWith('!') ? RUN_ALONE : `done:${i}`))),
    },
  };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('GroupedStatements', () => {
  it('runs each input alone and at once while fewer than `limit` statements run', async () => {
    const { calls, runner } = fakeRunner();
    const grouped = new GroupedStatements(runner, 2);
    const a = grouped.run('a');
    const b = grouped.run('b');
    expect(calls.map((c) => [c.kind, c.inputs])).toEqual([
      ['one', ['a']],
      ['one', ['b']],
    ]);
    calls.forEach((c) => c.finish());
    await expect(Promise.all([a, b])).resolves.toEqual(['done:a', 'done:b']);
  });

  it('sends the inputs that waited while every statement was busy together, each caller getting its own answer', async () => {
    const { calls, runner } = fakeRunner();
    const grouped = new GroupedStatements(runner, 1);
    const answers = ['a', 'b', 'c', 'd'].map((i) => grouped.run(i));
    expect(calls).toHaveLength(1);
    calls[0].finish();
    await tick();
    expect(calls.map((c) => [c.kind, c.inputs])).toEqual([
      ['one', ['a']],
      ['many', ['b', 'c', 'd']],
    ]);
    calls[1].finish();
    await expect(Promise.all(answers)).resolves.toEqual(['done:a', 'done:b', 'done:c', 'done:d']);
  });

  it('puts at most `maxGroup` inputs in one statement and starts the next when one ends', async () => {
    const { calls, runner } = fakeRunner();
    const grouped = new GroupedStatements(runner, 1, 2);
    const answers = ['a', 'b', 'c', 'd', 'e', 'f'].map((i) => grouped.run(i));
    for (let i = 0; i < 4; i++) {
      calls[i].finish();
      await tick();
    }
    expect(calls.map((c) => c.inputs)).toEqual([['a'], ['b', 'c'], ['d', 'e'], ['f']]);
    await expect(Promise.all(answers)).resolves.toEqual(['a', 'b', 'c', 'd', 'e', 'f'].map((i) => `done:${i}`));
  });

  it('runs a failed group again input by input, so one input that fails fails only its own caller', async () => {
    const { calls, runner } = fakeRunner();
    const grouped = new GroupedStatements(runner, 1);
    const first = grouped.run('a');
    const rest = ['b', 'c', 'd'].map((i) => grouped.run(i));
    calls[0].finish();
    await tick();
    calls[1].finish(Object.assign(new Error('deadlock detected'), { code: '40P01' }));
    await tick();
    expect(calls.slice(2).map((c) => [c.kind, c.inputs])).toEqual([
      ['one', ['b']],
      ['one', ['c']],
      ['one', ['d']],
    ]);
    calls[2].finish();
    calls[3].finish(new Error('c is bad'));
    calls[4].finish();
    await expect(first).resolves.toBe('done:a');
    const settled = await Promise.allSettled(rest);
    expect(settled.map((s) => (s.status === 'fulfilled' ? s.value : (s.reason as Error).message))).toEqual(['done:b', 'c is bad', 'done:d']);
  });

  /** A group of b and c (after a, alone) whose statement fails with `error`: each caller must get it, nothing is retried. */
  async function groupFailingWith(error: Error): Promise<void> {
    const { calls, runner } = fakeRunner();
    const grouped = new GroupedStatements(runner, 1);
    const first = grouped.run('a');
    const rest = ['b', 'c'].map((i) => grouped.run(i));
    calls[0].finish();
    await tick();
    calls[1].finish(error);
    await expect(first).resolves.toBe('done:a');
    for (const r of rest) await expect(r).rejects.toBe(error);
    expect(calls).toHaveLength(2);
  }

  it('fails every caller of a group at once, without retrying, when the database cannot be reached', async () => {
    await groupFailingWith(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }));
  });

  it('never runs again a group whose answer could not be used (it may have committed): every caller gets the error', async () => {
    await groupFailingWith(new GroupAnswerError('1 row for 2 requests'));
  });

  it('answers the rest of a group at once and runs an input the group could not decide alone, apart, without holding the slot', async () => {
    const { calls, runner } = fakeRunner();
    const grouped = new GroupedStatements(runner, 1);
    const first = grouped.run('a');
    const done: string[] = [];
    const rest = ['b', '!c', 'd'].map((i) => grouped.run(i).then((out) => (done.push(i), out)));
    calls[0].finish();
    await tick();
    calls[1].finish();
    await tick();
    expect(done.sort()).toEqual(['b', 'd']);
    expect(calls[2]).toMatchObject({ kind: 'one', inputs: ['!c'] });
    // The slot is free while !c runs alone: a new input starts at once.
    const next = grouped.run('e');
    await tick();
    expect(calls[3]).toMatchObject({ kind: 'one', inputs: ['e'] });
    calls[2].finish();
    calls[3].finish();
    await expect(first).resolves.toBe('done:a');
    await expect(Promise.all([...rest, next])).resolves.toEqual(['done:b', 'done:!c', 'done:d', 'done:e']);
  });


  it('keeps going after a statement fails: the next inputs run', async () => {
    const { calls, runner } = fakeRunner();
    const grouped = new GroupedStatements(runner, 1);
    const a = grouped.run('a');
    calls[0].finish(new Error('boom'));
    await expect(a).rejects.toThrow('boom');
    const b = grouped.run('b');
    await tick();
    expect(calls).toHaveLength(2);
    calls[1].finish();
    await expect(b).resolves.toBe('done:b');
  });

  it('stops counting a statement that runs past `overdueMs`: the inputs behind it go on without it, and its late end frees no second slot', async () => {
    const { calls, runner } = fakeRunner();
    const grouped = new GroupedStatements(runner, 1, 64, 30);
    const stuck = grouped.run('a');
    const behind = ['b', 'c'].map((i) => grouped.run(i));
    await tick();
    expect(calls).toHaveLength(1);
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(calls.map((c) => c.inputs)).toEqual([['a'], ['b', 'c']]);
    calls[1].finish();
    await expect(Promise.all(behind)).resolves.toEqual(['done:b', 'done:c']);
    // The stuck statement ends late; one slot is still the limit: of two new inputs, one runs, one waits.
    calls[0].finish();
    await expect(stuck).resolves.toBe('done:a');
    await tick();
    const next = ['d', 'e'].map((i) => grouped.run(i));
    await tick();
    expect(calls.slice(2).map((c) => c.inputs)).toEqual([['d']]);
    calls[2].finish();
    await tick();
    expect(calls.slice(3).map((c) => c.inputs)).toEqual([['e']]);
    calls[3].finish();
    await expect(Promise.all(next)).resolves.toEqual(['done:d', 'done:e']);
  });

  it('with limit 0 never groups: every input runs alone at once, however many are running', async () => {
    const { calls, runner } = fakeRunner();
    const grouped = new GroupedStatements(runner, 0);
    const answers = ['a', 'b', 'c'].map((i) => grouped.run(i));
    expect(calls.map((c) => [c.kind, c.inputs])).toEqual([
      ['one', ['a']],
      ['one', ['b']],
      ['one', ['c']],
    ]);
    calls.forEach((c) => c.finish());
    await expect(Promise.all(answers)).resolves.toEqual(['done:a', 'done:b', 'done:c']);
  });
});
