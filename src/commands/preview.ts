// `preview`: render the PR's manifests into its namespace, apply, wait, and tell the PR where it runs.
//   plan (pure) → check the PR → render + guard (no writes) → announce → check the PR → release →
//   check the PR → conclude (comment, deployment, the namespace's record) → report.
import type { RunContext } from '../app/context.js';
import type { Ports } from '../app/ports.js';
import type { CommandResult } from '../app/result.js';
import { setDeploymentStatus } from '../github/deployments.js';
import { updateCommentById } from '../github/comment.js';
import { audit } from '../kube/audit.js';
import { readRecord, updateRecord } from '../kube/records.js';
import { startDeadline, type Deadline } from '../model/deadline.js';
import { defaultPreviewTag, formatImageRef, parseImages, type ImageOverride } from '../model/images.js';
import {
  LABEL_ENVIRONMENT,
  LABEL_INSTANCE,
  LABEL_MANAGED_BY,
  LABEL_PR,
  LABEL_REPO,
  MANAGED_BY,
  PREVIEW_ENVIRONMENT,
  commentMarker,
  repoLabelValue,
} from '../model/labels.js';
import { encodeRecord, type NamespaceRecord } from '../model/records.js';
import { previewComment, previewResult, type PreviewReport } from '../report/preview.js';
import { GitHubPublisher } from '../report/publisher.js';
import type { PreviewOptions } from '../settings/preview.js';
import { previewNames } from '../steps/names.js';
import { pullChecker, resolvePullRequest, type PullRequestContext } from '../steps/pull-request.js';
import { admit, priorityOf, type LivePreview } from '../steps/admission.js';
import { isolationFor } from '../steps/isolation.js';
import { prepareRelease, release, type ReleaseOutcome } from '../steps/release.js';
import { runCleanupFor } from './cleanup.js';

