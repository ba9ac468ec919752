import {
  CronError,
  isValidTimeZone,
  nextFire,
  parseCron,
  previousFire,
  wallClockToInstant,
} from '../../../src/model/cron.js';

const at = (iso: string): number => Date.parse(iso);
const iso = (t: number | undefined): string | undefined =>
  t === undefined ? undefined : new Date(t).toISOString();
const values = (set: boolean[]): number[] => set.flatMap((on, i) => (on ? [i] : []));
const DAY = 86_400_000;

describe('parseCron', () => {
  it.each([
    ['0 16 * * 5', { minutes: [0], hours: [16], daysOfWeek: [5] }],
    ['*/15 9-17/4 * * *', { minutes: [0, 15, 30, 45], hours: [9, 13, 17] }],
    ['5,10-12 0 * * *', { minutes: [5, 10, 11, 12] }],
    ['0 0 * jan,JUL-sep *', { months: [1, 7, 8, 9] }],
    ['0 0 * * mon-fri', { daysOfWeek: [1, 2, 3, 4, 5] }],
    ['0 0 * * 7', { daysOfWeek: [0] }],
    ['0 0 * * 0', { daysOfWeek: [0] }],
    ['0 0 * * 5-7', { daysOfWeek: [0, 5, 6] }],
    ['50/5 * * * *', { minutes: [50, 55] }],
    ['@hourly', { minutes: [0] }],
  ])('reads %j', (expr, expected) => {
    const s = parseCron(expr);
    if ('minutes' in expected) expect(values(s.minutes)).toEqual(expected.minutes);
    if ('hours' in expected) expect(values(s.hours)).toEqual(expected.hours);
    if ('months' in expected) expect(values(s.months)).toEqual(expected.months);
    if ('daysOfWeek' in expected) expect(values(s.daysOfWeek)).toEqual(expected.daysOfWeek);
  });

  it.each([
    ['0 16 * *', /has 4 fields; write five fields/],
    ['60 * * * *', /the minute field "60" has 60, out of range 0–59/],
    ['0 24 * * *', /the hour field "24" has 24, out of range 0–23/],
    ['0 0 0 * *', /the day-of-month field "0" has 0, out of range 1–31/],
    ['0 0 * 13 *', /the month field "13" has 13, out of range 1–12/],
    ['0 0 * * 8', /the day-of-week field "8" has 8, out of range 0–7 \(0 and 7 are both Sunday\)/],
    ['0 0 * * fry', /the day-of-week field "fry" has "fry", which is not a number 0–7 or a name \(sun, mon/],
    ['*/0 * * * *', /the minute field "\*\/0" has step 0, outside 1–60/],
    ['0 17-9 * * *', /the hour field "17-9" has a range "17-9" that runs backwards/],
    ['0 0 1,,2 * *', /the day-of-month field "1,,2" has an empty list item/],
    ['0 0 30 2 *', /the day-of-month field never occurs in the months the month field allows/],
    ['@fortnightly', /unknown macro "@fortnightly"/],
  ])('refuses %j naming the field', (expr, message) => {
    expect(() => parseCron(expr)).toThrow(CronError);
    expect(() => parseCron(expr)).toThrow(message);
    expect(() => parseCron(expr)).toThrow(`cron "${expr}"`);
  });
});

describe('cron evaluation', () => {
  it('finds the latest Friday 16:00 UTC at or before a time, and the next one after it', () => {
    const s = parseCron('0 16 * * 5');
    expect(iso(previousFire(s, 'UTC', at('2026-06-07T12:00:00Z'), at('2026-05-01T00:00:00Z')))).toBe(
      '2026-06-05T16:00:00.000Z',
    );
    // An exact fire time counts as "at or before".
    expect(iso(previousFire(s, 'UTC', at('2026-06-05T16:00:00Z'), at('2026-06-01T00:00:00Z')))).toBe(
      '2026-06-05T16:00:00.000Z',
    );
    expect(iso(nextFire(s, 'UTC', at('2026-06-05T16:00:00Z'), at('2026-07-01T00:00:00Z')))).toBe(
      '2026-06-12T16:00:00.000Z',
    );
    expect(previousFire(s, 'UTC', at('2026-06-04T12:00:00Z'), at('2026-06-01T00:00:00Z'))).toBeUndefined();
  });

  it('fires on the 1st OR on Mondays when both day fields are restricted (Vixie)', () => {
    const s = parseCron('0 0 1 * mon');
    // 2026-06-01 is a Monday; the next fires are Mondays 8th, 15th, ... and July 1st (a Wednesday).
    const fires: string[] = [];
    let t = at('2026-06-20T00:00:00Z');
    for (let i = 0; i < 4; i++) {
      const next = nextFire(s, 'UTC', t, t + 40 * DAY);
      fires.push(iso(next) ?? 'none');
      t = next ?? t;
    }
    expect(fires).toEqual([
      '2026-06-22T00:00:00.000Z',
      '2026-06-29T00:00:00.000Z',
      '2026-07-01T00:00:00.000Z',
      '2026-07-06T00:00:00.000Z',
    ]);
  });

  it('fires only when both match when day-of-month starts with * (Vixie DOM_STAR)', () => {
    const s = parseCron('0 0 */2 * mon');
    // Odd days of month that are Mondays: 2026-06-01, 2026-06-15, 2026-06-29.
    expect(iso(nextFire(s, 'UTC', at('2026-06-02T00:00:00Z'), at('2026-08-01T00:00:00Z')))).toBe(
      '2026-06-15T00:00:00.000Z',
    );
  });

  it('reads wall-clock time in the zone across both DST changes (America/New_York)', () => {
    const s = parseCron('0 9 * * 1-5');
    // 2026-03-06 (Fri) is EST (UTC-5); 2026-03-09 (Mon) is EDT (UTC-4).
    expect(iso(nextFire(s, 'America/New_York', at('2026-03-06T00:00:00Z'), at('2026-03-20T00:00:00Z')))).toBe(
      '2026-03-06T14:00:00.000Z',
    );
    expect(iso(nextFire(s, 'America/New_York', at('2026-03-06T14:00:00Z'), at('2026-03-20T00:00:00Z')))).toBe(
      '2026-03-09T13:00:00.000Z',
    );
  });

  it('moves a time skipped by spring-forward to after the gap, and takes the first of a repeated time', () => {
    const s = parseCron('30 2 * * *');
    // Berlin, 2026-03-29: 02:00 CET → 03:00 CEST, so 02:30 does not exist; it fires at 03:30 CEST (01:30 UTC).
    expect(iso(nextFire(s, 'Europe/Berlin', at('2026-03-28T12:00:00Z'), at('2026-04-01T00:00:00Z')))).toBe(
      '2026-03-29T01:30:00.000Z',
    );
    // 2026-10-25: 03:00 CEST → 02:00 CET, so 02:30 happens twice; it fires once, at the first (00:30 UTC).
    expect(iso(nextFire(s, 'Europe/Berlin', at('2026-10-24T12:00:00Z'), at('2026-10-27T00:00:00Z')))).toBe(
      '2026-10-25T00:30:00.000Z',
    );
    expect(iso(nextFire(s, 'Europe/Berlin', at('2026-10-25T00:30:00Z'), at('2026-10-27T00:00:00Z')))).toBe(
      '2026-10-26T01:30:00.000Z',
    );
    expect(iso(wallClockToInstant(Date.UTC(2026, 9, 25, 2, 30), 'Europe/Berlin'))).toBe(
      '2026-10-25T00:30:00.000Z',
    );
  });

  it('knows IANA zones from anything else', () => {
    expect(isValidTimeZone('Europe/Berlin')).toBe(true);
    expect(isValidTimeZone('UTC')).toBe(true);
    expect(isValidTimeZone('Mars/Olympus_Mons')).toBe(false);
    expect(isValidTimeZone('CEST+1')).toBe(false);
  });
});
