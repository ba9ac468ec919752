import { backoffMs, parseRetryAfter, retry } from '../../../src/retry.js';

const noSleep = () => {
  const waits: number[] = [];
  return { waits, sleep: async (ms: number) => void waits.push(ms) };
};

describe('retry', () => {
  test('returns the first success and passes the attempt number', async () => {
    const s = noSleep();
    const seen: number[] = [];
    const v = await retry(
      async (attempt) => {
        seen.push(attempt);
        if (attempt < 3) throw new Error('flaky');
        return 'ok';
      },
      { attempts: 5, baseMs: 100, maxMs: 1000, isRetryable: () => true, sleep: s.sleep, random: () => 0.5 },
    );
    expect(v).toBe('ok');
    expect(seen).toEqual([1, 2, 3]);
    expect(s.waits).toEqual([50, 100]); // full jitter: random * base * 2^(n-1)
  });

  test('stops after the bounded number of attempts and rethrows the last error unchanged', async () => {
    const s = noSleep();
    const errors = [new Error('a'), new Error('b'), new Error('c')];
    let i = 0;
    await expect(
      retry(
        async () => {
          throw errors[i++];
        },
        { attempts: 3, baseMs: 10, maxMs: 100, isRetryable: () => true, sleep: s.sleep },
      ),
    ).rejects.toBe(errors[2]);
    expect(i).toBe(3);
    expect(s.waits).toHaveLength(2);
  });

  test('does not retry an error the caller calls permanent', async () => {
    const s = noSleep();
    let calls = 0;
    await expect(
      retry(
        async () => {
          calls++;
          throw new Error('422');
        },
        { attempts: 5, baseMs: 10, maxMs: 100, isRetryable: () => false, sleep: s.sleep },
      ),
    ).rejects.toThrow('422');
    expect(calls).toBe(1);
  });

  test('honours a server-requested wait, capped at maxMs, and reports each retry', async () => {
    const s = noSleep();
    const reported: [number, number][] = [];
    let calls = 0;
    await retry(
      async () => {
        if (++calls < 3) throw new Error('429');
        return 1;
      },
      {
        attempts: 5,
        baseMs: 10,
        maxMs: 3000,
        isRetryable: () => true,
        retryAfterMs: () => (calls === 1 ? 2000 : 60_000),
        onRetry: (_e, attempt, wait) => reported.push([attempt, wait]),
        sleep: s.sleep,
      },
    );
    expect(s.waits).toEqual([2000, 3000]);
    expect(reported).toEqual([
      [1, 2000],
      [2, 3000],
    ]);
  });

  test.each([
    [1, 100, 1000, 100],
    [2, 100, 1000, 200],
    [4, 100, 1000, 800],
    [5, 100, 1000, 1000],
    [20, 100, 1000, 1000],
  ])('backoff ceiling for attempt %i (base %i, max %i) is %i', (attempt, base, max, ceiling) => {
    expect(backoffMs(attempt, base, max, () => 0.999999)).toBe(Math.floor(0.999999 * ceiling));
    expect(backoffMs(attempt, base, max, () => 0)).toBe(0);
  });

  test.each([
    ['3', 3000],
    ['0', 0],
    ['1.5', 1500],
    ['', undefined],
    ['soon', undefined],
    [undefined, undefined],
  ])('parseRetryAfter(%p) = %p', (value, expected) => {
    expect(parseRetryAfter(value)).toBe(expected);
  });

  test('parseRetryAfter understands an HTTP date', () => {
    const now = Date.parse('2025-01-01T00:00:00Z');
    expect(parseRetryAfter('Wed, 01 Jan 2025 00:00:05 GMT', now)).toBe(5000);
  });
});
