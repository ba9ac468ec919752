// The release step every command that deploys uses (preview now; deploy, promote and rollback next):
//   prepareRelease: render → guard            (reads only: nothing is written before it passes)
//   release:        apply → prune → wait → probe → diagnose, returning a typed outcome.
// One deadline bounds every phase of release, so "wait-timeout: 300" means 300 s in all.
import { applyObjects, ourSelector, pruneObjects, type AppliedObject } from '../kube/apply.js';
import { NOISE_RESOURCES } from '../kube/discovery.js';
import {
  emptyInventory,
  inventoryKindKey,
  mergeKinds,
  resolveKinds,
  servedResources,
  takeInventory,
  type KindRef,
  type NamespaceInventory,
} from '../kube/inventory.js';
import type { KubeClient } from '../kube/client.js';
import { collectDiagnostics, formatDiagnostics } from '../kube/diagnostics.js';
import { ensureNamespace } from '../kube/namespaces.js';
import { probeUrl } from '../kube/probe.js';
import { waitForWorkloads, type WorkloadState } from '../kube/wait.js';
import type { Logger } from '../logger.js';
import type { Deadline } from '../model/deadline.js';
import { formatImageRef, splitImageRef, type ImageOverride } from '../model/images.js';
import type { KubeObject } from '../model/kube-object.js';
import type { ObjectId } from '../model/object-id.js';
import { ANNOTATION_HEAD_SHA, LABEL_INSTANCE } from '../model/labels.js';
import { guardManifests } from '../render/guard.js';
import { rewriteHosts } from '../render/hosts.js';
import { containerImages, renderManifests } from '../render/kustomize.js';
import { podSecurityLabels, type PodSecurityLevel } from '../render/pod-security.js';
import { waveOf, WAVE_CONFIG, WAVE_RBAC, WAVE_SERVICES } from '../render/waves.js';

type Group = <T>(name: string, fn: () => Promise<T>) => Promise<T>;
const noGroup: Group = (_name, fn) => fn();

export interface PrepareInput {
  workspace: string;
  manifests: string;
  namespace: string;
  /** The host routes are rewritten to; '' leaves hosts alone. */
  host: string;
  images: ImageOverride[];
  /** Our labels, on every object and the namespace. */
  labels: Record<string, string>;
  podSecurity: PodSecurityLevel;
  logger: Logger;
  group?: Group;
}

export interface Prepared {
  objects: KubeObject[];
  /** Every image the rendered workloads run (the overridden ones first), named as in the manifests. */
  images: { name: string; ref: string }[];
  /** The rendered Secrets' values: never to be shown. */
  secrets: string[];
}

/** Renders and guards; reads discovery, writes nothing. Throws with the reason to show the user. */
export async function prepareRelease(kube: () => KubeClient, input: PrepareInput): Promise<Prepared> {
  const group = input.group ?? noGroup;
  const { logger } = input;
  const objects = await group(`Render ${input.manifests}`, async () => {
    const { objects, unusedImages, overlayYaml } = await renderManifests({
      workspace: input.workspace,
      manifests: input.manifests,
      namespace: input.namespace,
      images: input.images,
      labels: input.labels,
    });
    logger.debug(`Generated overlay:\n${overlayYaml}`);
    if (unusedImages.length) {
      // A typo here would silently deploy the old image: refuse before anything is written.
      const found = [...containerImages(objects)].sort();
      throw new Error(
        `The \`images\` input names ${unusedImages.map((i) => `"${i.name}"`).join(', ')}, which no container in ${input.manifests} uses. ` +
          `NAME must be the image as written in the manifests, without its tag. Images there: ${found.join(', ') || '(none)'}.`,
      );
    }
    const routed = input.host ? rewriteHosts(objects, input.host) : { objects, changes: [] };
    for (const c of routed.changes)
      logger.info(`${c.object}: host ${c.from.join(', ') || '(none)'} → ${c.to}`);
    logger.info(`Rendered ${routed.objects.length} objects`);
    return routed.objects;
  });
  // The guard judges the rendered output before any write reaches the cluster.
  await guardRendered(kube(), objects, input.namespace, input.podSecurity);
  const overrides = new Map(input.images.map((i) => [formatImageRef(i), i.name]));
  return { objects, images: imagesInUse(objects, overrides), secrets: secretValues(objects) };
}

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

export interface ReleaseInput {
  objects: KubeObject[];
  namespace: string;
  labels: Record<string, string>;
  /** The namespace's record (encodeRecord), written as it is claimed. */
  annotations: Record<string, string>;
  repoLabel: string;
  podSecurity: PodSecurityLevel;
  /**
   * The commit this run deploys. Runs for the same PR record their commit on the namespace
   * (kubestage.dev/head-sha) as they start applying; before each wave a run checks it is still the
   * one recorded, and stops as superseded when a newer run has taken over.
   */
  headSha?: string;
  /** Where the release answers, and the path to GET there before calling it ready. */
  probe?: { url: string; path: string; domain: string };
  deadline: Deadline;
  logger: Logger;
  group?: Group;
}

