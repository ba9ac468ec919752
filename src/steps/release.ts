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
import { describeApiError } from '../kube/errors.js';
import type { LiveObject } from '../kube/types.js';
import { collectDiagnostics, formatDiagnostics } from '../kube/diagnostics.js';
import { ensureNamespace } from '../kube/namespaces.js';
import {
  HookFailedError,
  hookFailure,
  planHooks,
  preDeleteRecord,
  preDeployGate,
  runHooks,
  type HookResult,
} from './hooks.js';
import { probeUrl } from '../kube/probe.js';
import { waitForWorkloads, type WorkloadState } from '../kube/wait.js';
import type { Logger } from '../logger.js';
import type { Deadline } from '../model/deadline.js';
import { containerImages, formatImageRef, splitImageRef, type ImageOverride } from '../model/images.js';
import { apiGroup, isBuiltinGroup, type KubeObject } from '../model/kube-object.js';
import { secretValues } from '../model/secrets.js';
import { listSome, objectId, objectKey, type ObjectId } from '../model/object-id.js';
import { ANNOTATION_HEAD_SHA, LABEL_ENVIRONMENT, LABEL_INSTANCE, LABEL_PR } from '../model/labels.js';
import { decodeRecord, mayClaim, type Claim } from '../model/records.js';
import type { Allowance } from '../render/allow.js';
import { guardManifests, type GuardOptions } from '../render/guard.js';
import { rewriteHosts, type PreviewRoute } from '../render/hosts.js';
import { renderManifests } from '../render/kustomize.js';
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
  /** What the team lets through the guard (the `allow` input); nothing when absent. */
  allow?: Allowance;
  logger: Logger;
  group?: Group;
}

export interface Prepared {
  objects: KubeObject[];
  /** The hosts the preview answers at (the primary first); empty when no Ingress or route sends traffic here. */
  routes: PreviewRoute[];
  /** With no route: how a person reaches the preview instead (a `kubectl port-forward` line). */
  reach?: string;
  /** Every image the rendered workloads run (the overridden ones first), named as in the manifests. */
  images: { name: string; ref: string }[];
  /** The rendered Secrets' values: never to be shown. */
  secrets: string[];
}

/** Renders and guards; reads discovery, writes nothing. Throws with the reason to show the user. */
export async function prepareRelease(kube: () => KubeClient, input: PrepareInput): Promise<Prepared> {
  const group = input.group ?? noGroup;
  const { logger } = input;
  const { objects, routes } = await group(`Render ${input.manifests}`, async () => {
    const { objects, unusedImages, overlayYaml } = await renderManifests({
      workspace: input.workspace,
      manifests: input.manifests,
      namespace: input.namespace,
      images: input.images,
      labels: input.labels,
    });
    logger.debug(`Generated overlay:\n${overlayYaml}`);
    if (objects.length === 0) {
      // Applying nothing would prune everything the preview had and then call it ready.
      throw new Error(
        `${input.manifests} renders no objects, so there is nothing to preview (and applying nothing would delete what the preview had). ` +
          'Check that its kustomization lists its resources, or point the `manifests` input at the overlay that does.',
      );
    }
    if (unusedImages.length) {
      // A typo here would silently deploy the old image: refuse before anything is written.
      const found = [...containerImages(objects)].sort();
      throw new Error(
        `The \`images\` input names ${unusedImages.map((i) => `"${i.name}"`).join(', ')}, which no container in ${input.manifests} uses, so ${unusedImages.length === 1 ? 'its' : 'their'} new reference would not be deployed. ` +
          'NAME must be the image exactly as written in the manifests, without its tag (before any rename by a kustomize `images:` entry or component). ' +
          `Images there after rendering: ${found.join(', ') || '(none)'}.`,
      );
    }
    const routed = input.host ? rewriteHosts(objects, input.host) : { objects, changes: [], routes: [] };
    for (const c of routed.changes)
      logger.info(`${c.object}: host ${c.from.join(', ') || '(none)'} → ${c.to.join(', ')}`);
    logger.info(`Rendered ${routed.objects.length} objects`);
    return routed;
  });
  // The guard judges the rendered output before any write reaches the cluster.
  await guardRendered(kube(), objects, input.namespace, {
    podSecurity: input.podSecurity,
    allow: input.allow,
    host: input.host,
    hosts: routes.map((r) => r.host),
  });
  const overrides = new Map(input.images.map((i) => [formatImageRef(i), i.name]));
  await refuseClaimedHosts(kube(), input.namespace, routes, logger);
  return {
    objects,
    routes,
    reach: routes.length ? undefined : portForwardHint(objects, input.namespace),
    images: imagesInUse(objects, overrides),
    secrets: secretValues(objects),
  };
}

