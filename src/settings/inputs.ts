// Input and output names (the action's, which the CLI mirrors as flags), and the small parsers every
// command's options share. Commands never read inputs: their option parsers do, once, up front.
import { parseDuration } from '../model/duration.js';
import {
  DEFAULT_EGRESS_DENY,
  DEFAULT_INGRESS_FROM,
  DEFAULT_LIMITS,
  DEFAULT_QUOTA,
} from '../model/isolation.js';
import { POD_SECURITY_LEVELS, type PodSecurityLevel } from '../render/pod-security.js';

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
  allow: 'allow',
  comment: 'comment',
  deployment: 'deployment',
  deploymentEnvironment: 'deployment-environment',
  prNumber: 'pr-number',
  githubToken: 'github-token',
  allRepos: 'all-repos',
  app: 'app',
  config: 'config',
  environment: 'environment',
  from: 'from',
  to: 'to',
  revision: 'revision',
  freezeOverride: 'freeze-override',
  approvalBypass: 'approval-bypass',
  quota: 'quota',
  limits: 'limits',
  networkPolicy: 'network-policy',
  ingressFrom: 'ingress-from',
  egressDeny: 'egress-deny',
  copySecrets: 'copy-secrets',
  copySecretsFrom: 'copy-secrets-from',
  maxPreviews: 'max-previews',
  maxPreviewsScope: 'max-previews-scope',
  whenFull: 'when-full',
  queueTimeout: 'queue-timeout',
  priorityLabel: 'priority-label',
  lockNamespace: 'lock-namespace',
  dryRun: 'dry-run',
  keepLabel: 'keep-label',
} as const;
export type InputName = (typeof INPUT)[keyof typeof INPUT];

export interface InputDoc {
  /** One line for the CLI's `--help`. */
  help: string;
  /** The default, exactly as in action.yml (a test keeps the two equal). */
  default: string;
  /** The value's placeholder in `--help` (`--ttl DURATION`); absent for a true/false switch. */
  arg?: string;
  /** One value per line (`images`): the CLI takes the flag repeatedly and joins the values with newlines. */
  lines?: true;
}

