// `sweep`, for a scheduled workflow: delete this repository's previews that expired or whose PR is
// closed, merged or gone; tell each PR why; never touch another repository's namespaces or a stage's.
import type { RunContext } from '../app/context.js';
import { audit } from '../kube/audit.js';
import { startDeadline } from '../model/deadline.js';
import { preDeleteRefusal, runPreDeleteHooks } from '../steps/hooks.js';
import type { Ports } from '../app/ports.js';
import type { CommandResult } from '../app/result.js';
import { apiMessage, httpStatus, type GitHubClient } from '../github/client.js';
import { updateCommentById } from '../github/comment.js';
import { readPullStates, type PullState, type PullStates, type RepoRef } from '../github/pulls.js';
import { describeApiError, statusOf } from '../kube/errors.js';
import { deleteNamespace, describeStuck, isTerminating, ownershipProblem } from '../kube/namespaces.js';
import { permissionHint } from '../kube/permissions.js';
import { mapSettled } from '../kube/pool.js';
import type { LiveObject } from '../kube/types.js';
import {
  LABEL_ENVIRONMENT,
  LABEL_MANAGED_BY,
  LABEL_REPO,
  MANAGED_BY,
  PREVIEW_ENVIRONMENT,
  repoLabelValue,
} from '../model/labels.js';
import { decodeRecord, type NamespaceRecord } from '../model/records.js';
import { formatUtc, renderPreviewComment } from '../report/comment.js';
import { GitHubPublisher } from '../report/publisher.js';
import { reasonText, sweepResult, type SweepReason, type SweepRow } from '../report/sweep.js';
import type { SweepOptions } from '../settings/sweep.js';

/** Namespaces deleted at once: each waits until its namespace is gone (or the wait runs out). */
const PARALLEL_DELETIONS = 4;
/**
 * A namespace an earlier sweep left Terminating is checked again briefly, not waited on for the whole
 * `wait-timeout` every night: what holds it is reported, and it goes by itself once released.
 */
const ALREADY_TERMINATING_WAIT_S = 10;
/** Our comment's first line: the marker, with the app's name in a monorepo. */
const MARKER = /^<!-- kubestage:preview(?::([a-z0-9-]+))? -->/;

/** What to do with one preview, from its record and its PR (a pure rule). */
export interface Verdict {
  delete: boolean;
  reason: SweepReason;
  /** The PR could not be read: the preview stays, and that is an error. */
  error?: string;
}

/** The most GitHub requests a sweep spends on PR state (issue: 500 previews in at most 10). */
export const PR_STATE_BUDGET = 10;

export function judgePreview(
  record: Pick<NamespaceRecord, 'pr' | 'expiresAt'>,
  pull: PullState | undefined,
  failure: string | undefined,
  now: Date,
  keepLabel: string,
  /** Left unconfirmed by the request budget (readPullStates): known not to be open, or not even that. */
  deferred?: 'not-open' | 'unknown',
): Verdict {
  if (record.pr === undefined) return { delete: false, reason: 'no-pr' };
  if (!pull && deferred) {
    // Not open (absent from the whole open list), state not confirmed this time: expiry still applies.
    return deferred === 'not-open' && record.expiresAt && record.expiresAt.getTime() <= now.getTime()
      ? { delete: true, reason: 'expired' }
      : { delete: false, reason: 'pr-unconfirmed' };
  }
  if (!pull) {
    return {
      delete: false,
      reason: 'pr-unknown',
      error: `${failure ?? `PR #${record.pr} was not read`}; the preview is kept until its state is known`,
    };
  }
  if (pull.fate === 'closed') return { delete: true, reason: 'pr-closed' };
  if (pull.fate === 'merged') return { delete: true, reason: 'pr-merged' };
  if (pull.fate === 'gone') return { delete: true, reason: 'pr-gone' };
  if (!record.expiresAt || record.expiresAt.getTime() > now.getTime())
    return { delete: false, reason: 'open' };
  // GitHub label names are unique regardless of case.
  const keep = pull.labels.some((l) => l.toLowerCase() === keepLabel.toLowerCase());
  return keep ? { delete: false, reason: 'keep-label' } : { delete: true, reason: 'expired' };
}