export interface ReleaseOutcome {
  status: 'ready' | 'failed' | 'superseded';
  applied: AppliedObject[];
  pruned: ObjectId[];
  workloads: WorkloadState[];
  /** failed: one line for the step's failure; diagnostics: what the cluster says about it. */
  message?: string;
  diagnostics?: string;
  /** superseded: the commit that took over. */
  supersededBy?: string;
}

/** Applies, prunes, waits, probes; every failure (an apply refused, a watch that broke) is an outcome. */
export async function release(kube: KubeClient, input: ReleaseInput): Promise<ReleaseOutcome> {
  const outcome: ReleaseOutcome = { status: 'failed', applied: [], pruned: [], workloads: [] };
  try {
    return await releaseSteps(kube, input, outcome);
  } catch (e) {
    if (e instanceof SupersededError) return { ...outcome, status: 'superseded', supersededBy: e.by };
    const message = e instanceof Error ? e.message : String(e);
    return { ...outcome, status: 'failed', message, diagnostics: message };
  }
}

async function releaseSteps(
  kube: KubeClient,
  input: ReleaseInput,
  outcome: ReleaseOutcome,
): Promise<ReleaseOutcome> {
  const { objects, namespace, logger, deadline } = input;
  const group = input.group ?? noGroup;
  const { applied, pruned } = await applyRendered(kube, objects, {
    namespace,
    labels: input.labels,
    repoLabel: input.repoLabel,
    annotations: input.annotations,
    waitTerminatingMs: deadline.remainingMs(),
    // A Job recreated (its template changed) waits for its old self within the same budget.
    recreateTimeoutMs: deadline.remainingMs(),
    logger,
    group,
    headSha: input.headSha,
    podSecurity: input.podSecurity,
  });
  outcome.applied = applied;
  outcome.pruned = pruned;

  const wait = await group(`Wait for workloads (timeout ${Math.round(deadline.remainingMs() / 1000)}s)`, () =>
    waitForWorkloads(kube, { namespace, objects, timeoutMs: deadline.remainingMs(), logger }),
  );
  outcome.workloads = wait.workloads;
  if (!wait.ok) {
    const failing = wait.workloads.filter((w) => !w.ready);
    const diagnostics =
      wait.diagnostics ??
      (await collectDiagnostics(kube, { namespace, workloads: failing.map((w) => w.id), logger }));
    const text = formatDiagnostics(diagnostics);
    logger.info(text);
    return {
      ...outcome,
      status: 'failed',
      message: `Workloads did not become ready: ${failing.map((w) => `${w.ref} (${w.state})`).join(', ')}`,
      diagnostics: text,
    };
  }
  if (input.probe?.path) {
    const { url, path, domain } = input.probe;
    const probe = await probeUrl(url, { path, timeoutMs: deadline.remainingMs(), attempts: 10, logger });
    if (!probe.ok) {
      const what = `GET ${url}${path} → ${probe.error ?? `HTTP ${probe.status}`}`;
      return {
        ...outcome,
        status: 'failed',
        message: `The health check failed: ${what}`,
        diagnostics: `${what}\nThe workloads are ready, but the preview URL does not answer. Check the Ingress/HTTPRoute, DNS for *.${domain}, and that ${path} answers 2xx.`,
      };
    }
    logger.info(`Health check ${url}${path}: HTTP ${probe.status}`);
  }
  return { ...outcome, status: 'ready' };
}

