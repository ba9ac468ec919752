// Five-field cron expressions (minute hour day-of-month month day-of-week), as Vixie cron reads them,
// evaluated in an IANA time zone. Freeze windows use them ("0 16 * * 5" = every Friday 16:00), so the
// parser must be exact about what it accepts and the evaluator exact about daylight saving time.

export const CRON_FIELDS = ['minute', 'hour', 'day-of-month', 'month', 'day-of-week'] as const;
export type CronField = (typeof CRON_FIELDS)[number];

const RANGES: Record<CronField, [number, number]> = {
  minute: [0, 59],
  hour: [0, 23],
  'day-of-month': [1, 31],
  month: [1, 12],
  // 7 is Sunday too; folded onto 0 after parsing.
  'day-of-week': [0, 7],
};

const MONTH_NAMES = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const DAY_NAMES = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

const MACROS: Record<string, string> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
};

const FORMAT_HELP =
  'write five fields "minute hour day-of-month month day-of-week", e.g. "0 16 * * 5" (Fridays 16:00) or "30 2 1 * *"';

export class CronError extends Error {
  constructor(
    readonly expression: string,
    readonly field: CronField | undefined,
    why: string,
  ) {
    super(`cron "${expression}": ${field ? `the ${field} field ` : ''}${why}`);
    this.name = 'CronError';
  }
}

export interface CronSchedule {
  source: string;
  /** Indexed by value: minutes[0..59], hours[0..23], daysOfMonth[1..31], months[1..12], daysOfWeek[0..6]. */
  minutes: boolean[];
  hours: boolean[];
  daysOfMonth: boolean[];
  months: boolean[];
  daysOfWeek: boolean[];
  /**
   * Vixie cron: when the day-of-month or day-of-week field starts with `*`, a day must match both;
   * when both are restricted, a day matching either one fires ("0 0 1 * mon" = the 1st AND every Monday).
   */
  domStar: boolean;
  dowStar: boolean;
}

export function parseCron(expression: string): CronSchedule {
  const source = expression.trim();
  const expanded = MACROS[source.toLowerCase()] ?? source;
  if (expanded.startsWith('@')) {
    throw new CronError(
      expression,
      undefined,
      `unknown macro "${source}" (known: ${Object.keys(MACROS).join(', ')})`,
    );
  }
  const parts = expanded.split(/\s+/).filter((p) => p !== '');
  if (parts.length !== 5) {
    throw new CronError(
      expression,
      undefined,
      `has ${parts.length} field${parts.length === 1 ? '' : 's'}; ${FORMAT_HELP}`,
    );
  }
  const sets = CRON_FIELDS.map((field, i) => parseField(expression, field, parts[i]));
  const daysOfWeek = sets[4].slice(0, 7);
  if (sets[4][7]) daysOfWeek[0] = true;
  const schedule: CronSchedule = {
    source,
    minutes: sets[0],
    hours: sets[1],
    daysOfMonth: sets[2],
    months: sets[3],
    daysOfWeek,
    domStar: parts[2].startsWith('*'),
    dowStar: parts[4].startsWith('*'),
  };
  checkCanFire(expression, schedule);
  return schedule;
}

function parseField(expression: string, field: CronField, text: string): boolean[] {
  const [min, max] = RANGES[field];
  const set: boolean[] = new Array<boolean>(max + 1).fill(false);
  const fail = (why: string): never => {
    throw new CronError(expression, field, `"${text}" ${why}`);
  };
  for (const item of text.split(',')) {
    if (item === '') fail('has an empty list item');
    const [rangeText, stepText, extra] = item.split('/');
    if (extra !== undefined) fail(`has more than one "/" in "${item}"`);
    let step = 1;
    if (stepText !== undefined) {
      if (!/^\d+$/.test(stepText)) fail(`has step "${stepText}", which is not a whole number`);
      step = Number(stepText);
      if (step < 1 || step > max - min + 1) fail(`has step ${step}, outside 1–${max - min + 1}`);
    }
    let lo: number;
    let hi: number;
    if (rangeText === '*') {
      lo = min;
      hi = field === 'day-of-week' ? 6 : max;
    } else {
      const bounds = rangeText.split('-');
      if (bounds.length > 2) fail(`has a malformed range "${rangeText}"`);
      lo = fieldValue(bounds[0], field, fail);
      // Vixie: "a/n" means "a-max/n".
      hi = bounds.length === 2 ? fieldValue(bounds[1], field, fail) : stepText !== undefined ? max : lo;
      if (hi < lo) fail(`has a range "${rangeText}" that runs backwards; write the smaller value first`);
    }
    for (let v = lo; v <= hi; v += step) set[v] = true;
  }
  return set;
}

function fieldValue(text: string, field: CronField, fail: (why: string) => never): number {
  const [min, max] = RANGES[field];
  const names = field === 'month' ? MONTH_NAMES : field === 'day-of-week' ? DAY_NAMES : undefined;
  const lower = text.toLowerCase();
  if (names && names.includes(lower)) return names.indexOf(lower) + (field === 'month' ? 1 : 0);
  if (!/^\d+$/.test(text)) {
    const allowed = names
      ? `a number ${min}–${max} or a name (${names.join(', ')})`
      : `a number ${min}–${max}`;
    return fail(`has "${text}", which is not ${allowed}`);
  }
  const n = Number(text);
  if (n < min || n > max) {
    return fail(
      `has ${n}, out of range ${min}–${max}${field === 'day-of-week' ? ' (0 and 7 are both Sunday)' : ''}`,
    );
  }
  return n;
}