export async function runSweep(o: SweepOptions, ctx: RunContext, ports: Ports): Promise<CommandResult> {
  const log = ports.logger;
  const kube = ports.kube();
  const repo: RepoRef = { owner: ctx.owner, repo: ctx.repo };
  const fullName = `${ctx.owner}/${ctx.repo}`;
  const repoLabel = repoLabelValue(fullName);
  const gh = ports.github;
  if (!gh) throw new Error('sweep needs a GitHub token to read the pull requests; set `github-token`.');
  const at = ctx.now();

  // Ours, this repository's, previews only: the selector says so, and each namespace is checked again.
  const selector = `${LABEL_MANAGED_BY}=${MANAGED_BY},${LABEL_REPO}=${repoLabel},${LABEL_ENVIRONMENT}=${PREVIEW_ENVIRONMENT}`;
  let listed: LiveObject[];
  try {
    listed = (await kube.list<LiveObject>('v1', 'Namespace', { labelSelector: selector })).items;
  } catch (e) {
    throw new Error(
      `could not list the preview namespaces (${selector}): ${describeApiError(e)}` +
        (statusOf(e) === 403 ? `; ${permissionHint('list on namespaces (cluster scope)')}` : ''),
      { cause: e },
    );
  }
  const previews = listed
    .filter(
      (ns) =>
        ownershipProblem(ns, { repoLabel }) === undefined &&
        ns.metadata.labels?.[LABEL_ENVIRONMENT] === PREVIEW_ENVIRONMENT,
    )
    .map((ns) => ({ ns, record: decodeRecord(ns.metadata) }))
    .sort(
      (a, b) =>
        (a.record.pr ?? 0) - (b.record.pr ?? 0) || a.ns.metadata.name.localeCompare(b.ns.metadata.name),
    );

  const numbers = [...new Set(previews.flatMap((p) => (p.record.pr === undefined ? [] : [p.record.pr])))];
  const pulls: PullStates = numbers.length
    ? await readPullStates(gh, repo, numbers, {
        budget: PR_STATE_BUDGET,
        // Unexpired previews first: an expired one goes either way.
        prefer: new Set(
          previews
            .filter((p) => p.record.pr !== undefined && (!p.record.expiresAt || p.record.expiresAt > at))
            .map((p) => p.record.pr as number),
        ),
      })
    : {
        states: new Map(),
        failures: new Map(),
        deferred: new Set<number>(),
        openListed: false,
        requests: 0,
        how: [],
      };
  log.info(
    `${previews.length} preview namespace(s) of ${fullName}, ${numbers.length} pull request(s); their states took ${pulls.requests} GitHub request(s)` +
      (pulls.how.length ? `: ${pulls.how.join('; ')}.` : '.'),
  );

  const warnings: string[] = [];
  const results = await mapSettled(
    previews,
    PARALLEL_DELETIONS,
    async ({ ns, record }): Promise<SweepRow> => {
      const pull = record.pr === undefined ? undefined : pulls.states.get(record.pr);
      const failure = record.pr === undefined ? undefined : pulls.failures.get(record.pr);
      // Only a PR the whole open list did not show is known not to be open.
      const deferred =
        record.pr !== undefined && pulls.deferred.has(record.pr)
          ? pulls.openListed
            ? ('not-open' as const)
            : ('unknown' as const)
          : undefined;
      const verdict = judgePreview(record, pull, failure, at, o.keepLabel, deferred);
      const row: SweepRow = {
        namespace: ns.metadata.name,
        ...(record.pr !== undefined ? { pr: record.pr } : {}),
        ...(record.pr !== undefined ? { prState: pull?.fate ?? 'unknown' } : {}),
        ...(record.expiresAt ? { expiresAt: record.expiresAt } : {}),
        action: verdict.error ? 'error' : verdict.delete ? (o.dryRun ? 'would-delete' : 'deleted') : 'kept',
        reason: verdict.reason,
        ...(verdict.error ? { error: verdict.error } : {}),
      };
      if (!verdict.delete || o.dryRun) return row;
      return sweepOne(o, ctx, ports, gh, { ns, record, pull, row, repoLabel, warnings });
    },
  );
  const rows = results.map((r, i) => {
    if (r.status === 'fulfilled') return r.value;
    const p = previews[i] as (typeof previews)[number];
    return {
      namespace: p.ns.metadata.name,
      ...(p.record.pr !== undefined ? { pr: p.record.pr } : {}),
      action: 'error' as const,
      reason: 'pr-unknown' as const,
      error: (r.reason as Error).message,
    };
  });
  return sweepResult({
    repo: fullName,
    at,
    dryRun: o.dryRun,
    keepLabel: o.keepLabel,
    rows,
    pullRequests: { requests: pulls.requests, how: pulls.how },
    warnings,
  });
}

