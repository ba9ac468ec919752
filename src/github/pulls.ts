// The few facts about a pull request the commands need, in one small typed shape, so nothing else
// has to know the REST payload.
import type { GitHubClient } from './client.js';

export interface RepoRef {
  owner: string;
  repo: string;
}

export interface PullInfo {
  number: number;
  state: 'open' | 'closed';
  merged: boolean;
  headSha: string;
  headRef: string;
  /** `owner/repo` the branch lives in; null when that fork has been deleted. */
  headRepoFullName: string | null;
  baseRepoFullName: string;
  title: string;
  htmlUrl: string;
  /** Head branch in another repository (or in a deleted one): its workflow token is read-only. */
  isFork: boolean;
}

/** The REST fields we read; both "get a pull" and "pulls for a commit" return at least these. */
interface PullPayload {
  number: number;
  state: string;
  merged?: boolean | null;
  merged_at: string | null;
  title: string;
  html_url: string;
  head: { sha: string; ref: string; repo: { full_name: string } | null };
  base: { repo: { full_name: string } };
}

export function toPullInfo(p: PullPayload): PullInfo {
  const headRepoFullName = p.head.repo?.full_name ?? null;
  const baseRepoFullName = p.base.repo.full_name;
  return {
    number: p.number,
    state: p.state === 'open' ? 'open' : 'closed',
    // The list endpoint has no `merged`; merged_at is set exactly when the PR was merged.
    merged: p.merged ?? p.merged_at !== null,
    headSha: p.head.sha,
    headRef: p.head.ref,
    headRepoFullName,
    baseRepoFullName,
    title: p.title,
    htmlUrl: p.html_url,
    isFork: headRepoFullName?.toLowerCase() !== baseRepoFullName.toLowerCase(),
  };
}

/** The pull request `number`; throws (HTTP 404) if there is none. */
export async function getPull(client: GitHubClient, repo: RepoRef, number: number): Promise<PullInfo> {
  const { data } = await client.rest.pulls.get({ owner: repo.owner, repo: repo.repo, pull_number: number });
  return toPullInfo(data);
}

/**
 * The open pull request whose head is exactly `sha` (e.g. for a workflow_run or push event that carries
 * no PR number) — or, given the branch the commit was built from, the open PR from that branch whose
 * head has since moved on — or null. A commit merged into main is "associated" with its old PR too; requiring an
 * open PR with that head excludes it.
 */
export async function findPullForSha(
  client: GitHubClient,
  repo: RepoRef,
  sha: string,
  head?: { owner: string; ref: string },
): Promise<PullInfo | null> {
  const pulls = await client.paginate(client.rest.repos.listPullRequestsAssociatedWithCommit, {
    owner: repo.owner,
    repo: repo.repo,
    commit_sha: sha,
    per_page: 100,
  });
  const candidates = pulls.map(toPullInfo);
  const found = pickOpenWithHead(candidates, sha) ?? pickOpenFromBranch(candidates, head);
  if (found || !head) return found;
  // GitHub answers [] above for a commit that exists only in a fork; the open PRs from the fork's
  // branch (`head=owner:ref`) find it.
  const fromBranch = await client.paginate(client.rest.pulls.list, {
    owner: repo.owner,
    repo: repo.repo,
    state: 'open',
    head: `${head.owner}:${head.ref}`,
    per_page: 100,
  });
  const branchPulls = fromBranch.map(toPullInfo);
  return pickOpenWithHead(branchPulls, sha) ?? pickOpenFromBranch(branchPulls, head);
}

/**
 * The open PR from `head`'s branch even though its head has moved past `sha` (a quick second push):
 * the caller deploys `sha` only if it is still the PR's head, and otherwise stands down.
 */
function pickOpenFromBranch(pulls: PullInfo[], head?: { owner: string; ref: string }): PullInfo | null {
  if (!head) return null;
  return (
    pulls
      .filter(
        (p) =>
          p.state === 'open' && p.headRef === head.ref && p.headRepoFullName?.split('/')[0] === head.owner,
      )
      .sort((a, b) => a.number - b.number)[0] ?? null
  );
}

function pickOpenWithHead(pulls: PullInfo[], sha: string): PullInfo | null {
  return (
    pulls.filter((p) => p.state === 'open' && p.headSha === sha).sort((a, b) => a.number - b.number)[0] ??
    null
  );
}

/** How `head` relates to `base` in history: `ahead` means head has commits base lacks and none missing. */
export async function compareCommits(
  client: GitHubClient,
  repo: RepoRef,
  base: string,
  head: string,
): Promise<'ahead' | 'behind' | 'identical' | 'diverged'> {
  const { data } = await client.rest.repos.compareCommitsWithBasehead({
    owner: repo.owner,
    repo: repo.repo,
    basehead: `${base}...${head}`,
    per_page: 1,
  });
  return data.status;
}

export interface CommitInfo {
  sha: string;
  /** The first line of the message. */
  title: string;
  /** The GitHub login when the commit is linked to an account, else the git author name. */
  author: string;
  date?: string;
}

export interface CommitRange {
  status: 'ahead' | 'behind' | 'identical' | 'diverged';
  /** Commits in head that base lacks (GitHub lists at most 250; `total` counts them all). */
  commits: CommitInfo[];
  total: number;
  htmlUrl: string;
}

/** The commits between two SHAs, as GitHub's compare view shows them (one request, up to 250 commits). */
export async function compareRange(
  client: GitHubClient,
  repo: RepoRef,
  base: string,
  head: string,
): Promise<CommitRange> {
  const { data } = await client.rest.repos.compareCommitsWithBasehead({
    owner: repo.owner,
    repo: repo.repo,
    basehead: `${base}...${head}`,
    per_page: 100,
  });
  return {
    status: data.status,
    total: data.total_commits,
    htmlUrl: data.html_url,
    commits: data.commits.map((c) => ({
      sha: c.sha,
      title: (c.commit.message ?? '').split('\n')[0] ?? '',
      author: c.author?.login ?? c.commit.author?.name ?? 'unknown',
      ...(c.commit.author?.date ? { date: c.commit.author.date } : {}),
    })),
  };
}
