// What the triggering event tells, for ANY event: pull requests (pull_request, pull_request_target),
// the run that built them (workflow_run), manual runs (workflow_dispatch), pushes, schedules and
// deployments. Commands that need a pull request say so in their option parsers.
import { readFileSync } from 'node:fs';
import { parsePrNumber, SettingsError } from './inputs.js';

/** Events a pull-request command (preview, cleanup) can act on. */
export const PULL_REQUEST_EVENTS = [
  'pull_request',
  'pull_request_target',
  'workflow_run',
  'workflow_dispatch',
] as const;

export interface EventContext {
  /** GITHUB_EVENT_NAME; `cli` when a person runs the CLI. */
  name: string;
  /** `opened`, `synchronize`, `closed`, … for pull_request events; `completed` for workflow_run. */
  action?: string;
  prNumber?: number;
  /** The PR head commit (never the merge commit); for push and schedule, the commit the run is for. */
  headSha?: string;
  headRef?: string;
  title?: string;
  state?: 'open' | 'closed';
  merged?: boolean;
  headRepoFullName?: string;
  /** The PR's labels, as the pull_request event carries them (a preview's priority). */
  labels?: string[];
  /** workflow_run: how the triggering run ended (`success`, `failure`, …). */
  conclusion?: string;
  /** Who triggered the run (GITHUB_ACTOR), recorded with what it changes. */
  actor?: string;
  /**
   * When the commit became the PR's head, as the event says (the push's time): lets two runs of one PR
   * tell which of their commits is newer when GitHub cannot be asked. A re-run of an old workflow
   * carries its old time.
   */
  headTime?: Date;
}

/** Reads GITHUB_EVENT_NAME and the payload at GITHUB_EVENT_PATH; `pr-number` overrides the PR. */
export function readEvent(env: NodeJS.ProcessEnv, prNumberInput: string): EventContext {
  const name = env.GITHUB_EVENT_NAME ?? '';
  if (!name) {
    throw new SettingsError(
      'GITHUB_EVENT_NAME is not set: kubestage runs inside GitHub Actions, which sets it (use the `kubestage` CLI elsewhere).',
    );
  }
  const payload = readPayload(env.GITHUB_EVENT_PATH);
  const prInput = prNumberInput.trim() ? parsePrNumber(prNumberInput) : undefined;
  const actor = env.GITHUB_ACTOR || str(obj(payload.sender).login);

  if (name === 'pull_request' || name === 'pull_request_target') {
    const pr = obj(payload.pull_request);
    const number = typeof pr.number === 'number' ? pr.number : prInput;
    if (!number) throw new SettingsError(`The ${name} event payload has no pull_request.number.`);
    const head = obj(pr.head);
    return {
      name,
      action: str(payload.action),
      prNumber: number,
      headSha: str(head.sha),
      headRef: str(head.ref),
      title: str(pr.title),
      state: pr.state === 'closed' ? 'closed' : 'open',
      merged: pr.merged === true,
      headRepoFullName: str(obj(head.repo).full_name),
      labels: (Array.isArray(pr.labels) ? pr.labels : []).flatMap((l) => str(obj(l).name) ?? []),
      actor,
      headTime: dateOf(pr.updated_at),
    };
  }
  if (name === 'workflow_run') {
    const run = obj(payload.workflow_run);
    const prs = Array.isArray(run.pull_requests) ? run.pull_requests.map(obj) : [];
    // pull_requests is empty for runs from forks: the PR is then found from the head SHA through the API.
    const first = prs.find((p) => str(obj(p.head).sha) === str(run.head_sha)) ?? prs[0];
    return {
      name,
      action: str(payload.action),
      prNumber: prInput ?? (first && typeof first.number === 'number' ? first.number : undefined),
      headSha: str(run.head_sha),
      headRef: str(run.head_branch),
      headRepoFullName: str(obj(run.head_repository).full_name),
      conclusion: str(run.conclusion),
      actor,
      headTime: dateOf(obj(run.head_commit).timestamp) ?? dateOf(run.created_at),
    };
  }
  if (name === 'workflow_dispatch') {
    const inputs = obj(payload.inputs);
    const fromInputs = str(inputs['pr-number']) ?? str(inputs.pr_number) ?? str(inputs.pr);
    return {
      name,
      prNumber: prInput ?? (fromInputs ? parsePrNumber(fromInputs) : undefined),
      headSha: env.GITHUB_SHA || undefined,
      actor,
    };
  }
  if (name === 'push') {
    return {
      name,
      prNumber: prInput,
      headSha: str(payload.after) ?? (env.GITHUB_SHA || undefined),
      headRef: str(payload.ref)?.replace(/^refs\/heads\//, ''),
      actor,
    };
  }
  if (name === 'deployment') {
    const d = obj(payload.deployment);
    return {
      name,
      prNumber: prInput,
      headSha: str(d.sha) ?? (env.GITHUB_SHA || undefined),
      headRef: str(d.ref),
      actor,
    };
  }
  // schedule, repository_dispatch, release, …: only the commit the run is for.
  return {
    name,
    prNumber: prInput,
    headSha: env.GITHUB_SHA || undefined,
    headRef: env.GITHUB_REF_NAME || undefined,
    actor,
  };
}

/** For preview and cleanup: the event must lead to a pull request. */
export function requirePullRequest(event: EventContext): void {
  if (event.prNumber) return;
  if (event.name === 'cli') {
    throw new SettingsError('Which pull request? Pass --pr N (e.g. `kubestage preview --pr 42`).');
  }
  if (event.name === 'workflow_dispatch') {
    throw new SettingsError(
      'A workflow_dispatch run needs the pull request number: set the `pr-number` input (e.g. `pr-number: ${{ inputs.pr }}`).',
    );
  }
  if (event.name === 'workflow_run' && event.headSha) return; // found by head SHA through the API
  if (!(PULL_REQUEST_EVENTS as readonly string[]).includes(event.name)) {
    throw new SettingsError(
      `kubestage was triggered by the "${event.name}" event, which carries no pull request. Run it from one of: ${PULL_REQUEST_EVENTS.join(', ')} (for workflow_dispatch, pass the \`pr-number\` input), or set \`pr-number\`.`,
    );
  }
  throw new SettingsError(
    `The ${event.name} event payload names no pull request; set the \`pr-number\` input.`,
  );
}

/** Why the event payload at GITHUB_EVENT_PATH cannot be used, or undefined when it can (or there is none). */
export function eventPayloadProblem(env: NodeJS.ProcessEnv): string | undefined {
  if (!env.GITHUB_EVENT_PATH) return undefined;
  try {
    readPayload(env.GITHUB_EVENT_PATH);
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}

function readPayload(path: string | undefined): Record<string, unknown> {
  if (!path)
    throw new SettingsError(
      'GITHUB_EVENT_PATH is not set; kubestage needs the event payload GitHub Actions provides.',
    );
  try {
    return obj(JSON.parse(readFileSync(path, 'utf8')));
  } catch (e) {
    throw new SettingsError(
      `Could not read the event payload at GITHUB_EVENT_PATH "${path}": ${(e as Error).message}`,
    );
  }
}

function dateOf(v: unknown): Date | undefined {
  if (typeof v !== 'string') return undefined;
  const d = new Date(v);
  return Number.isNaN(d.getTime()) ? undefined : d;
}

function obj(v: unknown): Record<string, unknown> {
  return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v ? v : typeof v === 'number' ? String(v) : undefined;
}