export async function runPreview(o: PreviewOptions, ctx: RunContext, ports: Ports): Promise<CommandResult> {
  const ev = ctx.event;
  if (ev.name === 'workflow_run' && (ev.action !== 'completed' || ev.conclusion !== 'success')) {
    return skipped(ev.action, ev.conclusion, ports.logger);
  }
  const pr = await resolvePullRequest(ctx, ports);
  if (pr.state === 'closed' || ev.action === 'closed') return cleanupInstead(o, ctx, ports, pr, 'is closed');

  const plan = planPreview(o, ctx, pr);
  const { names } = plan;
  ports.logger.info(
    `Preview of PR #${pr.number} at ${pr.headSha.slice(0, 7)} in namespace ${names.namespace}`,
  );
  // What the last run recorded on the namespace: its comment and deployment are reached by id.
  const previous = await readOwnRecord(ports, names.namespace, plan.repoLabel, pr.number);
  const publisher = new GitHubPublisher(ports.github, {
    repo: { owner: ctx.owner, repo: ctx.repo },
    pr: pr.number,
    comment: o.comment,
    deployment: o.deployment,
    logger: ports.logger,
    logUrl: ctx.runUrl,
    marker: commentMarker(o.naming.app),
    known: previous.record && {
      commentId: previous.record.commentId,
      deploymentId: previous.record.deploymentId,
    },
  });
  let secrets: string[] = [];
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
  // The PR may close or move on at any time: looked at before the work and after it.
  const checkPull = pullChecker(ctx, ports, pr);
  let confirmedHead = false;
  const moved = async (when: string, current: PreviewReport): Promise<CommandResult | undefined> => {
    const now = await checkPull();
    if (now?.state === 'closed') return cleanupInstead(o, ctx, ports, pr, `was closed ${when}`);
    if (now?.state === 'current') confirmedHead = true;
    if (now?.state !== 'moved') return undefined;
    const note = `PR #${pr.number} has moved on to ${now.headSha.slice(0, 7)} ${when}: this run (${pr.headSha.slice(0, 7)}) is superseded; the newer run reports the preview.`;
    ports.logger.info(note);
    await publisher.deploymentStatus('inactive', `Superseded by a newer commit of PR #${pr.number}`);
    return finish({ ...current, outcome: 'superseded', note });
  };

  const early = await moved('before this run started', plan.report);
  if (early) return early;
  let report = plan.report;
  try {
    const prepared = await prepareRelease(ports.kube, {
      workspace: ctx.workspace,
      manifests: o.manifests,
      namespace: names.namespace,
      host: names.host,
      images: plan.images,
      labels: plan.labels,
      podSecurity: o.podSecurity,
      allow: o.allow,
      logger: ports.logger,
      group: ports.group,
    });
    // Where something answers: the root, or the first routed path when nothing serves the root.
    const [primary, ...others] = prepared.routes.map(
      (r) => `${r.tls ? 'https' : 'http'}://${r.host}${r.path === '/' ? '' : r.path}`,
    );
    report = {
      ...report,
      url: primary ?? '',
      moreUrls: others,
      reach: prepared.reach,
      images: prepared.images.length ? prepared.images : report.images,
    };
    if (!report.url) ports.logger.info(`Nothing routes to the preview; reach it with: ${prepared.reach}`);
    secrets = prepared.secrets;
    maskSecrets(secrets, ports.mask);
    const objects = [
      ...prepared.objects,
      ...(await isolationFor(ports.kube(), {
        objects: prepared.objects,
        namespace: names.namespace,
        labels: plan.labels,
        isolation: o.isolation,
        copySecrets: o.copySecrets,
        mask: (v) => {
          secrets.push(v);
          ports.mask(v);
        },
        logger: ports.logger,
      })),
    ];

    // A slot among the cluster's previews (max-previews), decided on the cluster under a lock.
    const admission = await admit(ports.kube(), o.admission, {
      namespace: names.namespace,
      labels: plan.labels,
      pr: pr.number,
      repoLabel: plan.repoLabel,
      priority: priorityOf(pr.labels, o.admission.priorityPrefix),
      now: ctx.now,
      signal: ctx.signal,
      logger: ports.logger,
      onQueued: (position, waiting) =>
        publisher.comment(
          previewComment(
            {
              ...report,
              caveat: `⏳ Waiting for a preview slot: position ${position} of ${waiting} in the queue (max-previews ${o.admission.max}); it starts as soon as one frees up.`,
            },
            secrets,
          ),
        ),
    });
    if (!admission.admitted) throw new Error(admission.reason);
    if (admission.how === 'evicted') await tellEvicted(ctx, ports, admission.victim, pr.number, o);
    const story = (reason: string, message: string, type: 'Normal' | 'Warning' = 'Normal') =>
      audit(
        ports.kube(),
        names.namespace,
        {
          reason,
          message,
          type,
          ...(ev.actor ? { actor: ev.actor } : {}),
          ...(ctx.runUrl ? { runUrl: ctx.runUrl } : {}),
        },
        { now: ctx.now(), logger: ports.logger },
      );
    if (admission.how === 'free' || admission.how === 'queued' || admission.how === 'evicted') {
      await story(
        'Admitted',
        `PR #${pr.number} admitted under max-previews ${o.admission.max}` +
          (admission.how === 'queued'
            ? ` after waiting ${Math.round((admission.waitedMs ?? 0) / 1000)}s in the queue`
            : '') +
          (admission.how === 'evicted' ? `; evicted ${admission.victim.namespace} to make room` : ''),
      );
    }
    if (admission.how === 'evicted')
      await story(
        'Evicted',
        `deleted ${admission.victim.namespace} (PR #${admission.victim.record.pr ?? '?'}, priority ${admission.victim.priority}, the least recently updated of equal or lower priority) to make room for PR #${pr.number}`,
        'Warning',
      );

    // Only now is there something to deploy: a render or guard failure creates no deployment.
    await publisher.createDeployment({
      ref: pr.headSha,
      environment: names.environment,
      description: `Preview of PR #${pr.number} in namespace ${names.namespace}`,
      transient: true,
      production: false,
    });
    // A preview that is up in seconds needs no "deploying" note (every write is a second of GitHub's
    // pacing); one that takes longer says so while it deploys.
    const deploying = report;
    let announced: Promise<void> | undefined;
    const announce = setTimeout(() => {
      announced = (async () => {
        await publisher.deploymentStatus('in_progress', `Deploying ${pr.headSha.slice(0, 7)}`, deploying.url);
        await publisher.comment(previewComment(deploying, secrets));
      })();
    }, ANNOUNCE_AFTER_MS);

    const outcome = await release(ports.kube(), {
      objects,
      namespace: names.namespace,
      labels: plan.labels,
      annotations: encodeRecord({
        pr: pr.number,
        headSha: pr.headSha,
        headTime: ev.headTime,
        images: Object.fromEntries(report.images.map((i) => [i.name, i.ref])),
        url: report.url,
        updatedAt: report.updatedAt,
        expiresAt: report.expiresAt,
        runUrl: ctx.runUrl,
        commentId: publisher.commentId,
        deploymentId: publisher.deploymentId,
        state: 'deploying',
        actor: ev.actor,
      }),
      repoLabel: plan.repoLabel,
      podSecurity: o.podSecurity,
      claim: { headSha: pr.headSha, headTime: ev.headTime, confirmedHead },
      signal: ctx.signal,
      probe: o.healthPath ? { url: report.url, path: o.healthPath, domain: o.naming.domain } : undefined,
      // Time spent in the admission queue is not taken from the rollout's budget.
      deadline: admission.how === 'queued' ? startDeadline(o.waitTimeoutSeconds * 1000) : plan.deadline,
      logger: ports.logger,
      group: ports.group,
    }).finally(() => clearTimeout(announce));
    await announced;
    report = {
      ...report,
      applied: outcome.applied,
      pruned: outcome.pruned,
      workloads: outcome.workloads,
      hooks: outcome.hooks,
    };
    if (outcome.createdNamespace)
      await story('Created', `namespace ${names.namespace} created for PR #${pr.number}`);
    for (const h of outcome.hooks ?? [])
      await story(
        h.status === 'succeeded' ? 'HookSucceeded' : 'HookFailed',
        `${h.phase} hook Job ${h.name}: ${h.status} in ${Math.round(h.durationMs / 1000)}s${h.message ? ` (${h.message})` : ''}`,
        h.status === 'succeeded' ? 'Normal' : 'Warning',
      );
    const counts = countActions(outcome.applied.map((a) => a.action));
    // Only a namespace this run wrote to is ours to tell about (one that another PR holds is not).
    if (
      outcome.applied.length > 0 ||
      admission.how === 'free' ||
      admission.how === 'queued' ||
      admission.how === 'evicted'
    )
      await story(
        outcome.status === 'ready'
          ? 'Deployed'
          : outcome.status === 'failed'
            ? 'DeployFailed'
            : `Deploy${outcome.status[0]?.toUpperCase()}${outcome.status.slice(1)}`,
        `commit ${pr.headSha.slice(0, 7)}: ${counts || 'nothing applied'}${outcome.pruned.length ? `, ${outcome.pruned.length} pruned` : ''}; ${outcome.status}${outcome.message ? `: ${outcome.message}` : ''}`,
        outcome.status === 'ready' ? 'Normal' : 'Warning',
      );
    if (outcome.status === 'cancelled')
      return finish(await cancelled(report, publisher, secrets, ports, plan.repoLabel));
    // Whatever happened, never leave an orphan behind, and never write over what a newer run reports.
    const after = await moved('while this run deployed', report);
    if (after) return after;
    report = await conclude(
      report,
      outcome,
      publisher,
      secrets,
      ports,
      previous.exists && !previous.record?.deploymentId,
      plan.repoLabel,
    );
    return finish(report);
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    // Nothing was deployed: no URL to point at (a refused preview's host may be another's).
    report = { ...report, outcome: 'failed', failure: message, diagnostics: message, url: '', moreUrls: [] };
    await publisher.deploymentStatus('failure', message);
    await publisher.comment(previewComment(report, secrets));
    return finish(report);
  }
}

