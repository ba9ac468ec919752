// Input and output names (the action's, which the CLI mirrors as flags), and the small parsers every
// command's options share. Commands never read inputs: their option parsers do, once, up front.
import { parseDuration } from '../model/duration.js';
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
} as const;
export type InputName = (typeof INPUT)[keyof typeof INPUT];

export const OUTPUT = {
  namespace: 'namespace',
  url: 'url',
  deploymentId: 'deployment-id',
  commentId: 'comment-id',
  applied: 'applied',
  images: 'images',
  objectsRemoved: 'objects-removed',
  previews: 'previews',
} as const;
export type OutputName = (typeof OUTPUT)[keyof typeof OUTPUT];

/** Reads one input by name ('' when not given): core.getInput in the action, flags in the CLI. */
export type InputReader = (name: InputName) => string;

/** Thrown for bad input or an unusable event: the message is shown as is. */
export class SettingsError extends Error {}

/** The trimmed value of an input, or its default when empty. */
export function inputOr(input: InputReader, name: InputName, fallback: string): string {
  return (input(name) ?? '').trim() || fallback;
}

export function parseBoolean(value: string, name: string, fallback: boolean): boolean {
  if (value === '') return fallback;
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
