// The pull request a run acts on: from the event payload where it has it, else through the API.
import type { RunContext } from '../app/context.js';
import type { Ports } from '../app/ports.js';
import { compareCommits, findPullForSha, getPull, type PullInfo } from '../github/pulls.js';
import { SettingsError } from '../settings/inputs.js';

export interface PullRequestContext {
  number: number;
  headSha: string;
  headRef: string;
  title: string;
  state: 'open' | 'closed';
  merged: boolean;
  /** Its labels (a preview's priority); empty when not known. */
  labels: string[];
}

export async function resolvePullRequest(
  ctx: RunContext,
  ports: Ports,
  opts: { needsHead: boolean } = { needsHead: true },
): Promise<PullRequestContext> {
  const ev = ctx.event;
  const repo = { owner: ctx.owner, repo: ctx.repo };
  if (ev.prNumber && ev.headSha && (ev.name === 'pull_request' || ev.name === 'pull_request_target')) {
    return {
      number: ev.prNumber,
      headSha: ev.headSha,
      headRef: ev.headRef ?? '',
      title: ev.title ?? '',
      state: ev.state ?? 'open',
      merged: ev.merged ?? false,
      labels: ev.labels ?? [],
    };
  }
  if (!ports.github && ev.name === 'cli' && ev.prNumber && !opts.needsHead) {
    // A person tearing down pr-<n> from a terminal without a token: the number is all the names need
    // (unless a template uses {branch}, which previewNames then reports).
    return {
      number: ev.prNumber,
      headSha: '',
      headRef: '',
      title: '',
      state: 'open',
      merged: false,
      labels: [],
    };
  }
  if (!ports.github) {
    throw new SettingsError(
      ev.name === 'cli'
        ? 'Finding the pull request needs the GitHub API, but there is no token: set GITHUB_TOKEN, or log in with `gh auth login`.'
        : `A ${ev.name} run finds its pull request through the GitHub API, but there is no token: set \`github-token\`.`,
    );
  }
  if (ev.prNumber) {
    const pr = fromPull(await getPull(ports.github, repo, ev.prNumber));
    // A workflow_run deploys what its run built (run.head_sha), even if the PR has moved on since:
    // the preview then sees the newer head and stands down instead of deploying an unbuilt tag.
    return ev.name === 'workflow_run' && ev.headSha ? { ...pr, headSha: ev.headSha } : pr;
  }
  if (!ev.headSha)
    throw new SettingsError(`The ${ev.name} event payload has no head SHA to find the pull request by.`);
  const [headOwner] = (ev.headRepoFullName ?? '').split('/');
  const pr = await findPullForSha(
    ports.github,
    repo,
    ev.headSha,
    headOwner && ev.headRef ? { owner: headOwner, ref: ev.headRef } : undefined,
  );
  if (!pr) {
    throw new SettingsError(
      `No open pull request in ${ctx.owner}/${ctx.repo} has head commit ${ev.headSha} (from the ${ev.name} event). ` +
        'The PR may have been updated or closed since; or pass the `pr-number` input.',
    );
  }
  // The run built ev.headSha: deploy that (the preview stands down if the PR has moved on since).
  return { ...fromPull(pr), headSha: ev.headSha };
}

function fromPull(pr: PullInfo): PullRequestContext {
  return {
    number: pr.number,
    headSha: pr.headSha,
    headRef: pr.headRef,
    title: pr.title,
    state: pr.state,
    merged: pr.merged,
    labels: pr.labels,
  };
}

/** Where the PR stands relative to this run's commit. */
export type PullCheck =
  | { state: 'closed' }
  /** This run's commit is the PR's head, or ahead of what GitHub reports (its answer lags a push). */
  | { state: 'current' }
  /** The PR has moved on to a newer commit. */
  | { state: 'moved'; headSha: string };

/**
 * Reads the PR on GitHub each time it is called and tells whether this run's commit is still the one
 * to deploy; undefined when GitHub cannot be asked (no token, an outage: after the first failure it
 * stops asking, so one outage is one warning). When GitHub names another head, the compare API says
 * which is newer: a run never stands down in favour of an older commit because GitHub's answer lagged.
 */
export function pullChecker(
  ctx: RunContext,
  ports: Ports,
  pr: Pick<PullRequestContext, 'number' | 'headSha'>,
): () => Promise<PullCheck | undefined> {
  let broken = !ports.github;
  const repo = { owner: ctx.owner, repo: ctx.repo };
  return async () => {
    if (broken || !ports.github) return undefined;
    try {
      const now = await getPull(ports.github, repo, pr.number);
      if (now.state === 'closed') return { state: 'closed' };
      if (now.headSha === pr.headSha) return { state: 'current' };
      const ours = await compareCommits(ports.github, repo, now.headSha, pr.headSha).catch((e: unknown) => {
        ports.logger.debug(
          `Could not compare ${now.headSha.slice(0, 7)} with ${pr.headSha.slice(0, 7)}: ${(e as Error).message}`,
        );
        return undefined;
      });
      if (ours === 'ahead') {
        ports.logger.info(
          `GitHub still names ${now.headSha.slice(0, 7)} as the head of PR #${pr.number}, but ${pr.headSha.slice(0, 7)} is newer: deploying it.`,
        );
        return { state: 'current' };
      }
      return { state: 'moved', headSha: now.headSha };
    } catch (e) {
      broken = true;
      ports.logger.warning(
        `Could not read PR #${pr.number} on GitHub (${(e as Error).message}); carrying on without checking whether it closed or moved on.`,
      );
      return undefined;
    }
  };
}