interface Plan {
  names: ReturnType<typeof previewNames>;
  images: ImageOverride[];
  labels: Record<string, string>;
  repoLabel: string;
  /** One budget for every phase of the run. */
  deadline: Deadline;
  /** The report as it starts: deploying, the images this run sets, one clock reading. */
  report: PreviewReport;
}

/** Everything that follows from the options and the PR alone. */
function planPreview(o: PreviewOptions, ctx: RunContext, pr: PullRequestContext): Plan {
  const deadline = startDeadline(o.waitTimeoutSeconds * 1000);
  const names = previewNames(o.naming, pr);
  const images = parseImages(o.images, defaultPreviewTag(pr.number, pr.headSha));
  const repoLabel = repoLabelValue(`${ctx.owner}/${ctx.repo}`);
  const updatedAt = ctx.now();
  return {
    names,
    images,
    repoLabel,
    deadline,
    labels: {
      [LABEL_MANAGED_BY]: MANAGED_BY,
      [LABEL_REPO]: repoLabel,
      [LABEL_ENVIRONMENT]: PREVIEW_ENVIRONMENT,
      [LABEL_PR]: String(pr.number),
      [LABEL_INSTANCE]: names.namespace,
    },
    report: {
      outcome: 'deploying',
      pr: { number: pr.number, headSha: pr.headSha, headRef: pr.headRef, title: pr.title },
      names,
      app: o.naming.app,
      url: '',
      moreUrls: [],
      caveat: images.length
        ? undefined
        : 'No `images` were given, so this preview runs the images as written in the manifests, not a build of this PR.',
      images: images.map((i) => ({ name: i.name, ref: formatImageRef(i) })),
      applied: [],
      pruned: [],
      workloads: [],
      updatedAt,
      expiresAt: new Date(updatedAt.getTime() + o.ttlSeconds * 1000),
      runUrl: ctx.runUrl,
      warnings: [],
    },
  };
}

