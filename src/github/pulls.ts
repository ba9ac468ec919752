// The few facts about a pull request the commands need, in one small typed shape, so nothing else
// has to know the REST payload.
import { apiMessage, httpStatus, type GitHubClient } from './client.js';

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
  /** The names of the PR's labels. */
  labels: string[];
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
  labels?: ({ name?: string } | string)[];
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
    labels: (p.labels ?? [])
      .map((l) => (typeof l === 'string' ? l : (l.name ?? '')))
      .filter((name) => name !== ''),
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

/** What became of a pull request, as far as a preview is concerned. */
export type PullFate = 'open' | 'closed' | 'merged' | 'gone';

export interface PullState {
  number: number;
  fate: PullFate;
  /** Label names (empty for a PR that is gone). */
  labels: string[];
  headRef?: string;
  title?: string;
}

export interface PullStates {
  states: Map<number, PullState>;
  /** PRs whose state could not be read, with why (a 5xx that outlived the retries, a 403, …). */
  failures: Map<number, string>;
  /**
   * PRs neither list showed and that the request budget left unconfirmed (deleted PRs answer only to a
   * GET of their own): not open when the open list was read whole; confirmed by a later sweep.
   */
  deferred: Set<number>;
  /** Whether the open list was read to its end (a deferred PR is then known not to be open). */
  openListed: boolean;
  /** GitHub requests made, each one a page of a list or one PR. */
  requests: number;
  /** How the states were read, for the log. */
  how: string[];
}

/** Up to this many PRs are read one by one; more, and the lists are read instead (decided by count). */
export const PULLS_ONE_BY_ONE_MAX = 2;
const PAGE = 100;

/**
 * The state (and labels) of each PR in `numbers`, reading each PR at most once and choosing the
 * cheaper way by count: one GET per PR, or the repository's open PRs in pages of 100 (which carry
 * the labels), then, for the PRs not open, the closed PRs newest first down to the oldest one wanted
 * (PR numbers grow with creation time, so the walk stops there) — each step only while it costs fewer
 * requests than reading the remaining PRs one by one. A PR no list showed as closed is read by itself:
 * 404 means gone, and an open PR a list missed (one closed between two pages shifts the pages) is
 * found open, never mistaken for closed.
 */
export async function readPullStates(
  client: GitHubClient,
  repo: RepoRef,
  numbers: readonly number[],
  opts: {
    /** The most requests to spend (PR state for 500 previews in ≤ 10). */
    budget?: number;
    /** PRs to confirm first when the budget cannot cover every unlisted one. */
    prefer?: ReadonlySet<number>;
  } = {},
): Promise<PullStates> {
  const budget = opts.budget ?? Infinity;
  const out: PullStates = {
    states: new Map(),
    failures: new Map(),
    deferred: new Set(),
    openListed: false,
    requests: 0,
    how: [],
  };
  const unfound = new Set(numbers);
  const found = (p: PullInfo): void => {
    if (!unfound.delete(p.number)) return;
    out.states.set(p.number, {
      number: p.number,
      fate: p.state === 'open' ? 'open' : p.merged ? 'merged' : 'closed',
      labels: p.labels,
      headRef: p.headRef,
      title: p.title,
    });
  };
  let highest = Math.max(0, ...numbers);

  if (unfound.size > PULLS_ONE_BY_ONE_MAX) {
    // The open PRs, newest first. After the first page its Link header says how many pages remain: when
    // that is not fewer than the PRs still unknown, those are read one by one instead.
    let pages = 0;
    let complete = false;
    try {
      for await (const res of client.paginate.iterator(client.rest.pulls.list, {
        owner: repo.owner,
        repo: repo.repo,
        state: 'open',
        sort: 'created',
        direction: 'desc',
        per_page: PAGE,
      })) {
        out.requests++;
        pages++;
        for (const p of res.data) {
          highest = Math.max(highest, p.number);
          found(toPullInfo(p));
        }
        const last = lastPage(res.headers.link);
        if (last === undefined) {
          complete = true;
          break;
        }
        if (unfound.size === 0 || last - pages >= unfound.size) break;
      }
    } catch (e) {
      out.how.push(`the open pull requests could not be listed (${apiMessage(e)}); reading them one by one`);
    }
    out.how.push(`${pages} page(s) of open pull requests${complete ? '' : ' (stopped early)'}`);
    out.openListed = complete;

    // Not open (if the open list was read to its end): closed, merged or gone.
    if (complete && unfound.size > PULLS_ONE_BY_ONE_MAX) {
      let closedPages = 0;
      const bound = (from: number): number => Math.ceil((from - Math.min(...unfound) + 1) / PAGE);
      if (bound(highest) < unfound.size) {
        try {
          for await (const res of client.paginate.iterator(client.rest.pulls.list, {
            owner: repo.owner,
            repo: repo.repo,
            state: 'closed',
            sort: 'created',
            direction: 'desc',
            per_page: PAGE,
          })) {
            out.requests++;
            closedPages++;
            let lowest = Infinity;
            for (const p of res.data) {
              lowest = Math.min(lowest, p.number);
              found(toPullInfo(p));
            }
            if (unfound.size === 0 || lastPage(res.headers.link) === undefined) break;
            // Every later page holds older (lower-numbered) PRs.
            if (lowest < Math.min(...unfound)) break;
            if (bound(lowest - 1) >= unfound.size) break;
          }
        } catch (e) {
          out.how.push(`the closed pull requests could not be listed (${apiMessage(e)})`);
        }
        out.how.push(`${closedPages} page(s) of closed pull requests`);
      }
    }
  }

  const single = [...unfound].sort(
    (a, b) => Number(opts.prefer?.has(b) ?? false) - Number(opts.prefer?.has(a) ?? false) || a - b,
  );
  const affordable = Math.max(0, budget - out.requests);
  for (const number of single.slice(affordable)) out.deferred.add(number);
  if (out.deferred.size)
    out.how.push(
      `${out.deferred.size} pull request(s) in neither list left for a later sweep (the budget is ${budget} requests)`,
    );
  if (unfound.size - out.deferred.size)
    out.how.push(`${unfound.size - out.deferred.size} pull request(s) read one by one`);
  for (const number of single.slice(0, affordable)) {
    out.requests++;
    try {
      found(await getPull(client, repo, number));
    } catch (e) {
      if (httpStatus(e) === 404) {
        unfound.delete(number);
        out.states.set(number, { number, fate: 'gone', labels: [] });
      } else {
        out.failures.set(number, `could not read PR #${number}: ${apiMessage(e)}`);
      }
    }
  }
  return out;
}

/** The `page` of the Link header's rel="last", or undefined when there is no next page. */
function lastPage(link: string | undefined): number | undefined {
  if (!link || !/rel="next"/.test(link)) return undefined;
  const m = /<[^>]*[?&]page=(\d+)[^>]*>;\s*rel="last"/.exec(link);
  return m ? Number(m[1]) : Infinity;
}
