// GitHub environments, the approvals of a workflow run, and the deployment GitHub itself makes for a
// job that runs under `environment:` — what promotion needs to refuse an unguarded protected stage and
// to report on the deployment that already exists instead of creating a second one.
//
// What was checked, and where (keep this list honest when changing the code):
// - Routes, parameters and response shapes: GitHub's OpenAPI description (@octokit/openapi 23,
//   api.github.com): `repos/get-environment`, `actions/get-reviews-for-run` (NOT paginated: it has
//   no per_page/page parameters), `repos/list-deployments`, `repos/list-deployment-statuses`.
// - `can_admins_bypass` is returned by GET environment although the description omits it
//   (google/go-github#2722, #2725). When absent (older GHES) we assume true, GitHub's default.
// - The job deployment: octokit/webhooks payload-examples/api.github.com/workflow_job/
//   queued.with-deployment.payload.json (a real payload) shows task "deploy", payload {},
//   description null, ref = the run's branch name ("main"), sha = the run's head SHA,
//   transient/production false, original_environment = environment, and creator = the user who
//   triggered the run with performed_via_github_app = the GitHub Actions app. So the creator is NOT
//   always `github-actions[bot]` (it is only when the bot triggered the run); we do not match on it.
// - Its statuses go `waiting` (required reviewers; octokit/webhooks.net#52 shows a deployment_status
//   in state "waiting", CloudSnorkel/cdk-github-runners#416 reads "waiting" then "queued" from the
//   statuses list) → `queued` → `in_progress` → `success`/`failure` at the job's end
//   (hephaestus-build/Hephaestus#1828).
// - ASSUMPTION (consistent in several public test suites that model these statuses, not in GitHub's
//   docs): their log_url/target_url is the job's page, `https://github.com/<o>/<r>/actions/runs/<run_id>/job/<job_id>`.
//   We match only on `/actions/runs/<run_id>` followed by `/`, `?`, `#` or the end, so a change of
//   the job part of the URL does not break the match.
// - kubestage's own deployments (task `deploy:kubestage`) carry the run URL in log_url too; they are
//   never taken for the job's deployment.
import { httpStatus, type GitHubClient } from './client.js';
import { DEPLOYMENT_TASK } from './deployments.js';

export interface EnvironmentReviewer {
  type: 'User' | 'Team';
  /** The user's login or the team's slug. */
  name: string;
}

export interface EnvironmentProtection {
  name: string;
  requiredReviewers: EnvironmentReviewer[];
  /** The person who triggered the run may not approve it. */
  preventSelfReview: boolean;
  waitTimerMinutes: number;
  /** Only set when the environment restricts which branches may deploy. */
  branchPolicy?: { protectedBranches: boolean; customBranchPolicies: boolean };
  /** Administrators may start a waiting job without an approval ("bypass"). */
  canAdminsBypass: boolean;
  htmlUrl: string;
}

export interface RunApproval {
  /** Names of the environments this review covered. */
  environments: string[];
  state: 'approved' | 'rejected';
  /** Login of the reviewer. */
  user: string;
  comment: string;
}

export interface JobDeployment {
  id: number;
  environment: string;
  sha: string;
  ref: string;
  task: string;
  /** Login of whoever GitHub made it for (the run's actor). */
  creator: string | undefined;
  /** State of its newest status (`waiting` is possible though not in GitHub's documented enum). */
  latestState: string | undefined;
  /** The job's URL from the status that named this run. */
  jobUrl: string;
  /** The job id, when the URL has the `/job/<id>` part. */
  jobId: number | undefined;
}

interface ProtectionRulePayload {
  type?: string;
  wait_timer?: number;
  prevent_self_review?: boolean;
  reviewers?: { type?: string; reviewer?: { login?: string; slug?: string } | null }[];
}

interface EnvironmentPayload {
  name: string;
  html_url: string;
  protection_rules?: ProtectionRulePayload[];
  deployment_branch_policy?: { protected_branches: boolean; custom_branch_policies: boolean } | null;
  can_admins_bypass?: boolean;
}

/** Reads an environment's protection rules; undefined when the environment does not exist (404). */
export async function readEnvironment(
  gh: GitHubClient,
  owner: string,
  repo: string,
  name: string,
): Promise<EnvironmentProtection | undefined> {
  let data: EnvironmentPayload;
  try {
    // Octokit expands {environment_name} as a URI template variable: "/" and spaces are %-encoded.
    ({ data } = (await gh.rest.repos.getEnvironment({ owner, repo, environment_name: name })) as {
      data: EnvironmentPayload;
    });
  } catch (e) {
    if (httpStatus(e) === 404) return undefined;
    throw e;
  }
  return toProtection(data);
}

