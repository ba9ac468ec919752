// Waits for the applied objects with watches (not sleep-polling) and feeds what it sees to the pure
// health model (model/health.ts), which judges each object and says when one can no longer succeed
// on its own (bad image, crash loop, unschedulable, deadline exceeded); this file only watches, keeps
// the time a problem has lasted, and logs.
import type { Logger } from '../logger.js';
import type { KubeClient } from './client.js';
import { describeApiError } from './errors.js';
import {
  computeHealth,
  failFastProblems,
  isSettledOk,
  needsWatch,
  ownsPods,
  type Health,
  type HealthStatus,
} from '../model/health.js';
import { containerImages } from '../model/images.js';
import { formatObjectId, listSome, objectId, objectKey, type ObjectId } from '../model/object-id.js';
import { collectDiagnostics, type Diagnostics } from './diagnostics.js';
import type { KubeObject, LiveObject } from './types.js';

export interface WorkloadState {
  id: ObjectId;
  /** formatObjectId(id): `Deployment/web`. */
  ref: string;
  /** Settled OK: Current, or Suspended (it will not progress until someone resumes it). */
  ready: boolean;
  /** What a person would want to read: '2/2 available', 'complete', 'ImagePullBackOff', … */
  state: string;
  health: HealthStatus;
  /** The container images the live object's pod spec names (as last seen; empty when it has none). */
  images: string[];
}

export interface WaitResult {
  ok: boolean;
  /**
   * Every applied object whose health can change after apply (needsWatch), in the order rendered;
   * objects settled by applying them (ConfigMaps, Secrets, RBAC, …) are not listed.
   */
  workloads: WorkloadState[];
  diagnostics?: Diagnostics;
  /** The caller's signal ended the wait before it settled. */
  aborted?: boolean;
}

export interface WaitOptions {
  namespace: string;
  /** The rendered objects; those in `namespace` whose health can change after apply are waited for. */
  objects: KubeObject[];
  timeoutMs: number;
  logger: Logger;
  /**
   * How long a pod may sit in a hopeless waiting reason (ImagePullBackOff, CrashLoopBackOff, …) before
   * we call the workload failed. Short: the kubelet's own retries take minutes and rarely recover.
   */
  failFastAfterMs?: number;
  /** Ends the wait early (the run is being cancelled): ok false, aborted true, no diagnostics. */
  signal?: AbortSignal;
}

interface Target {
  id: ObjectId;
  ref: string;
  apiVersion: string;
  kind: string;
  /** Which watch sees it. */
  watch: string;
}

interface Judged extends WorkloadState {
  failed: boolean;
}

const watchKey = (apiVersion: string, kind: string): string => `${apiVersion} ${kind}`;
const POD_WATCH = watchKey('v1', 'Pod');
const REPLICA_SET_WATCH = watchKey('apps/v1', 'ReplicaSet');