interface Target {
  ns: LiveObject;
  record: NamespaceRecord;
  pull: PullState | undefined;
  row: SweepRow;
  repoLabel: string;
  warnings: string[];
}

/** Deletes one preview, waits for it to go, then updates its PR comment and deployment. */
async function sweepOne(
  o: SweepOptions,
  ctx: RunContext,
  ports: Ports,
  gh: GitHubClient,
  t: Target,
): Promise<SweepRow> {
  const { ns, record, row } = t;
  const name = ns.metadata.name;
  const log = ports.logger;
  const waitSeconds = isTerminating(ns)
    ? Math.min(o.waitTimeoutSeconds, ALREADY_TERMINATING_WAIT_S)
    : o.waitTimeoutSeconds;
  // The pre-delete hooks recorded at preview time run first, as cleanup runs them; one that fails keeps
  // the namespace (and is an error), so the hook can run again.
  if (!isTerminating(ns)) {
    const hooks = await runPreDeleteHooks(ports.kube(), name, {
      deadline: startDeadline(waitSeconds * 1000),
      logger: log,
      ...(ctx.signal ? { signal: ctx.signal } : {}),
    });
    if (hooks.failure) return { ...row, action: 'error', error: `not deleted: ${preDeleteRefusal(hooks)}` };
  }
  let deleted: Awaited<ReturnType<typeof deleteNamespace>>;
  try {
    deleted = await deleteNamespace(ports.kube(), {
      name,
      owner: { repoLabel: t.repoLabel, ...(record.pr !== undefined ? { pr: record.pr } : {}) },
      environment: PREVIEW_ENVIRONMENT,
      timeoutMs: waitSeconds * 1000,
      logger: log,
      beforeDelete: () =>
        audit(
          ports.kube(),
          name,
          {
            reason: row.reason === 'expired' ? 'Expired' : 'Deleting',
            message: `sweep: ${reasonText(row, o.keepLabel)}${record.pr !== undefined ? ` (PR #${record.pr})` : ''}`,
            ...(ctx.event.actor ? { actor: ctx.event.actor } : {}),
            ...(ctx.runUrl ? { runUrl: ctx.runUrl } : {}),
          },
          { now: ctx.now(), logger: log },
        ),
    });
  } catch (e) {
    return { ...row, action: 'error', error: `not deleted: ${(e as Error).message}` };
  }
  const removedAt = ctx.now();
  const stuck = Boolean(deleted.stuck?.length);
  const out: SweepRow = { ...row, objectsRemoved: deleted.objectsRemoved };
  if (stuck) {
    out.action = 'stuck';
    out.error =
      `namespace ${name} is still Terminating after ${waitSeconds}s; these objects hold it:\n` +
      describeStuck(deleted) +
      '\nTheir controllers must remove the finalizers (or remove them by hand once safe); the namespace then goes by itself.';
  } else {
    if (deleted.warning) t.warnings.push(deleted.warning);
    log.info(`Swept ${name} (PR #${record.pr ?? '?'}, ${row.reason}).`);
  }

  // A PR that is gone has no comment to update; its deployments still exist in the repository.
  const problems: string[] = [];
  if (o.comment && record.commentId !== undefined && t.pull && t.pull.fate !== 'gone') {
    const body = (marker: string, app: string | undefined) =>
      renderPreviewComment({
        marker,
        ...(app ? { app } : {}),
        status: stuck ? 'stuck' : 'destroyed',
        url: record.url ?? '',
        namespace: name,
        headSha: record.headSha ?? '',
        headRef: t.pull?.headRef ?? '',
        ...(t.pull?.title ? { prTitle: t.pull.title } : {}),
        images: [],
        updatedAt: removedAt,
        ...(ctx.runUrl ? { runUrl: ctx.runUrl } : {}),
        ...(stuck ? { diagnostics: out.error } : {}),
        ...(stuck ? {} : { destroyed: { at: removedAt, objectsRemoved: deleted.objectsRemoved } }),
        removedBecause: because(row.reason, record),
      });
    const told = await updateComment(gh, { owner: ctx.owner, repo: ctx.repo }, record.commentId, body, ports);
    if (told === true) out.commentUpdated = true;
    else if (told) problems.push(told);
  }
  if (!stuck && o.deployment && record.deploymentId !== undefined && record.pr !== undefined) {
    const publisher = new GitHubPublisher(gh, {
      repo: { owner: ctx.owner, repo: ctx.repo },
      pr: record.pr,
      comment: false,
      deployment: true,
      logger: log,
      marker: '',
      known: { deploymentId: record.deploymentId },
    });
    out.deactivated = await publisher.deactivate(PREVIEW_ENVIRONMENT, {
      description: `Preview removed by kubestage sweep: ${because(row.reason, record)}`.slice(0, 140),
      search: false,
    });
    problems.push(...publisher.warnings);
  }
  if (problems.length && !stuck)
    out.error = `namespace ${name} is gone, but GitHub was not told: ${problems.join('; ')}`;
  else if (problems.length) out.error = `${out.error}\nAlso: ${problems.join('; ')}`;
  return out;
}

/** The clause the comment gives: "the pull request was merged". */
function because(reason: SweepReason, record: NamespaceRecord): string {
  switch (reason) {
    case 'pr-closed':
      return 'the pull request was closed';
    case 'pr-merged':
      return 'the pull request was merged';
    case 'pr-gone':
      return 'the pull request no longer exists';
    case 'expired':
      return (
        `it expired at ${record.expiresAt ? formatUtc(record.expiresAt) : 'its recorded time'}` +
        (record.updatedAt ? ` (no push since ${formatUtc(record.updatedAt)})` : '') +
        '; a new push deploys it again'
      );
    default:
      return reason;
  }
}

/**
 * Edits the recorded comment, keeping its own marker (a monorepo app's comment keeps its app's). Only a
 * comment of ours is edited; one deleted since is left gone. true when edited, undefined when there was
 * nothing to edit, else why it failed.
 */
async function updateComment(
  gh: GitHubClient,
  repo: RepoRef,
  id: number,
  body: (marker: string, app: string | undefined) => string,
  ports: Ports,
): Promise<true | string | undefined> {
  try {
    const { data } = await gh.rest.issues.getComment({ owner: repo.owner, repo: repo.repo, comment_id: id });
    const m = MARKER.exec((data.body ?? '').trimStart());
    if (!m) {
      ports.logger.warning(`Comment ${id} does not start with kubestage's marker any more; left as it is.`);
      return undefined;
    }
    const updated = await updateCommentById(gh, repo, id, body(m[0], m[1]), {
      marker: m[0],
      logger: ports.logger,
    });
    return updated ? true : undefined;
  } catch (e) {
    if (httpStatus(e) === 404) {
      ports.logger.info(`The PR comment ${id} was deleted; nothing to update.`);
      return undefined;
    }
    return `could not update the PR comment ${id}: ${apiMessage(e)}`;
  }
}
