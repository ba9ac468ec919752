// The ONE sticky PR comment: found by its hidden marker on any page, edited in place, never duplicated.
import { COMMENT_MARKER } from '../model/labels.js';
import type { Logger } from '../logger.js';
import { apiMessage, httpStatus, type GitHubClient } from './client.js';
import { truncateBody } from '../report/markdown.js';
import type { RepoRef } from './pulls.js';

export interface MarkedComment {
  id: number;
  url: string;
  body: string;
  /** Login of the author (e.g. `github-actions[bot]`). */
  author: string;
  authorIsBot: boolean;
  createdAt: string;
}

export type UpsertResult = { id: number; url: string; created: boolean } | { skipped: true; reason: string };

export interface UpsertOptions {
  marker?: string;
  logger: Logger;
}

/** Ours = starts with the marker (we always put it first; a reply that quotes it does not). */
function isMarked(body: string | undefined | null, marker: string): boolean {
  return typeof body === 'string' && body.trimStart().startsWith(marker);
}

/** Every comment on the issue/PR that carries `marker`, oldest first. Reads ALL pages. */
export async function listMarkedComments(
  client: GitHubClient,
  repo: RepoRef,
  issueNumber: number,
  marker: string = COMMENT_MARKER,
): Promise<MarkedComment[]> {
  const all = await client.paginate(client.rest.issues.listComments, {
    owner: repo.owner,
    repo: repo.repo,
    issue_number: issueNumber,
    per_page: 100,
  });
  return all
    .filter((c) => isMarked(c.body, marker))
    .map((c) => ({
      id: c.id,
      url: c.html_url,
      body: c.body ?? '',
      author: c.user?.login ?? '',
      authorIsBot: c.user?.type === 'Bot',
      createdAt: c.created_at,
    }))
    .sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id - b.id);
}

/**
 * The comment we keep up to date: the newest marked one, preferring bot-authored comments so a person
 * who pastes our marker into their own comment does not get it overwritten. Null when there is none.
 */
export async function findMarkedComment(
  client: GitHubClient,
  repo: RepoRef,
  issueNumber: number,
  marker: string = COMMENT_MARKER,
): Promise<MarkedComment | null> {
  return pickOurs(await listMarkedComments(client, repo, issueNumber, marker));
}

function pickOurs(marked: MarkedComment[]): MarkedComment | null {
  const bots = marked.filter((c) => c.authorIsBot);
  const pool = bots.length > 0 ? bots : marked;
  return pool[pool.length - 1] ?? null;
}

/** A fork PR's GITHUB_TOKEN is read-only, whatever `permissions:` says; GitHub answers 403 with this text. */
function isReadOnlyToken(e: unknown): boolean {
  return httpStatus(e) === 403 && /not accessible by integration|read-only|permission/i.test(apiMessage(e));
}

/**
 * Creates or updates the marked comment on `issueNumber` with `body` (marker added if missing, cut to
 * GitHub's size limit). Leftover duplicates from earlier concurrent runs, by the same author as the kept
 * one, are deleted. A read-only token (fork PRs) is a warning and `{ skipped: true }`, not a failure:
 * the preview itself may still have worked.
 */
export async function upsertComment(
  client: GitHubClient,
  repo: RepoRef,
  issueNumber: number,
  body: string,
  options: UpsertOptions,
): Promise<UpsertResult> {
  const marker = options.marker ?? COMMENT_MARKER;
  const { logger } = options;
  const text = truncateBody(body.startsWith(marker) ? body : `${marker}\n${body}`, undefined, marker);
  const where = `${repo.owner}/${repo.repo}#${issueNumber}`;
  try {
    const marked = await listMarkedComments(client, repo, issueNumber, marker);
    const existing = pickOurs(marked);
    let result: { id: number; url: string; created: boolean };
    if (existing === null) {
      const { data } = await client.rest.issues.createComment({
        owner: repo.owner,
        repo: repo.repo,
        issue_number: issueNumber,
        body: text,
      });
      logger.info(`Created the preview comment on ${where}: ${data.html_url}`);
      result = { id: data.id, url: data.html_url, created: true };
    } else if (existing.body === text) {
      // Same text: an edit would only bump "edited" and notify nobody; skip the write.
      logger.debug(`The preview comment on ${where} is already up to date: ${existing.url}`);
      result = { id: existing.id, url: existing.url, created: false };
    } else {
      const { data } = await client.rest.issues.updateComment({
        owner: repo.owner,
        repo: repo.repo,
        comment_id: existing.id,
        body: text,
      });
      logger.info(`Updated the preview comment on ${where}: ${data.html_url}`);
      result = { id: data.id, url: data.html_url, created: false };
    }
    // Two runs for the same PR (quick pushes) can both find no comment and both create one. After a
    // create we look again: every run keeps the newest and removes the rest, so they converge.
    const now = result.created ? await listMarkedComments(client, repo, issueNumber, marker) : marked;
    const kept = await removeDuplicates(client, repo, now, logger, where);
    if (kept !== null && result.created && kept.id !== result.id) {
      return { id: kept.id, url: kept.url, created: false };
    }
    return result;
  } catch (e) {
    if (isReadOnlyToken(e)) {
      const reason =
        `cannot write the preview comment on ${where}: the token is read-only (${apiMessage(e)}). ` +
        `GitHub's token is read-only for PRs from forks; use pull_request_target or workflow_run to comment on them, ` +
        `or grant \`pull-requests: write\` (or \`issues: write\`) to the job.`;
      logger.warning(reason);
      return { skipped: true, reason };
    }
    throw e;
  }
}

/**
 * Edits our comment by its id (remembered on the namespace): one write, no search. False when it is
 * gone or is not ours any more (someone deleted it, or the id is stale): the caller searches instead.
 * A read-only token is reported as by upsertComment.
 */
export async function updateCommentById(
  client: GitHubClient,
  repo: RepoRef,
  commentId: number,
  body: string,
  options: UpsertOptions,
): Promise<boolean> {
  const marker = options.marker ?? COMMENT_MARKER;
  const text = truncateBody(body.startsWith(marker) ? body : `${marker}\n${body}`, undefined, marker);
  try {
    const { data } = await client.rest.issues.updateComment({
      owner: repo.owner,
      repo: repo.repo,
      comment_id: commentId,
      body: text,
    });
    options.logger.info(`Updated the preview comment: ${data.html_url}`);
    return true;
  } catch (e) {
    if (httpStatus(e) === 404) return false;
    throw e;
  }
}

/** Deletes every marked comment but the one we keep, if the same account wrote it. Returns the kept one. */
async function removeDuplicates(
  client: GitHubClient,
  repo: RepoRef,
  marked: MarkedComment[],
  logger: Logger,
  where: string,
): Promise<MarkedComment | null> {
  const kept = pickOurs(marked);
  if (kept === null) return null;
  for (const c of marked) {
    if (c.id === kept.id || c.author !== kept.author) continue;
    try {
      await client.rest.issues.deleteComment({ owner: repo.owner, repo: repo.repo, comment_id: c.id });
      logger.info(`Deleted duplicate preview comment ${c.url} on ${where}.`);
    } catch (e) {
      // Another run deleting the same duplicate at the same moment is fine.
      if (httpStatus(e) !== 404) throw e;
    }
  }
  return kept;
}
