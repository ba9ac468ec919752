// deploy, promote and rollback as values: what changed in a stage, with the evidence (revision,
// digests before → after, commit, who triggered and who approved, smoke figures, the automatic
// rollback) for the job summary, the terminal, outputs and JSON.
import type { CommandResult } from '../app/result.js';
import type { RevisionImage } from '../model/ledger.js';
import { OUTPUT } from '../settings/inputs.js';
import type { StageOutcome } from '../steps/stage.js';
import { escapeMarkdown } from './markdown.js';
import { smokeLines, smokeTable } from './smoke.js';

const VERB = { deploy: 'Deployed to', promote: 'Promoted to', rollback: 'Rolled back' } as const;
const FAILED = { deploy: 'Deploy to', promote: 'Promotion to', rollback: 'Rollback of' } as const;

export interface StageReport {
  outcome: StageOutcome;
  /** The images the stage ran before (its previous current revision). */
  before?: RevisionImage[];
  /** Lines on what was checked before anything was written (approval, freeze, source stage). */
  checks: string[];
}

/** The headline: what happened, in one line. */
export function stageHeadline(o: StageOutcome): string {
  const rev = o.revision?.number;
  const target = o.kind === 'rollback' ? `${o.stage} to revision ${o.revision?.restores}` : o.stage;
  if (o.ok) return `✅ ${VERB[o.kind]} ${target} (revision ${rev})`;
  const failed = `❌ ${FAILED[o.kind]} ${target} failed (revision ${rev}): ${o.message ?? 'failed'}`;
  if (o.rollback) {
    const r = o.rollback;
    return r.ok
      ? `${failed}; rolled back automatically to revision ${r.revision?.restores}, which runs again (revision ${r.revision?.number})`
      : `${failed}; the automatic rollback to revision ${r.revision?.restores} failed too (revision ${r.revision?.number}: ${r.message})`;
  }
  return o.noRollback ? `${failed}; not rolled back: ${o.noRollback}` : failed;
}

export function stageResult(r: StageReport): CommandResult {
  const o = r.outcome;
  const rev = o.revision;
  const live = o.ok ? o : o.rollback?.ok ? o.rollback : undefined;
  const images = runningNow(o);
  const outputs: Record<string, string> = {
    [OUTPUT.environment]: o.stage,
    [OUTPUT.revision]: String(rev?.number ?? ''),
    [OUTPUT.result]: o.ok ? 'succeeded' : o.rollback?.ok ? 'rolled-back' : 'failed',
    [OUTPUT.images]: JSON.stringify(Object.fromEntries(images.map((i) => [i.name, i.ref]))),
  };
  if (o.rollback?.revision) outputs[OUTPUT.rolledBackTo] = String(o.rollback.revision.restores ?? '');
  if (live && rev?.url) outputs[OUTPUT.url] = rev.url;
  if (o.deploymentId) outputs[OUTPUT.deploymentId] = String(o.deploymentId);
  const headline = stageHeadline(o);
  return {
    ok: o.ok,
    ...(o.ok ? {} : { failure: headline.replace(/^❌ /, '') }),
    outputs,
    summary: summary(r, headline),
    text: text(r, headline),
    json: {
      command: o.kind,
      stage: o.stage,
      ok: o.ok,
      revision: rev ? revisionJson(rev) : undefined,
      previous: o.previous?.number,
      checks: r.checks,
      message: o.message,
      smoke: o.smoke,
      rollback: o.rollback
        ? {
            ok: o.rollback.ok,
            revision: o.rollback.revision ? revisionJson(o.rollback.revision) : undefined,
            message: o.rollback.message,
          }
        : undefined,
      noRollback: o.noRollback,
    },
  };
}

function revisionJson(rev: NonNullable<StageOutcome['revision']>): Record<string, unknown> {
  return {
    number: rev.number,
    kind: rev.kind,
    from: rev.from,
    restores: rev.restores,
    commit: rev.commit,
    images: rev.images,
    actor: rev.actor,
    approvers: rev.approvers,
    bypass: rev.bypass,
    freezeOverride: rev.freezeOverride,
    result: rev.result,
    url: rev.url,
    runUrl: rev.runUrl,
    startedAt: rev.startedAt.toISOString(),
    finishedAt: rev.finishedAt?.toISOString(),
  };
}

/** What runs now: after an automatic rollback, the restored revision's images. */
function runningNow(o: StageOutcome): RevisionImage[] {
  return (o.rollback?.ok ? o.rollback.revision?.images : undefined) ?? o.revision?.images ?? [];
}

function imageRows(before: RevisionImage[] | undefined, after: RevisionImage[]): [string, string, string][] {
  const old = new Map((before ?? []).map((i) => [i.name, i.ref]));
  return after.map((i) => [i.name, digestOf(old.get(i.name)) ?? '—', digestOf(i.ref) ?? i.ref]);
}

