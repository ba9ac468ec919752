// The cluster half of a preview, shared by the command and the benchmark: guard the rendered objects,
// then ensure the namespace, apply wave by wave and prune what is no longer rendered.
import { applyObjects, pruneObjects, type AppliedObject } from '../kube/apply.js';
import type { KubeClient } from '../kube/client.js';
import { ensureNamespace } from '../kube/namespaces.js';
import type { Logger } from '../logger.js';
import type { KubeObject } from '../model/kube-object.js';
import type { ObjectId } from '../model/object-id.js';
import { ANNOTATION_HEAD_SHA, LABEL_INSTANCE } from '../model/labels.js';
import { guardManifests } from '../render/guard.js';
import { podSecurityLabels, type PodSecurityLevel } from '../render/pod-security.js';
import { groupIntoWaves } from '../render/waves.js';

/** Refuses anything that could reach outside `namespace`; reads discovery, writes nothing. */
export async function guardRendered(
  kube: KubeClient,
  objects: KubeObject[],
  namespace: string,
  podSecurity: PodSecurityLevel = 'baseline',
): Promise<void> {
  await kube.preloadScopes(objects.map((o) => [o.apiVersion, o.kind] as [string, string]));
  guardManifests(objects, namespace, (apiVersion, kind) => kube.scopeOf(apiVersion, kind), { podSecurity });
}

export interface ApplyRenderedOptions {
  namespace: string;
  /** Our labels; the namespace gets them too, and `kubestage.dev/instance` selects what prune may delete. */
  labels: Record<string, string>;
  annotations: Record<string, string>;
  repoLabel: string;
  waitTerminatingMs: number;
  logger: Logger;
  group?: <T>(name: string, fn: () => Promise<T>) => Promise<T>;
  /**
   * The commit this run deploys. Runs for the same PR record their commit on the namespace
   * (kubestage.dev/head-sha) as they start applying; before each wave a run checks it is still the
   * one recorded, and stops with SupersededError when a newer run has taken over.
   */
  headSha?: string;
  /** Pod Security level the namespace enforces (its pod-security.kubernetes.io labels). */
  podSecurity?: PodSecurityLevel;
}

export class SupersededError extends Error {
  constructor(readonly by: string) {
    super(`another run took over the namespace to deploy ${by.slice(0, 7)}`);
    this.name = 'SupersededError';
  }
}

export async function applyRendered(
  kube: KubeClient,
  objects: KubeObject[],
  opts: ApplyRenderedOptions,
): Promise<{ applied: AppliedObject[]; pruned: ObjectId[]; createdNamespace: boolean }> {
  const group = opts.group ?? (<T>(_name: string, fn: () => Promise<T>) => fn());
  const { namespace, logger } = opts;
  const ns = await group(`Namespace ${namespace}`, () =>
    ensureNamespace(kube, {
      name: namespace,
      labels: { ...opts.labels, ...podSecurityLabels(opts.podSecurity ?? 'baseline') },
      annotations: opts.annotations,
      owner: { repoLabel: opts.repoLabel },
      waitTerminatingMs: opts.waitTerminatingMs,
      logger,
      // Recorded on the namespace so that later runs prune (and cleanup counts) only these kinds.
      appliedKinds: objects,
    }),
  );
  const { applied } = await group(`Apply ${objects.length} objects to ${namespace}`, () =>
    applyObjects(kube, objects, {
      waves: groupIntoWaves(objects),
      logger,
      freshNamespace: ns.created,
      beforeWave: opts.headSha ? (w) => stillOurs(kube, namespace, opts.headSha!, w) : undefined,
    }),
  );
  // A namespace created by this run holds nothing stale: there is nothing to prune.
  const pruned = ns.created
    ? []
    : await group('Prune objects no longer rendered', () =>
        pruneObjects(kube, {
          namespace,
          instanceLabel: opts.labels[LABEL_INSTANCE] ?? namespace,
          keep: objects,
          logger,
          kinds: ns.recordedKinds,
        }),
      );
  return { applied, pruned, createdNamespace: ns.created };
}

async function stillOurs(kube: KubeClient, namespace: string, headSha: string, wave: number): Promise<void> {
  if (wave === 0) return; // ensureNamespace has just recorded our commit
  const ns = await kube.get<{ metadata: { annotations?: Record<string, string> } }>(
    'v1',
    'Namespace',
    namespace,
  );
  const recorded = ns?.metadata.annotations?.[ANNOTATION_HEAD_SHA];
  if (recorded && recorded !== headSha) throw new SupersededError(recorded);
}
