// GitHub deployments for previews: the PR's "View deployment" button and the environment history.
//
// Which deployments are ours: we create them with task `deploy:kubestage` (a server-side filter on the
// list endpoint, so we never page through other tools' deployments) and payload `{ kubestage: { pr } }`
// (so a PR number can be checked even if someone reuses the environment name). deactivateDeployments
// touches only deployments carrying that task.
import { randomUUID } from 'node:crypto';
import { httpStatus, type GitHubClient } from './client.js';
import type { RepoRef } from './pulls.js';

export const DEPLOYMENT_TASK = 'deploy:kubestage';
/** GitHub rejects deployment and status descriptions longer than this. */
export const DESCRIPTION_MAX = 140;

export type DeploymentState =
  'in_progress' | 'success' | 'failure' | 'inactive' | 'error' | 'queued' | 'pending';

export interface CreateDeploymentOptions {
  /** The commit to deploy: the PR head SHA, not the merge ref. */
  ref: string;
  environment: string;
  description?: string;
  transient?: boolean;
  production?: boolean;
  /** Recorded in payload.kubestage.pr so deactivateDeployments can match by PR. */
  prNumber?: number;
  payload?: Record<string, unknown>;
}

export interface DeploymentStatusOptions {
  state: DeploymentState;
  environmentUrl?: string;
  logUrl?: string;
  description?: string;
}

/** `text` cut to GitHub's 140 characters, with an ellipsis when cut. */
export function truncateDescription(text: string, max: number = DESCRIPTION_MAX): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  if ([...flat].length <= max) return flat;
  return `${[...flat].slice(0, max - 1).join('')}…`;
}

/**
 * Creates a deployment and returns its id. Never waits on status checks, never merges anything.
 *
 * A POST is not repeated blindly: when its reply is lost (a dropped connection, a 5xx from a proxy
 * after GitHub did the work) a retry would make a second deployment. Each call carries a nonce in its
 * payload; after such a failure the deployments of that ref are searched for it first, and only when
 * it is not there is the deployment created again.
 */
export async function createDeployment(
  client: GitHubClient,
  repo: RepoRef,
  opts: CreateDeploymentOptions,
): Promise<number> {
  const nonce = randomUUID();
  const payload: Record<string, unknown> = { ...(opts.payload ?? {}) };
  payload.kubestage = { ...(opts.prNumber !== undefined ? { pr: opts.prNumber } : {}), nonce };
  const create = async (): Promise<number> => {
    const response = await client.rest.repos.createDeployment({
      owner: repo.owner,
      repo: repo.repo,
      ref: opts.ref,
      task: DEPLOYMENT_TASK,
      environment: opts.environment,
      description: truncateDescription(opts.description ?? `kubestage ${opts.environment}`),
      // auto_merge would merge the base branch into the PR head; required_contexts: [] stops GitHub from
      // refusing the deployment while the PR's own checks (including this job) are still running.
      auto_merge: false,
      required_contexts: [],
      transient_environment: opts.transient ?? true,
      production_environment: opts.production ?? false,
      payload,
      request: { retries: 0 },
    });
    const data = response.data as { id?: number; message?: string };
    if (typeof data.id !== 'number') {
      throw new Error(
        `GitHub did not create a deployment of ${opts.ref} to ${opts.environment} in ${repo.owner}/${repo.repo} ` +
          `(HTTP ${response.status}: ${data.message ?? 'no id in the reply'}). Check that the ref exists and ` +
          `that the token has \`deployments: write\`.`,
      );
    }
    return data.id;
  };
  try {
    return await create();
  } catch (e) {
    const status = httpStatus(e);
    // A 4xx is GitHub's considered answer: nothing was created.
    if (status !== undefined && status < 500) throw e;
    const existing = await client.paginate(client.rest.repos.listDeployments, {
      owner: repo.owner,
      repo: repo.repo,
      ref: opts.ref,
      environment: opts.environment,
      task: DEPLOYMENT_TASK,
      per_page: 100,
    });
    const ours = existing.find((d) => payloadField(d.payload, 'nonce') === nonce);
    return ours ? ours.id : create();
  }
}

export async function setDeploymentStatus(
  client: GitHubClient,
  repo: RepoRef,
  id: number,
  opts: DeploymentStatusOptions,
): Promise<void> {
  await client.rest.repos.createDeploymentStatus({
    owner: repo.owner,
    repo: repo.repo,
    deployment_id: id,
    state: opts.state,
    ...(opts.environmentUrl ? { environment_url: opts.environmentUrl } : {}),
    ...(opts.logUrl ? { log_url: opts.logUrl } : {}),
    ...(opts.description !== undefined ? { description: truncateDescription(opts.description) } : {}),
  });
}

function payloadPr(payload: unknown): number | undefined {
  const pr = payloadField(payload, 'pr');
  return typeof pr === 'number' ? pr : undefined;
}

/** A field of the `kubestage` object in a deployment's payload (GitHub may return it as a string). */
function payloadField(payload: unknown, field: string): unknown {
  let p = payload;
  if (typeof p === 'string') {
    try {
      p = JSON.parse(p);
    } catch {
      return undefined;
    }
  }
  if (typeof p !== 'object' || p === null) return undefined;
  const k = (p as { kubestage?: Record<string, unknown> }).kubestage;
  return typeof k === 'object' && k !== null ? k[field] : undefined;
}

/**
 * Marks every kubestage deployment of `environment` inactive (optionally only those for a ref, a
 * sha, or a PR number), across all pages. Deployments whose latest status is already inactive are
 * left alone. Returns how many were changed.
 */
export async function deactivateDeployments(
  client: GitHubClient,
  repo: RepoRef,
  opts: {
    environment: string;
    ref?: string;
    sha?: string;
    prNumber?: number;
    description?: string;
    /** Deployments to leave as they are (the one a run just made live). */
    exceptIds?: number[];
  },
): Promise<number> {
  const deployments = await client.paginate(client.rest.repos.listDeployments, {
    owner: repo.owner,
    repo: repo.repo,
    environment: opts.environment,
    task: DEPLOYMENT_TASK,
    ...(opts.ref !== undefined ? { ref: opts.ref } : {}),
    ...(opts.sha !== undefined ? { sha: opts.sha } : {}),
    per_page: 100,
  });
  let changed = 0;
  for (const d of deployments) {
    // The list filter is on our side too: an emulator or a GHES version may ignore a query parameter.
    if (d.task !== DEPLOYMENT_TASK || d.environment !== opts.environment) continue;
    if (opts.prNumber !== undefined && payloadPr(d.payload) !== opts.prNumber) continue;
    if (opts.exceptIds?.includes(d.id)) continue;
    const { data: latest } = await client.rest.repos.listDeploymentStatuses({
      owner: repo.owner,
      repo: repo.repo,
      deployment_id: d.id,
      per_page: 1,
    });
    if (latest[0]?.state === 'inactive') continue;
    await setDeploymentStatus(client, repo, d.id, {
      state: 'inactive',
      description: opts.description ?? 'Preview removed by kubestage',
    });
    changed++;
  }
  return changed;
}
