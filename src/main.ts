// The action: inputs and the Actions environment → the command registry → outputs and the job summary.
import * as core from '@actions/core';
import { actionContext, type RunContext } from './app/context.js';
import { connectionsOf, createPorts, type Ports } from './app/ports.js';
import { COMMANDS, isCommand, REGISTRY, type Command } from './app/registry.js';
import type { CommandResult } from './app/result.js';
import type { Logger } from './logger.js';
import { cancelOnSignals } from './app/cancel.js';
import { codeBlock } from './report/markdown.js';
import { INPUT, SettingsError, type InputReader } from './settings/inputs.js';

export const coreLogger: Logger = {
  info: (m) => core.info(m),
  warning: (m) => core.warning(m),
  debug: (m) => core.debug(m),
};

export async function run(): Promise<void> {
  const cancellation = cancelOnSignals(coreLogger);
  try {
    const input = actionInputs((name) => core.getInput(name), process.env);
    const { name, ctx, start } = prepareAction(input, process.env, { signal: cancellation.signal });
    const ports = createPorts(connectionsOf(input, ctx), coreLogger, process.env, {
      mask: (s) => core.setSecret(s),
      group: (n, fn) => core.group(n, fn),
    });
    const result = await start(ports);
    for (const [key, value] of Object.entries(result.outputs)) core.setOutput(key, value);
    await writeSummary(result.summary);
    if (!result.ok) core.setFailed(result.failure ?? `kubestage ${name} failed`);
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    if (!(e instanceof SettingsError) && e instanceof Error && e.stack) core.debug(e.stack);
    await writeSummary(
      `## kubestage: ${e instanceof SettingsError ? 'bad input' : 'failed'}\n\n${codeBlock(message)}\n`,
    );
    core.setFailed(message);
  } finally {
    cancellation.dispose();
  }
}

async function writeSummary(markdown: string): Promise<void> {
  try {
    await core.summary.addRaw(markdown, true).write();
  } catch (e) {
    // No GITHUB_STEP_SUMMARY (a local runner): the log and the outputs still tell the story.
    core.warning(`Could not write the job summary: ${(e as Error).message}`);
  }
}

/**
 * Everything that can be known before any API call: the command, the run context and the command's
 * validated options. Throws SettingsError naming the bad value and the fix.
 */
export function prepareAction(
  input: InputReader,
  env: NodeJS.ProcessEnv,
  run: { now?: () => Date; signal?: AbortSignal } = {},
): { name: Command; ctx: RunContext; start: (ports: Ports) => Promise<CommandResult> } {
  const name = input(INPUT.command).trim();
  if (!isCommand(name)) {
    throw new SettingsError(
      name
        ? `Unknown command "${name}". Valid commands: ${COMMANDS.join(', ')}. Set the action's \`command\` input to one of them.`
        : `The \`command\` input is required. Valid commands: ${COMMANDS.join(', ')}.`,
    );
  }
  const ctx: RunContext = { ...actionContext(input, env, run.now), signal: run.signal };
  return { name, ctx, start: REGISTRY[name].prepare(input, ctx) };
}

/** The action's inputs; `github-token` falls back to $GITHUB_TOKEN as the old input default did. */
export function actionInputs(getInput: (name: string) => string, env: NodeJS.ProcessEnv): InputReader {
  return (name) =>
    name === INPUT.githubToken ? getInput(name).trim() || env.GITHUB_TOKEN || '' : getInput(name);
}
