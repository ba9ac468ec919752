// Durations as people write them in workflow inputs: `300`, `300s`, `5m`, `1h30m`, `7d`.

const UNIT_SECONDS: Record<string, number> = { w: 604800, d: 86400, h: 3600, m: 60, s: 1 };
const UNIT_ORDER = 'wdhms';

/**
 * Parses a duration into whole seconds. A bare number is seconds. Units w, d, h, m, s may be combined
 * largest first, each at most once (`1d12h`, `1h30m`). Case-insensitive, surrounding space ignored.
 * `inputName` names the input in the error, e.g. `input "ttl"`.
 */
export function parseDuration(input: string, inputName: string): number {
  const text = input.trim().toLowerCase();
  const example = 'e.g. "300" (seconds), "90s", "5m", "1h30m" or "7d"';
  const fail = (why: string): never => {
    throw new Error(`${inputName}: "${input}" is not a duration: ${why}. Write ${example}.`);
  };
  if (text === '') fail('it is empty');
  if (/^\d+$/.test(text)) return checkedSeconds(Number(text), input, inputName);
  const parts = [...text.matchAll(/(\d+)([a-z]+)/gy)];
  if (parts.map((p) => p[0]).join('') !== text) {
    fail(
      /[.,]/.test(text)
        ? 'fractions are not supported, use a smaller unit (1h30m, not 1.5h)'
        : 'it does not match NUMBER+UNIT',
    );
  }
  let total = 0;
  let lastIndex = -1;
  for (const [, digits, unit] of parts) {
    const index = UNIT_ORDER.indexOf(unit);
    if (unit.length !== 1 || index < 0) fail(`unknown unit "${unit}" (known: w, d, h, m, s)`);
    if (index <= lastIndex) fail(`units must appear once each, largest first ("${unit}" is out of place)`);
    lastIndex = index;
    total += Number(digits) * UNIT_SECONDS[unit];
  }
  return checkedSeconds(total, input, inputName);
}

function checkedSeconds(seconds: number, input: string, inputName: string): number {
  if (!Number.isSafeInteger(seconds))
    throw new Error(`${inputName}: "${input}" is too large to be a duration.`);
  return seconds;
}

/** 5400 → `1h30m`, 0 → `0s`: the inverse of parseDuration, for messages and the PR comment. */
export function formatDuration(seconds: number): string {
  if (seconds <= 0) return '0s';
  let rest = Math.floor(seconds);
  let out = '';
  for (const unit of UNIT_ORDER) {
    const n = Math.floor(rest / UNIT_SECONDS[unit]);
    if (n > 0) {
      out += `${n}${unit}`;
      rest -= n * UNIT_SECONDS[unit];
    }
  }
  return out;
}
