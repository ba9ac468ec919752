// A preview run as a value, and the pure renderers that turn it into the PR comment, the job summary,
// the step outputs, a terminal's text and JSON. The command builds the value; nothing here does I/O.
import type { CommandResult } from '../app/result.js';
import { commentMarker } from '../model/labels.js';
import { OUTPUT } from '../settings/inputs.js';
import type { PreviewNames } from '../steps/names.js';
import { formatKind, formatObjectId, type ObjectId } from '../model/object-id.js';
import { renderPreviewComment, type PreviewStatus } from './comment.js';
import type { HookResult } from '../steps/hooks.js';
import { hooksMarkdown, hooksText } from './hooks.js';
import { codeBlock, codeSpan, escapeMarkdown, redact } from './markdown.js';

/** Diagnostics in the job summary are cut here; the log has them whole. */
const SUMMARY_DIAGNOSTICS_MAX = 20_000;

export type PreviewOutcome = 'skipped' | 'superseded' | 'deploying' | 'ready' | 'failed' | 'cancelled';

export interface PreviewReport {
  outcome: PreviewOutcome;
  /** Why a run was skipped or superseded, in a sentence. */
  note?: string;
  pr: { number: number; headSha: string; headRef: string; title: string };
  names: PreviewNames;
  /** The app, in a repository with several (its own comment and names). */
  app?: string;
  /** Where the preview answers ('' when nothing routes to it, or not known yet). */
  url: string;
  /** Further URLs of an app with several hosts. */
  moreUrls: string[];
  /** With no URL: how to reach the preview instead. */
  reach?: string;
  /** Said plainly on the comment and summary: e.g. that no image of this PR was set. */
  caveat?: string;
  /** Every image the rendered workloads run (overrides first), named as in the manifests. */
  images: { name: string; ref: string }[];
  applied: { id: ObjectId; ref: string; action: string }[];
  pruned: ObjectId[];
  /** The state of every object judged, by ref. */
  workloads: { ref: string; ready: boolean; state: string }[];
  /** The lifecycle hooks this run ran (name, phase, result, duration, log tail). */
  hooks?: HookResult[];
  failure?: string;
  diagnostics?: string;
  /** One clock reading for the whole run: the namespace's record and the comment agree. */
  updatedAt: Date;
  expiresAt: Date;
  runUrl?: string;
  deploymentId?: number;
  commentId?: number;
  warnings: string[];
}

/** Values that must not appear in anything rendered (the preview's own Secret values). */
export type Secrets = readonly string[];

export function previewResult(r: PreviewReport, secrets: Secrets): CommandResult {
  const ok = r.outcome !== 'failed' && r.outcome !== 'cancelled';
  return {
    ok,
    failure: r.failure,
    outputs: previewOutputs(r),
    summary: previewSummary(r, secrets),
    text: previewText(r, secrets),
    json: previewJson(r, secrets),
  };
}

export function previewOutputs(r: PreviewReport): Record<string, string> {
  if (r.outcome === 'skipped') return {};
  return {
    [OUTPUT.namespace]: r.names.namespace,
    // A superseded run's URL is not where its commit runs.
    [OUTPUT.url]: r.outcome === 'superseded' ? '' : r.url,
    [OUTPUT.deploymentId]: r.deploymentId ? String(r.deploymentId) : '',
    [OUTPUT.commentId]: r.commentId ? String(r.commentId) : '',
    [OUTPUT.applied]: String(r.applied.length),
    [OUTPUT.images]: JSON.stringify(deployedImages(r)),
  };
}

/**
 * The images to show: what this run is deploying or deployed. A run that applied nothing (refused
 * before any write, or superseded) shows none: it would name images that do not run.
 */
function shownImages(r: PreviewReport): { name: string; ref: string }[] {
  if (r.outcome === 'superseded') return []; // a newer commit's images run now
  return r.applied.length > 0 || r.outcome === 'deploying' ? r.images : [];
}

/** The `images` output: every image the deployed workloads run (name as in the manifests → reference). */
function deployedImages(r: PreviewReport): Record<string, string> {
  return Object.fromEntries(
    shownImages(r)
      .filter(() => r.applied.length > 0)
      .map((i) => [i.name, i.ref]),
  );
}

const HEADLINE: Record<PreviewOutcome, string> = {
  skipped: 'skipped',
  superseded: '⏭️ superseded',
  deploying: '⏳ deploying',
  ready: '✅ ready',
  failed: '❌ failed',
  cancelled: '⏹️ cancelled',
};