/** What each input means and defaults to: the CLI's `--help` reads it; action.yml says the same at length. */
export const INPUT_DOCS: Record<InputName, InputDoc> = {
  [INPUT.maxPreviews]: {
    help: 'most previews live at once (0: no cap), counted on the cluster by our labels',
    default: '0',
    arg: 'N',
  },
  [INPUT.maxPreviewsScope]: {
    help: "what max-previews counts: this repository's previews (repo) or every repository's (cluster)",
    default: 'repo',
    arg: 'SCOPE',
  },
  [INPUT.whenFull]: {
    help: 'when max-previews is reached: fail, queue (wait for a slot, by priority) or evict (the least recently updated)',
    default: 'fail',
    arg: 'MODE',
  },
  [INPUT.queueTimeout]: {
    help: 'how long a queued preview waits for a slot (when-full: queue)',
    default: '30m',
    arg: 'DURATION',
  },
  [INPUT.priorityLabel]: {
    help: 'PR label prefix giving a preview its priority: <prefix>high, <prefix>normal (default), <prefix>low',
    default: 'preview-priority/',
    arg: 'PREFIX',
  },
  [INPUT.lockNamespace]: {
    help: 'namespace of the Lease that serialises admission decisions',
    default: 'default',
    arg: 'NAMESPACE',
  },
  [INPUT.quota]: {
    help: 'ResourceQuota of every preview namespace (key=value, comma-separated), or off',
    default: DEFAULT_QUOTA,
    arg: 'PAIRS',
  },
  [INPUT.limits]: {
    help: 'LimitRange container defaults of every preview (requests.cpu=…,limits.memory=…), or off',
    default: DEFAULT_LIMITS,
    arg: 'PAIRS',
  },
  [INPUT.networkPolicy]: {
    help: "give every preview a NetworkPolicy: in only from itself and the ingress controller's namespace; out to itself, DNS and the internet",
    default: 'true',
  },
  [INPUT.ingressFrom]: {
    help: "labels of the ingress controller's namespace, the only other namespace a preview admits traffic from",
    default: DEFAULT_INGRESS_FROM,
    arg: 'LABELS',
  },
  [INPUT.egressDeny]: {
    help: 'address ranges a preview may not reach (other namespaces, nodes, the cloud metadata address)',
    default: DEFAULT_EGRESS_DENY,
    arg: 'CIDRS',
  },
  [INPUT.copySecrets]: {
    help: 'Secrets copied into the preview, one per line NAMESPACE/NAME (deleted with it; values never shown)',
    default: '',
    arg: 'NAMESPACE/NAME',
    lines: true,
  },
  [INPUT.copySecretsFrom]: {
    help: 'the namespaces copy-secrets may read from (any other is refused)',
    default: '',
    arg: 'NAMESPACE',
    lines: true,
  },
  [INPUT.command]: {
    help: 'what to do: preview, cleanup, status, deploy, plan, promote, rollback or sweep',
    default: '',
    arg: 'COMMAND',
  },
  [INPUT.kubeconfig]: {
    help: 'cluster credentials: kubeconfig YAML, base64, or a path to a kubeconfig file',
    default: '',
    arg: 'PATH',
  },
  [INPUT.manifests]: {
    help: 'kustomize directory with the manifests, relative to the repository root',
    default: 'k8s',
    arg: 'DIR',
  },
  [INPUT.images]: {
    help: 'NAME=NEW_NAME[:TAG|@DIGEST] for an image named NAME in the manifests; the tag defaults to pr-<n>-<sha7> (deploy: REF or NAME=REF with a tag, resolved to its digest, or a digest)',
    default: '',
    arg: 'NAME=REF',
    lines: true,
  },
  [INPUT.namespaceTemplate]: {
    help: 'namespace of a preview; placeholders {number} {owner} {repo} {branch} {app} (pr-{number}-{app} with --app)',
    default: 'pr-{number}',
    arg: 'TEMPLATE',
  },
  [INPUT.hostTemplate]: {
    help: 'host name of a preview; placeholders as for the namespace, plus {namespace} {sha7} {domain}',
    default: '{namespace}.{domain}',
    arg: 'TEMPLATE',
  },
  [INPUT.domain]: {
    help: 'domain previews live under, e.g. preview.example.com',
    default: '',
    arg: 'DOMAIN',
  },
  [INPUT.waitTimeout]: {
    help: 'how long to wait for the workloads to be ready, or the namespace to be gone (300, 5m, 1h)',
    default: '300',
    arg: 'DURATION',
  },
  [INPUT.healthPath]: {
    help: 'HTTP path fetched on the preview URL before it is called ready, e.g. /healthz',
    default: '',
    arg: 'PATH',
  },
  [INPUT.ttl]: {
    help: 'how long to keep a preview after its last update (recorded; `sweep` removes it after that)',
    default: '7d',
    arg: 'DURATION',
  },
  [INPUT.podSecurity]: {
    help: 'Pod Security level of the namespace: baseline, restricted or privileged',
    default: 'baseline',
    arg: 'LEVEL',
  },
  [INPUT.comment]: { help: "keep one comment on the PR with the preview's state", default: 'true' },
  [INPUT.deployment]: {
    help: 'create a GitHub deployment so the PR shows "View deployment"',
    default: 'true',
  },
  [INPUT.deploymentEnvironment]: {
    help: 'GitHub environment of the deployments; templates such as pr-{number} are allowed (preview-{app} with --app)',
    default: 'preview',
    arg: 'NAME',
  },
  [INPUT.prNumber]: { help: 'the pull request to act on', default: '', arg: 'N' },
  [INPUT.githubToken]: {
    help: 'token for comments and deployments',
    default: '${{ github.token }}',
    arg: 'TOKEN',
  },
  [INPUT.allow]: {
    help: 'what previews may do that the guard refuses by default (node-port, load-balancer, cluster-role:<name>, …)',
    default: '',
    arg: 'CLASS',
    lines: true,
  },
  [INPUT.app]: {
    help: 'name of the app, when a PR previews several (a monorepo): its own namespace, comment and environment',
    default: '',
    arg: 'NAME',
  },
  [INPUT.config]: {
    help: 'the stages file (environments, namespaces, overlays, smoke checks, freeze windows), relative to the repository root',
    default: '.github/kubestage.yml',
    arg: 'PATH',
  },
  [INPUT.environment]: {
    help: 'the stage to deploy to or roll back, as named in the stages file',
    default: '',
    arg: 'STAGE',
  },
  [INPUT.from]: {
    help: "the stage whose running digests are promoted (default: the target's `requires`)",
    default: '',
    arg: 'STAGE',
  },
  [INPUT.to]: { help: 'the stage to promote to (or plan for)', default: '', arg: 'STAGE' },
  [INPUT.revision]: {
    help: 'the revision to roll back to (default: the previous successful one)',
    default: '',
    arg: 'N',
  },
  [INPUT.freezeOverride]: {
    help: 'promote or deploy inside a freeze window anyway; the reason is recorded with the revision',
    default: '',
    arg: 'REASON',
  },
  [INPUT.approvalBypass]: {
    help: 'promote to a protected stage without an approval of this run (an admin bypass, or the CLI); the reason is recorded',
    default: '',
    arg: 'REASON',
  },
  [INPUT.allRepos]: {
    help: "list every kubestage namespace the identity can see, not only this repository's",
    default: 'false',
  },
  [INPUT.dryRun]: {
    help: 'sweep: list the previews that would be deleted, and why, without deleting or writing anything',
    default: 'false',
  },
  [INPUT.keepLabel]: {
    help: 'sweep: a PR with this label keeps its preview past its expiry (until the PR closes)',
    default: 'preview-keep',
    arg: 'LABEL',
  },
};