/** The release's outcome, told to GitHub and recorded on the namespace. */
async function conclude(
  report: PreviewReport,
  outcome: ReleaseOutcome,
  publisher: GitHubPublisher,
  secrets: string[],
  ports: Ports,
  searchDeployments: boolean,
  repoLabel: string,
): Promise<PreviewReport> {
  const { names, pr } = report;
  if (outcome.status === 'superseded') {
    const by = (outcome.supersededBy ?? '').slice(0, 7);
    const note = `A run for ${by} took over namespace ${names.namespace} while this run (${pr.headSha.slice(0, 7)}) applied; it stopped and leaves the rest to that run.`;
    ports.logger.info(note);
    await publisher.deploymentStatus('inactive', `Superseded by a newer commit of PR #${pr.number}`);
    return { ...report, outcome: 'superseded', note };
  }
  let concluded: PreviewReport;
  if (outcome.status === 'ready') {
    concluded = { ...report, outcome: 'ready' };
    await publisher.deploymentStatus(
      'success',
      report.url ? `Preview ready at ${report.url}` : 'Preview ready (no URL: nothing routes to it)',
      report.url,
    );
    await publisher.deactivate(names.environment, {
      description: `Superseded by ${pr.headSha.slice(0, 7)}`,
      search: searchDeployments,
    });
    ports.logger.info(`Preview ready: ${report.url || report.reach}`);
  } else {
    concluded = {
      ...report,
      outcome: 'failed',
      failure: outcome.message,
      diagnostics: outcome.diagnostics,
      // Nothing applied (refused before the first write): nothing of this run answers at the URL.
      ...(outcome.applied.length ? {} : { url: '', moreUrls: [] }),
    };
    await publisher.deploymentStatus('failure', outcome.message ?? 'failed');
  }
  await publisher.comment(previewComment(concluded, secrets));
  try {
    await updateRecord(
      ports.kube(),
      names.namespace,
      pr.headSha,
      {
        pr: pr.number,
        state: concluded.outcome === 'ready' ? 'ready' : 'failed',
        commentId: publisher.commentId,
        deploymentId: publisher.deploymentId,
      },
      repoLabel,
    );
  } catch (e) {
    ports.logger.warning(
      `Could not record the outcome on namespace ${names.namespace}: ${(e as Error).message}`,
    );
  }
  return concluded;
}

/**
 * The workflow was cancelled (cancel-in-progress when a newer push arrives, or a person): the runner
 * gives a few seconds before it kills the step, enough to say so on the deployment and the comment
 * rather than leave "Deploying…" forever.
 */
async function cancelled(
  report: PreviewReport,
  publisher: GitHubPublisher,
  secrets: string[],
  ports: Ports,
  repoLabel: string,
): Promise<PreviewReport> {
  const done: PreviewReport = {
    ...report,
    outcome: 'cancelled',
    failure: 'The run was cancelled before the preview was ready.',
  };
  ports.logger.warning(done.failure!);
  await publisher.deploymentStatus('error', `Cancelled before ${report.pr.headSha.slice(0, 7)} was ready`);
  await publisher.comment(previewComment(done, secrets));
  try {
    await updateRecord(
      ports.kube(),
      report.names.namespace,
      report.pr.headSha,
      { pr: report.pr.number, state: 'cancelled' },
      repoLabel,
    );
  } catch (e) {
    ports.logger.debug(`Could not record the cancellation: ${(e as Error).message}`);
  }
  return done;
}

