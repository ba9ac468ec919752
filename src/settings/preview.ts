// Options of `preview`, validated before any API call: a bad `images` line or template fails here,
// with a job summary, before the pull request is even looked up.
import { isAbsolute } from 'node:path';
import type { RunContext } from '../app/context.js';
import { parseImages } from '../model/images.js';
import {
  parseCidrs,
  parseLimits,
  parseQuota,
  parseSelector,
  type IsolationOptions,
} from '../model/isolation.js';
import { parseAllow, type Allowance } from '../render/allow.js';
import type { AdmissionOptions } from '../steps/admission.js';
import type { PodSecurityLevel } from '../render/pod-security.js';
import type { NamingOptions } from '../steps/names.js';
import { requirePullRequest } from './event.js';
import {
  INPUT,
  inputOr,
  parseBoolean,
  podSecurityLevel,
  positiveDuration,
  SettingsError,
  type InputReader,
} from './inputs.js';
import { parseNaming } from './naming.js';

export interface PublishOptions {
  /** Keep the PR comment up to date. */
  comment: boolean;
  /** Create GitHub deployments. */
  deployment: boolean;
}

export interface PreviewOptions extends PublishOptions {
  naming: NamingOptions;
  manifests: string;
  /** The `images` input as given; its syntax is checked here, the default tag is known once the PR is. */
  images: string;
  waitTimeoutSeconds: number;
  healthPath: string;
  ttlSeconds: number;
  podSecurity: PodSecurityLevel;
  /** What the guard lets through that it refuses by default (the `allow` input). */
  allow: Allowance;
  /** What kubestage creates in the namespace to keep previews apart and bounded. */
  isolation: IsolationOptions;
  /** Secrets copied in from other namespaces. */
  copySecrets: SecretCopy[];
  /** The cap on live previews. */
  admission: AdmissionOptions;
}

export interface SecretCopy {
  namespace: string;
  name: string;
}

export function parsePreviewOptions(input: InputReader, ctx: RunContext): PreviewOptions {
  requirePullRequest(ctx.event);
  const manifests = inputOr(input, INPUT.manifests);
  if (isAbsolute(manifests) || manifests.split(/[\\/]/).includes('..')) {
    throw new SettingsError(
      `The \`manifests\` input "${manifests}" must be a directory inside the workspace, relative to it (e.g. "k8s/overlays/preview").`,
    );
  }
  const images = input(INPUT.images) ?? '';
  try {
    parseImages(images, 'pr-1-0000000'); // the syntax only: the real tag needs the PR's head
  } catch (e) {
    throw new SettingsError((e as Error).message);
  }
  const options: PreviewOptions = {
    naming: parseNaming(input, ctx),
    manifests,
    images,
    waitTimeoutSeconds: positiveDuration(inputOr(input, INPUT.waitTimeout), INPUT.waitTimeout),
    healthPath: inputOr(input, INPUT.healthPath),
    ttlSeconds: positiveDuration(inputOr(input, INPUT.ttl), INPUT.ttl),
    podSecurity: podSecurityLevel(inputOr(input, INPUT.podSecurity)),
    allow: allowInput(input(INPUT.allow) ?? ''),
    isolation: parseIsolation(input),
    copySecrets: parseCopySecrets(input),
    admission: parseAdmission(input),
    ...parsePublish(input),
  };
  if (options.healthPath && !options.healthPath.startsWith('/')) {
    throw new SettingsError(
      `The \`health-path\` input "${options.healthPath}" must start with "/", e.g. "/healthz".`,
    );
  }
  if (!options.naming.domain && options.naming.hostTemplate.includes('{domain}')) {
    throw new SettingsError(
      `The \`domain\` input is empty, but \`host-template\` "${options.naming.hostTemplate}" uses {domain}. Set \`domain\` to the domain previews live under, e.g. "preview.example.com".`,
    );
  }
  return options;
}

function allowInput(text: string): Allowance {
  try {
    return parseAllow(text);
  } catch (e) {
    throw new SettingsError(`The \`${INPUT.allow}\` input: ${(e as Error).message}.`);
  }
}

