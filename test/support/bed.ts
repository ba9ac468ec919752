// A fresh pair of emulators plus the settings and ports a command gets — over real HTTP, nothing mocked.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunContext } from '../../src/app/context.js';
import { connectionsOf, createPorts } from '../../src/app/ports.js';
import type { CommandResult } from '../../src/app/result.js';
import { actionInputs, prepareAction } from '../../src/main.js';
import { COMMENT_MARKER } from '../../src/model/labels.js';
import type { KObject } from '../emulators/kube/store.js';
import { startGitHubEmulator, type GitHubEmulator } from '../emulators/github/index.js';
import { startKubeEmulator, type KubeEmulator, type KubeEmulatorOptions } from '../emulators/kube/index.js';
import { startRegistryEmulator, type RegistryEmulator } from '../emulators/registry/index.js';
import { repoRoot } from './action.js';
import { recordingLogger, type RecordingLogger } from './logger.js';

export const REPO = 'acme/shop';
export const TOKEN = 'ghs_test_token_for_the_bed_0001';

/** Two commits of a PR, the older and the newer. */
export const SHA_A = 'a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1';
export const SHA_B = 'b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2';
/** The `images` input for examples/shop (the bed's default manifests): both images, renamed for the PR. */
export const EXAMPLE_IMAGES =
  'ghcr.io/kubestage/example-web=ghcr.io/acme/shop-web\nghcr.io/kubestage/example-api=ghcr.io/acme/shop-api';

export interface Bed {
  kube: KubeEmulator;
  github: GitHubEmulator;
  /** An OCI registry; the kubelet reports its digests as the imageIDs of images pulled from it. */
  registry: RegistryEmulator;
  /** Runs a command in-process as main.ts would, with the given inputs and event. */
  run(
    o: RunOptions,
  ): Promise<{ result: CommandResult; log: RecordingLogger; ctx: RunContext; masked: string[] }>;
  /** A stored object as the cluster has it (undefined when absent). */
  object(apiVersion: string, kind: string, namespace: string | undefined, name: string): KObject | undefined;
  /** Every stored object of a kind in a namespace. */
  objects(apiVersion: string, kind: string, namespace: string): KObject[];
  /** The PR's kubestage comments, with markdown backslash escapes removed (the text a reader sees). */
  markerComments(pr: number): { id: number; body: string }[];
  close(): Promise<void>;
}

export interface RunOptions {
  inputs?: Record<string, string>;
  eventName?: string;
  payload: Record<string, unknown>;
  workspace?: string;
  token?: string;
  now?: () => Date;
  /** Aborting it cancels the run, as SIGINT does in the action. */
  signal?: AbortSignal;
  /** More of the Actions environment (GITHUB_RUN_ID, GITHUB_SHA, GITHUB_ACTOR, DOCKER_CONFIG, …). */
  env?: Record<string, string>;
}

export async function startBed(kubeOptions: KubeEmulatorOptions = {}): Promise<Bed> {
  const registry = await startRegistryEmulator();
  const kube = await startKubeEmulator({
    namespaceDeletionDelayMs: 20,
    imageDigests: (image) => registry.lookup(image),
    ...kubeOptions,
    controllers: { readyDelayMs: 30, timeScale: 0.001, ...kubeOptions.controllers },
  });
  const github = await startGitHubEmulator();
  github.state.addRepo(REPO);
  // The workflow's GITHUB_TOKEN: GitHub knows it; any other token gets 401 Bad credentials.
  github.state.setToken(TOKEN, { permissions: 'write' });
  return {
    kube,
    github,
    registry,
    async run(o) {
      const dir = mkdtempSync(join(tmpdir(), 'kubestage-bed-'));
      const eventPath = join(dir, 'event.json');
      writeFileSync(eventPath, JSON.stringify(o.payload));
      const inputs: Record<string, string> = {
        command: 'preview',
        kubeconfig: kube.kubeconfigPath,
        manifests: 'examples/shop/overlays/preview',
        domain: 'preview.example.com',
        'wait-timeout': '20',
        'github-token': o.token ?? TOKEN,
        ...o.inputs,
      };
      const env = {
        GITHUB_EVENT_NAME: o.eventName ?? 'pull_request',
        GITHUB_EVENT_PATH: eventPath,
        GITHUB_REPOSITORY: REPO,
        GITHUB_SERVER_URL: 'https://github.com',
        GITHUB_RUN_ID: '777',
        GITHUB_WORKSPACE: o.workspace ?? repoRoot,
        GITHUB_API_URL: github.url,
        ...o.env,
      };
      // As main.ts does: the command's options are validated before any port is built.
      const input = actionInputs((n) => inputs[n] ?? '', env);
      const { ctx, start } = prepareAction(input, env, { now: o.now, signal: o.signal });
      const log = recordingLogger();
      const masked: string[] = [];
      const ports = createPorts(connectionsOf(input, ctx), log, env, {
        mask: (v) => void masked.push(v),
        group: (_n, fn) => fn(),
        githubWaitScale: 0.001,
      });
      const result = await start(ports);
      return { result, log, ctx, masked };
    },
    object(apiVersion, kind, namespace, name) {
      return kube.store.get(typeOf(kube, apiVersion, kind), namespace, name);
    },
    objects(apiVersion, kind, namespace) {
      return kube.store.list(typeOf(kube, apiVersion, kind), namespace);
    },
    markerComments(pr) {
      return github.state
        .comments(REPO, pr)
        .filter((c) => c.body.includes(COMMENT_MARKER))
        .map((c) => ({ ...c, body: c.body.replace(/\\([\\`*_{}[\]()#+\-.!|<>~])/g, '$1') }));
    },
    async close() {
      await Promise.allSettled([kube.close(), github.close(), registry.close()]);
    },
  };
}

function typeOf(kube: KubeEmulator, apiVersion: string, kind: string) {
  const t = kube.store.findTypeByKind(apiVersion, kind);
  if (!t) throw new Error(`the emulator serves no ${apiVersion} ${kind}`);
  return t;
}