const DAYS_IN_MONTH = [0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** "0 0 30 2 *" is valid syntax that never fires; a freeze window that never opens is a mistake. */
function checkCanFire(expression: string, s: CronSchedule): void {
  if (!s.domStar && !s.dowStar) return; // either day matches: some weekday always comes
  if (s.domStar && !s.dowStar) return;
  for (let m = 1; m <= 12; m++) {
    if (!s.months[m]) continue;
    for (let d = 1; d <= DAYS_IN_MONTH[m]; d++) if (s.daysOfMonth[d]) return;
  }
  throw new CronError(
    expression,
    'day-of-month',
    'never occurs in the months the month field allows, so this schedule never fires',
  );
}

// ---- time zones -------------------------------------------------------------------------------

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/** True when `Intl` knows the zone (IANA names such as "Europe/Berlin", and "UTC"). */
export function isValidTimeZone(timeZone: string): boolean {
  try {
    formatter(timeZone);
    return true;
  } catch {
    return false;
  }
}

/**
 * The wall-clock time in `timeZone` at instant `t`, as epoch-like milliseconds: the instant that would
 * show the same digits in UTC. Seconds kept, milliseconds dropped.
 */
export function wallClockMs(t: number, timeZone: string): number {
  const parts: Record<string, number> = {};
  for (const p of formatter(timeZone).formatToParts(new Date(t))) {
    if (p.type !== 'literal') parts[p.type] = Number(p.value);
  }
  return Date.UTC(parts.year, parts.month - 1, parts.day, parts.hour % 24, parts.minute, parts.second);
}

/** The zone's offset from UTC at instant `t` (ms; +3600000 for CET). */
export function zoneOffsetMs(t: number, timeZone: string): number {
  const whole = Math.floor(t / 1000) * 1000;
  return wallClockMs(whole, timeZone) - whole;
}

/**
 * The instant a wall-clock time in `timeZone` names. An ambiguous time (the repeated hour when clocks
 * go back) is its first occurrence; a time that does not exist (skipped when clocks go forward) is
 * moved forward by the gap, so 02:30 on a spring-forward night becomes 03:30 — the way cronie runs
 * jobs scheduled in the skipped hour.
 */
export function wallClockToInstant(wall: number, timeZone: string): number {
  const DAY = 86_400_000;
  const before = zoneOffsetMs(wall - DAY, timeZone);
  const after = zoneOffsetMs(wall + DAY, timeZone);
  const candidates = [...new Set([wall - before, wall - after])]
    .filter((t) => wallClockMs(t, timeZone) === wall)
    .sort((a, b) => a - b);
  return candidates[0] ?? wall - before;
}

// ---- evaluation -------------------------------------------------------------------------------

const DAY_MS = 86_400_000;
const MINUTE_MS = 60_000;

function dayMatches(s: CronSchedule, dayWall: number): boolean {
  const d = new Date(dayWall);
  if (!s.months[d.getUTCMonth() + 1]) return false;
  const dom = s.daysOfMonth[d.getUTCDate()];
  const dow = s.daysOfWeek[d.getUTCDay()];
  return s.domStar || s.dowStar ? dom && dow : dom || dow;
}

/** Every fire instant on one local calendar day, ascending. */
function firesOnDay(s: CronSchedule, dayWall: number, timeZone: string): number[] {
  if (!dayMatches(s, dayWall)) return [];
  const offsetBefore = zoneOffsetMs(dayWall - DAY_MS, timeZone);
  const offsetAfter = zoneOffsetMs(dayWall + 2 * DAY_MS, timeZone);
  // On a day without a clock change every wall time maps by the same offset: skip Intl per minute.
  const steady = offsetBefore === offsetAfter;
  const out: number[] = [];
  for (let h = 0; h < 24; h++) {
    if (!s.hours[h]) continue;
    for (let m = 0; m < 60; m++) {
      if (!s.minutes[m]) continue;
      const wall = dayWall + h * 3_600_000 + m * MINUTE_MS;
      out.push(steady ? wall - offsetBefore : wallClockToInstant(wall, timeZone));
    }
  }
  return out.sort((a, b) => a - b);
}

function localDayStart(t: number, timeZone: string): number {
  const wall = wallClockMs(t, timeZone);
  return wall - (((wall % DAY_MS) + DAY_MS) % DAY_MS);
}

/** The latest fire instant `t` with `notBefore <= t <= at`, or undefined. */
export function previousFire(
  s: CronSchedule,
  timeZone: string,
  at: number,
  notBefore: number,
): number | undefined {
  // One day of slack on each side: a local day's fires can land outside its UTC-ish bounds around DST.
  const last = localDayStart(at, timeZone) + DAY_MS;
  const first = localDayStart(notBefore, timeZone) - DAY_MS;
  const inRange = (day: number): number[] =>
    firesOnDay(s, day, timeZone).filter((t) => t <= at && t >= notBefore);
  for (let day = last; day >= first; day -= DAY_MS) {
    const fires = inRange(day);
    // A fire moved forward out of a skipped hour can pass the next day's first fire: look one day further.
    if (fires.length > 0) return Math.max(...fires, ...inRange(day - DAY_MS));
  }
  return undefined;
}

/** The earliest fire instant `t` with `after < t <= notAfter`, or undefined. */
export function nextFire(
  s: CronSchedule,
  timeZone: string,
  after: number,
  notAfter: number,
): number | undefined {
  const first = localDayStart(after, timeZone) - DAY_MS;
  const last = localDayStart(notAfter, timeZone) + DAY_MS;
  const inRange = (day: number): number[] =>
    firesOnDay(s, day, timeZone).filter((t) => t > after && t <= notAfter);
  for (let day = first; day <= last; day += DAY_MS) {
    const fires = inRange(day);
    if (fires.length > 0) return Math.min(...fires, ...inRange(day + DAY_MS));
  }
  return undefined;
}
