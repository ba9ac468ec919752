// A cleanup run as a value, and its pure renderers (summary, outputs, text, JSON).
import type { CommandResult } from '../app/result.js';
import { OUTPUT } from '../settings/inputs.js';
import type { PreviewNames } from '../steps/names.js';
import { codeBlock, escapeMarkdown } from './markdown.js';

export interface CleanupReport {
  /** removed: deleted and verified gone (or already gone); stuck: still Terminating; refused: nothing deleted. */
  outcome: 'removed' | 'stuck' | 'refused';
  pr: number;
  names: PreviewNames;
  /** The URL the preview had, as its namespace recorded it ('' when it had none or is already gone). */
  url: string;
  alreadyGone: boolean;
  /** Objects kubestage had created in the namespace. */
  objectsCreated: number;
  /** Of those, what is verifiably gone. */
  objectsRemoved: number;
  /** stuck: how many objects still hold the namespace. */
  held: number;
  failure?: string;
  deactivated: number;
  commentId?: number;
  warnings: string[];
  /**
   * Set when the namespace is gone but the PR comment that announced it could not be updated: the PR
   * would go on showing a live preview, so the step fails and a re-run fixes the comment.
   */
  unannounced?: string;
}

export function cleanupResult(r: CleanupReport): CommandResult {
  return {
    ok: r.outcome === 'removed' && !r.unannounced,
    failure: r.failure ?? r.unannounced,
    outputs: {
      [OUTPUT.namespace]: r.names.namespace,
      [OUTPUT.url]: r.url,
      [OUTPUT.commentId]: r.commentId ? String(r.commentId) : '',
      [OUTPUT.objectsRemoved]: String(r.objectsRemoved),
    },
    summary: cleanupSummary(r),
    text: cleanupText(r),
    json: { command: 'cleanup', ...r },
  };
}

export function cleanupSummary(r: CleanupReport): string {
  if (r.outcome === 'refused') {
    return `## kubestage cleanup: PR #${r.pr} ❌ refused\n\n- Namespace: \`${r.names.namespace}\`\n\n${codeBlock(r.failure ?? '')}\n`;
  }
  const stuck = r.outcome === 'stuck';
  return (
    [
      `## kubestage cleanup: PR #${r.pr} ${stuck ? '❌ namespace still terminating' : '🧹 removed'}`,
      '',
      `- Namespace: \`${r.names.namespace}\` ${r.alreadyGone ? '(was already gone)' : stuck ? '(Terminating)' : '(deleted, verified gone)'}`,
      stuck
        ? `- Objects created by kubestage: ${r.objectsCreated}; deletion started, ${r.held} object(s) still held`
        : `- Objects created by kubestage that were removed: ${r.objectsRemoved}`,
      `- GitHub deployments marked inactive: ${r.deactivated}`,
      ...(r.failure ? ['', codeBlock(r.failure)] : []),
      ...(r.warnings.length ? ['', '**Warnings**', ...r.warnings.map((w) => `- ${escapeMarkdown(w)}`)] : []),
    ].join('\n') + '\n'
  );
}

export function cleanupText(r: CleanupReport): string {
  const head =
    r.outcome === 'refused'
      ? `cleanup of PR #${r.pr} refused: nothing was deleted`
      : r.outcome === 'stuck'
        ? `cleanup of PR #${r.pr}: namespace ${r.names.namespace} is still terminating`
        : r.alreadyGone
          ? `cleanup of PR #${r.pr}: namespace ${r.names.namespace} was already gone`
          : `cleanup of PR #${r.pr}: namespace ${r.names.namespace} deleted and verified gone (${r.objectsRemoved} objects removed)`;
  return (
    [head, ...(r.failure ? ['', r.failure] : []), ...r.warnings.map((w) => `warning: ${w}`)].join('\n') + '\n'
  );
}
