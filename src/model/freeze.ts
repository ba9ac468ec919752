// Freeze windows: times when promotions are refused. A window is either fixed (from → to) or
// recurring (a cron schedule opens it, a duration closes it). Pure: the clock is an argument.
import { nextFire, parseCron, previousFire } from './cron.js';

export interface FreezeWindow {
  /** Shown to whoever is refused ("holidays", "weekend"). */
  reason: string;
  /** Fixed window: refused from `from` (inclusive) until `to` (exclusive). */
  from?: Date;
  to?: Date;
  /** Recurring window: opens at each fire time of this 5-field cron expression... */
  cron?: string;
  /** ...and stays open this long (elapsed time, so a DST change inside a window does not stretch it). */
  durationMs?: number;
  /** IANA zone the cron expression is read in; default UTC. */
  tz?: string;
}

export interface FreezeSpan {
  reason: string;
  from: Date;
  to: Date;
}

/** How far ahead nextFreeze looks for a recurring window (covers "29 Feb" schedules). */
const LOOKAHEAD_MS = 5 * 366 * 86_400_000;

/** The occurrence of one window that is open at `now`, if any. */
function openSpan(w: FreezeWindow, now: number): FreezeSpan | undefined {
  if (w.cron !== undefined) {
    const duration = w.durationMs ?? 0;
    if (duration <= 0) return undefined;
    // Open when the latest fire t <= now has now < t + duration, i.e. some fire lies in (now - duration, now].
    const t = previousFire(parseCron(w.cron), w.tz ?? 'UTC', now, now - duration + 1);
    return t === undefined ? undefined : { reason: w.reason, from: new Date(t), to: new Date(t + duration) };
  }
  if (w.from && w.to && w.from.getTime() <= now && now < w.to.getTime()) {
    return { reason: w.reason, from: w.from, to: w.to };
  }
  return undefined;
}

/**
 * The freeze in force at `now`, or undefined. When windows overlap or follow each other without a gap,
 * `to` is when promotions are possible again (the chain's end), and `reason`/`from` are those of the
 * window open at `now` that lasts longest.
 */
export function activeFreeze(windows: FreezeWindow[], now: Date): FreezeSpan | undefined {
  const open = windows.map((w) => openSpan(w, now.getTime())).filter((s) => s !== undefined);
  if (open.length === 0) return undefined;
  const longest = open.reduce((a, b) => (b.to.getTime() > a.to.getTime() ? b : a));
  let end = longest.to.getTime();
  // Bounded: a schedule that keeps itself open forever ("* * * * *" for 2m) stops extending somewhere.
  for (let i = 0; i < 1000; i++) {
    const next = windows
      .map((w) => openSpan(w, end))
      .filter((s) => s !== undefined)
      .reduce((max, s) => Math.max(max, s.to.getTime()), end);
    if (next <= end) break;
    end = next;
  }
  return { reason: longest.reason, from: longest.from, to: new Date(end) };
}

/** The next window to open strictly after `now` (for status and plan reports), or undefined. */
export function nextFreeze(windows: FreezeWindow[], now: Date): FreezeSpan | undefined {
  const t = now.getTime();
  let best: FreezeSpan | undefined;
  for (const w of windows) {
    let span: FreezeSpan | undefined;
    if (w.cron !== undefined) {
      const fire = nextFire(parseCron(w.cron), w.tz ?? 'UTC', t, t + LOOKAHEAD_MS);
      if (fire !== undefined) {
        span = { reason: w.reason, from: new Date(fire), to: new Date(fire + (w.durationMs ?? 0)) };
      }
    } else if (w.from && w.to && w.from.getTime() > t) {
      span = { reason: w.reason, from: w.from, to: w.to };
    }
    if (span && (!best || span.from.getTime() < best.from.getTime())) best = span;
  }
  return best;
}

/** "weekend (Fri 2026-06-05 16:00 UTC → Mon 2026-06-08 08:00 UTC)" for messages. */
export function describeFreeze(span: FreezeSpan): string {
  return `${span.reason} (${formatUtc(span.from)} → ${formatUtc(span.to)})`;
}

function formatUtc(d: Date): string {
  const day = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'][d.getUTCDay()];
  return `${day} ${d.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}
