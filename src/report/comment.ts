// The body of the one sticky PR comment. Pure: state in, Markdown out, so what a reviewer sees is
// tested without GitHub. Everything the PR author controls goes through escapeMarkdown.
import { COMMENT_MARKER } from '../model/labels.js';
import { INPUT, INPUT_DOCS } from '../settings/inputs.js';
import {
  GITHUB_COMMENT_MAX,
  codeBlock,
  codeSpan,
  escapeMarkdown,
  markdownLink,
  redact,
  truncateBody,
} from './markdown.js';

export type PreviewStatus = 'deploying' | 'ready' | 'failed' | 'cancelled' | 'stuck' | 'destroyed';

export interface PreviewCommentState {
  status: PreviewStatus;
  /** The preview URL (https://pr-12.preview.example.com); '' when nothing routes to the preview. */
  url: string;
  /** Further URLs the preview answers at (an app with several hosts). */
  moreUrls?: string[];
  /** With no URL: how to reach the preview instead (a `kubectl port-forward` line). */
  reach?: string;
  /** A note for the reader (e.g. that no image of this PR was set). */
  note?: string;
  /** The hidden marker that finds the comment again (commentMarker(app)); COMMENT_MARKER by default. */
  marker?: string;
  /** The app this comment is about, in a repository with several. */
  app?: string;
  namespace: string;
  headSha: string;
  headRef: string;
  prTitle?: string;
  images: { name: string; ref: string }[];
  updatedAt: Date;
  expiresAt?: Date;
  /** Link to the workflow run that made this update. */
  runUrl?: string;
  /** Why it failed, as collected from the cluster; redacted and shortened here. */
  diagnostics?: string;
  objects?: { kind: string; name: string; state: string }[];
  destroyed?: { at: Date; objectsRemoved: number };
  /**
   * Why a scheduled sweep removed (or is removing) the preview, as a clause: "the PR was merged", "it
   * expired at 2026-11-30 06:40 UTC". Absent: the PR's own cleanup.
   */
  removedBecause?: string;
  /** Values to mask in diagnostics on top of the built-in token/key patterns. */
  secrets?: string[];
  /** Further Markdown blocks, already rendered and redacted (the hooks' results), above the footer. */
  sections?: string[];
}

const HEADLINE: Record<PreviewStatus, string> = {
  deploying: '⏳ Deploying preview…',
  ready: '✅ Preview ready',
  failed: '❌ Preview failed',
  cancelled: '⏹️ Preview deployment cancelled',
  stuck: '⚠️ Preview teardown stuck',
  destroyed: '🗑️ Preview destroyed',
};

const STATUS_WORDS: Record<PreviewStatus, string> = {
  deploying: '⏳ Deploying',
  ready: '✅ Ready',
  failed: '❌ Failed',
  cancelled: '⏹️ Cancelled',
  stuck: '⚠️ Still terminating',
  destroyed: '🗑️ Destroyed',
};

/** At most this many objects are listed; the rest are counted. */
const MAX_OBJECT_ROWS = 50;
const MAX_IMAGE_ROWS = 50;
/** Room kept free below GitHub's limit, so later small additions never push the body over it. */
const SAFETY_MARGIN = 512;

/** `2026-11-23 06:40 UTC`: one format everywhere, independent of the runner's time zone. */
export function formatUtc(d: Date): string {
  return `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/** "in 3 days", "in 5 hours", "in 12 minutes", "2 hours ago": the distance from `from` to `to`. */
export function formatDistance(from: Date, to: Date): string {
  const ms = to.getTime() - from.getTime();
  const abs = Math.abs(ms);
  const minutes = Math.round(abs / 60_000);
  const hours = Math.round(abs / 3_600_000);
  const days = Math.round(abs / 86_400_000);
  const [n, unit] = minutes < 90 ? [minutes, 'minute'] : hours < 48 ? [hours, 'hour'] : [days, 'day'];
  const amount = `${n} ${unit}${n === 1 ? '' : 's'}`;
  return ms >= 0 ? `in ${amount}` : `${amount} ago`;
}

/** The first 7 characters of a hex SHA; anything else is shown escaped as given. */
function shortSha(sha: string): string {
  return /^[0-9a-f]{7,64}$/i.test(sha) ? codeSpan(sha.slice(0, 7)) : escapeMarkdown(sha);
}

function row(key: string, value: string): string {
  return `| **${key}** | ${value} |`;
}

/** Whether a comment body (ours) already reports the preview as destroyed. */
export function saysDestroyed(body: string): boolean {
  return body.includes(`### ${HEADLINE.destroyed}`);
}

