// Options of `preview`, validated before any API call: a bad `images` line or template fails here,
// with a job summary, before the pull request is even looked up.
import { isAbsolute } from 'node:path';
import type { RunContext } from '../app/context.js';
import { parseImages } from '../model/images.js';
import { parseAllow, type Allowance } from '../render/allow.js';
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
