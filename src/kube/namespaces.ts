// Preview namespaces: created, reused and deleted only when they carry our ownership labels. A
// namespace of the same name that someone else owns is an error, never something we adopt or delete.
import {
  ANNOTATION_APPLIED_KINDS,
  ANNOTATION_PR,
  LABEL_ENVIRONMENT,
  LABEL_INSTANCE,
  LABEL_MANAGED_BY,
  LABEL_PR,
  LABEL_REPO,
  MANAGED_BY,
  PREVIEW_ENVIRONMENT,
} from '../model/labels.js';
import { computeHealth, isGone } from '../model/health.js';
import type { Logger } from '../logger.js';
import { formatObjectId, type ObjectId } from '../model/object-id.js';
import { appliedBy } from './apply.js';
import type { KubeClient } from './client.js';
import { NOISE_RESOURCES, type ApiResource } from './discovery.js';
import { describeApiError, statusOf } from './errors.js';
import { appliedKindsAnnotation, recordedKinds, resolveKinds, type KindRef } from './inventory.js';
import { permissionHint } from './permissions.js';
import { mapSettled } from './pool.js';
import type { Condition, LiveObject } from './types.js';

export interface NamespaceOwner {
  /** Our `kubestage.dev/repo` value (repoLabelValue of owner/repo). */
  repoLabel: string;
  /**
   * The pull request whose preview this is. A namespace that records another PR (kubestage.dev/pr) is not
   * ours to update or delete: a template such as {branch} can give two PRs the same namespace.
   */
  pr?: number;
}

/** The live namespace, or undefined when there is none. */
export function readNamespace(client: KubeClient, name: string): Promise<LiveObject | undefined> {
  return client.get<LiveObject>('v1', 'Namespace', name);
}

/** readNamespace, with RBAC advice when the identity may not read it. */
async function readOwnNamespace(client: KubeClient, name: string): Promise<LiveObject | undefined> {
  try {
    return await readNamespace(client, name);
  } catch (e) {
    if (statusOf(e) !== 403) throw e;
    throw new Error(
      `could not read namespace "${name}": ${describeApiError(e)}; ${permissionHint('get on namespaces (cluster scope)')}`,
      { cause: e },
    );
  }
}

export function isTerminating(ns: LiveObject): boolean {
  return (
    ns.metadata.deletionTimestamp !== undefined ||
    (ns.status as { phase?: string } | undefined)?.phase === 'Terminating'
  );
}

/**
 * Why this namespace is not ours to touch, or undefined when it is (managed-by=kubestage AND our
 * repo label). The message names both owners so the person reading it can tell whose it is.
 */
export function ownershipProblem(ns: LiveObject, owner: NamespaceOwner): string | undefined {
  const name = ns.metadata.name;
  const labels = ns.metadata.labels ?? {};
  const managedBy = labels[LABEL_MANAGED_BY];
  if (managedBy !== MANAGED_BY) {
    return (
      `namespace "${name}" is not managed by kubestage (${LABEL_MANAGED_BY}=${managedBy ?? '<unset>'}), ` +
      `so it does not belong to repo "${owner.repoLabel}"; kubestage never adopts or deletes a namespace it did not create. ` +
      `Use a different namespace template for previews, or remove that namespace yourself if it is stale`
    );
  }
  const repo = labels[LABEL_REPO];
  if (repo !== owner.repoLabel) {
    return (
      `namespace "${name}" belongs to repo "${repo ?? '<unset>'}" (${LABEL_REPO}), not "${owner.repoLabel}"; ` +
      `two repositories are creating previews with the same namespace names on this cluster. ` +
      `Give one of them a distinct namespace template (for example "{repo}-pr-{number}")`
    );
  }
  const recorded = ns.metadata.annotations?.[ANNOTATION_PR] ?? labels[LABEL_PR];
  if (owner.pr !== undefined && recorded !== undefined && recorded !== String(owner.pr)) {
    return (
      `namespace "${name}" holds the preview of PR #${recorded} (${ANNOTATION_PR}), not PR #${owner.pr}: ` +
      "the namespace template gives both pull requests the same namespace (as {branch} does for two forks' branches " +
      `of the same name), and kubestage never takes over or deletes another pull request's preview. ` +
      'Put {number} in the `namespace-template` input (for example "pr-{number}" or "{branch}-{number}")'
    );
  }
  return undefined;
}