export function renderPreviewComment(s: PreviewCommentState): string {
  const head = renderHead(s);
  if (s.diagnostics === undefined || s.diagnostics.trim() === '') return truncateBody(head);

  const open = '<details><summary>Diagnostics</summary>\n\n';
  const close = '\n\n</details>\n';
  const wrapperLength = open.length + close.length + codeBlock('', 'text').length + 200;
  const budget = GITHUB_COMMENT_MAX - SAFETY_MARGIN - head.length - wrapperLength;
  const diagnostics = shorten(redact(s.diagnostics, s.secrets ?? []), Math.max(0, budget));
  // truncateBody is the last guard (e.g. a head made huge by thousands of images); normally a no-op.
  return truncateBody(`${head}\n${open}${codeBlock(diagnostics, 'text')}${close}`);
}

function renderHead(s: PreviewCommentState): string {
  const lines: string[] = [
    s.marker ?? COMMENT_MARKER,
    `### ${HEADLINE[s.status]}${s.app ? ` — ${escapeMarkdown(s.app)}` : ''}`,
    '',
  ];

  // Being (or already) torn down: the URL no longer answers.
  const destroyed = s.status === 'destroyed' || s.status === 'stuck';
  if (s.status === 'destroyed') {
    const d = s.destroyed;
    const because = s.removedBecause ? ` because ${escapeMarkdown(s.removedBecause)}` : '';
    lines.push(
      d
        ? `The preview was removed at ${formatUtc(d.at)}${because}: namespace ${codeSpan(s.namespace)} and ${d.objectsRemoved} object${d.objectsRemoved === 1 ? '' : 's'} in it were deleted.`
        : `The preview was removed${because}: namespace ${codeSpan(s.namespace)} was deleted.`,
      '',
    );
  } else if (s.status === 'stuck') {
    lines.push(
      s.removedBecause
        ? `Namespace ${codeSpan(s.namespace)} is being deleted because ${escapeMarkdown(s.removedBecause)}, but something holds it. The details below name the objects and finalizers; once they are released, the namespace goes by itself.`
        : `The PR closed and namespace ${codeSpan(s.namespace)} is being deleted, but something holds it. The details below name the objects and finalizers; once they are released, re-run the cleanup.`,
      '',
    );
  } else if (s.status === 'ready') {
    lines.push(
      s.url
        ? `**${markdownLink(s.url)}**`
        : `Nothing routes to this preview (no Ingress or HTTPRoute in the manifests), so it has no URL. Reach it with ${codeSpan(s.reach ?? 'kubectl port-forward')}.`,
      '',
    );
  }
  if (s.note && !destroyed) lines.push(`> ${escapeMarkdown(s.note)}`, '');
  else if (s.status === 'failed') {
    lines.push(
      'The preview could not be deployed or did not become ready. The diagnostics below say why; the full log is in the run.',
      '',
    );
  }

  lines.push('| | |', '|---|---|');
  lines.push(row('Status', STATUS_WORDS[s.status]));
  if (s.url) {
    // A destroyed preview's URL no longer answers, so it is not a link any more.
    const urls = [s.url, ...(s.moreUrls ?? [])];
    lines.push(
      row('URL', urls.map((u) => (destroyed ? `~~${escapeMarkdown(u)}~~` : markdownLink(u))).join('<br>')),
    );
  } else if (s.reach && !destroyed) {
    lines.push(row('Reach it', codeSpan(s.reach, { inTable: true })));
  }
  lines.push(row('Namespace', codeSpan(s.namespace, { inTable: true })));
  lines.push(row('Commit', `${shortSha(s.headSha)} on ${escapeMarkdown(s.headRef)}`));
  if (s.prTitle !== undefined && s.prTitle !== '') lines.push(row('Pull request', escapeMarkdown(s.prTitle)));
  lines.push(row('Updated', formatUtc(s.updatedAt)));
  if (s.expiresAt && (s.status === 'ready' || s.status === 'deploying')) {
    // Recorded on the namespace (kubestage.dev/expires-at). Only a scheduled `sweep` acts on it, and
    // only if the repository runs one: this says what may happen, not that it will.
    lines.push(
      row(
        'Keep until',
        `${formatUtc(s.expiresAt)} (${formatDistance(s.updatedAt, s.expiresAt)}; each push extends it; after it a scheduled sweep may remove the preview unless the PR has the keep label, ${codeSpan(INPUT_DOCS[INPUT.keepLabel].default, { inTable: true })} by default)`,
      ),
    );
  }
  if (s.runUrl) lines.push(row('Run', markdownLink(s.runUrl, 'workflow run')));
  lines.push('');

  if (s.images.length > 0) {
    lines.push('| Image | Reference |', '|---|---|');
    for (const image of s.images.slice(0, MAX_IMAGE_ROWS)) {
      lines.push(`| ${escapeMarkdown(image.name)} | <code>${escapeMarkdown(image.ref)}</code> |`);
    }
    if (s.images.length > MAX_IMAGE_ROWS) lines.push(`| … and ${s.images.length - MAX_IMAGE_ROWS} more | |`);
    lines.push('');
  }

  if (s.objects && s.objects.length > 0 && !destroyed) {
    lines.push('| Kind | Name | State |', '|---|---|---|');
    for (const o of s.objects.slice(0, MAX_OBJECT_ROWS)) {
      lines.push(`| ${escapeMarkdown(o.kind)} | ${escapeMarkdown(o.name)} | ${escapeMarkdown(o.state)} |`);
    }
    if (s.objects.length > MAX_OBJECT_ROWS)
      lines.push(`| … and ${s.objects.length - MAX_OBJECT_ROWS} more | | |`);
    lines.push('');
  }

  for (const section of s.sections ?? []) lines.push(section, '');
  lines.push('<sub>Updated by kubestage. This comment is edited in place on every push.</sub>', '');
  return lines.join('\n');
}

/**
 * Fits `text` into `max` characters keeping its start (conditions, first errors) and its end (the
 * last log lines), cut at line breaks, with a line saying how much was left out.
 */
function shorten(text: string, max: number): string {
  if (text.length <= max) return text;
  const omittedNote = (n: number) =>
    `\n… ${n.toLocaleString('en-US')} characters omitted (see the run log) …\n`;
  const room = Math.max(0, max - omittedNote(text.length).length);
  let headEnd = Math.floor((room * 2) / 3);
  let tailStart = text.length - (room - headEnd);
  const nl = text.lastIndexOf('\n', headEnd);
  if (nl > headEnd / 2) headEnd = nl;
  const nl2 = text.indexOf('\n', tailStart);
  if (nl2 !== -1 && nl2 - tailStart < (text.length - tailStart) / 2) tailStart = nl2 + 1;
  // Never split a surrogate pair.
  if (/[\uD800-\uDBFF]/.test(text.charAt(headEnd - 1))) headEnd -= 1;
  if (/[\uDC00-\uDFFF]/.test(text.charAt(tailStart))) tailStart += 1;
  return `${text.slice(0, headEnd)}${omittedNote(tailStart - headEnd)}${text.slice(tailStart)}`;
}
