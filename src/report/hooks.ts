// The lifecycle hooks of a run (steps/hooks.ts) in the PR comment, the job summary and a terminal:
// one row per hook (name, phase, result, duration), and each hook's log tail collapsed below. Pure.
import type { HookResult, HookStatus } from '../steps/hooks.js';
import { codeBlock, codeSpan, escapeMarkdown, redact } from './markdown.js';

const RESULT_WORDS: Record<HookStatus, string> = {
  succeeded: '✅ succeeded',
  failed: '❌ failed',
  'timed-out': '⏱️ timed out',
  cancelled: '⏹️ cancelled',
};

/** A log line longer than this is cut (a minified stack trace must not eat the comment). */
const LINE_MAX = 300;

/** `12s`, `2m 05s`; under a second `0.4s`. */
export function formatHookDuration(ms: number): string {
  if (ms < 1000) return `${(ms / 1000).toFixed(1)}s`;
  const s = Math.round(ms / 1000);
  return s < 60 ? `${s}s` : `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s`;
}

/**
 * The hooks as a Markdown block (a `####` heading, a table, one collapsed log per hook; a failed
 * hook's log is open); '' when no hook ran. Log lines and messages are redacted again here.
 */
export function hooksMarkdown(hooks: readonly HookResult[], secrets: readonly string[]): string {
  if (hooks.length === 0) return '';
  const lines = ['#### Hooks', '', '| Hook | Phase | Result | Duration |', '|---|---|---|---|'];
  for (const h of hooks)
    lines.push(
      `| ${codeSpan(`Job/${h.name}`, { inTable: true })} | ${h.phase} | ${RESULT_WORDS[h.status]}${h.message ? `: ${escapeMarkdown(redact(h.message, secrets))}` : ''} | ${formatHookDuration(h.durationMs)} |`,
    );
  for (const h of hooks) {
    const tail = h.logTail.map((l) => {
      const line = redact(l, secrets);
      return line.length > LINE_MAX ? `${line.slice(0, LINE_MAX)} …` : line;
    });
    const summary = `${escapeMarkdown(`Job/${h.name}`)} (${h.phase}): ${tail.length ? `last ${tail.length} log line${tail.length === 1 ? '' : 's'}` : 'no log'}${h.pod ? ` of pod ${escapeMarkdown(h.pod)}` : ''}`;
    lines.push(
      '',
      `<details${h.status === 'succeeded' ? '' : ' open'}><summary>${summary}</summary>`,
      '',
      codeBlock(tail.length ? tail.join('\n') : '(no log could be read)'),
      '',
      '</details>',
    );
  }
  return lines.join('\n');
}

/** For a terminal: one line per hook. */
export function hooksText(hooks: readonly HookResult[], secrets: readonly string[]): string[] {
  return hooks.map(
    (h) =>
      `  hook       ${h.phase} Job/${h.name} ${h.status} (${formatHookDuration(h.durationMs)})` +
      (h.message ? `: ${redact(h.message, secrets)}` : ''),
  );
}