/** Refuses anything that could reach outside `namespace`; reads discovery, writes nothing. */
export async function guardRendered(
  kube: KubeClient,
  objects: KubeObject[],
  namespace: string,
  opts: GuardOptions = {},
): Promise<void> {
  await kube.preloadScopes(objects.map((o) => [o.apiVersion, o.kind] as [string, string]));
  // A built-in kind the server does not know means the server is not a Kubernetes API server (a
  // proxy, a wrong port) rather than a missing CRD: say that, not "install the CRD".
  if (
    objects.some(
      (o) => isBuiltinGroup(apiGroup(o.apiVersion)) && kube.scopeOf(o.apiVersion, o.kind) === undefined,
    )
  )
    await kube.verifyApiServer();
  guardManifests(objects, namespace, (apiVersion, kind) => kube.scopeOf(apiVersion, kind), {
    ...opts,
    podSecurity: opts.podSecurity ?? 'baseline',
  });
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
   * (kubestage.dev/head-sha) as they claim it — never over a newer commit (mayClaim) — and before each
   * wave a run checks it is still the one recorded, stopping as superseded when a newer run took over.
   */
  claim?: Claim;
  /** Aborted when the run is cancelled: the release stops between waves and the wait ends. */
  signal?: AbortSignal;
  /** Where the release answers, and the path to GET there before calling it ready. */
  probe?: { url: string; path: string; domain: string };
  deadline: Deadline;
  logger: Logger;
  group?: Group;
}

export interface ReleaseOutcome {
  status: 'ready' | 'failed' | 'superseded' | 'cancelled';
  applied: AppliedObject[];
  pruned: ObjectId[];
  workloads: WorkloadState[];
  /** failed: one line for the step's failure; diagnostics: what the cluster says about it. */
  message?: string;
  diagnostics?: string;
  /** superseded: the commit that took over. */
  supersededBy?: string;
  /** Whether this release created the namespace. */
  createdNamespace?: boolean;
  /** The lifecycle hooks run (steps/hooks.ts), in the order they ran. */
  hooks?: HookResult[];
}

/** Applies, prunes, waits, probes; every failure (an apply refused, a watch that broke) is an outcome. */
export async function release(kube: KubeClient, input: ReleaseInput): Promise<ReleaseOutcome> {
  const outcome: ReleaseOutcome = { status: 'failed', applied: [], pruned: [], workloads: [], hooks: [] };
  try {
    return await releaseSteps(kube, input, outcome);
  } catch (e) {
    if (e instanceof SupersededError) return { ...outcome, status: 'superseded', supersededBy: e.by };
    if (input.signal?.aborted) return { ...outcome, status: 'cancelled' };
    const message = e instanceof Error ? e.message : String(e);
    const diagnostics = e instanceof HookFailedError ? e.diagnostics : message;
    return { ...outcome, status: 'failed', message, diagnostics };
  }
}

