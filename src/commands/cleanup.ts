// `cleanup`: delete the PR's preview namespace (only if it is ours), verify it is gone, tell the PR.
import type { RunContext } from '../app/context.js';
import { audit } from '../kube/audit.js';
import type { Ports } from '../app/ports.js';
import type { CommandResult } from '../app/result.js';
import { deleteNamespace, describeStuck } from '../kube/namespaces.js';
import { startDeadline } from '../model/deadline.js';
import { readRecord } from '../kube/records.js';
import { commentMarker, repoLabelValue } from '../model/labels.js';
import { cleanupResult, type CleanupReport } from '../report/cleanup.js';
import { renderPreviewComment, saysDestroyed } from '../report/comment.js';
import { GitHubPublisher } from '../report/publisher.js';
import type { CleanupOptions } from '../settings/cleanup.js';
import { previewNames } from '../steps/names.js';
import { resolvePullRequest, type PullRequestContext } from '../steps/pull-request.js';
import { preDeleteRefusal, runPreDeleteHooks } from '../steps/hooks.js';

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
    url: '',
    alreadyGone: false,
    objectsCreated: 0,
    objectsRemoved: 0,
    held: 0,
    deactivated: 0,
    warnings: [],
  };

  // The record goes with the namespace: read where the comment and the deployment are first.
  const repoLabel = repoLabelValue(`${ctx.owner}/${ctx.repo}`);
  const recorded = await readRecord(ports.kube(), names.namespace).catch(() => undefined);
  const own = recorded?.repoLabel === repoLabel && recorded.pr === pr.number ? recorded : undefined;
  report.url = own?.url ?? '';
  const deadline = startDeadline(o.waitTimeoutSeconds * 1000);
  // The pre-delete hooks recorded at preview time run first; one that fails keeps the namespace.
  const hooks = own
    ? await runPreDeleteHooks(ports.kube(), names.namespace, { deadline, logger: log, signal: ctx.signal })
    : undefined;
  if (hooks?.failure)
    return cleanupResult({ ...report, outcome: 'refused', failure: preDeleteRefusal(hooks) });
  let deleted: Awaited<ReturnType<typeof deleteNamespace>>;
  try {
    deleted = await ports.group(`Delete namespace ${names.namespace}`, () =>
      deleteNamespace(ports.kube(), {
        name: names.namespace,
        owner: { repoLabel, pr: pr.number },
        timeoutMs: deadline.remainingMs(),
        logger: log,
        beforeDelete: () =>
          audit(
            ports.kube(),
            names.namespace,
            {
              reason: 'Deleting',
              message: `cleanup of PR #${pr.number}${ctx.event.action === 'closed' || pr.state === 'closed' ? ' (the PR was closed)' : ''}`,
              ...(ctx.event.actor ? { actor: ctx.event.actor } : {}),
              ...(ctx.runUrl ? { runUrl: ctx.runUrl } : {}),
            },
            { now: ctx.now(), logger: log },
          ),
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
      describeStuck(deleted) +
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
    marker: commentMarker(o.naming.app),
    known: own && { commentId: own.commentId, deploymentId: own.deploymentId },
  });
  // Only a preview that was announced gets a "destroyed" note: no comment appears on PRs that never
  // had one. A recorded comment is edited directly; without a record (a re-run after the namespace is
  // gone), the PR is searched, and a comment that already says "N objects removed" is kept as it is.
  const announced =
    own?.commentId !== undefined ||
    (await publisher
      .existingComment()
      .then((c) => c !== undefined && !(deleted.alreadyGone && saysDestroyed(c.body))));
  if (announced) {
    await publisher.comment(
      renderPreviewComment({
        marker: commentMarker(o.naming.app),
        app: o.naming.app,
        status: report.outcome === 'stuck' ? 'stuck' : 'destroyed',
        // Only a URL the preview really had (recorded on its namespace) is shown struck through.
        url: report.url,
        namespace: names.namespace,
        headSha: pr.headSha,
        headRef: pr.headRef,
        prTitle: pr.title,
        images: [],
        updatedAt: destroyedAt,
        runUrl: ctx.runUrl,
        diagnostics: report.failure,
        // A re-run after the namespace went (e.g. once a stuck finalizer was released) cannot count
        // what went with it: it says the namespace was deleted, not "0 objects".
        destroyed:
          report.outcome === 'stuck' || deleted.alreadyGone
            ? undefined
            : { at: destroyedAt, objectsRemoved: deleted.objectsRemoved },
      }),
    );
  }
  // A namespace still held is not gone: the deployment keeps its state until a cleanup sees it go
  // (that run finds the deployments by searching, the record having gone with the namespace).
  if (report.outcome !== 'stuck')
    report.deactivated = await publisher.deactivate(names.environment, {
      search: own?.deploymentId === undefined,
    });
  if (report.deactivated)
    log.info(`Marked ${report.deactivated} GitHub deployment(s) of PR #${pr.number} inactive.`);
  const commentFailure =
    announced && publisher.warnings.find((w) => w.startsWith('Could not update the PR comment'));
  if (commentFailure && report.outcome === 'removed') {
    report.unannounced = `Namespace ${names.namespace} is gone, but the PR comment still shows the preview as live: ${commentFailure}. Re-run the cleanup to update it.`;
  }
  return cleanupResult({
    ...report,
    commentId: publisher.commentId,
    warnings: [...report.warnings, ...publisher.warnings],
  });
}
