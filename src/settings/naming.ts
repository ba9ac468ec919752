// The inputs that name a preview, shared by `preview` and `cleanup` (they must agree on the names).
import type { RunContext } from '../app/context.js';
import type { NamingOptions } from '../steps/names.js';
import { INPUT, INPUT_DOCS, inputOr, SettingsError, type InputName, type InputReader } from './inputs.js';

export function parseNaming(input: InputReader, ctx: RunContext): NamingOptions {
  const app = inputOr(input, INPUT.app);
  // With an app, each app of the PR gets its own names unless the templates say otherwise.
  const given = (name: InputName, withApp: string): string =>
    (input(name) ?? '').trim() || (app ? withApp : INPUT_DOCS[name].default);
  if (app && !/^[a-z0-9]([-a-z0-9]{0,28}[a-z0-9])?$/.test(app)) {
    throw new SettingsError(
      `The \`app\` input "${app}" must be a short name of lower-case letters, digits and "-" (at most 30 characters), e.g. "web" or "api".`,
    );
  }
  const naming: NamingOptions = {
    owner: ctx.owner,
    repo: ctx.repo,
    namespaceTemplate: given(INPUT.namespaceTemplate, `${INPUT_DOCS[INPUT.namespaceTemplate].default}-{app}`),
    hostTemplate: inputOr(input, INPUT.hostTemplate),
    domain: inputOr(input, INPUT.domain)
      .replace(/^https?:\/\//, '')
      .replace(/\/+$/, ''),
    deploymentEnvironment: given(
      INPUT.deploymentEnvironment,
      `${INPUT_DOCS[INPUT.deploymentEnvironment].default}-{app}`,
    ),
    ...(app ? { app } : {}),
  };
  if (app && !naming.namespaceTemplate.includes('{app}')) {
    throw new SettingsError(
      `The \`app\` input is "${app}" but \`namespace-template\` "${naming.namespaceTemplate}" has no {app}: every app of the PR would share one namespace and overwrite the others. Use e.g. "pr-{number}-{app}".`,
    );
  }
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
