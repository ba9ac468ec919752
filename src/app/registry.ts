// Every command, once: what it is for, which inputs it reads, how those are validated, how it runs.
// main.ts (the action), cli.ts and the test bed all dispatch through this table; TypeScript checks
// that every command in COMMANDS has an entry.
import { runCleanup } from '../commands/cleanup.js';
import { runDeploy } from '../commands/deploy.js';
import { runPlan } from '../commands/plan.js';
import { runPromote } from '../commands/promote.js';
import { runRollback } from '../commands/rollback.js';
import { runPreview } from '../commands/preview.js';
import { runStatus } from '../commands/status.js';
import { runSweep } from '../commands/sweep.js';
import { parseCleanupOptions } from '../settings/cleanup.js';
import { INPUT, type InputName, type InputReader } from '../settings/inputs.js';
import { parsePreviewOptions } from '../settings/preview.js';
import {
  parseDeployOptions,
  parsePlanOptions,
  parsePromoteOptions,
  parseRollbackOptions,
} from '../settings/stage.js';
import { parseStatusOptions } from '../settings/status.js';
import { parseSweepOptions } from '../settings/sweep.js';
import type { RunContext } from './context.js';
import type { Ports } from './ports.js';
import type { CommandResult } from './result.js';

export const COMMANDS = [
  'preview',
  'cleanup',
  'status',
  'deploy',
  'plan',
  'promote',
  'rollback',
  'sweep',
] as const;
export type Command = (typeof COMMANDS)[number];

export interface CommandSpec {
  /** One line for `--help`. */
  summary: string;
  /** The inputs (CLI flags) this command reads, besides kubeconfig and github-token. */
  inputs: readonly InputName[];
  /** Whether it acts on one pull request (`--pr N` in the CLI). */
  pullRequest: boolean;
  /**
   * Validates every input it uses (throwing SettingsError with the bad value and the fix) and
   * returns the run: nothing reaches the cluster or GitHub before the options are known to be good.
   */
  prepare(input: InputReader, ctx: RunContext): (ports: Ports) => Promise<CommandResult>;
}

function command<O>(spec: {
  summary: string;
  inputs: readonly InputName[];
  pullRequest: boolean;
  parse: (input: InputReader, ctx: RunContext) => O;
  run: (options: O, ctx: RunContext, ports: Ports) => Promise<CommandResult>;
}): CommandSpec {
  return {
    summary: spec.summary,
    inputs: spec.inputs,
    pullRequest: spec.pullRequest,
    prepare(input, ctx) {
      const options = spec.parse(input, ctx);
      return (ports) => spec.run(options, ctx, ports);
    },
  };
}

const NAMING = [
  INPUT.namespaceTemplate,
  INPUT.hostTemplate,
  INPUT.domain,
  INPUT.deploymentEnvironment,
] as const;

export const REGISTRY: Record<Command, CommandSpec> = {
  preview: command({
    summary:
      "Render the PR's manifests into its own namespace, apply, wait until ready, and keep the PR comment and deployment up to date.",
    inputs: [
      INPUT.manifests,
      INPUT.images,
      ...NAMING,
      INPUT.waitTimeout,
      INPUT.healthPath,
      INPUT.ttl,
      INPUT.podSecurity,
      INPUT.allow,
      INPUT.quota,
      INPUT.limits,
      INPUT.networkPolicy,
      INPUT.ingressFrom,
      INPUT.egressDeny,
      INPUT.copySecrets,
      INPUT.copySecretsFrom,
      INPUT.maxPreviews,
      INPUT.maxPreviewsScope,
      INPUT.whenFull,
      INPUT.queueTimeout,
      INPUT.priorityLabel,
      INPUT.lockNamespace,
      INPUT.comment,
      INPUT.deployment,
      INPUT.prNumber,
    ],
    pullRequest: true,
    parse: parsePreviewOptions,
    run: runPreview,
  }),
  cleanup: command({
    summary:
      "Delete the PR's preview namespace (only if kubestage made it for this repository), verify it is gone, and mark the comment and deployments.",
    inputs: [...NAMING, INPUT.waitTimeout, INPUT.comment, INPUT.deployment, INPUT.prNumber],
    pullRequest: true,
    parse: parseCleanupOptions,
    run: runCleanup,
  }),
  status: command({
    summary:
      "List this repository's previews: namespace, PR, commit, URL, live state, age, last update, expiry and who triggered it.",
    inputs: [INPUT.allRepos],
    pullRequest: false,
    parse: parseStatusOptions,
    run: runStatus,
  }),
  deploy: command({
    summary:
      'Deploy images (digests; tags resolved to digests through the registry) to a stage with its overlay; wait, smoke-check, record a revision; roll back automatically on failure.',
    inputs: [
      INPUT.config,
      INPUT.environment,
      INPUT.images,
      INPUT.freezeOverride,
      INPUT.approvalBypass,
      INPUT.allow,
    ],
    pullRequest: false,
    parse: parseDeployOptions,
    run: runDeploy,
  }),
  plan: command({
    summary:
      'Show what promoting `from` to `to` would change: commits, digests old → new, the manifest diff, drift, and what would refuse it. Writes nothing.',
    inputs: [INPUT.config, INPUT.from, INPUT.to, INPUT.allow],
    pullRequest: false,
    parse: parsePlanOptions,
    run: runPlan,
  }),
  promote: command({
    summary:
      "Move the digests that run healthy in `from` to `to` with to's overlay, after checking approvals, freeze windows and the source; smoke-check; roll back automatically on failure.",
    inputs: [INPUT.config, INPUT.from, INPUT.to, INPUT.freezeOverride, INPUT.approvalBypass, INPUT.allow],
    pullRequest: false,
    parse: parsePromoteOptions,
    run: runPromote,
  }),
  rollback: command({
    summary:
      'Re-apply a recorded revision of a stage exactly (default: the previous successful one), recorded as a rollback.',
    inputs: [INPUT.config, INPUT.environment, INPUT.revision, INPUT.allow],
    pullRequest: false,
    parse: parseRollbackOptions,
    run: runRollback,
  }),
  sweep: command({
    summary:
      "Delete this repository's previews that expired (unless the PR has the keep label) or whose PR is closed, merged or gone; update their comments and deployments. For a scheduled workflow.",
    inputs: [INPUT.dryRun, INPUT.keepLabel, INPUT.waitTimeout, INPUT.comment, INPUT.deployment],
    pullRequest: false,
    parse: parseSweepOptions,
    run: runSweep,
  }),
};

export function isCommand(name: string): name is Command {
  return (COMMANDS as readonly string[]).includes(name);
}