export function previewSummary(r: PreviewReport, secrets: Secrets): string {
  if (r.outcome === 'skipped') return `## kubestage preview: skipped\n\n${r.note ?? ''}\n`;
  const state = new Map(r.workloads.map((w) => [w.ref, w.state]));
  const lines = [
    `## kubestage preview: PR #${r.pr.number} ${HEADLINE[r.outcome]}`,
    '',
    r.url
      ? `- URL: ${[r.url, ...r.moreUrls].map((u) => `[${u}](${u})`).join(', ')}`
      : `- URL: none (nothing routes to the preview)${r.reach ? `; reach it with \`${r.reach}\`` : ''}`,
    `- Namespace: \`${r.names.namespace}\``,
    `- Commit: \`${r.pr.headSha.slice(0, 7)}\``,
  ];
  if (r.note) lines.push(`- ${escapeMarkdown(r.note)}`);
  if (r.caveat) lines.push(`- ⚠️ ${escapeMarkdown(r.caveat)}`);
  if (r.failure) {
    const text = redact(r.failure, secrets);
    // A multi-line reason (the guard's list) stays readable as a block.
    if (text.includes('\n')) lines.push('- Failure:', '', codeBlock(text), '');
    else lines.push(`- Failure: ${escapeMarkdown(text)}`);
  }
  if (shownImages(r).length) {
    lines.push('', '| image | reference |', '|---|---|');
    for (const i of shownImages(r))
      lines.push(`| ${escapeMarkdown(i.name)} | ${codeSpan(i.ref, { inTable: true })} |`);
  }
  if (r.applied.length) {
    lines.push('', '| object | applied | state |', '|---|---|---|');
    for (const a of r.applied)
      lines.push(`| ${escapeMarkdown(a.ref)} | ${a.action} | ${escapeMarkdown(state.get(a.ref) ?? '—')} |`);
  }
  if (r.hooks?.length) lines.push('', hooksMarkdown(r.hooks, secrets));
  if (r.pruned.length)
    lines.push(
      '',
      `Pruned (no longer rendered): ${r.pruned.map((p) => codeSpan(formatObjectId(p))).join(', ')}`,
    );
  if (r.diagnostics) {
    // The summary is read when the comment could not be written (forks) or is turned off.
    const text = redact(r.diagnostics, secrets);
    const cut =
      text.length > SUMMARY_DIAGNOSTICS_MAX
        ? `${text.slice(0, SUMMARY_DIAGNOSTICS_MAX)}\n… (cut; the full text is in the log)`
        : text;
    lines.push('', '<details open><summary>Why it failed</summary>', '', codeBlock(cut), '', '</details>');
  }
  if (r.warnings.length)
    lines.push('', '**Warnings**', ...r.warnings.map((w) => `- ${escapeMarkdown(redact(w, secrets))}`));
  return lines.join('\n') + '\n';
}

/** The PR comment for a report that is deploying, ready or failed. */
export function previewComment(r: PreviewReport, secrets: Secrets): string {
  const state = new Map(r.workloads.map((w) => [w.ref, w.state]));
  const status: PreviewStatus =
    r.outcome === 'ready' || r.outcome === 'failed' || r.outcome === 'cancelled' ? r.outcome : 'deploying';
  return renderPreviewComment({
    status,
    marker: commentMarker(r.app),
    app: r.app,
    diagnostics: status === 'failed' ? r.diagnostics : undefined,
    secrets: [...secrets],
    sections: r.hooks?.length ? [hooksMarkdown(r.hooks, secrets)] : undefined,
    url: r.url,
    moreUrls: r.moreUrls,
    reach: r.reach,
    note: r.caveat,
    namespace: r.names.namespace,
    headSha: r.pr.headSha,
    headRef: r.pr.headRef,
    prTitle: r.pr.title,
    images: shownImages(r),
    updatedAt: r.updatedAt,
    expiresAt: r.expiresAt,
    runUrl: r.runUrl,
    // Workloads (what has a state) before config objects: what a reviewer looks for first.
    objects: [...r.applied]
      .sort((a, b) => Number(state.has(b.ref)) - Number(state.has(a.ref)))
      .map((a) => ({
        kind: formatKind(a.id),
        name: a.id.name,
        state: state.get(a.ref) ?? a.action,
      })),
  });
}

/** For a terminal: the outcome, where, and why not. */
export function previewText(r: PreviewReport, secrets: Secrets): string {
  if (r.outcome === 'skipped') return `preview skipped: ${r.note ?? ''}\n`;
  const lines = [
    `preview of PR #${r.pr.number} (${r.pr.headSha.slice(0, 7)}): ${r.outcome}`,
    `  namespace  ${r.names.namespace}`,
    `  url        ${r.outcome === 'superseded' ? '-' : r.url || `- (${r.reach ?? 'nothing routes to it'})`}`,
  ];
  if (r.note) lines.push(`  note       ${r.note}`);
  for (const i of shownImages(r)) lines.push(`  image      ${i.name} = ${i.ref}`);
  for (const w of r.workloads) lines.push(`  ${w.ready ? 'ready' : 'not ready'}  ${w.ref} ${w.state}`);
  lines.push(...hooksText(r.hooks ?? [], secrets));
  if (r.failure) lines.push('', redact(r.failure, secrets));
  for (const w of r.warnings) lines.push(`warning: ${redact(w, secrets)}`);
  return lines.join('\n') + '\n';
}

export function previewJson(r: PreviewReport, secrets: Secrets): unknown {
  return {
    command: 'preview',
    outcome: r.outcome,
    note: r.note,
    pr: r.pr.number,
    headSha: r.pr.headSha,
    namespace: r.names.namespace,
    url: r.outcome === 'superseded' ? '' : r.url,
    moreUrls: r.moreUrls,
    reach: r.reach,
    caveat: r.caveat,
    images: deployedImages(r),
    running: shownImages(r),
    applied: r.applied.map((a) => ({ object: a.ref, action: a.action })),
    pruned: r.pruned.map(formatObjectId),
    workloads: r.workloads,
    hooks: (r.hooks ?? []).map((h) => ({
      ...h,
      message: h.message === undefined ? undefined : redact(h.message, secrets),
      logTail: h.logTail.map((l) => redact(l, secrets)),
    })),
    failure: r.failure === undefined ? undefined : redact(r.failure, secrets),
    updatedAt: r.updatedAt.toISOString(),
    expiresAt: r.expiresAt.toISOString(),
    deploymentId: r.deploymentId,
    commentId: r.commentId,
    warnings: r.warnings.map((w) => redact(w, secrets)),
  };
}
