// run(): read settings, build the ports, dispatch the command, set outputs, write the job summary.
import * as core from '@actions/core';
import { runCleanup } from './commands/cleanup.js';
import { runPreview } from './commands/preview.js';
import type { CommandResult, Ports } from './commands/ports.js';
import { createGitHubClient } from './github/client.js';
import { createKubeClient } from './kube/client.js';
import { loadKubeConfig } from './kube/kubeconfig.js';
import type { Logger } from './logger.js';
import { readSettings, SettingsError, type Settings } from './settings.js';

export const coreLogger: Logger = {
  info: (m) => core.info(m),
  warning: (m) => core.warning(m),
  debug: (m) => core.debug(m),
};

/** Builds the ports from settings: the same commands serve the action, the demo and the tests. */
export function createPorts(
  settings: Settings,
  logger: Logger,
  env: NodeJS.ProcessEnv = process.env,
  io: { mask: (secret: string) => void; group: Ports['group']; githubWaitScale?: number } = {
    mask: (s) => core.setSecret(s),
    group: (name, fn) => core.group(name, fn),
  },
): Ports {
  let kube: ReturnType<typeof createKubeClient> | undefined;
  if (settings.githubToken) io.mask(settings.githubToken);
  return {
    logger,
    kube: () => {
      if (!kube) {
        const { kc, source } = loadKubeConfig({
          kubeconfig: settings.kubeconfig,
          env,
          workspace: settings.workspace,
          mask: io.mask,
        });
        logger.info(
          `Cluster credentials: ${source}; API server ${kc.getCurrentCluster()?.server ?? '(unknown)'}`,
        );
        kube = createKubeClient(kc, { logger });
      }
      return kube;
    },
    github: settings.githubToken
      ? createGitHubClient({
          token: settings.githubToken,
          baseUrl: settings.apiUrl,
          logger,
          waitScale: io.githubWaitScale,
        })
      : undefined,
    group: io.group,
    mask: io.mask,
  };
}

export async function run(): Promise<void> {
  try {
    const settings = readSettings((name) => core.getInput(name), process.env);
    const ports = createPorts(settings, coreLogger);
    const result: CommandResult =
      settings.command === 'preview' ? await runPreview(settings, ports) : await runCleanup(settings, ports);
    for (const [name, value] of Object.entries(result.outputs)) core.setOutput(name, value);
    try {
      await core.summary.addRaw(result.summary, true).write();
    } catch (e) {
      // No GITHUB_STEP_SUMMARY (a local runner): the log and the outputs still tell the story.
      core.warning(`Could not write the job summary: ${(e as Error).message}`);
    }
    if (!result.ok) core.setFailed(result.failure ?? `kubestage ${settings.command} failed`);
  } catch (e) {
    const message = e instanceof SettingsError ? e.message : e instanceof Error ? e.message : String(e);
    if (!(e instanceof SettingsError) && e instanceof Error && e.stack) core.debug(e.stack);
    core.setFailed(message);
  }
}
