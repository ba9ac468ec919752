// `plan` as a value: what a reviewer needs before pressing "Approve" — commits, digests old → new, the
// manifest diff, drift, and what would stop the promotion — for the job summary, terminal and outputs.
import type { CommandResult } from '../app/result.js';
import type { CommitRange } from '../github/pulls.js';
import type { Drift, ManifestDiff } from '../model/diff.js';
import type { Revision, RevisionImage } from '../model/ledger.js';
import { OUTPUT } from '../settings/inputs.js';
import { escapeMarkdown } from './markdown.js';
import { digestOf } from './stage.js';

export interface PlanReport {
  from: string;
  to: string;
  fromRevision: Revision;
  toRevision?: Revision;
  before?: RevisionImage[];
  after: { name: string; ref: string }[];
  diff: ManifestDiff;
  drift: Drift[];
  commits?: CommitRange;
  commitsNote?: string;
  /** What would refuse the promotion now. */
  blockers: string[];
  notes: string[];
}

/** The diff shown in the summary is cut here; the whole one is in the `plan` output and JSON. */
const SUMMARY_DIFF_LINES = 400;

function imageChanges(r: PlanReport): { name: string; before?: string; after: string; changed: boolean }[] {
  const old = new Map((r.before ?? []).map((i) => [i.name, i.ref]));
  return r.after.map((i) => ({
    name: i.name,
    ...(old.has(i.name) ? { before: old.get(i.name) } : {}),
    after: i.ref,
    changed: old.get(i.name) !== i.ref,
  }));
}

export function planResult(r: PlanReport): CommandResult {
  const images = imageChanges(r);
  const changed = r.diff.changes.length > 0 || images.some((i) => i.changed);
  const headline = r.blockers.length
    ? `🛑 Promotion ${r.from} → ${r.to} would be refused now`
    : changed
      ? `📋 Promotion ${r.from} → ${r.to}: ${r.diff.changes.length} object(s) change, ${images.filter((i) => i.changed).length} image(s) move`
      : `📋 Promotion ${r.from} → ${r.to}: nothing would change`;
  const json = {
    command: 'plan',
    from: r.from,
    to: r.to,
    fromRevision: r.fromRevision.number,
    toRevision: r.toRevision?.number,
    commit: { from: r.toRevision?.commit, to: r.fromRevision.commit },
    commits: r.commits?.commits,
    totalCommits: r.commits?.total,
    images,
    changes: r.diff.changes,
    unchanged: r.diff.unchanged,
    drift: r.drift,
    blockers: r.blockers,
    notes: r.notes,
    changed,
  };
  return {
    ok: r.blockers.length === 0,
    ...(r.blockers.length
      ? { failure: `promotion ${r.from} → ${r.to} would be refused: ${r.blockers.join(' ')}` }
      : {}),
    outputs: {
      [OUTPUT.plan]: JSON.stringify(json),
      [OUTPUT.changed]: String(changed),
      [OUTPUT.environment]: r.to,
      [OUTPUT.images]: JSON.stringify(Object.fromEntries(r.after.map((i) => [i.name, i.ref]))),
    },
    summary: summary(r, headline, images),
    text: text(r, headline, images),
    json,
  };
}

function summary(r: PlanReport, headline: string, images: ReturnType<typeof imageChanges>): string {
  const lines = [`## ${escapeMarkdown(headline)}`, ''];
  lines.push(
    `From **${escapeMarkdown(r.from)}** revision ${r.fromRevision.number}${r.fromRevision.commit ? ` (\`${r.fromRevision.commit.slice(0, 7)}\`)` : ''}` +
      ` to **${escapeMarkdown(r.to)}**${r.toRevision ? ` (now revision ${r.toRevision.number}${r.toRevision.commit ? `, \`${r.toRevision.commit.slice(0, 7)}\`` : ''})` : ' (first promotion)'}.`,
    '',
  );
  if (r.blockers.length)
    lines.push('### Would be refused', '', ...r.blockers.map((b) => `- ${escapeMarkdown(b)}`), '');
  if (r.notes.length) lines.push(...r.notes.map((n) => `- ${escapeMarkdown(n)}`), '');
  if (r.commits) {
    lines.push(`### Commits (${r.commits.total})`, '');
    for (const c of r.commits.commits.slice(0, 50))
      lines.push(`- \`${c.sha.slice(0, 7)}\` ${escapeMarkdown(c.title)} — @${escapeMarkdown(c.author)}`);
    if (r.commits.total > 50) lines.push(`- … [all ${r.commits.total} commits](${r.commits.htmlUrl})`);
    lines.push('');
  } else if (r.commitsNote) lines.push(escapeMarkdown(r.commitsNote), '');
  lines.push('### Images', '', '| Image | Now | After |', '|---|---|---|');
  for (const i of images)
    lines.push(
      `| \`${i.name}\` | \`${digestOf(i.before) ?? '—'}\` | ${i.changed ? '**' : ''}\`${digestOf(i.after)}\`${i.changed ? '**' : ''} |`,
    );
  lines.push('');
  lines.push(`### Manifests (${r.diff.changes.length} changed, ${r.diff.unchanged} unchanged)`, '');
  if (r.diff.changes.length) {
    const diffLines: string[] = [];
    for (const c of r.diff.changes) diffLines.push(`# ${c.object} (${c.action})`, ...c.diff);
    lines.push('```diff', ...diffLines.slice(0, SUMMARY_DIFF_LINES), '```');
    if (diffLines.length > SUMMARY_DIFF_LINES)
      lines.push(`(${diffLines.length - SUMMARY_DIFF_LINES} more lines in the \`plan\` output)`);
    lines.push('');
  }
  lines.push('### Drift', '');
  if (!r.toRevision) lines.push(`${escapeMarkdown(r.to)} has no revision yet: nothing to compare.`);
  else if (r.drift.length === 0)
    lines.push(`The live objects in ${escapeMarkdown(r.to)} match its revision ${r.toRevision.number}.`);
  else {
    lines.push(
      `Changed in the cluster since revision ${r.toRevision.number} (the promotion would overwrite it):`,
      '',
    );
    for (const d of r.drift)
      lines.push(`- ${escapeMarkdown(d.object)}: ${d.fields.map((f) => `\`${f}\``).join(', ')}`);
  }
  return lines.join('\n');
}

function text(r: PlanReport, headline: string, images: ReturnType<typeof imageChanges>): string {
  const lines = [headline];
  for (const b of r.blockers) lines.push(`  refused: ${b}`);
  for (const n of r.notes) lines.push(`  ${n}`);
  if (r.commits)
    for (const c of r.commits.commits.slice(0, 20))
      lines.push(`  commit ${c.sha.slice(0, 7)} ${c.title} (${c.author})`);
  for (const i of images)
    lines.push(
      `  ${i.name}: ${digestOf(i.before) ?? '—'} → ${digestOf(i.after)}${i.changed ? '' : ' (same)'}`,
    );
  for (const c of r.diff.changes) {
    lines.push(`  ${c.action}: ${c.object}`);
    lines.push(...c.diff.slice(0, 60).map((l) => `    ${l}`));
  }
  for (const d of r.drift) lines.push(`  drift: ${d.object}: ${d.fields.join(', ')}`);
  return lines.join('\n');
}
