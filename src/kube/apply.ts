// Server-side apply of a rendered preview, wave by wave, and pruning of what a render no longer
// contains. Speed matters (hundreds of objects, one round trip each): one discovery request per
// group/version for the whole run, each kind listed once (NamespaceInventory: it tells
// created/configured/unchanged with the apply's own answer, and prune finds its candidates in it),
// keep-alive connections, and bounded parallelism inside a wave.
import { computeHealth, isGone } from '../model/health.js';
import type { Logger } from '../logger.js';
import { formatObjectId, objectId, objectKey, type ObjectId } from '../model/object-id.js';
import { LABEL_INSTANCE, LABEL_MANAGED_BY, MANAGED_BY } from '../model/labels.js';
import type { KubeClient } from './client.js';
import { NOISE_RESOURCES, type ApiResource } from './discovery.js';
import { describeApiError, statusOf, UnknownKindError } from './errors.js';
import {
  emptyInventory,
  inventoryKindKey,
  mergeKinds,
  resolveKinds,
  servedResources,
  takeInventory,
  type KindRef,
  type NamespaceInventory,
} from './inventory.js';
import { permissionHint } from './permissions.js';
import { mapSettled } from './pool.js';
import { objectRef, type KubeObject, type KubeStatus, type LiveObject } from './types.js';

/** `recreated`: a Job whose immutable fields changed was deleted and applied afresh. */
export type ApplyAction = 'created' | 'configured' | 'unchanged' | 'recreated';

export interface AppliedObject {
  id: ObjectId;
  /** formatObjectId(id), the name the report and the waiter use for the object. */
  ref: string;
  action: ApplyAction;
}

/**
 * Applies in flight at once inside a wave: bounded, but wide enough that round trips overlap (an
 * API server admits hundreds of requests in flight; a 429 from priority-and-fairness is retried
 * with its Retry-After).
 */
export const APPLY_CONCURRENCY = 32;

export interface ApplyOptions {
  /** The objects grouped into waves (CRDs first … Ingress last); applied in order. */
  waves?: KubeObject[][];
  /** Requests in flight inside one wave. */
  concurrency?: number;
  /**
   * Take over fields another field manager owns (`--force-conflicts`). On by default: a preview is
   * generated from the PR, so a conflict only means someone hand-edited it with kubectl, and the
   * PR's manifests are the source of truth. Turn it off to fail on such edits instead.
   */
  force?: boolean;
  logger: Logger;
  onProgress?: (done: number, total: number, applied: AppliedObject) => void;
  /** The namespace was created by this run: every object is new, so no LIST is needed to tell. */
  freshNamespace?: boolean;
  /**
   * What the objects' namespace held before this apply, their kinds listed in full (takeInventory
   * without a selector). Absent (and not freshNamespace): applyObjects lists those kinds itself.
   */
  before?: NamespaceInventory;
  /** How long to wait for a Job being recreated (immutable template changed) to be gone. */
  recreateTimeoutMs?: number;
  /** Called before each wave; throwing stops the apply there (e.g. a newer run took over). */
  beforeWave?: (wave: number) => Promise<void>;
}