export interface EnsureNamespaceOptions {
  name: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  owner: NamespaceOwner;
  /** How long to wait for a Terminating namespace of the same name to go away. */
  waitTerminatingMs: number;
  logger: Logger;
  /**
   * The environment label an existing namespace must already carry to be reused; previews only
   * unless a caller says otherwise (as deleteNamespace).
   */
  environment?: string;
  /**
   * The kinds this run is about to apply. Recorded in the kubestage.dev/applied-kinds annotation
   * together with the kinds recorded before (returned as `recordedKinds`), so that prune can list
   * just those. Absent: the annotation is not written (and SSA drops a value we wrote earlier).
   */
  appliedKinds?: KindRef[];
}

export interface EnsureNamespaceResult {
  created: boolean;
  waitedForTermination: boolean;
  /**
   * The kinds recorded on the namespace before this run (its applied-kinds annotation); pass them
   * to pruneObjects as `kinds`. undefined when the namespace is new or has no record (prune then
   * looks at every kind).
   */
  recordedKinds?: KindRef[];
}

/**
 * Makes sure the namespace exists and is ours, with the given labels and annotations. A namespace
 * still Terminating (PR closed and reopened quickly) is waited out, then created afresh.
 */
export async function ensureNamespace(
  client: KubeClient,
  opts: EnsureNamespaceOptions,
): Promise<EnsureNamespaceResult> {
  const { name, logger } = opts;
  let waitedForTermination = false;
  let ns = await readOwnNamespace(client, name);

  if (ns && isTerminating(ns)) {
    logger.info(
      `Namespace ${name} is still being deleted (Terminating); waiting up to ${seconds(opts.waitTerminatingMs)} for it to go.`,
    );
    const gone = await waitUntilGone(client, name, opts.waitTerminatingMs, logger);
    if (!gone) {
      const stuck = await objectsLeft(client, name, logger);
      throw new Error(
        `namespace "${name}" is still Terminating after ${seconds(opts.waitTerminatingMs)}, so the preview cannot be recreated yet` +
          (stuck.length ? `; objects holding it: ${stuck.map(formatStuck).join(', ')}` : '') +
          `. Usually a finalizer whose controller is gone; remove it (kubectl patch … -p '{"metadata":{"finalizers":null}}' --type=merge) or re-run later`,
      );
    }
    waitedForTermination = true;
    ns = undefined;
  }

  if (ns) {
    const problem = ownershipProblem(ns, opts.owner);
    if (problem) throw new Error(problem);
    // Same repo, other purpose (e.g. its `development` environment): applying our labels would
    // turn it into a preview that cleanup and sweep may then delete.
    const environment = opts.environment ?? PREVIEW_ENVIRONMENT;
    const env = ns.metadata.labels?.[LABEL_ENVIRONMENT];
    if (env !== environment) {
      throw new Error(
        `namespace "${name}" belongs to this repo but its ${LABEL_ENVIRONMENT} label is "${env ?? '<unset>'}", not "${environment}"; ` +
          `kubestage will not relabel it and deploy a ${environment} into it. Use a namespace template that cannot ` +
          `collide with your environment namespaces (for example "{repo}-pr-{number}"), or rename that environment`,
      );
    }
  }

  const recorded = recordedKinds(ns);
  const annotations = { ...opts.annotations };
  if (opts.appliedKinds)
    annotations[ANNOTATION_APPLIED_KINDS] = appliedKindsAnnotation(opts.appliedKinds, recorded);
  try {
    await client.apply(
      {
        apiVersion: 'v1',
        kind: 'Namespace',
        metadata: { name, labels: opts.labels, annotations },
      },
      // Our labels and annotations on our own namespace: take them back if someone edited them.
      { force: true },
    );
  } catch (e) {
    throw new Error(
      `could not ${ns ? 'update' : 'create'} namespace "${name}": ${describeApiError(e)}. ` +
        (statusOf(e) === 403
          ? permissionHint('create and patch on namespaces (cluster scope)')
          : 'Check that the kubeconfig identity may create and patch namespaces (ClusterRole verbs create, patch on namespaces)'),
      { cause: e },
    );
  }
  logger.info(
    ns ? `Namespace ${name} exists and is ours; annotations updated.` : `Namespace ${name} created.`,
  );
  const result: EnsureNamespaceResult = { created: ns === undefined, waitedForTermination };
  if (recorded) result.recordedKinds = recorded;
  return result;
}