export function toProtection(data: EnvironmentPayload): EnvironmentProtection {
  const rules = data.protection_rules ?? [];
  const requiredReviewers: EnvironmentReviewer[] = [];
  let preventSelfReview = false;
  let waitTimerMinutes = 0;
  for (const rule of rules) {
    if (rule.type === 'required_reviewers') {
      preventSelfReview = rule.prevent_self_review === true;
      for (const r of rule.reviewers ?? []) {
        const type = r.type === 'Team' ? 'Team' : 'User';
        const name = type === 'Team' ? r.reviewer?.slug : r.reviewer?.login;
        if (name) requiredReviewers.push({ type, name });
      }
    } else if (rule.type === 'wait_timer') {
      waitTimerMinutes = rule.wait_timer ?? 0;
    }
  }
  const policy = data.deployment_branch_policy;
  return {
    name: data.name,
    requiredReviewers,
    preventSelfReview,
    waitTimerMinutes,
    ...(policy
      ? {
          branchPolicy: {
            protectedBranches: policy.protected_branches,
            customBranchPolicies: policy.custom_branch_policies,
          },
        }
      : {}),
    canAdminsBypass: data.can_admins_bypass ?? true,
    htmlUrl: data.html_url,
  };
}

/**
 * The reviews recorded for a workflow run, oldest first as GitHub lists them. Entries in state
 * `pending` (a comment left without a decision) are not reviews and are left out. A job that ran
 * under no `environment:`, or that an administrator started past the rules, leaves no entry here.
 */
export async function readRunApprovals(
  gh: GitHubClient,
  owner: string,
  repo: string,
  runId: number,
): Promise<RunApproval[]> {
  const { data } = await gh.rest.actions.getReviewsForRun({ owner, repo, run_id: runId });
  const out: RunApproval[] = [];
  for (const a of data) {
    if (a.state !== 'approved' && a.state !== 'rejected') continue;
    out.push({
      environments: (a.environments ?? []).map((e) => e.name).filter((n): n is string => n !== undefined),
      state: a.state,
      user: a.user.login,
      comment: a.comment,
    });
  }
  return out;
}

/**
 * The latest review of this run that covered `environment` (names compare case-insensitively, as
 * GitHub's do), or undefined. Reviews of other environments do not count.
 */
export function reviewFor(approvals: RunApproval[], environment: string): RunApproval | undefined {
  const want = environment.toLowerCase();
  return approvals.filter((a) => a.environments.some((e) => e.toLowerCase() === want)).at(-1);
}

/** Pages of deployments to look through: the job's deployment is among the newest for its SHA. */
const MAX_PAGES = 2;
const PER_PAGE = 100;

/**
 * The deployment GitHub made for this run's job under `environment:` at `sha`, or undefined when
 * there is none (the job has no `environment:`, or it names another one). Newest first; a deployment
 * belongs to the run when one of its statuses links to `/actions/runs/<runId>`.
 */
export async function findJobDeployment(
  gh: GitHubClient,
  owner: string,
  repo: string,
  opts: { environment: string; sha: string; runId: number },
): Promise<JobDeployment | undefined> {
  const runLink = new RegExp(`/actions/runs/${opts.runId}(?:[/?#]|$)`);
  const want = opts.environment.toLowerCase();
  for (let page = 1; page <= MAX_PAGES; page++) {
    const { data: deployments } = await gh.rest.repos.listDeployments({
      owner,
      repo,
      environment: opts.environment,
      sha: opts.sha,
      per_page: PER_PAGE,
      page,
    });
    for (const d of deployments) {
      // The filters again on our side: a GHES version or a proxy may ignore a query parameter.
      if (d.environment.toLowerCase() !== want || d.sha !== opts.sha || d.task === DEPLOYMENT_TASK) continue;
      const { data: statuses } = await gh.rest.repos.listDeploymentStatuses({
        owner,
        repo,
        deployment_id: d.id,
        per_page: PER_PAGE,
      });
      const linked = statuses
        .flatMap((s) => [s.log_url, s.target_url])
        .find((u): u is string => typeof u === 'string' && runLink.test(u));
      if (!linked) continue;
      const job = new RegExp(`/actions/runs/${opts.runId}/jobs?/(\\d+)`).exec(linked);
      return {
        id: d.id,
        environment: d.environment,
        sha: d.sha,
        ref: d.ref,
        task: d.task,
        creator: d.creator?.login,
        latestState: statuses[0]?.state, // the list is newest first
        jobUrl: linked,
        jobId: job ? Number(job[1]) : undefined,
      };
    }
    if (deployments.length < PER_PAGE) break;
  }
  return undefined;
}
