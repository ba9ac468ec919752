// A fresh Kubernetes emulator and a KubeClient talking to it over real HTTP.
import { createKubeClient, type KubeClient } from '../../../src/kube/client.js';
import { loadKubeConfig } from '../../../src/kube/kubeconfig.js';
import {
  LABEL_ENVIRONMENT,
  LABEL_INSTANCE,
  LABEL_MANAGED_BY,
  LABEL_PR,
  LABEL_REPO,
  MANAGED_BY,
} from '../../../src/model/labels.js';
import type { KubeObject } from '../../../src/model/kube-object.js';
import {
  startKubeEmulator,
  type KubeEmulator,
  type KubeEmulatorOptions,
} from '../../emulators/kube/index.js';
import { ensureNamespace } from '../../../src/kube/namespaces.js';
import { recordingLogger, type RecordingLogger } from '../../support/logger.js';

export type TestLogger = RecordingLogger;
export const testLogger = recordingLogger;

export interface KubeBed {
  emu: KubeEmulator;
  client: KubeClient;
  logger: TestLogger;
  /** The object as the emulator stores it (asserting cluster state, not what our client believes). */
  stored(
    apiVersion: string,
    kind: string,
    name: string,
    namespace?: string,
  ): Record<string, unknown> | undefined;
  close(): Promise<void>;
}

export async function kubeBed(opts: KubeEmulatorOptions = {}): Promise<KubeBed> {
  const emu = await startKubeEmulator({
    namespaceDeletionDelayMs: 20,
    ...opts,
    controllers: { readyDelayMs: 30, timeScale: 0.01, ...opts.controllers },
  });
  const logger = testLogger();
  const { kc } = loadKubeConfig({ kubeconfig: emu.kubeconfig, env: {} });
  const client = createKubeClient(kc, { logger, retry: { baseMs: 5, maxMs: 100 } });
  return {
    emu,
    client,
    logger,
    stored: (apiVersion, kind, name, namespace) => {
      const t = emu.store.findTypeByKind(apiVersion, kind);
      return t
        ? (emu.store.get(t, namespace, name) as unknown as Record<string, unknown> | undefined)
        : undefined;
    },
    close: () => emu.close(),
  };
}

export const REPO_LABEL = 'acme.shop';

export function ourLabels(namespace: string, pr = 7): Record<string, string> {
  return {
    [LABEL_MANAGED_BY]: MANAGED_BY,
    [LABEL_REPO]: REPO_LABEL,
    [LABEL_ENVIRONMENT]: 'preview',
    [LABEL_PR]: String(pr),
    [LABEL_INSTANCE]: namespace,
  };
}

/** A small app as kustomize would render it for the preview namespace. */
export function smallApp(
  namespace: string,
  opts: { image?: string; replicas?: number; greeting?: string } = {},
): KubeObject[] {
  const labels = ourLabels(namespace);
  const meta = (name: string) => ({ name, namespace, labels: { ...labels, app: 'web' } });
  return [
    {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: meta('web-config'),
      data: { GREETING: opts.greeting ?? 'hello' },
    },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: meta('web'),
      spec: { selector: { app: 'web' }, ports: [{ port: 80, targetPort: 8080 }] },
    },
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: meta('web'),
      spec: {
        replicas: opts.replicas ?? 2,
        selector: { matchLabels: { app: 'web' } },
        template: {
          metadata: { labels: { app: 'web' } },
          spec: {
            containers: [
              {
                name: 'web',
                image: opts.image ?? 'ghcr.io/acme/shop:pr-7-abc1234',
                ports: [{ containerPort: 8080 }],
              },
            ],
          },
        },
      },
    },
  ];
}

/** A bed with one preview namespace of ours already created (what apply and wait run inside). */
export async function kubeBedWithNamespace(
  namespace: string,
  opts: KubeEmulatorOptions = {},
): Promise<KubeBed> {
  const bed = await kubeBed(opts);
  await ensureNamespace(bed.client, {
    name: namespace,
    labels: ourLabels(namespace),
    annotations: {},
    owner: { repoLabel: REPO_LABEL },
    waitTerminatingMs: 5000,
    logger: bed.logger,
  });
  return bed;
}
