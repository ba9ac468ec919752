// Smoke check results for people: a Markdown table for the job summary, plain lines for the log and
// the CLI. Pure: a report in, text out.
import type { SmokeReport, SmokeResult } from '../steps/smoke.js';
import { codeSpan, escapeMarkdown } from './markdown.js';

function ms(v: number | null): string {
  return v === null ? '–' : `${v} ms`;
}

/** "200 ×18, 503 ×2, no answer ×1" */
export function answers(r: SmokeResult): string {
  const parts = Object.entries(r.statuses)
    .sort(([a], [b]) => Number(a) - Number(b))
    .map(([status, n]) => `${status} ×${n}`);
  if (r.errors > 0) parts.push(`no answer ×${r.errors}`);
  return parts.join(', ') || 'none';
}

/** One line for one check, e.g. "✓ GET /healthz: 200 ×1, p95 3 ms (limit 500 ms)". */
export function smokeLine(r: SmokeResult): string {
  const head = `${r.ok ? '✓' : '✗'} ${r.method} ${r.path}`;
  if (!r.ok)
    return `${head}: ${r.failure ?? 'failed'} [${answers(r)}; p50 ${ms(r.p50Ms)}, p95 ${ms(r.p95Ms)}, max ${ms(r.maxMs)}]`;
  return `${head}: ${answers(r)}, p95 ${ms(r.p95Ms)} (limit ${r.p95LimitMs} ms)`;
}

/** Plain lines: a summary line, then one per check; `marker` (the stage's) starts every line. */
export function smokeLines(report: SmokeReport, options: { marker?: string } = {}): string[] {
  const failed = report.checks.filter((c) => !c.ok).length;
  const summary =
    report.checks.length === 0
      ? 'Smoke checks: none configured'
      : failed === 0
        ? `Smoke checks passed (${report.checks.length} of ${report.checks.length})`
        : `Smoke checks failed: ${failed} of ${report.checks.length}`;
  const prefix = options.marker ? `${options.marker} ` : '';
  return [summary, ...report.checks.map((c) => `  ${smokeLine(c)}`)].map((l) => `${prefix}${l}`);
}

/** A Markdown table for the job summary (paths and failures escaped: they come from configuration). */
export function smokeTable(report: SmokeReport): string {
  if (report.checks.length === 0) return '_No smoke checks configured._\n';
  const rows = report.checks.map((c) =>
    [
      c.ok ? '✅' : '❌',
      codeSpan(`${c.method} ${c.path}`, { inTable: true }),
      String(c.requests),
      `${escapeMarkdown(answers(c))} (${c.expectedStatus})`,
      ms(c.p50Ms),
      `${ms(c.p95Ms)} (limit ${c.p95LimitMs} ms)`,
      ms(c.maxMs),
      c.ok ? 'passed' : escapeMarkdown(c.failure ?? 'failed'),
    ].join(' | '),
  );
  return (
    [
      '| | Check | Requests | Answers (expected) | p50 | p95 | max | Result |',
      '|---|---|---:|---|---:|---:|---:|---|',
      ...rows.map((r) => `| ${r} |`),
    ].join('\n') + '\n'
  );
}