/** Applies every object (server-side apply, field manager `kubestage`), wave after wave. */
export async function applyObjects(
  client: KubeClient,
  objects: KubeObject[],
  opts: ApplyOptions,
): Promise<{ applied: AppliedObject[] }> {
  const waves = (opts.waves && opts.waves.length ? opts.waves : [objects]).filter((w) => w.length > 0);
  const total = waves.reduce((n, w) => n + w.length, 0);
  const concurrency = opts.concurrency ?? APPLY_CONCURRENCY;
  const force = opts.force ?? true;
  const { logger } = opts;
  const applied: AppliedObject[] = [];

  // What the namespaces held before: with the apply's own answer (201 Created or 200 OK) it tells
  // created/configured/unchanged, which SSA otherwise answers alike.
  const all = waves.flat();
  const before = opts.before
    ? new Map([[opts.before.namespace, opts.before]])
    : opts.freshNamespace
      ? new Map<string, NamespaceInventory>()
      : await inventoriesOf(client, all, logger);
  for (const [w, wave] of waves.entries()) {
    await opts.beforeWave?.(w);
    const results = await mapSettled(wave, concurrency, async (obj) => {
      const ref = objectRef(obj);
      // (No wait for kinds a CRD of an earlier wave defines: the render guard refuses CRDs.)
      const applyOnce = () => client.applyWithStatus<LiveObject>(obj, { force });
      let answer: { object: LiveObject; created: boolean };
      let recreated = false;
      try {
        answer = await applyOnce();
      } catch (e) {
        // A Job's pod template is immutable, yet the image tag changes with every push: a Job is
        // a run-once task, so running it afresh (what `kubectl replace --force` does) is the intent.
        const fields = immutableFields(e);
        if (!isJob(obj) || fields.length === 0) throw new Error(applyFailure(obj, e, force), { cause: e });
        try {
          await recreateJob(client, obj, opts.recreateTimeoutMs ?? 60_000);
          answer = await applyOnce();
        } catch (e2) {
          throw new Error(`${applyFailure(obj, e, force)}; recreating it failed: ${describeApiError(e2)}`, {
            cause: e2,
          });
        }
        recreated = true;
        logger.info(
          `${ref}: ${fields.join(', ')} ${fields.length > 1 ? 'are' : 'is'} immutable; recreated it.`,
        );
      }
      const action: ApplyAction = recreated
        ? 'recreated'
        : opts.freshNamespace
          ? 'created' // also when a retried apply's 201 was lost
          : actionOf(obj, answer, before.get(obj.metadata.namespace ?? ''));
      const result: AppliedObject = { id: objectId(obj), ref, action };
      applied.push(result);
      opts.onProgress?.(applied.length, total, result);
      if (action !== 'unchanged') logger.debug(`${ref} ${action}`);
      return result;
    });
    const failures = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failures.length) {
      const lines = failures.map((f) => (f.reason instanceof Error ? f.reason.message : String(f.reason)));
      throw new Error(
        `apply failed for ${failures.length} of ${wave.length} object(s) in wave ${w + 1} of ${waves.length}` +
          (w + 1 < waves.length ? ' (later waves were not applied)' : '') +
          `:\n- ${lines.join('\n- ')}`,
      );
    }
  }
  const counts: Record<ApplyAction, number> = { created: 0, configured: 0, unchanged: 0, recreated: 0 };
  for (const a of applied) counts[a.action]++;
  logger.info(
    `Applied ${applied.length} object(s): ${counts.created} created, ${counts.configured} configured, ${counts.unchanged} unchanged` +
      (counts.recreated ? `, ${counts.recreated} recreated.` : '.'),
  );
  return { applied };
}

/**
 * What applying `obj` did, from the answer and what its namespace held before: 201 Created, or absent
 * from its kind listed in full (a retried apply whose 201 was lost), is created; a resourceVersion
 * that did not move is unchanged, and so is one that moved while the generation (which every spec
 * change bumps) and the labels and annotations did not — another writer moved it, as a controller
 * updating status during a rollout does; anything else configured (also when the kind could not be
 * listed, and for kinds without a generation whose resourceVersion moved).
 */
function actionOf(
  obj: KubeObject,
  answer: { object: LiveObject; created: boolean },
  before: NamespaceInventory | undefined,
): ApplyAction {
  if (answer.created) return 'created';
  const id = objectId(obj);
  const prior = before?.items.get(objectKey(id));
  if (prior) {
    const was = prior.object.metadata;
    const is = answer.object.metadata;
    if (was.resourceVersion === is.resourceVersion) return 'unchanged';
    const sameSpec = was.generation !== undefined && was.generation === is.generation;
    const sameMeta =
      JSON.stringify(was.labels ?? {}) === JSON.stringify(is.labels ?? {}) &&
      JSON.stringify(was.annotations ?? {}) === JSON.stringify(is.annotations ?? {});
    return sameSpec && sameMeta ? 'unchanged' : 'configured';
  }
  return before?.listed.get(inventoryKindKey(id)) === 'all' ? 'created' : 'configured';
}