/** How long a release may take before the PR is told that it is deploying. */
const ANNOUNCE_AFTER_MS = 10_000;

/**
 * The namespace's record when the namespace is this repository's preview of this PR (a record of
 * someone else's is none of our business: ensureNamespace refuses that namespace later).
 */
async function readOwnRecord(
  ports: Ports,
  namespace: string,
  repoLabel: string,
  pr: number,
): Promise<{ exists: boolean; record?: NamespaceRecord }> {
  try {
    const record = await readRecord(ports.kube(), namespace);
    if (!record) return { exists: false };
    return record.repoLabel === repoLabel && record.pr === pr ? { exists: true, record } : { exists: true };
  } catch (e) {
    // Reading is an optimisation; the release step reports a cluster that cannot be reached.
    ports.logger.debug(`Could not read namespace ${namespace}: ${(e as Error).message}`);
    return { exists: true };
  }
}

/**
 * Pod logs and events can echo the preview's own Secret values: mask them in the log (they are kept
 * out of the comment and the summary by the renderers). The runner matches masks line by line, so a
 * PEM key or a JSON blob is masked per line too.
 */
function maskSecrets(secrets: string[], mask: (v: string) => void): void {
  for (const v of secrets)
    for (const part of [v, ...v.split(/\r?\n/)]) if (part.trim().length >= 4) mask(part);
}

function cleanupInstead(
  o: PreviewOptions,
  ctx: RunContext,
  ports: Ports,
  pr: PullRequestContext,
  why: string,
): Promise<CommandResult> {
  ports.logger.info(`PR #${pr.number} ${why}: removing its preview instead of leaving it behind.`);
  return runCleanupFor(o, ctx, ports, pr);
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

/**
 * The evicted preview's PR hears why and how to bring it back (its comment, found by the id its
 * namespace recorded; its deployment marked inactive). Another repository's preview (a cluster-wide
 * cap) is out of this token's reach: the log says so.
 */
async function tellEvicted(
  ctx: RunContext,
  ports: Ports,
  victim: LivePreview,
  by: number,
  o: PreviewOptions,
): Promise<void> {
  const max = o.admission.max;
  const gh = ports.github;
  const repoLabel = repoLabelValue(`${ctx.owner}/${ctx.repo}`);
  if (!gh || victim.record.repoLabel !== repoLabel || !victim.record.pr) {
    ports.logger.info(
      `Evicted ${victim.namespace}; its PR is not in this repository (or not recorded), so it was not told.`,
    );
    return;
  }
  const repo = { owner: ctx.owner, repo: ctx.repo };
  const body =
    `${commentMarker(o.naming.app)}\n### 🗑️ Preview removed to make room\n\n` +
    `The cluster allows ${max} live previews (\`max-previews\`), and PR #${by} needed a slot: this preview (namespace \`${victim.namespace}\`, priority ${victim.priority}) ` +
    `was the least recently updated one of equal or lower priority, so kubestage deleted it.\n\n` +
    `To bring it back, push a commit or re-run the preview workflow; a \`${o.admission.priorityPrefix}high\` label keeps it from being evicted by normal-priority PRs.`;
  try {
    if (victim.record.commentId)
      await updateCommentById(gh, repo, victim.record.commentId, body, {
        logger: ports.logger,
        marker: commentMarker(o.naming.app),
      });
    if (victim.record.deploymentId)
      await setDeploymentStatus(gh, repo, victim.record.deploymentId, {
        state: 'inactive',
        description: `Evicted for PR #${by} (max-previews ${max})`,
      });
  } catch (e) {
    ports.logger.warning(
      `Could not tell PR #${victim.record.pr} that its preview was evicted: ${(e as Error).message}`,
    );
  }
}

/** `3 created, 1 configured, 2 unchanged`. */
function countActions(actions: string[]): string {
  const n = new Map<string, number>();
  for (const a of actions) n.set(a, (n.get(a) ?? 0) + 1);
  return [...n].map(([a, k]) => `${k} ${a}`).join(', ');
}
