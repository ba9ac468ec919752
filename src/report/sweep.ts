// A sweep as a value, and its pure renderers: a table for people (terminal, job summary), JSON outputs
// for the workflow (`deleted`, `kept`, `errors`).
import type { CommandResult } from '../app/result.js';
import type { PullFate } from '../github/pulls.js';
import { OUTPUT } from '../settings/inputs.js';
import { formatDistance, formatUtc } from './comment.js';
import { codeBlock, escapeMarkdown, textTable } from './markdown.js';

/** What the sweep did with a namespace (`would-delete`: dry-run). */
export type SweepAction = 'deleted' | 'would-delete' | 'kept' | 'stuck' | 'error';

/**
 * Why: a preview goes when it expired (`expired`) or its PR is closed, merged or gone; it stays while its
 * PR is open and it has not expired (`open`), past its expiry with the keep label (`keep-label`), and
 * when nothing tells whose it is (`no-pr`) or GitHub could not be asked (`pr-unknown`).
 */
export type SweepReason =
  | 'expired'
  | 'pr-closed'
  | 'pr-merged'
  | 'pr-gone'
  | 'open'
  | 'keep-label'
  | 'no-pr'
  | 'pr-unknown'
  | 'pr-unconfirmed';

export interface SweepRow {
  namespace: string;
  pr?: number;
  /** The PR's state as GitHub gave it; `unknown` when it could not be read. */
  prState?: PullFate | 'unknown';
  expiresAt?: Date;
  action: SweepAction;
  reason: SweepReason;
  /** stuck: what holds the namespace; error: what failed; deleted: set when GitHub could not be told. */
  error?: string;
  /** Objects kubestage had created in the namespace (deleted rows). */
  objectsRemoved?: number;
  /** The PR comment now says the preview was removed, and why. */
  commentUpdated?: boolean;
  /** GitHub deployments marked inactive. */
  deactivated?: number;
}

export interface SweepReport {
  repo: string;
  at: Date;
  dryRun: boolean;
  keepLabel: string;
  rows: SweepRow[];
  /** GitHub requests spent on the PRs' states, and how they were read. */
  pullRequests: { requests: number; how: string[] };
  warnings: string[];
}

const REASON_WORDS: Record<SweepReason, string> = {
  expired: 'expired',
  'pr-closed': 'PR closed',
  'pr-merged': 'PR merged',
  'pr-gone': 'PR gone',
  open: 'PR open, not expired',
  'keep-label': 'expired, kept by label',
  'no-pr': 'records no PR',
  'pr-unknown': 'PR state unknown',
  'pr-unconfirmed': 'PR in neither list; confirmed by a later sweep',
};

/** The reason in words, with the label for `keep-label`. */
export function reasonText(row: Pick<SweepRow, 'reason'>, keepLabel: string): string {
  return row.reason === 'keep-label' ? `expired, kept by label ${keepLabel}` : REASON_WORDS[row.reason];
}

/** Rows that count as errors: not deleted when they should have been, or deleted with GitHub not told. */
function isError(row: SweepRow): boolean {
  return row.action === 'stuck' || row.action === 'error' || row.error !== undefined;
}

export function sweepResult(r: SweepReport): CommandResult {
  const gone = r.rows.filter((x) => x.action === 'deleted' || x.action === 'would-delete');
  const kept = r.rows.filter((x) => x.action === 'kept');
  const errors = r.rows.filter(isError);
  const entry = (x: SweepRow) => ({ namespace: x.namespace, pr: x.pr ?? null, reason: x.reason });
  return {
    ok: errors.length === 0,
    failure: errors.length
      ? `${errors.length} preview namespace(s) could not be swept cleanly:\n` +
        errors.map((x) => `  ${x.namespace}: ${x.error ?? reasonText(x, r.keepLabel)}`).join('\n')
      : undefined,
    outputs: {
      [OUTPUT.deleted]: JSON.stringify(gone.map(entry)),
      [OUTPUT.kept]: JSON.stringify(kept.map(entry)),
      [OUTPUT.errors]: JSON.stringify(
        errors.map((x) => ({ namespace: x.namespace, pr: x.pr ?? null, error: x.error ?? '' })),
      ),
    },
    summary: sweepSummary(r),
    text: sweepText(r),
    json: {
      command: 'sweep',
      repo: r.repo,
      at: r.at.toISOString(),
      dryRun: r.dryRun,
      keepLabel: r.keepLabel,
      rows: r.rows.map((x) => ({ ...x, expiresAt: x.expiresAt?.toISOString() })),
      pullRequests: r.pullRequests,
      warnings: r.warnings,
    },
  };
}

