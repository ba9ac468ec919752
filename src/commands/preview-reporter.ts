// What the PR, the GitHub deployment, the job summary and the step outputs say about a preview run.
// GitHub trouble never fails a deploy: it is logged as a warning and shown in the summary.
import { upsertComment } from '../github/comment.js';
import {
  createDeployment,
  deactivateDeployments,
  setDeploymentStatus,
  type DeploymentState,
} from '../github/deployments.js';
import { codeBlock, codeSpan, escapeMarkdown, redact } from '../github/markdown.js';
import { renderPreviewComment, type PreviewCommentState } from '../github/preview-comment.js';
import { COMMENT_MARKER } from '../model/labels.js';
import { formatObjectId, type ObjectId } from '../model/object-id.js';
import type { Settings } from '../settings.js';
import type { PreviewNames } from './names.js';
import type { CommandResult, Ports } from './ports.js';
import type { PullRequestContext } from './pull-request.js';

/** Diagnostics in the job summary are cut here; the log has them whole. */
const SUMMARY_DIAGNOSTICS_MAX = 20_000;

export class PreviewReporter {
  private deploymentId?: number;
  private commentId?: number;
  private images: { name: string; ref: string }[] = [];
  private imageRefs: Record<string, string> = {};
  private applied: { ref: string; action: string }[] = [];
  private pruned: ObjectId[] = [];
  private workloads: { ref: string; ready: boolean; state: string }[] = [];
  private readonly warnings = new Set<string>();
  private secrets: string[] = [];
  private commentsOff = false;
  private diagnostics?: string;

  constructor(
    private readonly settings: Settings,
    private readonly ports: Ports,
    private readonly pr: PullRequestContext,
    private readonly names: PreviewNames,
    private readonly now: () => Date,
  ) {}

  private get repo() {
    return { owner: this.settings.owner, repo: this.settings.repo };
  }

  async start(imageRefs: Record<string, string>): Promise<void> {
    this.imageRefs = imageRefs;
    this.images = Object.entries(imageRefs).map(([name, ref]) => ({ name, ref }));
    const gh = this.ports.github;
    if (gh && this.settings.deployment) {
      await this.tryGitHub('create the GitHub deployment', async () => {
        this.deploymentId = await createDeployment(gh, this.repo, {
          ref: this.pr.headSha,
          environment: this.names.environment,
          description: `Preview of PR #${this.pr.number} in namespace ${this.names.namespace}`,
          transient: true,
          production: false,
          prNumber: this.pr.number,
        });
      });
      await this.deploymentStatus('in_progress', `Deploying ${this.pr.headSha.slice(0, 7)}`);
    }
    await this.comment({ status: 'deploying' });
  }

  setImages(images: { name: string; ref: string }[]): void {
    if (images.length) this.images = images;
  }

  setObjects(applied: { ref: string; action: string }[], pruned: ObjectId[]): void {
    this.applied = applied;
    this.pruned = pruned;
  }

  setWorkloads(workloads: { ref: string; ready: boolean; state: string }[]): void {
    this.workloads = workloads;
  }

  setSecrets(secrets: string[]): void {
    this.secrets = secrets;
  }

  async ready(): Promise<CommandResult> {
    await this.deploymentStatus('success', `Preview ready at ${this.names.url}`);
    await this.retireEarlierDeployments();
    await this.comment({ status: 'ready' });
    this.ports.logger.info(`Preview ready: ${this.names.url}`);
    return this.result(true);
  }

  async failed(message: string, diagnostics: string): Promise<CommandResult> {
    this.diagnostics = diagnostics;
    await this.deploymentStatus('failure', message);
    await this.comment({ status: 'failed', diagnostics });
    return this.result(false, message);
  }

  /** A newer commit's run owns the PR's comment; ours only retires its own deployment. */
  async superseded(): Promise<void> {
    await this.deploymentStatus('inactive', `Superseded by a newer commit of PR #${this.pr.number}`);
  }

  result(ok: boolean, failure?: string): CommandResult {
    return {
      ok,
      failure,
      outputs: {
        namespace: this.names.namespace,
        url: this.names.url,
        'deployment-id': this.deploymentId ? String(this.deploymentId) : '',
        'comment-id': this.commentId ? String(this.commentId) : '',
        applied: String(this.applied.length),
        images: JSON.stringify(this.imageRefs),
      },
      summary: this.summary(ok, failure),
    };
  }

