import { MAX_TIMER_MS, startDeadline } from '../../../src/model/deadline.js';

test('one deadline: what is left shrinks with the clock and never goes below zero', () => {
  let now = 1_000;
  const d = startDeadline(300_000, () => now);
  expect(d.remainingMs()).toBe(300_000);
  now += 120_000;
  expect(d.remainingMs()).toBe(180_000);
  expect(d.expired()).toBe(false);
  now += 400_000;
  expect(d.remainingMs()).toBe(0);
  expect(d.expired()).toBe(true);
});

test("a budget longer than Node's timers can hold is handed out in pieces a timer can hold", () => {
  // setTimeout fires at once for more than 2^31-1 ms: a 30-day wait-timeout must not time out instantly.
  const d = startDeadline(30 * 86_400_000, () => 0);
  expect(d.remainingMs()).toBe(MAX_TIMER_MS);
  expect(d.totalMs).toBe(30 * 86_400_000);
});