export interface DeleteNamespaceOptions {
  name: string;
  owner: NamespaceOwner;
  timeoutMs: number;
  logger: Logger;
  /** The environment label the namespace must carry; previews only unless a caller says otherwise. */
  environment?: string;
  /** Called once the namespace is known to be ours, just before it is deleted (the audit line). */
  beforeDelete?: () => Promise<void>;
}

export interface StuckObject {
  id: ObjectId;
  /** formatObjectId(id), as messages name the object. */
  object: string;
  finalizers: string[];
}

export interface DeleteNamespaceResult {
  deleted: boolean;
  alreadyGone: boolean;
  /** Objects we had created in it (our instance label, no owner): what the user's preview consisted of. */
  objectsRemoved: number;
  /** Present when the namespace outlived the timeout: what is still in it and which finalizers hold it. */
  stuck?: StuckObject[];
  /** The namespace's own status conditions at the timeout (NamespaceFinalizersRemaining, …). */
  conditions?: string[];
  /**
   * Set when the deletion was accepted (or was already under way) but waiting for it failed, e.g.
   * the API server became unreachable: the namespace is going, we just could not see it go.
   */
  warning?: string;
}

/** What holds a namespace stuck Terminating, one line each, then its conditions (for a failure message). */
export function describeStuck(deleted: Pick<DeleteNamespaceResult, 'stuck' | 'conditions'>): string {
  return (
    (deleted.stuck ?? [])
      .map((s) => `  ${s.object} (finalizers: ${s.finalizers.join(', ') || 'none'})`)
      .join('\n') +
    (deleted.conditions?.length
      ? `\nNamespace conditions:\n${deleted.conditions.map((c) => `  ${c}`).join('\n')}`
      : '')
  );
}

/** Namespaces no input can make us delete: the cluster's own. */
export function isProtectedNamespace(name: string): boolean {
  return name === 'default' || name.startsWith('kube-');
}

/**
 * Deletes a namespace we own and waits until it is gone. Refuses the cluster's own namespaces,
 * anything not labelled as ours, and anything whose environment label is not the expected one
 * (so a mis-typed input can never delete `production`).
 */