/** `comment` and `deployment`, which need a token to be on. */
export function parsePublish(input: InputReader): PublishOptions {
  const options = {
    comment: parseBoolean(inputOr(input, INPUT.comment), INPUT.comment),
    deployment: parseBoolean(inputOr(input, INPUT.deployment), INPUT.deployment),
  };
  if (!input(INPUT.githubToken).trim() && (options.comment || options.deployment)) {
    throw new SettingsError(
      'No GitHub token: the `github-token` input is empty. Leave it at its default (`${{ github.token }}`) or pass a token with `pull-requests: write` and `deployments: write`; or set `comment: false` and `deployment: false`.',
    );
  }
  return options;
}

export function parseIsolation(input: InputReader): IsolationOptions {
  try {
    const quota = parseQuota(inputOr(input, INPUT.quota));
    const limits = parseLimits(inputOr(input, INPUT.limits));
    const network = parseBoolean(inputOr(input, INPUT.networkPolicy), INPUT.networkPolicy)
      ? {
          ingressFrom: parseSelector(inputOr(input, INPUT.ingressFrom), INPUT.ingressFrom),
          egressDeny: parseCidrs(inputOr(input, INPUT.egressDeny), INPUT.egressDeny),
        }
      : undefined;
    return { ...(quota ? { quota } : {}), ...(limits ? { limits } : {}), ...(network ? { network } : {}) };
  } catch (e) {
    if (e instanceof SettingsError) throw e;
    throw new SettingsError((e as Error).message);
  }
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;

/** `copy-secrets` lines NAMESPACE/NAME, each from a namespace `copy-secrets-from` lists. */
export function parseCopySecrets(input: InputReader): SecretCopy[] {
  const allowed = new Set(
    (input(INPUT.copySecretsFrom) ?? '')
      .split(/[\n,]/)
      .map((s) => s.trim())
      .filter(Boolean),
  );
  const out: SecretCopy[] = [];
  (input(INPUT.copySecrets) ?? '').split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (!line || line.startsWith('#')) return;
    const [namespace, name, extra] = line.split('/');
    if (!namespace || !name || extra !== undefined || !DNS_LABEL.test(namespace) || !DNS_SUBDOMAIN.test(name))
      throw new SettingsError(
        `copy-secrets, line ${i + 1} "${line}": write NAMESPACE/NAME of a Secret, e.g. "staging/db-credentials".`,
      );
    if (!allowed.has(namespace))
      throw new SettingsError(
        `copy-secrets, line ${i + 1}: namespace "${namespace}" is not one \`copy-secrets-from\` allows (${[...allowed].join(', ') || 'none'}), so its Secret ${name} is not copied. ` +
          `List the namespaces previews may copy from in \`copy-secrets-from\`, e.g. "${namespace}".`,
      );
    out.push({ namespace, name });
  });
  return out;
}

export function parseAdmission(input: InputReader): AdmissionOptions {
  const rawMax = inputOr(input, INPUT.maxPreviews);
  const max = Number(rawMax);
  if (!Number.isSafeInteger(max) || max < 0)
    throw new SettingsError(
      `The \`max-previews\` input is "${rawMax}"; expected a whole number (0: no cap), e.g. 10.`,
    );
  const scope = inputOr(input, INPUT.maxPreviewsScope).toLowerCase();
  if (scope !== 'repo' && scope !== 'cluster')
    throw new SettingsError(`The \`max-previews-scope\` input is "${scope}"; expected repo or cluster.`);
  const whenFull = inputOr(input, INPUT.whenFull).toLowerCase();
  if (whenFull !== 'fail' && whenFull !== 'queue' && whenFull !== 'evict')
    throw new SettingsError(`The \`when-full\` input is "${whenFull}"; expected fail, queue or evict.`);
  const lockNamespace = inputOr(input, INPUT.lockNamespace);
  if (!DNS_LABEL.test(lockNamespace))
    throw new SettingsError(`The \`lock-namespace\` input "${lockNamespace}" is not a namespace name.`);
  return {
    max,
    scope,
    whenFull,
    queueTimeoutMs: positiveDuration(inputOr(input, INPUT.queueTimeout), INPUT.queueTimeout) * 1000,
    priorityPrefix: inputOr(input, INPUT.priorityLabel),
    lockNamespace,
  };
}