async function releaseSteps(
  kube: KubeClient,
  input: ReleaseInput,
  outcome: ReleaseOutcome,
): Promise<ReleaseOutcome> {
  const { namespace, logger, deadline } = input;
  const group = input.group ?? noGroup;
  // Hook Jobs run at their phase (steps/hooks.ts), never as workloads; prune keeps them.
  const hooks = planHooks(input.objects);
  const objects = hooks.rest;
  const hookOptions = {
    namespace,
    deadline,
    secrets: secretValues(input.objects),
    logger,
    signal: input.signal,
  };
  const gate = preDeployGate(kube, hooks, { ...hookOptions, results: outcome.hooks! });
  const { applied, pruned, createdNamespace } = await applyRendered(kube, objects, {
    namespace,
    labels: input.labels,
    repoLabel: input.repoLabel,
    annotations: { ...input.annotations, ...preDeleteRecord(hooks) },
    keep: input.objects,
    beforeStep: gate.beforeStep,
    waitTerminatingMs: deadline.remainingMs(),
    // A Job recreated (its template changed) waits for its old self within the same budget.
    recreateTimeoutMs: deadline.remainingMs(),
    logger,
    group,
    claim: input.claim,
    signal: input.signal,
    podSecurity: input.podSecurity,
  });
  outcome.applied = applied;
  outcome.pruned = pruned;
  if (createdNamespace) outcome.createdNamespace = true;
  await gate.finish();

  // The wait ends early when the run is cancelled, or when the namespace is being deleted (the PR
  // was closed and its cleanup started): seconds, not the whole wait-timeout.
  const stop = new AbortController();
  const onCancel = (): void => stop.abort();
  input.signal?.addEventListener('abort', onCancel, { once: true });
  const deleted = watchForDeletion(kube, namespace, deadline, stop);
  const wait = await group(`Wait for workloads (timeout ${Math.round(deadline.remainingMs() / 1000)}s)`, () =>
    waitForWorkloads(kube, {
      namespace,
      objects,
      timeoutMs: deadline.remainingMs(),
      logger,
      signal: stop.signal,
    }),
  ).finally(() => {
    input.signal?.removeEventListener('abort', onCancel);
    stop.abort();
  });
  outcome.workloads = wait.workloads;
  if (input.signal?.aborted) return { ...outcome, status: 'cancelled' };
  if (await deleted) {
    const message = `Namespace ${namespace} is being deleted (the PR was closed, or someone deleted it) while this run waited for it`;
    logger.warning(message);
    return { ...outcome, status: 'failed', message, diagnostics: message };
  }
  // What the report will claim runs must be what the cluster holds (a mutating webhook or policy may
  // rewrite images): the live pod templates are compared with the render.
  const rewritten = imageMismatches(objects, wait.workloads, namespace);
  if (rewritten.length) {
    const message = `The cluster runs other images than kubestage rendered: ${rewritten.join('; ')}`;
    logger.warning(message);
    return {
      ...outcome,
      status: 'failed',
      message,
      diagnostics: `${message}\nAn admission webhook or policy in the cluster rewrote the images; the preview would not run this PR's build.`,
    };
  }
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
      message: `Workloads did not become ready: ${listSome(failing.map((w) => `${w.ref} (${w.state})`))}`,
      diagnostics: text,
    };
  }
  if (input.probe?.path && !input.probe.url) {
    const message = `health-path ${input.probe.path} is set, but nothing routes to the preview (no Ingress or HTTPRoute), so there is no URL to fetch it from`;
    return { ...outcome, status: 'failed', message, diagnostics: message };
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
  const post = await runHooks(kube, 'post-deploy', hooks.jobs['post-deploy'], hookOptions);
  outcome.hooks!.push(...post);
  const failed = hookFailure(post, hooks.jobs['post-deploy'].length);
  if (input.signal?.aborted) return { ...outcome, status: 'cancelled' };
  if (failed) return { ...outcome, status: 'failed', ...failed };
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
  /** See ReleaseInput.claim. */
  claim?: Claim;
  /** See ReleaseInput.signal. */
  signal?: AbortSignal;
  /** Pod Security level the namespace enforces (its pod-security.kubernetes.io labels). */
  podSecurity?: PodSecurityLevel;
  /** What prune keeps besides `objects` (the render's hook Jobs, which are not applied here). */
  keep?: KubeObject[];
  /** Called with each step's objects before it is applied, after the commit check (pre-deploy hooks). */
  beforeStep?: (objects: KubeObject[]) => Promise<void>;
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
  const { namespace, logger, claim } = opts;
  // GitHub's word that this commit is the newest settles it; without it, the namespace's record decides.
  if (claim && !claim.confirmedHead) await claimNamespace(kube, namespace, claim, logger);
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
      owner: { repoLabel: opts.repoLabel, pr: prOf(opts.labels) },
      // A stage's namespace is reused as that stage's, never as a preview's (and the reverse).
      ...(opts.labels[LABEL_ENVIRONMENT] ? { environment: opts.labels[LABEL_ENVIRONMENT] } : {}),
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
  const check = claim ? () => stillOurs(kube, namespace, claim.headSha) : undefined;
  const steps = applySteps(objects);
  const { applied } = await group(`Apply ${objects.length} objects to ${namespace}`, () =>
    applyObjects(kube, objects, {
      waves: steps,
      logger,
      freshNamespace: ns.created,
      before,
      recreateTimeoutMs: opts.recreateTimeoutMs,
      // ensureNamespace has just recorded our commit: no check before the first step.
      beforeWave: async (step) => {
        if (opts.signal?.aborted) throw new Error('the run was cancelled');
        if (check && step > 0) await check();
        await opts.beforeStep?.(steps.filter((s) => s.length > 0)[step] ?? []);
      },
    }),
  );
  const pruned = recordedOnly
    ? await group('Prune objects no longer rendered', async () =>
        pruneObjects(kube, {
          namespace,
          instanceLabel,
          keep: opts.keep ?? objects,
          logger,
          inventory: await recordedOnly,
          beforeDelete: check,
        }),
      )
    : [];
  return { applied, pruned, createdNamespace: ns.created };
}

