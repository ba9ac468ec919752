// Every input and event field, parsed ONCE into typed, validated settings. Commands never read inputs.
import { readFileSync } from 'node:fs';
import { isAbsolute } from 'node:path';
import { parseDuration } from './model/duration.js';
import { POD_SECURITY_LEVELS, type PodSecurityLevel } from './render/pod-security.js';

export const INPUT = {
  command: 'command',
  kubeconfig: 'kubeconfig',
  manifests: 'manifests',
  images: 'images',
  namespaceTemplate: 'namespace-template',
  hostTemplate: 'host-template',
  domain: 'domain',
  waitTimeout: 'wait-timeout',
  healthPath: 'health-path',
  ttl: 'ttl',
  podSecurity: 'pod-security',
  comment: 'comment',
  deployment: 'deployment',
  deploymentEnvironment: 'deployment-environment',
  prNumber: 'pr-number',
  githubToken: 'github-token',
} as const;

export const COMMANDS = ['preview', 'cleanup'] as const;
export type Command = (typeof COMMANDS)[number];

export const SUPPORTED_EVENTS = [
  'pull_request',
  'pull_request_target',
  'workflow_run',
  'workflow_dispatch',
] as const;

/** What the triggering event tells about the pull request; commands complete it through the API. */
export interface EventContext {
  name: string;
  /** `opened`, `synchronize`, `closed`, … for pull_request events. */
  action?: string;
  prNumber?: number;
  /** The PR head commit, never the merge commit. */
  headSha?: string;
  headRef?: string;
  title?: string;
  state?: 'open' | 'closed';
  merged?: boolean;
  headRepoFullName?: string;
  /** workflow_run: how the triggering run ended (`success`, `failure`, …). */
  conclusion?: string;
}

export interface Settings {
  command: Command;
  kubeconfig: string;
  manifests: string;
  images: string;
  namespaceTemplate: string;
  hostTemplate: string;
  domain: string;
  waitTimeoutSeconds: number;
  healthPath: string;
  ttlSeconds: number;
  podSecurity: PodSecurityLevel;
  comment: boolean;
  deployment: boolean;
  deploymentEnvironment: string;
  githubToken: string;
  owner: string;
  repo: string;
  workspace: string;
  runUrl?: string;
  apiUrl?: string;
  event: EventContext;
}

/** Thrown for bad input or an unusable event: the message is shown as is. */
export class SettingsError extends Error {}

export type InputReader = (name: string) => string;