export async function deleteNamespace(
  client: KubeClient,
  opts: DeleteNamespaceOptions,
): Promise<DeleteNamespaceResult> {
  const { name, logger } = opts;
  const environment = opts.environment ?? PREVIEW_ENVIRONMENT;
  if (isProtectedNamespace(name)) {
    throw new Error(
      `refusing to delete namespace "${name}": it belongs to the cluster itself; check the namespace template`,
    );
  }
  const ns = await readOwnNamespace(client, name);
  if (!ns) {
    logger.info(`Namespace ${name} does not exist; nothing to delete.`);
    return { deleted: false, alreadyGone: true, objectsRemoved: 0 };
  }
  const problem = ownershipProblem(ns, opts.owner);
  if (problem) throw new Error(`refusing to delete: ${problem}`);
  const env = ns.metadata.labels?.[LABEL_ENVIRONMENT];
  if (env !== environment) {
    throw new Error(
      `refusing to delete namespace "${name}": its ${LABEL_ENVIRONMENT} label is "${env ?? '<unset>'}", not "${environment}"; ` +
        'cleanup only removes previews, never a deployment environment such as production',
    );
  }

  let objectsRemoved = 0;
  if (!isTerminating(ns)) {
    objectsRemoved = await countOurObjects(client, ns, client.fieldManager, logger);
    await opts.beforeDelete?.();
    try {
      const existed = await client.delete('v1', 'Namespace', name, undefined, {
        propagationPolicy: 'Background',
      });
      // It existed a moment ago: a 404 here is our own DELETE whose first reply was lost (the retry
      // found it gone), or a deletion that finished at once — either way it went, with its objects.
      if (!existed) {
        logger.info(`Namespace ${name} is gone (${objectsRemoved} object(s) created by kubestage in it).`);
        return { deleted: true, alreadyGone: false, objectsRemoved };
      }
    } catch (e) {
      // A retried DELETE whose first reply was lost meets a namespace already Terminating, which
      // the API server answers 409 Conflict ("The system is ensuring all content is removed…"):
      // that is our own deletion under way, not a failure.
      if (!(statusOf(e) === 409 && (await terminatingNow(client, name)))) {
        throw new Error(
          `could not delete namespace "${name}": ${describeApiError(e)}. ` +
            (statusOf(e) === 403
              ? permissionHint('delete on namespaces (cluster scope)')
              : 'Check that the kubeconfig identity may delete namespaces'),
          { cause: e },
        );
      }
    }
    logger.info(`Deleting namespace ${name} (${objectsRemoved} object(s) created by kubestage in it).`);
  } else {
    logger.info(`Namespace ${name} is already Terminating; waiting for it to go.`);
  }

  // From here on the namespace is being deleted: a failure to watch it go is a warning about
  // what we could not see, never "nothing was deleted".
  try {
    return await awaitDeletion(client, opts, objectsRemoved);
  } catch (e) {
    const warning =
      `Namespace ${name} is being deleted, but waiting for it to go failed: ${describeApiError(e)}` +
      (statusOf(e) === 403 ? `; ${permissionHint('get on namespaces (cluster scope)')}` : '');
    logger.warning(warning);
    return { deleted: true, alreadyGone: false, objectsRemoved, warning };
  }
}

async function awaitDeletion(
  client: KubeClient,
  opts: DeleteNamespaceOptions,
  objectsRemoved: number,
): Promise<DeleteNamespaceResult> {
  const { name, logger } = opts;
  if (await waitUntilGone(client, name, opts.timeoutMs, logger)) {
    logger.info(`Namespace ${name} is gone.`);
    return { deleted: true, alreadyGone: false, objectsRemoved };
  }

  const stuck = await objectsLeft(client, name, logger);
  const last = await readNamespace(client, name);
  const conditions = ((last?.status as { conditions?: Condition[] } | undefined)?.conditions ?? [])
    .filter((c) => c.status === 'True')
    .map((c) => `${c.type}${c.reason ? ` (${c.reason})` : ''}${c.message ? `: ${c.message}` : ''}`);
  logger.warning(
    `Namespace ${name} is still Terminating after ${seconds(opts.timeoutMs)}` +
      (stuck.length ? `; still there: ${stuck.map(formatStuck).join(', ')}` : '') +
      (conditions.length ? `; namespace conditions: ${conditions.join('; ')}` : '') +
      '. A finalizer whose controller is gone holds it; remove the finalizer or fix the controller.',
  );
  return { deleted: true, alreadyGone: false, objectsRemoved, stuck, conditions };
}

function formatStuck(s: StuckObject): string {
  return s.finalizers.length ? `${s.object} (finalizers: ${s.finalizers.join(', ')})` : s.object;
}

function seconds(ms: number): string {
  return `${Math.round(ms / 1000)}s`;
}

/** How often waitUntilGone reads the namespace when it may not watch namespaces. */
export const NAMESPACE_POLL_MS = 1000;

/**
 * Watches the namespace until it is absent; false on timeout. Watching needs list and watch on
 * namespaces at the cluster scope, which an identity confined to its preview namespaces often
 * lacks: on a 403 it reads the one namespace every NAMESPACE_POLL_MS instead.
 */
