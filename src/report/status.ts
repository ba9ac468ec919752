// `status` as a value and its renderers: a table for people (terminal and job summary), JSON for machines.
import type { CommandResult } from '../app/result.js';
import { OUTPUT } from '../settings/inputs.js';
import { formatDistance, formatUtc } from './comment.js';
import { escapeMarkdown, markdownLink, textTable } from './markdown.js';

export type LiveState = 'ready' | 'failing' | 'deploying' | 'terminating' | 'unknown';

export interface PreviewStatusRow {
  namespace: string;
  repo?: string;
  environment?: string;
  pr?: number;
  headSha?: string;
  url?: string;
  /** What the cluster says now, whatever the record claims. */
  state: LiveState;
  /** What the last run recorded (deploying, ready, failed), when it recorded anything. */
  recorded?: string;
  /** Why it is not ready: the failing or waiting objects with their states. */
  detail?: string;
  createdAt?: Date;
  updatedAt?: Date;
  expiresAt?: Date;
  actor?: string;
  runUrl?: string;
  /** A stage's namespace: its current revision, from the ledger. */
  stage?: StageStatus;
  /** The last step kubestage took there (kubestage.dev/last-action). */
  lastAction?: string;
}

export interface StageStatus {
  revision: number;
  kind?: string;
  result?: string;
  from?: string;
  restores?: number;
  images: Record<string, string>;
  approvers: string[];
  finishedAt?: Date;
  /** `GET /healthz 10× p95 12 ms ✓`, one per check. */
  smoke: string[];
  /** Revisions kept. */
  history: number;
}

export interface StatusReport {
  scope: 'repo' | 'all-repos';
  repo: string;
  at: Date;
  previews: PreviewStatusRow[];
  warnings: string[];
}

export function statusResult(r: StatusReport): CommandResult {
  const previews = r.previews.map(jsonRow);
  return {
    ok: true,
    outputs: { [OUTPUT.previews]: JSON.stringify(previews) },
    summary: statusSummary(r),
    text: statusText(r),
    json: {
      command: 'status',
      scope: r.scope,
      repo: r.repo,
      at: r.at.toISOString(),
      previews,
      warnings: r.warnings,
    },
  };
}

function jsonRow(p: PreviewStatusRow): Record<string, unknown> {
  return {
    namespace: p.namespace,
    repo: p.repo,
    environment: p.environment,
    pr: p.pr,
    headSha: p.headSha,
    url: p.url,
    state: p.state,
    recorded: p.recorded,
    detail: p.detail,
    createdAt: p.createdAt?.toISOString(),
    updatedAt: p.updatedAt?.toISOString(),
    expiresAt: p.expiresAt?.toISOString(),
    actor: p.actor,
    runUrl: p.runUrl,
    lastAction: p.lastAction,
    ...(p.stage ? { stage: { ...p.stage, finishedAt: p.stage.finishedAt?.toISOString() } } : {}),
  };
}

function stageLine(p: PreviewStatusRow): string | undefined {
  const st = p.stage;
  if (!st) return undefined;
  const what =
    st.kind === 'promote'
      ? `promoted from ${st.from}`
      : st.kind === 'rollback'
        ? `rollback to revision ${st.restores}`
        : (st.kind ?? 'deploy');
  return (
    `${p.environment}: revision ${st.revision} (${what}, ${st.result ?? '?'})` +
    `${p.headSha ? `, commit ${p.headSha.slice(0, 7)}` : ''}, by ${p.actor ?? '?'}` +
    `${st.approvers.length ? `, approved by ${st.approvers.join(', ')}` : ''}` +
    `${st.finishedAt ? `, ${formatUtc(st.finishedAt)}` : ''}; ${st.history} revision(s) kept`
  );
}

const STATE_WORDS: Record<LiveState, string> = {
  ready: '✅ ready',
  failing: '❌ failing',
  deploying: '⏳ deploying',
  terminating: '🗑️ terminating',
  unknown: '❔ unknown',
};

/** "3 days", "5 hours": how long ago, without the "ago". */
function age(from: Date | undefined, now: Date): string {
  return from ? formatDistance(from, now).replace(/^in /, '') : '-';
}

function stateText(p: PreviewStatusRow): string {
  // A record that claims more than the cluster shows is called out: the link is not to be trusted.
  const stale = p.recorded === 'ready' && p.state !== 'ready' ? ` (recorded ready)` : '';
  return `${p.state}${stale}`;
}

