// `preview`: render the PR's manifests into its namespace, apply, wait, and tell the PR where it runs.
import type { RunContext } from '../app/context.js';
import type { Ports } from '../app/ports.js';
import type { CommandResult } from '../app/result.js';
import { updateRecord } from '../kube/records.js';
import { startDeadline } from '../model/deadline.js';
import { defaultPreviewTag, formatImageRef, parseImages } from '../model/images.js';
import {
  LABEL_ENVIRONMENT,
  LABEL_INSTANCE,
  LABEL_MANAGED_BY,
  LABEL_PR,
  LABEL_REPO,
  MANAGED_BY,
  PREVIEW_ENVIRONMENT,
  repoLabelValue,
} from '../model/labels.js';
import { encodeRecord } from '../model/records.js';
import { previewComment, previewResult, type PreviewReport } from '../report/preview.js';
import { GitHubPublisher } from '../report/publisher.js';
import type { PreviewOptions } from '../settings/preview.js';
import { previewNames } from '../steps/names.js';
import { pullStateReader, resolvePullRequest, type PullRequestContext } from '../steps/pull-request.js';
import { prepareRelease, release } from '../steps/release.js';
import { runCleanupFor } from './cleanup.js';

export async function runPreview(o: PreviewOptions, ctx: RunContext, ports: Ports): Promise<CommandResult> {
  const log = ports.logger;
  const ev = ctx.event;
  if (ev.name === 'workflow_run' && (ev.action !== 'completed' || ev.conclusion !== 'success')) {
    return skipped(ev.action, ev.conclusion, log);
  }
  const pr = await resolvePullRequest(ctx, ports);
  if (pr.state === 'closed' || ev.action === 'closed') {
    log.info(`PR #${pr.number} is closed: removing its preview instead of deploying it.`);
    return runCleanupFor(o, ctx, ports, pr);
  }
  const deadline = startDeadline(o.waitTimeoutSeconds * 1000);
  const names = previewNames(o.naming, pr);
  const images = parseImages(o.images, defaultPreviewTag(pr.number, pr.headSha));
  const updatedAt = ctx.now();
  let report: PreviewReport = {
    outcome: 'deploying',
    pr: { number: pr.number, headSha: pr.headSha, headRef: pr.headRef, title: pr.title },
    names,
    overrides: Object.fromEntries(images.map((i) => [i.name, formatImageRef(i)])),
    images: images.map((i) => ({ name: i.name, ref: formatImageRef(i) })),
    applied: [],
    pruned: [],
    workloads: [],
    updatedAt,
    expiresAt: new Date(updatedAt.getTime() + o.ttlSeconds * 1000),
    runUrl: ctx.runUrl,
    warnings: [],
  };
  let secrets: string[] = [];
  log.info(
    `Preview of PR #${pr.number} at ${pr.headSha.slice(0, 7)}: namespace ${names.namespace}, ${names.url}`,
  );

  const publisher = new GitHubPublisher(ports.github, {
    repo: { owner: ctx.owner, repo: ctx.repo },
    pr: pr.number,
    comment: o.comment,
    deployment: o.deployment,
    logger: log,
    logUrl: ctx.runUrl,
  });
  const finish = (r: PreviewReport): CommandResult =>
    previewResult(
      {
        ...r,
        deploymentId: publisher.deploymentId,
        commentId: publisher.commentId,
        warnings: [...publisher.warnings],
      },
      secrets,
    );
  const prState = pullStateReader(ctx, ports, pr.number);
  const atStart = await prState();
  if (atStart?.state === 'closed') {
    log.info(`PR #${pr.number} is closed on GitHub: removing its preview instead of deploying it.`);
    return runCleanupFor(o, ctx, ports, pr);
  }
  if (atStart && atStart.headSha !== pr.headSha) return finish(superseded(report, pr, atStart.headSha, log));

  const repoLabel = repoLabelValue(`${ctx.owner}/${ctx.repo}`);
  const labels = {
    [LABEL_MANAGED_BY]: MANAGED_BY,
    [LABEL_REPO]: repoLabel,
    [LABEL_ENVIRONMENT]: PREVIEW_ENVIRONMENT,
    [LABEL_PR]: String(pr.number),
    [LABEL_INSTANCE]: names.namespace,
  };
  try {
    const prepared = await prepareRelease(ports.kube, {
      workspace: ctx.workspace,
      manifests: o.manifests,
      namespace: names.namespace,
      host: names.host,
      images,
      labels,
      podSecurity: o.podSecurity,
      logger: log,
      group: ports.group,
    });
    if (prepared.images.length) report = { ...report, images: prepared.images };
    // Pod logs and events can echo the preview's own Secret values: mask them in the log and keep
    // them out of the PR comment and the job summary. The runner matches masks line by line, so a
    // PEM key or a JSON blob is masked per line too.
    secrets = prepared.secrets;
    for (const v of secrets)
      for (const part of [v, ...v.split(/\r?\n/)]) if (part.trim().length >= 4) ports.mask(part);

    // Only now is there something to deploy: a render or guard failure creates no deployment.
    await publisher.createDeployment({
      ref: pr.headSha,
      environment: names.environment,
      description: `Preview of PR #${pr.number} in namespace ${names.namespace}`,
      transient: true,
      production: false,
    });
    await publisher.deploymentStatus('in_progress', `Deploying ${pr.headSha.slice(0, 7)}`, names.url);
    await publisher.comment(previewComment(report, secrets));

    // Rendering takes a while: look again just before the first write.
    const before = await prState();
    if (before && before.headSha !== pr.headSha) {
      await publisher.deploymentStatus('inactive', `Superseded by a newer commit of PR #${pr.number}`);
      return finish(superseded(report, pr, before.headSha, log));
    }

    const outcome = await release(ports.kube(), {
      objects: prepared.objects,
      namespace: names.namespace,
      labels,
      annotations: encodeRecord({
        pr: pr.number,
        headSha: pr.headSha,
        images: report.overrides,
        url: names.url,
        updatedAt: report.updatedAt,
        expiresAt: report.expiresAt,
        runUrl: ctx.runUrl,
        commentId: publisher.commentId,
        deploymentId: publisher.deploymentId,
        state: 'deploying',
        actor: ev.actor,
      }),
      repoLabel,
      podSecurity: o.podSecurity,
      headSha: pr.headSha,
      probe: o.healthPath ? { url: names.url, path: o.healthPath, domain: o.naming.domain } : undefined,
      deadline,
      logger: log,
      group: ports.group,
    });
    report = {
      ...report,
      applied: outcome.applied,
      pruned: outcome.pruned,
      workloads: outcome.workloads,
    };

    // Whatever happened, the PR may have closed or moved on meanwhile: never leave an orphan behind,
    // and never write over what a newer run reports.
    const after = await prState();
    if (after?.state === 'closed') {
      log.info(
        `PR #${pr.number} was closed while the preview deployed: cleaning up instead of leaving an orphan.`,
      );
      return runCleanupFor(o, ctx, ports, pr);
    }
    if (after && after.headSha !== pr.headSha) {
      await publisher.deploymentStatus('inactive', `Superseded by a newer commit of PR #${pr.number}`);
      return finish(superseded(report, pr, after.headSha, log, 'while this run deployed'));
    }
    if (outcome.status === 'superseded') {
      const by = outcome.supersededBy ?? '';
      log.info(
        `A run for ${by.slice(0, 7)} took over namespace ${names.namespace} while this run (${pr.headSha.slice(0, 7)}) applied; it stopped and leaves the rest to that run.`,
      );
      await publisher.deploymentStatus('inactive', `Superseded by a newer commit of PR #${pr.number}`);
      return finish({
        ...report,
        outcome: 'superseded',
        note: `A run for ${by.slice(0, 7)} took over the namespace.`,
      });
    }
    if (outcome.status === 'ready') {
      report = { ...report, outcome: 'ready' };
      await publisher.deploymentStatus('success', `Preview ready at ${names.url}`, names.url);
      await publisher.deactivate(names.environment, `Superseded by ${pr.headSha.slice(0, 7)}`);
      await publisher.comment(previewComment(report, secrets));
      log.info(`Preview ready: ${names.url}`);
    } else {
      report = { ...report, outcome: 'failed', failure: outcome.message, diagnostics: outcome.diagnostics };
      await publisher.deploymentStatus('failure', outcome.message ?? 'failed');
      await publisher.comment(previewComment(report, secrets));
    }
    await recordOutcome(ports, names.namespace, pr.headSha, report, publisher);
    return finish(report);
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    report = { ...report, outcome: 'failed', failure: message, diagnostics: message };
    await publisher.deploymentStatus('failure', message);
    await publisher.comment(previewComment(report, secrets));
    return finish(report);
  }
}