/** Waits until every watched object is Current or Suspended, one has definitely failed, or the timeout passes. */
export async function waitForWorkloads(client: KubeClient, opts: WaitOptions): Promise<WaitResult> {
  const { namespace, logger } = opts;
  const graceMs = opts.failFastAfterMs ?? 20_000;
  const targets = await watchedTargets(client, opts);
  if (targets.length === 0) {
    logger.info('Nothing to wait for: every applied object is ready once applied.');
    return { ok: true, workloads: [] };
  }

  // One watch per kind present, plus Pods for the pod-level rules and ReplicaSets to tell a
  // Deployment's current revision.
  const watches = new Map<string, { apiVersion: string; kind: string }>();
  for (const t of targets) watches.set(t.watch, { apiVersion: t.apiVersion, kind: t.kind });
  if (targets.some((t) => ownsPods(t))) watches.set(POD_WATCH, { apiVersion: 'v1', kind: 'Pod' });
  if (targets.some((t) => t.watch === watchKey('apps/v1', 'Deployment'))) {
    watches.set(REPLICA_SET_WATCH, { apiVersion: 'apps/v1', kind: 'ReplicaSet' });
  }

  const stop = new AbortController();
  const live = new Map<string, Map<string, LiveObject>>(); // watch key → name → object
  const badSince = new Map<string, number>(); // Problem.key → first seen
  const logged = new Map<string, string>(); // objectKey → last state logged
  let states: Judged[] = [];
  let settled = false;
  let aborted = false;

  const judge = (
    t: Target,
    related: { pods: LiveObject[]; replicaSets: LiveObject[] },
    now: number,
    seen: Set<string>,
  ): Judged => {
    const found = live.get(t.watch)?.get(t.id.name);
    // List items carry no apiVersion and kind; the model needs them to pick the kind's rule.
    const obj = found && { ...found, apiVersion: t.apiVersion, kind: t.kind };
    const health = computeHealth(obj, related);
    const images = found ? [...containerImages([found])].sort() : [];
    const result = (h: Health, state = h.message): Judged => ({
      id: t.id,
      ref: t.ref,
      ready: isSettledOk(h),
      state,
      health: h.status,
      images,
      failed: h.status === 'Failed',
    });
    if (health.status !== 'InProgress' || !obj) return result(health);
    // Not up yet: is there a reason it never will be?
    const problems = failFastProblems(obj, related);
    let state = health.message;
    for (const p of problems) {
      seen.add(p.key);
      const since = badSince.get(p.key) ?? now;
      badSince.set(p.key, since);
      if (p.immediate || now - since >= graceMs) return result({ status: 'Failed', message: p.state });
      if (!state.includes(p.state)) state = `${state}, ${p.state}`;
    }
    return result(health, state);
  };

  const judgeAll = (): void => {
    const now = Date.now();
    const seen = new Set<string>();
    const related = {
      pods: [...(live.get(POD_WATCH)?.values() ?? [])],
      replicaSets: [...(live.get(REPLICA_SET_WATCH)?.values() ?? [])],
    };
    states = targets.map((t) => judge(t, related, now, seen));
    for (const k of [...badSince.keys()]) if (!seen.has(k)) badSince.delete(k);
    // Only what changed: with hundreds of objects, reprinting all of them on every event floods the log.
    const changed = states.filter((s) => logged.get(objectKey(s.id)) !== s.state);
    for (const s of changed) logged.set(objectKey(s.id), s.state);
    if (changed.length) logger.info(changed.map((s) => `${s.ref} ${s.state}`).join('; '));
  };

  const listed = new Set<string>();
  const evaluate = (): boolean => {
    if (settled) return true;
    // Until every watch has listed, a missing object may only be unlisted yet: judging it (and
    // logging "not found") would be noise.
    if (listed.size < watches.size) return false;
    judgeAll();
    settled = states.every((s) => s.ready) || states.some((s) => s.failed);
    if (settled) stop.abort(); // the sibling watches need not wait for their next event
    return settled;
  };

  const onAbort = (): void => {
    if (settled) return;
    aborted = true;
    stop.abort();
  };
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  if (opts.signal?.aborted) onAbort();

  const watchers = [...watches].map(([key, { apiVersion, kind }], i) => {
    const byName = new Map<string, LiveObject>();
    live.set(key, byName);
    return client.observe(
      apiVersion,
      kind,
      // One ticker is enough to fire the grace periods without events.
      { namespace, timeoutMs: opts.timeoutMs, tickMs: i === 0 ? 1000 : undefined, signal: stop.signal },
      (objects) => {
        byName.clear();
        for (const [k, v] of objects) byName.set(k, v);
        listed.add(key);
        return evaluate();
      },
    );
  });

  const started = Date.now();
  try {
    await Promise.all(watchers);
  } catch (e) {
    settled = true;
    stop.abort();
    throw new Error(`watching workloads in namespace ${namespace} failed: ${describeApiError(e)}`, {
      cause: e,
    });
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
  }
  if (!settled) judgeAll(); // timed out or aborted: judge the freshest state once more
  settled = true;

  const ok = !aborted && states.every((s) => s.ready);
  const workloads = states.map(({ failed: _failed, ...w }) => w);
  const seconds = Math.round((Date.now() - started) / 1000);
  if (ok) {
    const suspended = workloads.filter((w) => w.health === 'Suspended').length;
    logger.info(
      `All ${workloads.length} object(s) ready after ${seconds}s` +
        (suspended ? ` (${suspended} suspended, not waited for).` : '.'),
    );
    return { ok, workloads };
  }
  const failing = workloads.filter((w) => !w.ready);
  const pending = listSome(failing.map((w) => `${w.ref} (${w.state})`));
  if (aborted) {
    logger.warning(`Aborted after ${seconds}s while waiting for ${pending}`);
    return { ok, workloads, aborted };
  }
  const timedOut = !states.some((s) => s.failed);
  logger.warning(
    `${timedOut ? `Timed out after ${Math.round(opts.timeoutMs / 1000)}s` : 'Giving up early'} waiting for ${pending}`,
  );
  const diagnostics = await collectDiagnostics(client, {
    namespace,
    workloads: failing.map((w) => w.id),
    logger,
  });
  return { ok, workloads, diagnostics };
}

/** The rendered objects of our namespace whose health can change after apply, each once. */
async function watchedTargets(client: KubeClient, opts: WaitOptions): Promise<Target[]> {
  const { namespace } = opts;
  const byKey = new Map<string, Target>();
  for (const o of opts.objects) {
    if ((o.metadata.namespace ?? namespace) !== namespace || !needsWatch(o)) continue;
    const id: ObjectId = { ...objectId(o), namespace };
    byKey.set(objectKey(id), {
      id,
      ref: formatObjectId(id),
      apiVersion: o.apiVersion,
      kind: o.kind,
      watch: watchKey(o.apiVersion, o.kind),
    });
  }
  const targets = [...byKey.values()];
  // A cluster-scoped object (were one rendered without a namespace) is no object of the namespace.
  // The scope is known from the apply, so this costs no request.
  const scopes = new Map<string, boolean | undefined>();
  for (const t of targets) {
    if (!scopes.has(t.watch)) scopes.set(t.watch, await client.discovery.scope(t.apiVersion, t.kind));
  }
  return targets.filter((t) => scopes.get(t.watch) !== false);
}
