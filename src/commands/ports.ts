// What a command gets to reach the outside world, and what it gives back to main.ts.
import type { GitHubClient } from '../github/client.js';
import type { KubeClient } from '../kube/client.js';
import type { Logger } from '../logger.js';

export interface Ports {
  logger: Logger;
  /** The cluster client, created on first use (so settings errors never need a kubeconfig). */
  kube: () => KubeClient;
  /** Absent when no token was given and comments and deployments are off. */
  github?: GitHubClient;
  /** A collapsible section of the log. */
  group: <T>(name: string, fn: () => Promise<T>) => Promise<T>;
  /** Hides a secret value in the log (core.setSecret in the action). */
  mask?: (secret: string) => void;
  /** Clock, replaceable in tests. */
  now?: () => Date;
}

export interface CommandResult {
  ok: boolean;
  /** The step's failure message when ok is false. */
  failure?: string;
  /** Action outputs, by output name. */
  outputs: Record<string, string>;
  /** Markdown for the job summary. */
  summary: string;
}