  private summary(ok: boolean, failure?: string): string {
    const state = new Map(this.workloads.map((w) => [w.ref, w.state]));
    const lines = [
      `## kubestage preview: PR #${this.pr.number} ${ok ? '✅ ready' : '❌ failed'}`,
      '',
      `- URL: ${this.names.url ? `[${this.names.url}](${this.names.url})` : '(no host)'}`,
      `- Namespace: \`${this.names.namespace}\``,
      `- Commit: \`${this.pr.headSha.slice(0, 7)}\``,
    ];
    if (failure) {
      const text = redact(failure, this.secrets);
      // A multi-line reason (the guard's list) stays readable as a block.
      if (text.includes('\n')) lines.push('- Failure:', '', codeBlock(text), '');
      else lines.push(`- Failure: ${escapeMarkdown(text)}`);
    }
    if (this.images.length) {
      lines.push('', '| image | reference |', '|---|---|');
      for (const i of this.images)
        lines.push(`| ${escapeMarkdown(i.name)} | ${codeSpan(i.ref, { inTable: true })} |`);
    }
    if (this.applied.length) {
      lines.push('', '| object | applied | state |', '|---|---|---|');
      for (const a of this.applied)
        lines.push(`| ${escapeMarkdown(a.ref)} | ${a.action} | ${escapeMarkdown(state.get(a.ref) ?? '—')} |`);
    }
    if (this.pruned.length)
      lines.push(
        '',
        `Pruned (no longer rendered): ${this.pruned.map((p) => codeSpan(formatObjectId(p))).join(', ')}`,
      );
    if (this.diagnostics) {
      // The summary is read when the comment could not be written (forks) or is turned off.
      const text = redact(this.diagnostics, this.secrets);
      const cut =
        text.length > SUMMARY_DIAGNOSTICS_MAX
          ? `${text.slice(0, SUMMARY_DIAGNOSTICS_MAX)}\n… (cut; the full text is in the log)`
          : text;
      lines.push('', '<details open><summary>Why it failed</summary>', '', codeBlock(cut), '', '</details>');
    }
    if (this.warnings.size)
      lines.push(
        '',
        '**Warnings**',
        ...[...this.warnings].map((w) => `- ${escapeMarkdown(redact(w, this.secrets))}`),
      );
    return lines.join('\n') + '\n';
  }

  /**
   * GitHub's auto_inactive skips transient deployments, so the PR's earlier commits would all stay
   * "Active" in its deployment list: retire them once this one is live.
   */
  private async retireEarlierDeployments(): Promise<void> {
    const gh = this.ports.github;
    const id = this.deploymentId;
    if (!gh || !id) return;
    await this.tryGitHub('mark the earlier deployments inactive', () =>
      deactivateDeployments(gh, this.repo, {
        environment: this.names.environment,
        prNumber: this.pr.number,
        exceptIds: [id],
        description: `Superseded by ${this.pr.headSha.slice(0, 7)}`,
      }),
    );
  }

  private async deploymentStatus(state: DeploymentState, description: string): Promise<void> {
    const gh = this.ports.github;
    const id = this.deploymentId;
    if (!gh || !id) return;
    await this.tryGitHub(`set the deployment status to ${state}`, () =>
      setDeploymentStatus(gh, this.repo, id, {
        state,
        description,
        environmentUrl:
          state === 'success' || state === 'in_progress' ? this.names.url || undefined : undefined,
        logUrl: this.settings.runUrl,
      }),
    );
  }

  private async comment(s: Pick<PreviewCommentState, 'status' | 'diagnostics'>): Promise<void> {
    const gh = this.ports.github;
    if (!gh || !this.settings.comment || this.commentsOff) return;
    const state = new Map(this.workloads.map((w) => [w.ref, w.state]));
    const updatedAt = this.now();
    const body = renderPreviewComment({
      ...s,
      secrets: this.secrets,
      url: this.names.url,
      namespace: this.names.namespace,
      headSha: this.pr.headSha,
      headRef: this.pr.headRef,
      prTitle: this.pr.title,
      images: this.images,
      updatedAt,
      expiresAt: new Date(updatedAt.getTime() + this.settings.ttlSeconds * 1000),
      runUrl: this.settings.runUrl,
      objects: this.applied.map((a) => {
        const [kind, ...rest] = a.ref.split('/');
        return { kind, name: rest.join('/'), state: state.get(a.ref) ?? a.action };
      }),
    });
    await this.tryGitHub('update the PR comment', async () => {
      const r = await upsertComment(gh, this.repo, this.pr.number, body, {
        marker: COMMENT_MARKER,
        logger: this.ports.logger,
      });
      if ('id' in r) this.commentId = r.id;
      else {
        // e.g. a fork's read-only token: it will not change within this run, so stop asking.
        this.commentsOff = true;
        this.warnings.add(`PR comment skipped: ${r.reason}`);
      }
    });
  }

  private async tryGitHub(what: string, fn: () => Promise<unknown>): Promise<void> {
    try {
      await fn();
    } catch (e) {
      const msg = `Could not ${what}: ${(e as Error).message}`;
      this.warnings.add(msg);
      this.ports.logger.warning(msg);
    }
  }
}
