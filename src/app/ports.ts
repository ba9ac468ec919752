// What a command gets to reach the outside world, built in ONE place so the same commands serve the
// action, the CLI, the demo and the tests.
import type { KubeConfig } from '@kubernetes/client-node';
import { createGitHubClient, type GitHubClient } from '../github/client.js';
import { createKubeClient, type KubeClient } from '../kube/client.js';
import { displayServer, loadKubeConfig } from '../kube/kubeconfig.js';
import type { Logger } from '../logger.js';
import { resolveImages, type ResolvedImage } from '../registry/client.js';
import { INPUT, type InputReader } from '../settings/inputs.js';
import type { RunContext } from './context.js';

export interface Ports {
  logger: Logger;
  /** The cluster client, created on first use (so option errors never need a kubeconfig). */
  kube: () => KubeClient;
  /** Absent when there is no token (GitHub features are then skipped). */
  github?: GitHubClient;
  /** A collapsible section of the log. */
  group: <T>(name: string, fn: () => Promise<T>) => Promise<T>;
  /** Hides a secret value in the log (core.setSecret in the action). */
  mask: (secret: string) => void;
  /** Tag → digest through the images' registries (credentials from the runner's docker config). */
  resolveImages: (refs: readonly string[], signal?: AbortSignal) => Promise<ResolvedImage[]>;
}

/** How to reach the cluster and GitHub. */
export interface Connections {
  /** The kubeconfig input (YAML, base64 or a path); empty: $KUBECONFIG, then in-cluster. */
  kubeconfig: string;
  /** A kubeconfig context to use instead of its current-context (CLI `--context`). */
  context?: string;
  githubToken: string;
  /** GitHub's REST API base URL. */
  apiUrl?: string;
  /** Relative kubeconfig paths resolve against it. */
  workspace: string;
}

/** The connections a run's inputs (kubeconfig, github-token) and context (API URL, workspace) name. */
export function connectionsOf(
  input: InputReader,
  ctx: Pick<RunContext, 'apiUrl' | 'workspace'>,
): Connections {
  return {
    kubeconfig: input(INPUT.kubeconfig),
    githubToken: input(INPUT.githubToken).trim(),
    apiUrl: ctx.apiUrl,
    workspace: ctx.workspace,
  };
}

export interface PortsIo {
  mask: (secret: string) => void;
  group: Ports['group'];
  /** Scales GitHub's pacing waits (tests). */
  githubWaitScale?: number;
}

export function createPorts(conn: Connections, logger: Logger, env: NodeJS.ProcessEnv, io: PortsIo): Ports {
  let kube: KubeClient | undefined;
  if (conn.githubToken) io.mask(conn.githubToken);
  return {
    logger,
    kube: () => {
      if (!kube) {
        const { kc, source } = loadKubeConfig({
          kubeconfig: conn.kubeconfig,
          env,
          workspace: conn.workspace,
          mask: io.mask,
        });
        if (conn.context) useContext(kc, conn.context);
        logger.info(
          `Cluster credentials: ${source}; API server ${displayServer(kc.getCurrentCluster()?.server ?? '(unknown)')}`,
        );
        kube = createKubeClient(kc, { logger });
      }
      return kube;
    },
    github: conn.githubToken
      ? createGitHubClient({
          token: conn.githubToken,
          baseUrl: conn.apiUrl,
          logger,
          waitScale: io.githubWaitScale,
        })
      : undefined,
    group: io.group,
    mask: io.mask,
    resolveImages: (refs, signal) => resolveImages(refs, { env, logger, signal }),
  };
}

/** Switches to a named context (CLI `--context`), naming the ones there are when it does not exist. */
function useContext(kc: KubeConfig, name: string): void {
  const ctx = kc.getContextObject(name);
  if (!ctx) {
    throw new Error(
      `the kubeconfig has no context "${name}"; it has: ${kc.contexts.map((c) => c.name).join(', ') || '(none)'} (kubectl config get-contexts)`,
    );
  }
  if (!kc.clusters.some((c) => c.name === ctx.cluster)) {
    throw new Error(
      `context "${name}" refers to cluster "${ctx.cluster}", which the kubeconfig does not define`,
    );
  }
  kc.setCurrentContext(name);
}