/** The namespace records how the run ended (and the GitHub ids), for status and later runs. */
async function recordOutcome(
  ports: Ports,
  namespace: string,
  headSha: string,
  report: PreviewReport,
  publisher: GitHubPublisher,
): Promise<void> {
  try {
    await updateRecord(ports.kube(), namespace, headSha, {
      state: report.outcome === 'ready' ? 'ready' : 'failed',
      commentId: publisher.commentId,
      deploymentId: publisher.deploymentId,
    });
  } catch (e) {
    ports.logger.warning(`Could not record the outcome on namespace ${namespace}: ${(e as Error).message}`);
  }
}

function superseded(
  report: PreviewReport,
  pr: PullRequestContext,
  newer: string,
  log: Ports['logger'],
  when = '',
): PreviewReport {
  const note = `PR #${pr.number} has moved on to ${newer.slice(0, 7)}${when ? ` ${when}` : ''}: this run (${pr.headSha.slice(0, 7)}) is superseded; the newer run reports the preview.`;
  log.info(note);
  return { ...report, outcome: 'superseded', note };
}

function skipped(
  action: string | undefined,
  conclusion: string | undefined,
  log: Ports['logger'],
): CommandResult {
  // The build this run would deploy has not finished well (or at all): its image may not exist.
  log.warning(
    action !== 'completed'
      ? `The workflow run that triggered this is "${action ?? 'unknown'}", not completed: its image may not be pushed yet, so nothing is deployed. ` +
          'Trigger on `workflow_run` with `types: [completed]`.'
      : `The workflow run that triggered this ended with "${conclusion ?? 'no conclusion'}", so there is nothing new to deploy; the preview is left as it was. ` +
          "Guard the job with `if: github.event.workflow_run.conclusion == 'success'` to skip it entirely.",
  );
  const note = `The triggering workflow run is \`${action ?? '?'}\`, conclusion \`${conclusion ?? 'none'}\`.`;
  return {
    ok: true,
    outputs: {},
    summary: `## kubestage preview: skipped\n\n${note}\n`,
    text: `preview skipped: ${note}\n`,
    json: { command: 'preview', outcome: 'skipped', note },
  };
}