export interface ApplyRenderedOptions {
  namespace: string;
  /** Our labels; the namespace gets them too, and `kubestage.dev/instance` selects what prune may delete. */
  labels: Record<string, string>;
  annotations: Record<string, string>;
  repoLabel: string;
  waitTerminatingMs: number;
  /** How long a Job being recreated may take to go (default: apply.ts's own). */
  recreateTimeoutMs?: number;
  logger: Logger;
  group?: Group;
  /** See ReleaseInput.headSha. */
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

/**
 * Ensures the namespace, applies step by step (applySteps) and prunes what is no longer rendered
 * (also the benchmark's path). Each kind is listed once: the rendered kinds while the namespace is
 * being ensured (the apply tells created/configured/unchanged from that list, prune takes its
 * candidates from it), the kinds only recorded while the apply runs. The commit check (headSha)
 * runs before every step but the first, and before prune deletes anything.
 */
export async function applyRendered(
  kube: KubeClient,
  objects: KubeObject[],
  opts: ApplyRenderedOptions,
): Promise<{ applied: AppliedObject[]; pruned: ObjectId[]; createdNamespace: boolean }> {
  const group = opts.group ?? noGroup;
  const { namespace, logger } = opts;
  const instanceLabel = opts.labels[LABEL_INSTANCE] ?? namespace;
  // Reads only, and used only once ensureNamespace has found the namespace ours: listing while it
  // answers takes the LISTs off the critical path. Never rejects (a kind it cannot list is noted).
  const rendered = servedResources(kube, mergeKinds(objects)).then((resources) =>
    takeInventory(kube, emptyInventory(namespace), resources),
  );
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
  // A namespace created by this run holds nothing stale (nothing to prune) and every apply answers 201.
  const before = ns.created ? undefined : await rendered;
  // Kinds recorded by earlier runs and no longer rendered are only prune's concern: listed (by our
  // selector) while the apply runs, which never writes objects of those kinds.
  const recordedOnly = before
    ? listRecordedOnly(kube, before, ns.recordedKinds, instanceLabel, logger)
    : undefined;
  recordedOnly?.catch(() => {}); // awaited before prune; an apply failure must not leave it unhandled
  const check = opts.headSha ? () => stillOurs(kube, namespace, opts.headSha as string) : undefined;
  const { applied } = await group(`Apply ${objects.length} objects to ${namespace}`, () =>
    applyObjects(kube, objects, {
      waves: applySteps(objects),
      logger,
      freshNamespace: ns.created,
      before,
      recreateTimeoutMs: opts.recreateTimeoutMs,
      // ensureNamespace has just recorded our commit: no check before the first step.
      beforeWave: check ? (step) => (step === 0 ? Promise.resolve() : check()) : undefined,
    }),
  );
  const pruned = recordedOnly
    ? await group('Prune objects no longer rendered', async () =>
        pruneObjects(kube, {
          namespace,
          instanceLabel,
          keep: objects,
          logger,
          inventory: await recordedOnly,
          beforeDelete: check,
        }),
      )
    : [];
  return { applied, pruned, createdNamespace: ns.created };
}

/**
 * `inventory` (the rendered kinds) with our objects of the other kinds prune must look at added:
 * those recorded on the namespace, or every namespaced kind the cluster serves when nothing is.
 */
async function listRecordedOnly(
  kube: KubeClient,
  inventory: NamespaceInventory,
  recorded: KindRef[] | undefined,
  instanceLabel: string,
  logger: Logger,
): Promise<NamespaceInventory> {
  const candidates = recorded
    ? await resolveKinds(kube, recorded, logger)
    : await kube.discovery.serverResources();
  const seen = new Set([
    ...inventory.listed.keys(),
    ...inventory.unlisted.map((u) => inventoryKindKey(u.resource)),
  ]);
  const more = candidates.filter(
    (r) => !seen.has(inventoryKindKey(r)) && r.verbs.includes('delete') && !NOISE_RESOURCES.has(r.name),
  );
  return takeInventory(kube, inventory, more, { labelSelector: ourSelector(instanceLabel), concurrency: 8 });
}

/**
 * The order the apply sends the render in: render/waves.ts's waves, except that config, RBAC and
 * Services share one step. All three must be in place before workloads start pods (mounted
 * ConfigMaps and Secrets, the ServiceAccount, Services' environment variables), but none needs
 * another to exist to be applied (a RoleBinding may name a Role or ServiceAccount still to come),
 * so waiting between them only costs round trips. CRDs stay first; workloads and routes keep theirs.
 */
export function applySteps(objects: KubeObject[]): KubeObject[][] {
  const steps = new Map<number, KubeObject[]>();
  for (const o of objects) {
    const wave = waveOf(o);
    const step = wave === WAVE_RBAC || wave === WAVE_SERVICES ? WAVE_CONFIG : wave;
    steps.set(step, [...(steps.get(step) ?? []), o]);
  }
  return [...steps.entries()].sort(([a], [b]) => a - b).map(([, wave]) => wave);
}

async function stillOurs(kube: KubeClient, namespace: string, headSha: string): Promise<void> {
  const ns = await kube.get<{ metadata: { annotations?: Record<string, string> } }>(
    'v1',
    'Namespace',
    namespace,
  );
  const recorded = ns?.metadata.annotations?.[ANNOTATION_HEAD_SHA];
  if (recorded && recorded !== headSha) throw new SupersededError(recorded);
}

/** Values of the rendered Secrets (stringData, and data decoded), long enough to be worth masking. */
export function secretValues(objects: KubeObject[]): string[] {
  const out = new Set<string>();
  for (const o of objects) {
    if (o.kind !== 'Secret' || o.apiVersion !== 'v1') continue;
    for (const v of Object.values((o.stringData ?? {}) as Record<string, unknown>))
      if (typeof v === 'string') out.add(v);
    for (const v of Object.values((o.data ?? {}) as Record<string, unknown>)) {
      if (typeof v === 'string') out.add(Buffer.from(v, 'base64').toString('utf8'));
    }
  }
  return [...out].filter((v) => v.trim().length >= 4);
}

/** Images the rendered workloads run, the ones this run set first, named as in the manifests. */
function imagesInUse(
  objects: KubeObject[],
  overridden: Map<string, string>,
): { name: string; ref: string }[] {
  return [...containerImages(objects)]
    .sort((a, b) => Number(overridden.has(b)) - Number(overridden.has(a)) || a.localeCompare(b))
    .map((ref) => ({ name: overridden.get(ref) ?? splitImageRef(ref).name, ref }));
}
