// One deadline for a whole run: every phase (namespace, apply, Job recreation, wait, probe, teardown)
// takes what is left of it, so "wait-timeout: 300" means at most 300 s, not 300 s per phase.

/** Node's timers overflow past this many milliseconds (about 24.8 days) and then fire at once. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

export interface Deadline {
  /** When the run's budget ends (epoch ms). */
  readonly at: number;
  /** The whole budget, for messages ("timed out after 300s"). */
  readonly totalMs: number;
  /** What is left (never below 0, never above what a timer can hold). */
  remainingMs(): number;
  expired(): boolean;
}

export function startDeadline(totalMs: number, now: () => number = Date.now): Deadline {
  const at = now() + totalMs;
  return {
    at,
    totalMs,
    remainingMs: () => Math.min(MAX_TIMER_MS, Math.max(0, at - now())),
    expired: () => now() >= at,
  };
}