export function readSettings(input: InputReader, env: NodeJS.ProcessEnv): Settings {
  const get = (name: string) => (input(name) ?? '').trim();

  const command = get(INPUT.command);
  if (!(COMMANDS as readonly string[]).includes(command)) {
    throw new SettingsError(
      command
        ? `Unknown command "${command}". Valid commands: ${COMMANDS.join(', ')}. Set the action's \`command\` input to one of them.`
        : `The \`command\` input is required. Valid commands: ${COMMANDS.join(', ')}.`,
    );
  }

  const repository = env.GITHUB_REPOSITORY ?? '';
  const [owner, repo] = repository.split('/');
  if (!owner || !repo) {
    throw new SettingsError(
      `GITHUB_REPOSITORY is "${repository}", expected "owner/repo". kubestage runs inside GitHub Actions, which sets it.`,
    );
  }

  const manifests = get(INPUT.manifests) || 'k8s';
  if (isAbsolute(manifests) || manifests.split(/[\\/]/).includes('..')) {
    throw new SettingsError(
      `The \`manifests\` input "${manifests}" must be a directory inside the workspace, relative to it (e.g. "k8s/overlays/preview").`,
    );
  }

  const serverUrl = env.GITHUB_SERVER_URL || 'https://github.com';
  const runId = env.GITHUB_RUN_ID;
  const settings: Settings = {
    command: command as Command,
    kubeconfig: input(INPUT.kubeconfig) ?? '',
    manifests,
    images: input(INPUT.images) ?? '',
    namespaceTemplate: get(INPUT.namespaceTemplate) || 'pr-{number}',
    hostTemplate: get(INPUT.hostTemplate) || 'pr-{number}.{domain}',
    domain: get(INPUT.domain)
      .replace(/^https?:\/\//, '')
      .replace(/\/+$/, ''),
    waitTimeoutSeconds: duration(get(INPUT.waitTimeout) || '300', INPUT.waitTimeout),
    healthPath: get(INPUT.healthPath),
    ttlSeconds: duration(get(INPUT.ttl) || '7d', INPUT.ttl),
    podSecurity: podSecurityLevel(get(INPUT.podSecurity) || 'baseline'),
    comment: parseBoolean(get(INPUT.comment), INPUT.comment, true),
    deployment: parseBoolean(get(INPUT.deployment), INPUT.deployment, true),
    deploymentEnvironment: get(INPUT.deploymentEnvironment) || 'preview',
    githubToken: get(INPUT.githubToken) || env.GITHUB_TOKEN || '',
    owner,
    repo,
    workspace: env.GITHUB_WORKSPACE || process.cwd(),
    runUrl: runId ? `${serverUrl}/${repository}/actions/runs/${runId}` : undefined,
    apiUrl: env.GITHUB_API_URL || undefined,
    event: readEvent(env, get(INPUT.prNumber)),
  };
  if (!/\{(number|branch)\}/.test(settings.namespaceTemplate)) {
    throw new SettingsError(
      `The \`namespace-template\` input "${settings.namespaceTemplate}" contains neither {number} nor {branch}, so every PR would share one namespace (and one PR's cleanup would delete the others' preview). Use e.g. "pr-{number}".`,
    );
  }
  if (settings.namespaceTemplate.includes('{sha7}')) {
    // A namespace per commit would never be pruned or cleaned up: cleanup finds only the current one.
    throw new SettingsError(
      `The \`namespace-template\` input "${settings.namespaceTemplate}" uses {sha7}, which would make a new namespace on every push and leave the old ones behind. Keep {number} in it (e.g. "pr-{number}"); {sha7} belongs in \`host-template\` or image tags.`,
    );
  }
  if (settings.healthPath && !settings.healthPath.startsWith('/')) {
    throw new SettingsError(
      `The \`health-path\` input "${settings.healthPath}" must start with "/", e.g. "/healthz".`,
    );
  }
  if (settings.command === 'preview' && !settings.domain && settings.hostTemplate.includes('{domain}')) {
    throw new SettingsError(
      `The \`domain\` input is empty, but \`host-template\` "${settings.hostTemplate}" uses {domain}. Set \`domain\` to the domain previews live under, e.g. "preview.example.com".`,
    );
  }
  if (!settings.githubToken && (settings.comment || settings.deployment)) {
    throw new SettingsError(
      'No GitHub token: the `github-token` input is empty. Leave it at its default (`${{ github.token }}`) or pass a token with `pull-requests: write` and `deployments: write`; or set `comment: false` and `deployment: false`.',
    );
  }
  return settings;
}

function podSecurityLevel(value: string): PodSecurityLevel {
  const v = value.toLowerCase();
  if ((POD_SECURITY_LEVELS as readonly string[]).includes(v)) return v as PodSecurityLevel;
  throw new SettingsError(
    `The \`${INPUT.podSecurity}\` input is "${value}"; expected one of ${POD_SECURITY_LEVELS.join(', ')} (Kubernetes Pod Security levels).`,
  );
}

function duration(value: string, name: string): number {
  let seconds: number;
  try {
    seconds = parseDuration(value, `The \`${name}\` input`);
  } catch (e) {
    throw new SettingsError((e as Error).message);
  }
  if (seconds <= 0)
    throw new SettingsError(
      `The \`${name}\` input is "${value}"; it must be longer than 0, e.g. "300" or "5m".`,
    );
  return seconds;
}

export function parseBoolean(value: string, name: string, fallback: boolean): boolean {
  if (value === '') return fallback;
  const v = value.toLowerCase();
  if (['true', 'yes', 'on', '1'].includes(v)) return true;
  if (['false', 'no', 'off', '0'].includes(v)) return false;
  throw new SettingsError(`The \`${name}\` input is "${value}"; expected true or false.`);
}

function readEvent(env: NodeJS.ProcessEnv, prNumberInput: string): EventContext {
  const name = env.GITHUB_EVENT_NAME ?? '';
  if (!(SUPPORTED_EVENTS as readonly string[]).includes(name)) {
    throw new SettingsError(
      `kubestage was triggered by the "${name || '(unknown)'}" event, which carries no pull request. Run it from one of: ${SUPPORTED_EVENTS.join(', ')} (for workflow_dispatch, pass the \`pr-number\` input).`,
    );
  }
  const payload = readPayload(env.GITHUB_EVENT_PATH);
  const prInput = prNumberInput ? parsePrNumber(prNumberInput) : undefined;

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
    };
  }
  // workflow_dispatch
  const inputs = obj(payload.inputs);
  const fromInputs = str(inputs['pr-number']) ?? str(inputs.pr_number) ?? str(inputs.pr);
  const number = prInput ?? (fromInputs ? parsePrNumber(fromInputs) : undefined);
  if (!number) {
    throw new SettingsError(
      'A workflow_dispatch run needs the pull request number: set the `pr-number` input (e.g. `pr-number: ${{ inputs.pr }}`).',
    );
  }
  return { name, prNumber: number };
}

function parsePrNumber(v: string): number {
  const n = Number(v.replace(/^#/, ''));
  if (!Number.isInteger(n) || n <= 0) {
    throw new SettingsError(`The \`pr-number\` input is "${v}"; expected a pull request number such as 42.`);
  }
  return n;
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

function obj(v: unknown): Record<string, unknown> {
  return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v ? v : typeof v === 'number' ? String(v) : undefined;
}