export const OUTPUT = {
  namespace: 'namespace',
  url: 'url',
  deploymentId: 'deployment-id',
  commentId: 'comment-id',
  applied: 'applied',
  images: 'images',
  objectsRemoved: 'objects-removed',
  previews: 'previews',
  environment: 'environment',
  revision: 'revision',
  result: 'result',
  rolledBackTo: 'rolled-back-to',
  plan: 'plan',
  changed: 'changed',
  deleted: 'deleted',
  kept: 'kept',
  errors: 'errors',
} as const;
export type OutputName = (typeof OUTPUT)[keyof typeof OUTPUT];

/** Reads one input by name ('' when not given): core.getInput in the action, flags in the CLI. */
export type InputReader = (name: InputName) => string;

/** Thrown for bad input or an unusable event: the message is shown as is. */
export class SettingsError extends Error {}

/** The trimmed value of an input, or its default (INPUT_DOCS, the same as action.yml's) when empty. */
export function inputOr(input: InputReader, name: InputName): string {
  return (input(name) ?? '').trim() || INPUT_DOCS[name].default;
}

export function parseBoolean(value: string, name: string): boolean {
  const v = value.toLowerCase();
  if (['true', 'yes', 'on', '1'].includes(v)) return true;
  if (['false', 'no', 'off', '0'].includes(v)) return false;
  throw new SettingsError(`The \`${name}\` input is "${value}"; expected true or false.`);
}

/**
 * The longest duration an input may give. Node's timers overflow past 2^31-1 ms (about 24.8 days) and
 * then fire at once, and a date past year 275760 is invalid: a year is more than any run or preview needs.
 */
export const MAX_DURATION_SECONDS = 366 * 86400;

/** A positive duration input in seconds (`300`, `5m`, `7d`), at most MAX_DURATION_SECONDS. */
export function positiveDuration(value: string, name: string): number {
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
  if (seconds > MAX_DURATION_SECONDS)
    throw new SettingsError(`The \`${name}\` input is "${value}"; it may be at most 366 days (e.g. "30d").`);
  return seconds;
}

export function podSecurityLevel(value: string): PodSecurityLevel {
  const v = value.toLowerCase();
  if ((POD_SECURITY_LEVELS as readonly string[]).includes(v)) return v as PodSecurityLevel;
  throw new SettingsError(
    `The \`${INPUT.podSecurity}\` input is "${value}"; expected one of ${POD_SECURITY_LEVELS.join(', ')} (Kubernetes Pod Security levels).`,
  );
}

export function parsePrNumber(v: string): number {
  const n = Number(v.trim().replace(/^#/, ''));
  if (!Number.isSafeInteger(n) || n <= 0) {
    throw new SettingsError(`The \`pr-number\` input is "${v}"; expected a pull request number such as 42.`);
  }
  return n;
}