/**
 * The objects' namespaces, their kinds listed in full (one LIST per kind and namespace, all at
 * once: no wave changes another wave's kinds). A kind that cannot be listed (RBAC, a CRD not served
 * yet) is not fatal: the apply itself says what is wrong, and its objects are reported configured.
 */
async function inventoriesOf(
  client: KubeClient,
  objects: KubeObject[],
  logger: Logger,
): Promise<Map<string, NamespaceInventory>> {
  const byNamespace = new Map<string, KubeObject[]>();
  for (const o of objects) {
    const ns = o.metadata.namespace;
    if (ns) byNamespace.set(ns, [...(byNamespace.get(ns) ?? []), o]);
  }
  const out = new Map<string, NamespaceInventory>();
  await Promise.all(
    [...byNamespace.entries()].map(async ([namespace, objs]) => {
      const resources = await servedResources(client, mergeKinds(objs));
      const inventory = await takeInventory(client, emptyInventory(namespace), resources);
      for (const u of inventory.unlisted)
        logger.debug(`could not list ${u.resource.kind}: ${describeApiError(u.error)}`);
      out.set(namespace, inventory);
    }),
  );
  return out;
}

function applyFailure(obj: KubeObject, e: unknown, force: boolean): string {
  const ref = objectRef(obj);
  const where = obj.metadata.namespace ? ` in namespace ${obj.metadata.namespace}` : '';
  const code = statusOf(e);
  let hint: string;
  switch (code) {
    case 422:
    case 400: {
      const fields = immutableFields(e);
      hint = fields.length
        ? `${fields.join(', ')} of an existing ${obj.kind} cannot be changed in place; delete the preview ` +
          '(cleanup) and run preview again to recreate it with the new value'
        : 'the API server rejected the manifest; fix the field named above in your kustomize overlay';
      break;
    }
    case 409:
      hint = force
        ? 'the object changed during apply; re-run the job'
        : 'another field manager owns these fields (someone edited the object); re-run with force, or drop the field from the manifest';
      break;
    case 403:
      hint = permissionHint(`get, list, create, patch and delete on ${obj.kind} in the preview namespace`);
      break;
    case 404:
      hint =
        'the kind or namespace does not exist; check the apiVersion, or that the CRD and namespace are created first';
      break;
    default:
      hint =
        code === undefined && !(e instanceof UnknownKindError)
          ? 'the API server could not be reached; check the cluster address and network'
          : 'see the API server message';
  }
  return `apply ${ref}${where}: ${describeApiError(e)} (${hint})`;
}

function isJob(obj: KubeObject): boolean {
  return obj.apiVersion === 'batch/v1' && obj.kind === 'Job';
}

const IMMUTABLE = /field is immutable|updates to \w+ spec for fields other than/i;

/**
 * The fields a 422 says cannot change on an existing object (`spec.template`, or `spec` for a
 * StatefulSet's forbidden updates); empty when the error is anything else.
 */
