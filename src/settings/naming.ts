// The inputs that name a preview, shared by `preview` and `cleanup` (they must agree on the names).
import type { RunContext } from '../app/context.js';
import type { NamingOptions } from '../steps/names.js';
import { INPUT, inputOr, SettingsError, type InputReader } from './inputs.js';

export function parseNaming(input: InputReader, ctx: RunContext): NamingOptions {
  const naming: NamingOptions = {
    owner: ctx.owner,
    repo: ctx.repo,
    namespaceTemplate: inputOr(input, INPUT.namespaceTemplate),
    hostTemplate: inputOr(input, INPUT.hostTemplate),
    domain: inputOr(input, INPUT.domain)
      .replace(/^https?:\/\//, '')
      .replace(/\/+$/, ''),
    deploymentEnvironment: inputOr(input, INPUT.deploymentEnvironment),
  };
  if (!/\{(number|branch)\}/.test(naming.namespaceTemplate)) {
    throw new SettingsError(
      `The \`namespace-template\` input "${naming.namespaceTemplate}" contains neither {number} nor {branch}, so every PR would share one namespace (and one PR's cleanup would delete the others' preview). Use e.g. "pr-{number}".`,
    );
  }
  if (naming.namespaceTemplate.includes('{sha7}')) {
    // A namespace per commit would never be pruned or cleaned up: cleanup finds only the current one.
    throw new SettingsError(
      `The \`namespace-template\` input "${naming.namespaceTemplate}" uses {sha7}, which would make a new namespace on every push and leave the old ones behind. Keep {number} in it (e.g. "pr-{number}"); {sha7} belongs in \`host-template\` or image tags.`,
    );
  }
  return naming;
}
