import { Logger } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { GrantActivity } from './grant-activity.service';

describe('GrantActivity', () => {
  const setup = () => {
    const queries: unknown[][] = [];
    const dataSource = { query: (_sql: string, params: unknown[]) => (queries.push(params), Promise.resolve([])) } as unknown as DataSource;
    return { activity: new GrantActivity(dataSource), queries };
  };
  afterEach(() => jest.restoreAllMocks());

  it('asks the database once a minute at most per grant for token checks, and again once the minute is over', () => {
    const { activity, queries } = setup();
    const clock = jest.spyOn(Date, 'now').mockReturnValue(1_000_000);
    for (let i = 0; i < 10; i++) activity.checked('g1');
    activity.checked('g2');
    expect(queries).toEqual([['g1'], ['g2']]);
    clock.mockReturnValue(1_000_000 + 59_999);
    activity.checked('g1');
    expect(queries).toHaveLength(2);
    clock.mockReturnValue(1_000_000 + 60_000);
    activity.checked('g1');
    expect(queries).toEqual([['g1'], ['g2'], ['g1']]);
    // A refresh always asks: the database's condition decides.
    activity.touch('g1');
    expect(queries).toHaveLength(4);
  });

  it('never rejects when the write fails: no unhandled rejection, the failure logged at debug level', async () => {
    const dataSource = { query: () => Promise.reject(new Error('connection lost')) } as unknown as DataSource;
    const unhandled: unknown[] = [];
    const onUnhandled = (e: unknown) => void unhandled.push(e);
    process.on('unhandledRejection', onUnhandled);
    const debug = jest.spyOn(Logger.prototype, 'debug').mockImplementation(() => undefined);
    try {
      const activity = new GrantActivity(dataSource);
      activity.checked('g1');
      activity.touch('g2');
      for (let i = 0; i < 3; i++) await new Promise((resolve) => setImmediate(resolve));
      expect(unhandled).toEqual([]);
      expect(debug.mock.calls.map((c) => String(c[0]))).toEqual([expect.stringMatching(/g1 not recorded: connection lost/), expect.stringMatching(/g2 not recorded: connection lost/)]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });
});
