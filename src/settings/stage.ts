// Options of the stage commands (deploy, plan, promote, rollback). The stages file is read by the run
// itself, first and before any request, because reading it is I/O; everything the inputs say is
// checked here.
import { parseImages, splitImageRef, type ImageOverride } from '../model/images.js';
import { parseAllow, type Allowance } from '../render/allow.js';
import { INPUT, inputOr, SettingsError, type InputReader } from './inputs.js';

export interface StageOptionsBase {
  /** The stages file, relative to the workspace. */
  configPath: string;
  allow: Allowance;
}

export interface DeployOptions extends StageOptionsBase {
  environment: string;
  images: ImageOverride[];
  freezeOverride?: string;
  approvalBypass?: string;
}

export interface PlanOptions extends StageOptionsBase {
  /** Empty: the target's `requires`. */
  from?: string;
  to: string;
}

export interface PromoteOptions extends PlanOptions {
  freezeOverride?: string;
  approvalBypass?: string;
}

export interface RollbackOptions extends StageOptionsBase {
  environment: string;
  revision?: number;
}

function base(input: InputReader): StageOptionsBase {
  return { configPath: inputOr(input, INPUT.config), allow: allowOf(input) };
}

function allowOf(input: InputReader): Allowance {
  try {
    return parseAllow(input(INPUT.allow) ?? '');
  } catch (e) {
    throw new SettingsError((e as Error).message);
  }
}

function required(input: InputReader, name: (typeof INPUT)[keyof typeof INPUT], example: string): string {
  const v = (input(name) ?? '').trim();
  if (!v)
    throw new SettingsError(
      `The \`${name}\` input is required: name the stage, e.g. \`${name}: ${example}\`.`,
    );
  return v;
}

function reason(input: InputReader, name: (typeof INPUT)[keyof typeof INPUT]): string | undefined {
  const v = (input(name) ?? '').trim();
  if (!v) return undefined;
  if (/^(true|yes|1|on)$/i.test(v))
    throw new SettingsError(
      `The \`${name}\` input is "${v}"; give the reason instead (it is recorded with the revision), e.g. "hotfix for INC-123".`,
    );
  return v;
}

export function parseDeployOptions(input: InputReader): DeployOptions {
  return {
    ...base(input),
    environment: required(input, INPUT.environment, 'development'),
    images: parseDeployImages(input(INPUT.images) ?? ''),
    freezeOverride: reason(input, INPUT.freezeOverride),
    approvalBypass: reason(input, INPUT.approvalBypass),
  };
}

export function parsePlanOptions(input: InputReader): PlanOptions {
  const from = (input(INPUT.from) ?? '').trim();
  return { ...base(input), ...(from ? { from } : {}), to: required(input, INPUT.to, 'testing') };
}

export function parsePromoteOptions(input: InputReader): PromoteOptions {
  return {
    ...parsePlanOptions(input),
    freezeOverride: reason(input, INPUT.freezeOverride),
    approvalBypass: reason(input, INPUT.approvalBypass),
  };
}

export function parseRollbackOptions(input: InputReader): RollbackOptions {
  const raw = (input(INPUT.revision) ?? '').trim().replace(/^v/, '');
  let revision: number | undefined;
  if (raw) {
    revision = Number(raw);
    if (!Number.isSafeInteger(revision) || revision <= 0)
      throw new SettingsError(
        `The \`revision\` input is "${input(INPUT.revision)}"; expected a revision number such as 3 (\`kubestage status\` lists them).`,
      );
  }
  return {
    ...base(input),
    environment: required(input, INPUT.environment, 'production'),
    ...(revision ? { revision } : {}),
  };
}

/**
 * The `images` input of `deploy`: one image per line, `REF` (the image named as REF without its tag
 * or digest in the manifests) or `NAME=REF`; REF must carry a tag (resolved to its digest before
 * anything is applied) or a digest — deploying "whatever latest is today" is what this command exists
 * to stop.
 */
export function parseDeployImages(text: string): ImageOverride[] {
  const lines: string[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (!line || line.startsWith('#')) {
      lines.push(line);
      return;
    }
    const eq = line.indexOf('=');
    const target = eq < 0 ? line : line.slice(eq + 1).trim();
    const parts = splitImageRef(target);
    if (parts.tag === undefined && parts.digest === undefined) {
      throw new SettingsError(
        `images, line ${i + 1} "${line}": give the tag or the digest to deploy, e.g. "${parts.name}:1.4.2" or "${parts.name}@sha256:…" (docker/build-push-action's digest output); a tag is resolved to its digest before anything is applied.`,
      );
    }
    lines.push(eq < 0 ? `${parts.name}=${target}` : line);
  });
  try {
    return parseImages(lines.join('\n'), 'latest');
  } catch (e) {
    throw new SettingsError((e as Error).message);
  }
}