export function statusText(r: StatusReport): string {
  const head = r.scope === 'all-repos' ? 'kubestage namespaces on this cluster' : `previews of ${r.repo}`;
  if (!r.previews.length) return `No ${head}.\n${r.warnings.map((w) => `warning: ${w}\n`).join('')}`;
  const cols = [
    ...(r.scope === 'all-repos' ? [['REPO', (p: PreviewStatusRow) => p.repo ?? '-'] as const] : []),
    ['NAMESPACE', (p: PreviewStatusRow) => p.namespace],
    [
      'PR',
      (p: PreviewStatusRow) =>
        p.pr ? `#${p.pr}` : p.environment && p.environment !== 'preview' ? p.environment : '-',
    ],
    ['COMMIT', (p: PreviewStatusRow) => p.headSha?.slice(0, 7) ?? '-'],
    ['STATE', stateText],
    ['AGE', (p: PreviewStatusRow) => age(p.createdAt, r.at)],
    ['UPDATED', (p: PreviewStatusRow) => (p.updatedAt ? `${age(p.updatedAt, r.at)} ago` : '-')],
    ['EXPIRES', (p: PreviewStatusRow) => (p.expiresAt ? formatDistance(r.at, p.expiresAt) : '-')],
    ['BY', (p: PreviewStatusRow) => p.actor ?? '-'],
    ['URL', (p: PreviewStatusRow) => p.url || '-'],
  ] as const;
  const out = textTable<PreviewStatusRow>(r.previews, cols);
  for (const p of r.previews) if (p.detail && p.state !== 'ready') out.push(`${p.namespace}: ${p.detail}`);
  for (const p of r.previews) if (p.lastAction && !p.stage) out.push(`${p.namespace} last: ${p.lastAction}`);
  for (const p of r.previews) {
    const line = stageLine(p);
    if (!line || !p.stage) continue;
    out.push(line);
    for (const [name, ref] of Object.entries(p.stage.images)) out.push(`  ${name}: ${ref}`);
    for (const sm of p.stage.smoke) out.push(`  smoke: ${sm}`);
  }
  for (const w of r.warnings) out.push(`warning: ${w}`);
  return out.join('\n') + '\n';
}

export function statusSummary(r: StatusReport): string {
  const title =
    r.scope === 'all-repos'
      ? '## kubestage status: every kubestage namespace'
      : `## kubestage status: ${r.repo}`;
  if (!r.previews.length) return `${title}\n\nNo previews.\n`;
  const lines = [
    title,
    '',
    `${r.previews.length} namespace${r.previews.length === 1 ? '' : 's'} as of ${formatUtc(r.at)}.`,
    '',
    `| ${r.scope === 'all-repos' ? 'repo | ' : ''}namespace | PR | commit | state | age | updated | expires | by | URL |`,
    `|${r.scope === 'all-repos' ? '---|' : ''}---|---|---|---|---|---|---|---|---|`,
  ];
  for (const p of r.previews) {
    const cells = [
      ...(r.scope === 'all-repos' ? [escapeMarkdown(p.repo ?? '-')] : []),
      `\`${p.namespace}\``,
      p.pr ? `#${p.pr}` : escapeMarkdown(p.environment ?? '-'),
      p.headSha ? `\`${p.headSha.slice(0, 7)}\`` : '-',
      `${STATE_WORDS[p.state]}${p.recorded === 'ready' && p.state !== 'ready' ? ' (recorded ready)' : ''}${p.detail && p.state !== 'ready' ? `<br>${escapeMarkdown(p.detail)}` : ''}`,
      age(p.createdAt, r.at),
      p.updatedAt ? `${age(p.updatedAt, r.at)} ago` : '-',
      p.expiresAt ? formatUtc(p.expiresAt) : '-',
      escapeMarkdown(p.actor ?? '-'),
      p.url ? markdownLink(p.url) : '-',
    ];
    lines.push(`| ${cells.join(' | ')} |`);
  }
  const stages = r.previews.filter((p) => p.stage);
  if (stages.length) {
    lines.push(
      '',
      '### Stages',
      '',
      '| stage | revision | images | approved by | smoke |',
      '|---|---|---|---|---|',
    );
    for (const p of stages) {
      const st = p.stage as StageStatus;
      lines.push(
        `| ${escapeMarkdown(p.environment ?? p.namespace)} | ${escapeMarkdown(stageLine(p)?.replace(/^[^:]*: /, '') ?? '')} | ${Object.entries(
          st.images,
        )
          .map(([n, ref]) => `\`${n}\` → \`${ref.replace(/^.*@/, '@')}\``)
          .join(
            '<br>',
          )} | ${escapeMarkdown(st.approvers.join(', ') || '-')} | ${escapeMarkdown(st.smoke.join('; ') || '-')} |`,
      );
    }
  }
  if (r.warnings.length) lines.push('', '**Warnings**', ...r.warnings.map((w) => `- ${escapeMarkdown(w)}`));
  return lines.join('\n') + '\n';
}