export function immutableFields(e: unknown): string[] {
  if (statusOf(e) !== 422 || !(e instanceof Error)) return [];
  const body = (e as { body?: KubeStatus }).body;
  const fromCauses = (body?.details?.causes ?? [])
    .filter((c) => IMMUTABLE.test(c.message ?? '') && c.field)
    .map((c) => c.field as string);
  if (fromCauses.length) return [...new Set(fromCauses)];
  const msg = body?.message ?? e.message;
  if (!IMMUTABLE.test(msg)) return [];
  // No causes: take the field paths out of `… is invalid: spec.x: Invalid value: …: field is immutable`.
  const fields = [
    ...msg.matchAll(/(?:^|[\s[,:])((?:spec|metadata)(?:\.[\w[\]]+)*): (?:Invalid value|Forbidden)/g),
  ].map((m) => m[1] as string);
  return fields.length ? [...new Set(fields)] : ['a field'];
}

/** Deletes the Job (its pods go in the background) and waits until the name is free again. */
async function recreateJob(client: KubeClient, obj: KubeObject, timeoutMs: number): Promise<void> {
  const { name, namespace } = obj.metadata;
  await client.delete(obj.apiVersion, obj.kind, name, namespace, { propagationPolicy: 'Background' });
  const gone = await client.observe(
    obj.apiVersion,
    obj.kind,
    { namespace, fieldSelector: `metadata.name=${name}`, timeoutMs, tickMs: 1000 },
    (objects) => isGone(computeHealth(objects.get(name))),
  );
  if (!gone)
    throw new Error(`${objectRef(obj)} was still being deleted after ${Math.round(timeoutMs / 1000)}s`);
}

/** Whether kubestage server-side applied this object (not merely copied our labels onto it). */
export function appliedBy(o: LiveObject, fieldManager: string): boolean {
  return (o.metadata.managedFields ?? []).some((f) => {
    const entry = f as { manager?: unknown; operation?: unknown } | null;
    return entry?.manager === fieldManager && entry.operation === 'Apply';
  });
}

export interface PruneOptions {
  namespace: string;
  /** The value of kubestage.dev/instance on everything this preview created. */
  instanceLabel: string;
  /** What the current render contains; everything else with our labels goes. */
  keep: KubeObject[];
  logger: Logger;
  concurrency?: number;
  /**
   * The kinds an earlier run applied here (parseAppliedKinds of the namespace's
   * kubestage.dev/applied-kinds annotation as it was before this run). Only these and the kinds in
   * `keep` are listed. Absent (no record): every namespaced kind the cluster serves is listed.
   */
  kinds?: KindRef[];
  /**
   * What the namespace held, taken by the caller (each kind listed once for the apply and prune
   * alike): prune takes its candidates from it and lists nothing itself; `kinds` is then unused.
   * It may be older than the apply: what the apply wrote is rendered, so never a candidate, and a
   * candidate is deleted only if it is still the object listed (its uid).
   */
  inventory?: NamespaceInventory;
  /**
   * Called once before the first delete, only when there is something to delete; throwing stops
   * the prune (a newer run took over the namespace and its render decides what stays).
   */
  beforeDelete?: () => Promise<void>;
}

/**
 * Deletes objects kubestage applied that are no longer rendered. Our labels are only the cheap
 * pre-filter: controllers copy them (the endpoints controller from a Service, the StatefulSet
 * controller onto PVCs from volumeClaimTemplates), so an object counts as ours only when its
 * managedFields hold an Apply by our field manager. Objects with ownerReferences are left to the
 * garbage collector; objects without our labels (made by hand or by other tools) are never touched.
 */
export async function pruneObjects(client: KubeClient, opts: PruneOptions): Promise<ObjectId[]> {
  const { namespace, logger } = opts;
  // A rendered object without a namespace lands in this one (the apply defaults it the same way).
  const keep = new Set(
    opts.keep
      .filter((o) => (o.metadata.namespace ?? namespace) === namespace)
      .map((o) => objectKey({ ...objectId(o), namespace })),
  );
  const inventory = opts.inventory ?? (await listOurs(client, opts));
  const ours = (o: LiveObject): boolean =>
    o.metadata.labels?.[LABEL_INSTANCE] === opts.instanceLabel &&
    o.metadata.labels[LABEL_MANAGED_BY] === MANAGED_BY;
  const doomed: { r: ApiResource; id: ObjectId; uid?: string }[] = [];
  for (const { resource: r, object: o } of inventory.items.values()) {
    if (!r.verbs.includes('delete') || NOISE_RESOURCES.has(r.name)) continue;
    if (!ours(o)) continue;
    if (o.metadata.ownerReferences?.length) continue;
    if (o.metadata.deletionTimestamp) continue;
    if (!appliedBy(o, client.fieldManager)) continue;
    const id: ObjectId = { group: r.group, kind: r.kind, namespace, name: o.metadata.name };
    if (keep.has(objectKey(id))) continue;
    doomed.push({ r, id, uid: o.metadata.uid });
  }
  reportUnlisted(
    inventory.unlisted.map((u) => ({ r: u.resource, error: u.error })),
    namespace,
    logger,
  );
  if (doomed.length) await opts.beforeDelete?.();
  const results = await mapSettled(doomed, opts.concurrency ?? 8, ({ r, id, uid }) =>
    client.delete(r.apiVersion, r.kind, id.name, namespace, { propagationPolicy: 'Background', uid }),
  );
  const deleted: ObjectId[] = [];
  const replaced: ObjectId[] = [];
  const failed: string[] = [];
  results.forEach((res, i) => {
    const { id } = doomed[i] as { id: ObjectId };
    if (res.status === 'fulfilled') deleted.push(id);
    // The uid precondition failed: deleted and made again since it was listed, by someone else.
    else if (statusOf(res.reason) === 409) replaced.push(id);
    else failed.push(`${formatObjectId(id)}: ${describeApiError(res.reason)}`);
  });
  if (deleted.length)
    logger.info(
      `Pruned ${deleted.length} object(s) no longer rendered: ${deleted.map(formatObjectId).join(', ')}`,
    );
  if (replaced.length)
    logger.info(
      `Left ${replaced.map(formatObjectId).join(', ')} alone: made again since prune listed it, so not the object to prune.`,
    );
  if (failed.length) {
    throw new Error(
      `prune in namespace ${namespace} could not delete ${failed.length} object(s):\n- ${failed.join('\n- ')}\n` +
        'Check that the kubeconfig identity may delete these kinds in the namespace',
    );
  }
  // In the order of their names, as a reader scans the list.
  return deleted
    .map((id) => ({ id, text: formatObjectId(id) }))
    .sort((a, b) => (a.text < b.text ? -1 : a.text > b.text ? 1 : 0))
    .map(({ id }) => id);
}

/**
 * Our objects of the kinds prune looks at, by our instance selector: the recorded kinds and those
 * rendered (`kinds` with `keep`), or without a record every namespaced kind the cluster serves.
 */
export async function listOurs(
  client: KubeClient,
  opts: Pick<PruneOptions, 'namespace' | 'instanceLabel' | 'keep' | 'logger' | 'kinds' | 'concurrency'>,
): Promise<NamespaceInventory> {
  const kinds = (
    opts.kinds
      ? await resolveKinds(client, mergeKinds(opts.kinds, opts.keep), opts.logger)
      : await client.discovery.serverResources()
  ).filter((r) => r.verbs.includes('delete') && !NOISE_RESOURCES.has(r.name));
  return takeInventory(client, emptyInventory(opts.namespace), kinds, {
    labelSelector: ourSelector(opts.instanceLabel),
    concurrency: opts.concurrency ?? 8,
  });
}

/** The label selector of what kubestage applied for one instance (the cheap pre-filter of prune). */
export function ourSelector(instanceLabel: string): string {
  return `${LABEL_INSTANCE}=${instanceLabel},${LABEL_MANAGED_BY}=${MANAGED_BY}`;
}

/**
 * Kinds prune could not list, in one line per cause: RBAC refusals (usual for a namespace-scoped
 * identity and kinds it never applied) as info, anything else as one warning.
 */
function reportUnlisted(
  unlisted: { r: ApiResource; error: unknown }[],
  namespace: string,
  logger: Logger,
): void {
  if (unlisted.length === 0) return;
  const name = (r: ApiResource): string => `${r.kind} (${r.apiVersion})`;
  const forbidden = unlisted.filter((u) => statusOf(u.error) === 403);
  const other = unlisted.filter((u) => statusOf(u.error) !== 403);
  const tail = 'stale objects of these kinds, if any, stay until the preview is deleted.';
  if (forbidden.length) {
    const first = forbidden[0] as { r: ApiResource; error: unknown };
    logger.info(
      `Prune skipped ${forbidden.length} kind(s) the kubeconfig identity may not list in ${namespace} ` +
        `(HTTP 403 Forbidden): ${forbidden.map((u) => name(u.r)).join(', ')}; ${tail} ` +
        `First refusal: ${describeApiError(first.error)}`,
    );
  }
  if (other.length) {
    logger.warning(
      `Could not list ${other.length} kind(s) in ${namespace} to prune them: ` +
        other.map((u) => `${name(u.r)}: ${describeApiError(u.error)}`).join('; ') +
        `; ${tail}`,
    );
  }
}