/**
 * A run never replaces a newer commit with an older one: when the namespace records another commit of
 * the PR, mayClaim decides (GitHub's word when the run has it, else the events' times).
 */
async function claimNamespace(
  kube: KubeClient,
  namespace: string,
  claim: Claim,
  logger: Logger,
): Promise<void> {
  const ns = await kube.get<LiveObject>('v1', 'Namespace', namespace);
  if (!ns || ns.metadata.deletionTimestamp) return;
  const recorded = decodeRecord(ns.metadata);
  const verdict = mayClaim(recorded, claim);
  if (verdict === 'no') throw new SupersededError(recorded.headSha ?? '');
  if (verdict === 'unknown') {
    logger.warning(
      `Namespace ${namespace} records ${recorded.headSha?.slice(0, 7)} and GitHub could not say whether ${claim.headSha.slice(0, 7)} is newer; deploying ${claim.headSha.slice(0, 7)}.`,
    );
  }
}

/**
 * Resolves true when the namespace goes into deletion (or is gone) before `stop` is aborted. Without
 * permission to watch namespaces it simply never fires: the wait then runs its course.
 */
async function watchForDeletion(
  kube: KubeClient,
  namespace: string,
  deadline: Deadline,
  stop: AbortController,
): Promise<boolean> {
  let deleted = false;
  try {
    await kube.observe(
      'v1',
      'Namespace',
      { fieldSelector: `metadata.name=${namespace}`, timeoutMs: deadline.remainingMs(), signal: stop.signal },
      (objects) => {
        const ns = objects.get(namespace);
        deleted = !ns || Boolean(ns.metadata.deletionTimestamp);
        if (deleted) stop.abort();
        return deleted;
      },
    );
  } catch {
    // No watch on namespaces (RBAC) or a broken stream: nothing to learn early.
  }
  return deleted;
}

