// The one place that posts a run's report to GitHub: the PR comment and the deployment. Best effort:
// GitHub trouble never fails a deploy; it is logged as a warning and listed in the summary. It keeps
// only what GitHub gave back (the ids) so later calls in the same run reach the same objects.
import type { GitHubClient } from '../github/client.js';
import {
  findMarkedComment,
  updateCommentById,
  upsertComment,
  type MarkedComment,
} from '../github/comment.js';
import {
  createDeployment,
  deactivateDeployments,
  setDeploymentStatus,
  type CreateDeploymentOptions,
  type DeploymentState,
} from '../github/deployments.js';
import type { RepoRef } from '../github/pulls.js';
import type { Logger } from '../logger.js';

export interface PublisherOptions {
  repo: RepoRef;
  pr: number;
  /** Keep the PR comment up to date. */
  comment: boolean;
  /** Create and update GitHub deployments. */
  deployment: boolean;
  logger: Logger;
  /** Link from deployment statuses to the run. */
  logUrl?: string;
  /** The comment's hidden marker (commentMarker(app)). */
  marker: string;
  /**
   * What the namespace recorded from the last run: its comment (updated by id, no search) and its
   * deployment (the one to retire when this run's goes live). Absent: found by searching GitHub.
   */
  known?: { commentId?: number; deploymentId?: number };
}

export class GitHubPublisher {
  readonly warnings: string[] = [];
  deploymentId?: number;
  commentId?: number;
  /** e.g. a fork's read-only token: it will not change within this run, so stop asking. */
  private commentsOff = false;

  constructor(
    private readonly gh: GitHubClient | undefined,
    private readonly opts: PublisherOptions,
  ) {
    this.commentId = opts.known?.commentId;
  }

  get deploymentsOn(): boolean {
    return Boolean(this.gh && this.opts.deployment);
  }

  get commentsOn(): boolean {
    return Boolean(this.gh && this.opts.comment && !this.commentsOff);
  }

  async createDeployment(d: Omit<CreateDeploymentOptions, 'prNumber'>): Promise<void> {
    const gh = this.gh;
    if (!gh || !this.opts.deployment) return;
    await this.attempt('create the GitHub deployment', async () => {
      this.deploymentId = await createDeployment(gh, this.opts.repo, { ...d, prNumber: this.opts.pr });
    });
  }

  /** A status on this run's deployment; `environmentUrl` only where something routes there. */
  async deploymentStatus(
    state: DeploymentState,
    description: string,
    environmentUrl?: string,
  ): Promise<void> {
    const gh = this.gh;
    const id = this.deploymentId;
    if (!gh || !id) return;
    await this.attempt(`set the deployment status to ${state}`, () =>
      setDeploymentStatus(gh, this.opts.repo, id, {
        state,
        description,
        environmentUrl: environmentUrl || undefined,
        logUrl: this.opts.logUrl,
      }),
    );
  }

  /**
   * Marks the PR's earlier deployments in `environment` inactive, except this run's. GitHub's
   * auto_inactive skips transient deployments, so a PR's earlier commits would all stay "Active"
   * otherwise. The one the namespace recorded is retired directly (every earlier one was retired by
   * the run that recorded it); without a record, `search` looks through the environment's deployments.
   */
  async deactivate(environment: string, o: { description?: string; search: boolean }): Promise<number> {
    const gh = this.gh;
    if (!gh || !this.opts.deployment) return 0;
    const previous = this.opts.known?.deploymentId;
    let count = 0;
    if (previous !== undefined) {
      if (previous === this.deploymentId) return 0;
      await this.attempt('mark the previous deployment inactive', async () => {
        await setDeploymentStatus(gh, this.opts.repo, previous, {
          state: 'inactive',
          description: o.description ?? 'Preview removed by kubestage',
        });
        count = 1;
      });
      return count;
    }
    if (!o.search) return 0;
    await this.attempt('mark the deployments inactive', async () => {
      count = await deactivateDeployments(gh, this.opts.repo, {
        environment,
        prNumber: this.opts.pr,
        exceptIds: this.deploymentId ? [this.deploymentId] : undefined,
        description: o.description,
      });
    });
    return count;
  }

  /** The comment kubestage keeps on the PR, if there is one (undefined also when it cannot be read). */
  async existingComment(): Promise<MarkedComment | undefined> {
    const gh = this.gh;
    if (!gh || !this.opts.comment) return undefined;
    let found: MarkedComment | undefined;
    await this.attempt('read the PR comment', async () => {
      found = (await findMarkedComment(gh, this.opts.repo, this.opts.pr, this.opts.marker)) ?? undefined;
    });
    return found;
  }

  async comment(body: string): Promise<void> {
    const gh = this.gh;
    if (!gh || !this.commentsOn) return;
    await this.attempt('update the PR comment', async () => {
      // The id the namespace recorded (or this run got) is edited directly: no search through the
      // PR's comments. Gone (deleted by someone) → found or created as the first time.
      if (this.commentId !== undefined) {
        const updated = await updateCommentById(gh, this.opts.repo, this.commentId, body, {
          marker: this.opts.marker,
          logger: this.opts.logger,
        });
        if (updated) return;
      }
      const r = await upsertComment(gh, this.opts.repo, this.opts.pr, body, {
        marker: this.opts.marker,
        logger: this.opts.logger,
      });
      if ('id' in r) this.commentId = r.id;
      else {
        this.commentsOff = true;
        this.warn(`PR comment skipped: ${r.reason}`);
      }
    });
  }

  private async attempt(what: string, fn: () => Promise<unknown>): Promise<void> {
    try {
      await fn();
    } catch (e) {
      this.warn(`Could not ${what}: ${(e as Error).message}`);
    }
  }

  private warn(message: string): void {
    if (this.warnings.includes(message)) return;
    this.warnings.push(message);
    this.opts.logger.warning(message);
  }
}
