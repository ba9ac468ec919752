import { activeFreeze, describeFreeze, nextFreeze, type FreezeWindow } from '../../../src/model/freeze.js';

const d = (iso: string): Date => new Date(iso);
const HOUR = 3_600_000;

const holidays: FreezeWindow = {
  reason: 'holidays',
  from: d('2026-12-24T00:00:00Z'),
  to: d('2026-12-27T00:00:00Z'),
};
const weekend: FreezeWindow = { reason: 'weekend', cron: '0 16 * * 5', durationMs: 64 * HOUR };

describe('activeFreeze', () => {
  it('is open inside a fixed window and closed outside it (from inclusive, to exclusive)', () => {
    expect(activeFreeze([holidays], d('2026-12-25T12:00:00Z'))).toEqual({
      reason: 'holidays',
      from: d('2026-12-24T00:00:00Z'),
      to: d('2026-12-27T00:00:00Z'),
    });
    expect(activeFreeze([holidays], d('2026-12-24T00:00:00Z'))?.reason).toBe('holidays');
    expect(activeFreeze([holidays], d('2026-12-23T23:59:59Z'))).toBeUndefined();
    expect(activeFreeze([holidays], d('2026-12-27T00:00:00Z'))).toBeUndefined();
  });

  it('holds the weekend window from Friday 16:00 UTC for 64h: open Sunday noon, closed Monday 08:00', () => {
    // 2026-06-05 is a Friday.
    expect(activeFreeze([weekend], d('2026-06-05T15:59:59Z'))).toBeUndefined();
    expect(activeFreeze([weekend], d('2026-06-05T16:00:00Z'))?.reason).toBe('weekend');
    expect(activeFreeze([weekend], d('2026-06-07T12:00:00Z'))).toEqual({
      reason: 'weekend',
      from: d('2026-06-05T16:00:00Z'),
      to: d('2026-06-08T08:00:00Z'),
    });
    expect(activeFreeze([weekend], d('2026-06-08T07:59:59Z'))?.reason).toBe('weekend');
    expect(activeFreeze([weekend], d('2026-06-08T08:00:00Z'))).toBeUndefined();
    expect(activeFreeze([weekend], d('2026-06-10T12:00:00Z'))).toBeUndefined();
  });

  it('reads a tz window in local time across a DST change: Friday 16:00 Berlin is 14:00 UTC in October', () => {
    const berlinWeekend: FreezeWindow = { ...weekend, tz: 'Europe/Berlin' };
    // Friday 2026-10-23 16:00 CEST = 14:00 UTC; clocks go back on Sunday 25th; 64h later = Mon 06:00 UTC (07:00 CET).
    expect(activeFreeze([berlinWeekend], d('2026-10-23T13:59:00Z'))).toBeUndefined();
    expect(activeFreeze([berlinWeekend], d('2026-10-25T12:00:00Z'))).toEqual({
      reason: 'weekend',
      from: d('2026-10-23T14:00:00Z'),
      to: d('2026-10-26T06:00:00Z'),
    });
    expect(activeFreeze([berlinWeekend], d('2026-10-26T06:00:00Z'))).toBeUndefined();
    // After the change, Friday 16:00 CET is 15:00 UTC.
    expect(activeFreeze([berlinWeekend], d('2026-10-30T14:30:00Z'))).toBeUndefined();
    expect(activeFreeze([berlinWeekend], d('2026-10-30T15:00:00Z'))?.from).toEqual(d('2026-10-30T15:00:00Z'));
  });

  it('reports when promotions are possible again when windows chain', () => {
    const monday: FreezeWindow = { reason: 'release train', cron: '0 8 * * 1', durationMs: 4 * HOUR };
    // The weekend ends Monday 08:00 just as the Monday window opens: refused until 12:00.
    const span = activeFreeze([weekend, monday], d('2026-06-07T12:00:00Z'));
    expect(span).toEqual({
      reason: 'weekend',
      from: d('2026-06-05T16:00:00Z'),
      to: d('2026-06-08T12:00:00Z'),
    });
  });

  it('refuses an invalid cron naming the field', () => {
    expect(() =>
      activeFreeze([{ reason: 'x', cron: '0 16 * * 9', durationMs: HOUR }], d('2026-06-05T00:00:00Z')),
    ).toThrow(/cron "0 16 \* \* 9": the day-of-week field "9" has 9, out of range 0–7/);
  });
});

describe('nextFreeze', () => {
  it('names the next window to open, fixed or recurring, whichever comes first', () => {
    expect(nextFreeze([holidays, weekend], d('2026-12-20T00:00:00Z'))).toEqual({
      reason: 'holidays',
      from: d('2026-12-24T00:00:00Z'),
      to: d('2026-12-27T00:00:00Z'),
    });
    expect(nextFreeze([holidays, weekend], d('2026-06-07T12:00:00Z'))).toEqual({
      reason: 'weekend',
      from: d('2026-06-12T16:00:00Z'),
      to: d('2026-06-15T08:00:00Z'),
    });
    expect(nextFreeze([holidays], d('2027-01-01T00:00:00Z'))).toBeUndefined();
  });

  it('finds a 29 February schedule years ahead', () => {
    const leap: FreezeWindow = { reason: 'leap day', cron: '0 0 29 2 *', durationMs: 24 * HOUR };
    expect(nextFreeze([leap], d('2026-06-01T00:00:00Z'))?.from).toEqual(d('2028-02-29T00:00:00Z'));
  });

  it('describes a span for messages', () => {
    expect(
      describeFreeze({ reason: 'weekend', from: d('2026-06-05T16:00:00Z'), to: d('2026-06-08T08:00:00Z') }),
    ).toBe('weekend (Fri 2026-06-05 16:00 UTC → Mon 2026-06-08 08:00 UTC)');
  });
});
