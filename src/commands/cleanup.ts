// `cleanup`: delete the PR's preview namespace (only if it is ours), verify it is gone, tell the PR.
import { findMarkedComment, upsertComment } from '../github/comment.js';
import { deactivateDeployments } from '../github/deployments.js';
import { renderPreviewComment, saysDestroyed } from '../github/preview-comment.js';
import { deleteNamespace } from '../kube/namespaces.js';
import { COMMENT_MARKER, repoLabelValue } from '../model/labels.js';
import type { Settings } from '../settings.js';
import { previewNames } from './names.js';
import type { CommandResult, Ports } from './ports.js';
import { resolvePullRequest, type PullRequestContext } from './pull-request.js';

export async function runCleanup(settings: Settings, ports: Ports): Promise<CommandResult> {
  return runCleanupFor(settings, ports, await resolvePullRequest(settings, ports));
}

export async function runCleanupFor(
  settings: Settings,
  ports: Ports,
  pr: PullRequestContext,
): Promise<CommandResult> {
  const log = ports.logger;
  const now = ports.now ?? (() => new Date());
  const names = previewNames(settings, pr);
  const repo = { owner: settings.owner, repo: settings.repo };
  const warnings: string[] = [];

  let outcome: Awaited<ReturnType<typeof deleteNamespace>>;
  try {
    outcome = await ports.group(`Delete namespace ${names.namespace}`, () =>
      deleteNamespace(ports.kube(), {
        name: names.namespace,
        owner: { repoLabel: repoLabelValue(`${settings.owner}/${settings.repo}`) },
        timeoutMs: settings.waitTimeoutSeconds * 1000,
        logger: log,
      }),
    );
  } catch (e) {
    // Refusals (not ours, protected) and API failures: nothing was deleted, the PR is left as it was.
    const failure = (e as Error).message;
    return {
      ok: false,
      failure,
      outputs: { namespace: names.namespace, url: names.url, 'comment-id': '', 'objects-removed': '0' },
      summary: `## kubestage cleanup: PR #${pr.number} ❌ refused\n\n- Namespace: \`${names.namespace}\`\n\n\`\`\`\n${failure}\n\`\`\`\n`,
    };
  }
  const destroyedAt = now();

  let failure: string | undefined;
  if (outcome.stuck?.length) {
    failure =
      `Namespace ${names.namespace} is still Terminating; these objects hold it:\n` +
      outcome.stuck
        .map((s) => `  ${s.object} (finalizers: ${s.finalizers.join(', ') || 'none'})`)
        .join('\n') +
      (outcome.conditions?.length
        ? `\nNamespace conditions:\n${outcome.conditions.map((c) => `  ${c}`).join('\n')}`
        : '') +
      '\nTheir controllers must remove the finalizers (or remove them by hand once safe); re-run cleanup afterwards.';
  } else if (outcome.warning) {
    // The DELETE went through; only watching it finish did not (e.g. no permission to watch namespaces).
    warnings.push(outcome.warning);
  } else if (outcome.alreadyGone) {
    log.info(`Namespace ${names.namespace} is already gone: nothing to delete.`);
  } else {
    log.info(
      `Namespace ${names.namespace} deleted and gone; ${outcome.objectsRemoved} objects removed with it.`,
    );
  }

  let commentId: number | undefined;
  const gh = ports.github;
  if (gh && settings.comment) {
    try {
      // Only a preview that was announced gets a "destroyed" note: no comment appears on PRs that never had one.
      const existing = await findMarkedComment(gh, repo, pr.number, COMMENT_MARKER);
      // A re-run after the namespace is gone would overwrite "N objects removed" with 0: keep it.
      if (existing && !(outcome.alreadyGone && saysDestroyed(existing.body))) {
        const body = renderPreviewComment({
          status: failure ? 'stuck' : 'destroyed',
          url: names.url,
          namespace: names.namespace,
          headSha: pr.headSha,
          headRef: pr.headRef,
          prTitle: pr.title,
          images: [],
          updatedAt: destroyedAt,
          runUrl: settings.runUrl,
          diagnostics: failure,
          destroyed: failure ? undefined : { at: destroyedAt, objectsRemoved: outcome.objectsRemoved },
        });
        const r = await upsertComment(gh, repo, pr.number, body, { marker: COMMENT_MARKER, logger: log });
        if ('id' in r) commentId = r.id;
      }
    } catch (e) {
      warnings.push(`Could not update the PR comment: ${(e as Error).message}`);
      log.warning(warnings[warnings.length - 1]);
    }
  }
  let deactivated = 0;
  if (gh && settings.deployment) {
    try {
      deactivated = await deactivateDeployments(gh, repo, {
        environment: names.environment,
        prNumber: pr.number,
      });
      if (deactivated) log.info(`Marked ${deactivated} GitHub deployment(s) of PR #${pr.number} inactive.`);
    } catch (e) {
      warnings.push(`Could not mark the deployments inactive: ${(e as Error).message}`);
      log.warning(warnings[warnings.length - 1]);
    }
  }

  const summary = [
    `## kubestage cleanup: PR #${pr.number} ${failure ? '❌ namespace still terminating' : '🧹 removed'}`,
    '',
    `- Namespace: \`${names.namespace}\` ${outcome.alreadyGone ? '(was already gone)' : failure ? '(Terminating)' : '(deleted, verified gone)'}`,
    failure
      ? `- Objects created by kubestage: ${outcome.objectsRemoved}; deletion started, ${outcome.stuck?.length ?? 0} object(s) still held`
      : `- Objects created by kubestage that were removed: ${outcome.objectsRemoved}`,
    `- GitHub deployments marked inactive: ${deactivated}`,
    ...(failure ? ['', '```', failure, '```'] : []),
    ...(warnings.length ? ['', '**Warnings**', ...warnings.map((w) => `- ${w}`)] : []),
  ].join('\n');

  return {
    ok: !failure,
    failure,
    outputs: {
      namespace: names.namespace,
      url: names.url,
      'comment-id': commentId ? String(commentId) : '',
      // What is verifiably gone: while the namespace is held, its held objects are not.
      'objects-removed': String(
        failure ? Math.max(0, outcome.objectsRemoved - (outcome.stuck?.length ?? 0)) : outcome.objectsRemoved,
      ),
    },
    summary: summary + '\n',
  };
}