function actionWord(x: SweepRow): string {
  if (x.action === 'deleted' && x.error) return 'deleted (GitHub not told)';
  return x.action === 'would-delete' ? 'would delete' : x.action;
}

function headline(r: SweepReport): string {
  const n = (a: SweepAction) => r.rows.filter((x) => x.action === a).length;
  const errors = r.rows.filter(isError).length;
  return r.dryRun
    ? `dry run: ${n('would-delete')} of ${r.rows.length} preview(s) would be deleted, ${n('kept')} kept; nothing was changed`
    : `${n('deleted')} of ${r.rows.length} preview(s) deleted, ${n('kept')} kept, ${errors} error(s)`;
}

export function sweepText(r: SweepReport): string {
  if (!r.rows.length)
    return `No previews of ${r.repo} to sweep.\n${r.warnings.map((w) => `warning: ${w}\n`).join('')}`;
  const cols: [string, (x: SweepRow) => string][] = [
    ['NAMESPACE', (x) => x.namespace],
    ['PR', (x) => (x.pr ? `#${x.pr}` : '-')],
    ['PR STATE', (x) => x.prState ?? '-'],
    ['EXPIRES', (x) => (x.expiresAt ? formatDistance(r.at, x.expiresAt) : '-')],
    ['ACTION', actionWord],
    ['REASON', (x) => reasonText(x, r.keepLabel)],
  ];
  const out = [`sweep of ${r.repo}: ${headline(r)}`, '', ...textTable(r.rows, cols)];
  for (const x of r.rows) if (x.error) out.push('', `${x.namespace}: ${x.error}`);
  for (const w of r.warnings) out.push(`warning: ${w}`);
  out.push(
    `PR states: ${r.pullRequests.requests} GitHub request(s) (${r.pullRequests.how.join('; ') || 'none'})`,
  );
  return out.join('\n') + '\n';
}

export function sweepSummary(r: SweepReport): string {
  const title = `## kubestage sweep: ${r.repo}${r.dryRun ? ' (dry run)' : ''}`;
  if (!r.rows.length) return `${title}\n\nNo previews to sweep.\n`;
  const lines = [
    title,
    '',
    `${headline(r)}, as of ${formatUtc(r.at)}. A PR labelled \`${escapeMarkdown(r.keepLabel)}\` keeps its preview past expiry.`,
    '',
    '| namespace | PR | PR state | expires | action | reason |',
    '|---|---|---|---|---|---|',
  ];
  for (const x of r.rows) {
    lines.push(
      `| \`${x.namespace}\` | ${x.pr ? `#${x.pr}` : '-'} | ${x.prState ?? '-'} | ${x.expiresAt ? formatUtc(x.expiresAt) : '-'} | ${actionWord(x)} | ${escapeMarkdown(reasonText(x, r.keepLabel))} |`,
    );
  }
  const errors = r.rows.filter((x) => x.error);
  if (errors.length) {
    lines.push('', '### Errors', '');
    for (const x of errors) lines.push(`**\`${x.namespace}\`**`, '', codeBlock(x.error ?? ''), '');
  }
  if (r.warnings.length) lines.push('', '**Warnings**', ...r.warnings.map((w) => `- ${escapeMarkdown(w)}`));
  return lines.join('\n') + '\n';
}