async function waitUntilGone(
  client: KubeClient,
  name: string,
  timeoutMs: number,
  logger: Logger,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  try {
    return await client.observe(
      'v1',
      'Namespace',
      { fieldSelector: `metadata.name=${name}`, timeoutMs, tickMs: 5000 },
      (objects) => isGone(computeHealth(objects.get(name))),
    );
  } catch (e) {
    if (statusOf(e) !== 403) throw e;
    logger.info(
      `May not watch namespaces (${describeApiError(e)}); checking namespace ${name} every ${seconds(NAMESPACE_POLL_MS)} instead.`,
    );
  }
  for (;;) {
    if (isGone(computeHealth(await readNamespace(client, name)))) return true;
    const left = deadline - Date.now();
    if (left <= 0) return false;
    await new Promise((r) => setTimeout(r, Math.min(NAMESPACE_POLL_MS, left)));
  }
}

/** Whether the namespace is gone or being deleted (a deletionTimestamp is set). */
async function terminatingNow(client: KubeClient, name: string): Promise<boolean> {
  try {
    const ns = await readNamespace(client, name);
    return ns === undefined || isTerminating(ns);
  } catch {
    return false;
  }
}

/** Namespaced kinds we can list, events excluded (they are noise and vanish with the namespace). */
async function listableNamespacedKinds(client: KubeClient): Promise<ApiResource[]> {
  const all = await client.discovery.serverResources();
  return all.filter((r) => r.namespaced && r.verbs.includes('list') && !NOISE_RESOURCES.has(r.name));
}

/**
 * What kubestage applied in the namespace (not controller-made copies that carry our labels): the
 * kinds recorded on the namespace, or every kind when there is no record. Best effort, never throws.
 */
async function countOurObjects(
  client: KubeClient,
  ns: LiveObject,
  fieldManager: string,
  logger: Logger,
): Promise<number> {
  const namespace = ns.metadata.name;
  const recorded = recordedKinds(ns);
  let kinds: ApiResource[];
  try {
    kinds = (
      recorded ? await resolveKinds(client, recorded, logger) : await listableNamespacedKinds(client)
    ).filter((r) => r.namespaced && r.verbs.includes('list') && !NOISE_RESOURCES.has(r.name));
  } catch (e) {
    logger.debug(`could not list the kinds in ${namespace}: ${describeApiError(e)}`);
    return 0;
  }
  const results = await mapSettled(kinds, 8, (r) =>
    client.list(r.apiVersion, r.kind, { namespace, labelSelector: `${LABEL_INSTANCE}=${namespace}` }),
  );
  let n = 0;
  results.forEach((res, i) => {
    if (res.status === 'fulfilled')
      n += res.value.items.filter(
        (o) => !o.metadata.ownerReferences?.length && appliedBy(o, fieldManager),
      ).length;
    else logger.debug(`could not count ${kinds[i]?.kind} in ${namespace}: ${describeApiError(res.reason)}`);
  });
  return n;
}

/** Every object still in the namespace, with its finalizers (those with finalizers first). */
async function objectsLeft(client: KubeClient, namespace: string, logger: Logger): Promise<StuckObject[]> {
  let kinds: ApiResource[];
  try {
    kinds = await listableNamespacedKinds(client);
  } catch (e) {
    logger.debug(`could not list the kinds in ${namespace}: ${describeApiError(e)}`);
    return [];
  }
  const results = await mapSettled(kinds, 8, (r) => client.list(r.apiVersion, r.kind, { namespace }));
  const out: StuckObject[] = [];
  results.forEach((res, i) => {
    const r = kinds[i] as ApiResource;
    if (res.status !== 'fulfilled') return;
    for (const o of res.value.items) {
      const id: ObjectId = { group: r.group, kind: r.kind, namespace, name: o.metadata.name };
      out.push({ id, object: formatObjectId(id), finalizers: o.metadata.finalizers ?? [] });
    }
  });
  return out.sort((a, b) => b.finalizers.length - a.finalizers.length).slice(0, 50);
}
