// Who let this change into a protected stage: the stage's GitHub environment must ask required
// reviewers, and this workflow run must carry an approval for it (GitHub records one when a reviewer
// presses "Approve and deploy" for a job under `environment:`). Without either, the change is refused
// unless the team says why (approval-bypass), which is recorded with the revision.
import type { RunContext } from '../app/context.js';
import type { Ports } from '../app/ports.js';
import { apiMessage, httpStatus } from '../github/client.js';
import { readEnvironment, readRunApprovals } from '../github/environments.js';
import type { RevisionApprover } from '../model/ledger.js';
import type { StageConfig } from '../settings/stages.js';

/** A change kubestage will not make; nothing was written when it is thrown. */
export class RefusedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RefusedError';
  }
}

export interface Approval {
  approvers: RevisionApprover[];
  bypass?: { reason: string };
  /** Lines for the log and summary: what was checked. */
  checked: string[];
}

export async function checkApproval(
  ctx: RunContext,
  ports: Ports,
  stage: StageConfig,
  bypassReason: string | undefined,
): Promise<Approval> {
  const env = stage.githubEnvironment;
  const repo = `${ctx.owner}/${ctx.repo}`;
  const bypass = (why: string): Approval => {
    if (!bypassReason) throw new RefusedError(why);
    ports.logger.warning(
      `${why}\nProceeding anyway: approval-bypass "${bypassReason}" (recorded with the revision).`,
    );
    return { approvers: [], bypass: { reason: bypassReason }, checked: [`bypassed: ${bypassReason}`] };
  };
  const gh = ports.github;
  if (!gh) {
    return bypass(
      `${stage.name} is protected, and without a GitHub token kubestage cannot check that its environment "${env}" requires reviewers and that they approved this run. ` +
        'Give the `github-token` input (with `actions: read` and `deployments: write`), or set `approval-bypass` to the reason to go ahead without one (recorded).',
    );
  }
  let environment;
  try {
    environment = await readEnvironment(gh, ctx.owner, ctx.repo, env);
  } catch (e) {
    throw new RefusedError(
      `Could not read GitHub environment "${env}" of ${repo} to check its protection rules: ${apiMessage(e)}` +
        (httpStatus(e) === 403 || httpStatus(e) === 404
          ? ' (the token needs `actions: read`; in a workflow add `permissions: { actions: read, deployments: write, contents: read }`).'
          : '.'),
    );
  }
  if (!environment) {
    return bypass(
      `GitHub environment "${env}" does not exist in ${repo}, so nobody is asked before a change reaches ${stage.name}. ` +
        `Create it (Settings → Environments → New environment "${env}") with required reviewers, and run the promoting job with \`environment: ${env}\`.`,
    );
  }
  if (environment.requiredReviewers.length === 0) {
    return bypass(
      `GitHub environment "${env}" has no required reviewers, so its protection asks nobody before a change reaches ${stage.name} (protected: true). ` +
        `Add reviewers in Settings → Environments → ${env} → Required reviewers (${environment.htmlUrl}).`,
    );
  }
  const reviewers = environment.requiredReviewers.map((r) => r.name).join(', ');
  if (!ctx.runId) {
    return bypass(
      `${stage.name} is protected (environment "${env}" requires ${reviewers}), and this is not a GitHub Actions run, so there is no approval to check. ` +
        'Promote from the workflow (a job with `environment: ' +
        env +
        '`), or pass --approval-bypass "<reason>" to go ahead without one (recorded).',
    );
  }
  let approvals;
  try {
    approvals = await readRunApprovals(gh, ctx.owner, ctx.repo, ctx.runId);
  } catch (e) {
    throw new RefusedError(
      `Could not read the approvals of run ${ctx.runId}: ${apiMessage(e)}` +
        (httpStatus(e) === 403 || httpStatus(e) === 404
          ? ' (the token needs `actions: read`: add `permissions: { actions: read, deployments: write, contents: read }` to the job).'
          : '.'),
    );
  }
  const mine = approvals.filter((a) => a.environments.includes(env));
  const rejected = mine.find((a) => a.state === 'rejected');
  if (rejected)
    throw new RefusedError(
      `${rejected.user} rejected this run's deployment to "${env}"${rejected.comment ? `: ${rejected.comment}` : ''}.`,
    );
  const approved = mine.filter((a) => a.state === 'approved');
  if (approved.length === 0) {
    return bypass(
      `Run ${ctx.runId} has no approval for environment "${env}" (required reviewers: ${reviewers}). ` +
        `The job that promotes to ${stage.name} must declare \`environment: ${env}\` so GitHub waits for a reviewer; a run an admin pushed through without review leaves no approval. ` +
        'Set `approval-bypass` to the reason to go ahead anyway (recorded with the revision).',
    );
  }
  const approvers = approved.map((a) => ({
    user: a.user,
    environment: env,
    ...(a.comment ? { comment: a.comment } : {}),
  }));
  return {
    approvers,
    checked: [`approved by ${approvers.map((a) => a.user).join(', ')} (environment ${env})`],
  };
}