/** The PR a preview's labels name (kubestage.dev/pr); undefined for stages. */
function prOf(labels: Record<string, string>): number | undefined {
  const pr = Number(labels[LABEL_PR]);
  return Number.isSafeInteger(pr) && pr > 0 ? pr : undefined;
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

/** Images the rendered workloads run, the ones this run set first, named as in the manifests. */
function imagesInUse(
  objects: KubeObject[],
  overridden: Map<string, string>,
): { name: string; ref: string }[] {
  return [...containerImages(objects)]
    .sort((a, b) => Number(overridden.has(b)) - Number(overridden.has(a)) || a.localeCompare(b))
    .map((ref) => ({ name: overridden.get(ref) ?? splitImageRef(ref).name, ref }));
}

/** `Deployment/web runs a:2, rendered a:1` for every waited-for object whose live images differ. */
function imageMismatches(objects: KubeObject[], live: WorkloadState[], namespace: string): string[] {
  const byKey = new Map(live.map((w) => [objectKey(w.id), w]));
  const out: string[] = [];
  for (const o of objects) {
    const w = byKey.get(
      objectKey(
        objectId({ ...o, metadata: { ...o.metadata, namespace: o.metadata.namespace ?? namespace } }),
      ),
    );
    const rendered = [...containerImages([o])].sort();
    // Not seen live (not waited for, or gone): nothing to compare; the waiter reports its state.
    if (!w || w.health === 'NotFound' || rendered.length === 0) continue;
    if (w.images.join(' ') !== rendered.join(' '))
      out.push(`${w.ref} runs ${w.images.join(', ') || '(none)'}, rendered ${rendered.join(', ')}`);
  }
  return out;
}

/**
 * Two previews must not answer at one URL: refuse when an Ingress or route in ANOTHER namespace
 * already claims one of our hosts (another repository's preview with the same host template, an app
 * hand-deployed there). Needs list on ingresses/httproutes across namespaces; without it, a warning.
 */
async function refuseClaimedHosts(
  kube: KubeClient,
  namespace: string,
  routes: PreviewRoute[],
  logger: Logger,
): Promise<void> {
  if (routes.length === 0) return;
  const ours = new Set(routes.map((r) => r.host));
  const claims: string[] = [];
  const kinds: [string, string, (spec: Record<string, unknown>) => string[]][] = [
    [
      'networking.k8s.io/v1',
      'Ingress',
      (spec) => ((spec.rules as { host?: string }[] | undefined) ?? []).map((r) => r.host ?? ''),
    ],
    ['gateway.networking.k8s.io/v1', 'HTTPRoute', (spec) => (spec.hostnames as string[] | undefined) ?? []],
  ];
  for (const [apiVersion, kind, hostsOf] of kinds) {
    if (!(await kube.discovery.resourceFor(apiVersion, kind))) continue;
    let items: LiveObject[];
    try {
      items = (await kube.list<LiveObject>(apiVersion, kind, { namespace: null })).items;
    } catch (e) {
      logger.warning(
        `Could not check whether another namespace already serves ${[...ours].join(', ')} (listing ${kind}s in all namespaces: ${describeApiError(e)}); ` +
          'grant list on them cluster-wide to have kubestage refuse a host another preview already has.',
      );
      continue;
    }
    for (const o of items) {
      if (o.metadata.namespace === namespace) continue;
      for (const h of hostsOf(o.spec ?? {}))
        if (ours.has(h)) claims.push(`${h} is served by ${kind} ${o.metadata.namespace}/${o.metadata.name}`);
    }
  }
  if (claims.length) {
    throw new Error(
      `Another namespace already claims this preview's host: ${claims.join('; ')}. Both would answer at the same URL. ` +
        'Give previews distinct hosts: the default host-template "{namespace}.{domain}" follows the namespace; ' +
        'with several repositories on one cluster use e.g. namespace-template "{repo}-pr-{number}".',
    );
  }
}

/**
 * `kubectl -n pr-7 port-forward service/web 8080:80`: the Service a person most likely wants — one
 * exposed outside the cluster (the team allowed it), else one serving HTTP (a port named http/web or
 * a usual web port), else the first; with no Service, the pods.
 */
function portForwardHint(objects: KubeObject[], namespace: string): string {
  type Port = { port?: number; name?: string };
  const services = objects
    .filter((o) => o.kind === 'Service' && o.apiVersion === 'v1')
    .map((o) => {
      const spec = (o.spec ?? {}) as { type?: string; ports?: Port[] };
      return { name: o.metadata.name, type: spec.type, ports: (spec.ports ?? []).filter((p) => p.port) };
    })
    .filter((s) => s.ports.length > 0);
  const web = (p: Port) => /^(https?|web|ui|frontend)$/i.test(p.name ?? '') || WEB_PORTS.has(p.port ?? 0);
  const pick =
    services.find((s) => s.type === 'LoadBalancer' || s.type === 'NodePort') ??
    services.find((s) => s.ports.some(web)) ??
    services[0];
  if (!pick) return `kubectl -n ${namespace} get pods`;
  const port = (pick.ports.find(web) ?? pick.ports[0])?.port ?? 80;
  return `kubectl -n ${namespace} port-forward service/${pick.name} ${port < 1024 ? 8080 : port}:${port}`;
}

const WEB_PORTS = new Set([80, 443, 3000, 5000, 8000, 8080, 8443, 9000, 9898]);
