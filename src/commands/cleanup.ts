// `cleanup`: delete the PR's preview namespace (only if it is ours), verify it is gone, tell the PR.
import type { RunContext } from '../app/context.js';
import type { Ports } from '../app/ports.js';
import type { CommandResult } from '../app/result.js';
import { deleteNamespace } from '../kube/namespaces.js';
import { startDeadline } from '../model/deadline.js';
import { repoLabelValue } from '../model/labels.js';
import { cleanupResult, type CleanupReport } from '../report/cleanup.js';
import { renderPreviewComment, saysDestroyed } from '../report/comment.js';
import { GitHubPublisher } from '../report/publisher.js';
import type { CleanupOptions } from '../settings/cleanup.js';
import { previewNames } from '../steps/names.js';
import { resolvePullRequest, type PullRequestContext } from '../steps/pull-request.js';

export async function runCleanup(o: CleanupOptions, ctx: RunContext, ports: Ports): Promise<CommandResult> {
  return runCleanupFor(o, ctx, ports, await resolvePullRequest(ctx, ports, { needsHead: false }));
}

export async function runCleanupFor(
  o: CleanupOptions,
  ctx: RunContext,
  ports: Ports,
  pr: PullRequestContext,
): Promise<CommandResult> {
  const log = ports.logger;
  const names = previewNames(o.naming, pr);
  const report: CleanupReport = {
    outcome: 'removed',
    pr: pr.number,
    names,
    alreadyGone: false,
    objectsCreated: 0,
    objectsRemoved: 0,
    held: 0,
    deactivated: 0,
    warnings: [],
  };

  let deleted: Awaited<ReturnType<typeof deleteNamespace>>;
  try {
    deleted = await ports.group(`Delete namespace ${names.namespace}`, () =>
      deleteNamespace(ports.kube(), {
        name: names.namespace,
        owner: { repoLabel: repoLabelValue(`${ctx.owner}/${ctx.repo}`), pr: pr.number },
        timeoutMs: startDeadline(o.waitTimeoutSeconds * 1000).remainingMs(),
        logger: log,
      }),
    );
  } catch (e) {
    // Refusals (not ours, protected) and API failures: nothing was deleted, the PR is left as it was.
    return cleanupResult({ ...report, outcome: 'refused', failure: (e as Error).message });
  }
  const destroyedAt = ctx.now();
  report.alreadyGone = Boolean(deleted.alreadyGone);
  report.objectsCreated = deleted.objectsRemoved;
  report.held = deleted.stuck?.length ?? 0;
  // What is verifiably gone: while the namespace is held, its held objects are not.
  report.objectsRemoved = report.held
    ? Math.max(0, deleted.objectsRemoved - report.held)
    : deleted.objectsRemoved;
  if (deleted.stuck?.length) {
    report.outcome = 'stuck';
    report.failure =
      `Namespace ${names.namespace} is still Terminating; these objects hold it:\n` +
      deleted.stuck
        .map((s) => `  ${s.object} (finalizers: ${s.finalizers.join(', ') || 'none'})`)
        .join('\n') +
      (deleted.conditions?.length
        ? `\nNamespace conditions:\n${deleted.conditions.map((c) => `  ${c}`).join('\n')}`
        : '') +
      '\nTheir controllers must remove the finalizers (or remove them by hand once safe); re-run cleanup afterwards.';
  } else if (deleted.warning) {
    // The DELETE went through; only watching it finish did not (e.g. no permission to watch namespaces).
    report.warnings.push(deleted.warning);
  } else if (deleted.alreadyGone) {
    log.info(`Namespace ${names.namespace} is already gone: nothing to delete.`);
  } else {
    log.info(
      `Namespace ${names.namespace} deleted and gone; ${deleted.objectsRemoved} objects removed with it.`,
    );
  }

  const publisher = new GitHubPublisher(ports.github, {
    repo: { owner: ctx.owner, repo: ctx.repo },
    pr: pr.number,
    comment: o.comment,
    deployment: o.deployment,
    logger: log,
    logUrl: ctx.runUrl,
  });
  // Only a preview that was announced gets a "destroyed" note: no comment appears on PRs that never had one.
  const existing = await publisher.existingComment();
  // A re-run after the namespace is gone would overwrite "N objects removed" with 0: keep it.
  if (existing && !(deleted.alreadyGone && saysDestroyed(existing.body))) {
    await publisher.comment(
      renderPreviewComment({
        status: report.outcome === 'stuck' ? 'stuck' : 'destroyed',
        url: names.url,
        namespace: names.namespace,
        headSha: pr.headSha,
        headRef: pr.headRef,
        prTitle: pr.title,
        images: [],
        updatedAt: destroyedAt,
        runUrl: ctx.runUrl,
        diagnostics: report.failure,
        destroyed:
          report.outcome === 'stuck'
            ? undefined
            : { at: destroyedAt, objectsRemoved: deleted.objectsRemoved },
      }),
    );
  }
  report.deactivated = await publisher.deactivate(names.environment);
  if (report.deactivated)
    log.info(`Marked ${report.deactivated} GitHub deployment(s) of PR #${pr.number} inactive.`);
  return cleanupResult({
    ...report,
    commentId: publisher.commentId,
    warnings: [...report.warnings, ...publisher.warnings],
  });
}