/** `sha256:0123456789ab` (12 hex digits, as `docker images` shows), or the reference when not pinned. */
export function digestOf(ref: string | undefined): string | undefined {
  if (!ref) return undefined;
  const m = /@sha256:([a-f0-9]{64})$/.exec(ref);
  return m ? `sha256:${m[1].slice(0, 12)}` : ref;
}

function facts(r: StageReport): [string, string][] {
  const o = r.outcome;
  const rev = o.revision;
  const out: [string, string][] = [];
  if (!rev) return out;
  out.push(['Stage', `${o.stage} (revision ${rev.number}, ${rev.result})`]);
  if (rev.from) out.push(['From', rev.from]);
  if (rev.restores) out.push(['Restores', `revision ${rev.restores}`]);
  if (o.previous) out.push(['Before', `revision ${o.previous.number}`]);
  if (rev.commit) out.push(['Commit', rev.commit.slice(0, 12)]);
  out.push(['By', rev.actor]);
  if (rev.approvers.length)
    out.push(['Approved by', rev.approvers.map((a) => `${a.user} (${a.environment})`).join(', ')]);
  if (rev.bypass) out.push(['Approval bypassed', rev.bypass.reason]);
  if (rev.freezeOverride)
    out.push(['Freeze overridden', `${rev.freezeOverride.window}: ${rev.freezeOverride.reason}`]);
  if (rev.url) out.push(['URL', rev.url]);
  return out;
}

function summary(r: StageReport, headline: string): string {
  const o = r.outcome;
  const lines = [`## ${escapeMarkdown(headline)}`, ''];
  const f = facts(r);
  if (f.length) {
    lines.push('| | |', '|---|---|', ...f.map(([k, v]) => `| ${k} | ${escapeMarkdown(v)} |`), '');
  }
  if (r.checks.length)
    lines.push('**Checked before any change:**', '', ...r.checks.map((c) => `- ${escapeMarkdown(c)}`), '');
  const now = runningNow(o);
  if (now.length) {
    lines.push('### Images', '', '| Image | Before | Now |', '|---|---|---|');
    for (const [n, b, a] of imageRows(r.before, now)) lines.push(`| \`${n}\` | \`${b}\` | \`${a}\` |`);
    lines.push('');
  }
  if (o.unpinned?.length)
    lines.push(
      `⚠️ Recorded by tag (no pod ran them, so no digest was seen; a protected stage will refuse them): ${o.unpinned.map((u) => `\`${u}\``).join(', ')}`,
      '',
    );
  if (o.smoke) lines.push('### Smoke checks', '', smokeTable(o.smoke), '');
  if (o.diagnostics)
    lines.push('### What the cluster says', '', '```', o.diagnostics.slice(0, 6000), '```', '');
  if (o.rollback) {
    lines.push('### Automatic rollback', '', escapeMarkdown(stageHeadline(o.rollback)), '');
    if (o.rollback.smoke) lines.push(smokeTable(o.rollback.smoke), '');
  }
  return lines.join('\n');
}

function text(r: StageReport, headline: string): string {
  const o = r.outcome;
  const m = o.marker ? `${o.marker} ` : '';
  const lines = [`${m}${headline}`];
  for (const [k, v] of facts(r)) lines.push(`  ${k}: ${v}`);
  for (const c of r.checks) lines.push(`  checked: ${c}`);
  for (const [n, b, a] of imageRows(r.before, runningNow(o))) lines.push(`  ${n}: ${b} → ${a}`);
  if (o.smoke) lines.push(...smokeLines(o.smoke).map((l) => `  ${l}`));
  if (o.rollback) lines.push(`  rollback: ${stageHeadline(o.rollback)}`);
  return lines.map((l, i) => (i === 0 || !m ? l : `${m}${l}`)).join('\n');
}

/** A change refused before anything was written. */
export function refusedResult(
  command: string,
  stage: string,
  reason: string,
  checks: string[] = [],
): CommandResult {
  const headline = `🛑 ${command} to ${stage} refused: nothing was changed.`;
  return {
    ok: false,
    failure: `${command} to ${stage} refused: ${reason}`,
    outputs: { [OUTPUT.environment]: stage, [OUTPUT.result]: 'refused' },
    summary: [
      `## ${escapeMarkdown(headline)}`,
      '',
      escapeMarkdown(reason),
      '',
      ...checks.map((c) => `- ${escapeMarkdown(c)}`),
    ].join('\n'),
    text: [headline, reason, ...checks.map((c) => `  checked: ${c}`)].join('\n'),
    json: { command, stage, ok: false, refused: reason, checks },
  };
}
