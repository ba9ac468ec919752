// Waits for the preview's workloads with watches (not sleep-polling), judging readiness the way
// `kubectl rollout status` does, and failing fast when a workload can no longer succeed on its own
// (bad image, crash loop, deadline exceeded) instead of making the user wait out the timeout.
import type { Logger } from '../logger.js';
import type { KubeClient } from './client.js';
import { describeApiError } from './errors.js';
import {
  collectDiagnostics,
  containerStatuses,
  podSelector,
  WORKLOAD_API_VERSIONS,
  type Diagnostics,
} from './diagnostics.js';
import { objectRef, type Condition, type KubeObject, type LiveObject } from './types.js';

export interface WorkloadState {
  ref: string;
  ready: boolean;
  /** What a person would want to read: '2/2 available', 'complete', 'ImagePullBackOff', … */
  state: string;
}

export interface WaitResult {
  ok: boolean;
  workloads: WorkloadState[];
  diagnostics?: Diagnostics;
}

export interface WaitOptions {
  namespace: string;
  /** The rendered objects; the Deployments, StatefulSets, DaemonSets and Jobs among them are waited for. */
  objects: KubeObject[];
  timeoutMs: number;
  logger: Logger;
  /**
   * How long a pod may sit in a hopeless waiting reason (ImagePullBackOff, CrashLoopBackOff, …) before
   * we call the workload failed. Short: the kubelet's own retries take minutes and rarely recover.
   */
  failFastAfterMs?: number;
}

/** Pod waiting reasons that do not fix themselves. */
/** Restarts after which a container that keeps exiting with an error counts as crash-looping. */
export const CRASH_RESTARTS = 3;

export const HOPELESS_REASONS = new Set([
  'ImagePullBackOff',
  'ErrImagePull',
  'CrashLoopBackOff',
  'InvalidImageName',
  'CreateContainerConfigError',
  'CreateContainerError',
  'ErrImageNeverPull',
  'RunContainerError',
]);

type Verdict = {
  ready: boolean;
  failed: boolean;
  state: string;
  /**
   * Not failed yet, but stuck on something that does not fix itself (ReplicaFailure: the
   * controller may not create pods, as when a ResourceQuota rejects them): failed once it has
   * lasted the fail-fast grace period. `state` then says why.
   */
  stuck?: boolean;
};

/** A ReplicaFailure=True condition as the state to report: `FailedCreate: pods "web-…" is forbidden: …`. */
export function replicaFailureState(conditions: Condition[] | undefined): string | undefined {
  const c = conditions?.find((x) => x.type === 'ReplicaFailure' && x.status === 'True');
  if (!c) return undefined;
  return `${c.reason ?? 'ReplicaFailure'}${c.message ? `: ${c.message}` : ''}`;
}

/** kubectl rollout status's judgement of one workload's own status (pods not considered). */
export function judgeWorkload(kind: string, w: LiveObject | undefined): Verdict {
  if (!w) return { ready: false, failed: false, state: 'not found' };
  const gen = w.metadata.generation ?? 0;
  const st = (w.status ?? {}) as Record<string, unknown> & {
    conditions?: Condition[];
    observedGeneration?: number;
  };
  const spec = (w.spec ?? {}) as Record<string, unknown>;
  const num = (v: unknown): number => (typeof v === 'number' ? v : 0);
  const cond = (type: string): Condition | undefined => st.conditions?.find((c) => c.type === type);
  const observed = st.observedGeneration !== undefined && st.observedGeneration >= gen;

  switch (kind) {
    case 'Deployment': {
      if (!observed) return { ready: false, failed: false, state: 'waiting for the rollout to be observed' };
      const progressing = cond('Progressing');
      if (progressing?.reason === 'ProgressDeadlineExceeded') {
        return { ready: false, failed: true, state: 'ProgressDeadlineExceeded' };
      }
      const desired = spec.replicas === undefined ? 1 : num(spec.replicas);
      const updated = num(st.updatedReplicas);
      const replicas = num(st.replicas);
      const available = num(st.availableReplicas);
      const waiting = (state: string): Verdict => {
        // The ReplicaSet controller cannot create pods (quota, admission webhook, pod security):
        // copied onto the Deployment as ReplicaFailure, it stays until someone changes something.
        const failure = replicaFailureState(st.conditions);
        return failure
          ? { ready: false, failed: false, state: failure, stuck: true }
          : { ready: false, failed: false, state };
      };
      if (updated < desired) return waiting(`${updated}/${desired} updated`);
      if (replicas > updated) return waiting(`${replicas - updated} old replica(s) terminating`);
      if (available < updated) return waiting(`${available}/${desired} available`);
      return { ready: true, failed: false, state: `${available}/${desired} available` };
    }
    case 'StatefulSet': {
      if (!observed) return { ready: false, failed: false, state: 'waiting for the rollout to be observed' };
      const desired = spec.replicas === undefined ? 1 : num(spec.replicas);
      const ready = num(st.readyReplicas);
      const strategy = spec.updateStrategy as
        { type?: string; rollingUpdate?: { partition?: number } } | undefined;
      if (ready < desired) return { ready: false, failed: false, state: `${ready}/${desired} ready` };
      if (strategy?.type !== 'OnDelete') {
        const partition = strategy?.rollingUpdate?.partition ?? 0;
        if (partition > 0) {
          if (num(st.updatedReplicas) < desired - partition) {
            return {
              ready: false,
              failed: false,
              state: `${num(st.updatedReplicas)}/${desired - partition} updated`,
            };
          }
        } else if (st.updateRevision !== undefined && st.currentRevision !== st.updateRevision) {
          return { ready: false, failed: false, state: `${num(st.updatedReplicas)}/${desired} updated` };
        }
      }
      return { ready: true, failed: false, state: `${ready}/${desired} ready` };
    }
    case 'DaemonSet': {
      if (!observed) return { ready: false, failed: false, state: 'waiting for the rollout to be observed' };
      const desired = num(st.desiredNumberScheduled);
      const updated = num(st.updatedNumberScheduled);
      const available = num(st.numberAvailable);
      if (updated < desired) return { ready: false, failed: false, state: `${updated}/${desired} updated` };
      if (available < desired)
        return { ready: false, failed: false, state: `${available}/${desired} available` };
      return { ready: true, failed: false, state: `${available}/${desired} available` };
    }
    case 'Job': {
      const failed = cond('Failed');
      if (failed?.status === 'True')
        return { ready: false, failed: true, state: `Failed${failed.reason ? `: ${failed.reason}` : ''}` };
      const complete = cond('Complete');
      if (complete?.status === 'True') return { ready: true, failed: false, state: 'complete' };
      const completions = spec.completions === undefined ? 1 : num(spec.completions);
      return { ready: false, failed: false, state: `${num(st.succeeded)}/${completions} succeeded` };
    }
    default:
      return { ready: true, failed: false, state: 'applied' };
  }
}

const REVISION_ANNOTATION = 'deployment.kubernetes.io/revision';

/**
 * Which of a workload's pods belong to the revision being rolled out, so that a pod of the previous
 * revision still crash-looping (it stays until its replacement is available) cannot fail a good
 * rollout. undefined: the current revision is not known yet, so no pod is judged (the timeout and
 * ProgressDeadlineExceeded still apply).
 * - Deployment: pods whose pod-template-hash is that of its ReplicaSet carrying the Deployment's
 *   revision annotation.
 * - StatefulSet: pods whose controller-revision-hash is status.updateRevision.
 * - DaemonSet and Job: every pod (a DaemonSet's status names no update revision; a Job's pods are
 *   all of the one template).
 */
export function currentRevisionPods(
  kind: string,
  w: LiveObject,
  replicaSets: Iterable<LiveObject>,
): ((pod: LiveObject) => boolean) | undefined {
  const st = (w.status ?? {}) as { observedGeneration?: number; updateRevision?: string };
  const observed =
    st.observedGeneration !== undefined && st.observedGeneration >= (w.metadata.generation ?? 0);
  switch (kind) {
    case 'Deployment': {
      const revision = w.metadata.annotations?.[REVISION_ANNOTATION];
      if (!observed || !revision) return undefined;
      for (const rs of replicaSets) {
        if (!rs.metadata.ownerReferences?.some((o) => o.uid === w.metadata.uid)) continue;
        if (rs.metadata.annotations?.[REVISION_ANNOTATION] !== revision) continue;
        const hash = rs.metadata.labels?.['pod-template-hash'];
        return hash === undefined ? undefined : (pod) => pod.metadata.labels?.['pod-template-hash'] === hash;
      }
      return undefined;
    }
    case 'StatefulSet': {
      if (!observed || !st.updateRevision) return undefined;
      const revision = st.updateRevision;
      return (pod) => pod.metadata.labels?.['controller-revision-hash'] === revision;
    }
    default:
      return () => true;
  }
}

/** ReplicaFailure of the Deployment's ReplicaSet at its current revision, as replicaFailureState. */
function currentReplicaSetFailure(w: LiveObject, replicaSets: Iterable<LiveObject>): string | undefined {
  const revision = w.metadata.annotations?.[REVISION_ANNOTATION];
  if (!revision) return undefined;
  for (const rs of replicaSets) {
    if (!rs.metadata.ownerReferences?.some((o) => o.uid === w.metadata.uid)) continue;
    if (rs.metadata.annotations?.[REVISION_ANNOTATION] !== revision) continue;
    return replicaFailureState((rs.status as { conditions?: Condition[] } | undefined)?.conditions);
  }
  return undefined;
}

function matches(selector: string, labels: Record<string, string> | undefined): boolean {
  return selector.split(',').every((kv) => {
    const i = kv.indexOf('=');
    return labels?.[kv.slice(0, i)] === kv.slice(i + 1);
  });
}

/** Waits until every workload is ready, one has definitely failed, or the timeout passes. */
export async function waitForWorkloads(client: KubeClient, opts: WaitOptions): Promise<WaitResult> {
  const { namespace, logger } = opts;
  const graceMs = opts.failFastAfterMs ?? 20_000;
  const targets = opts.objects
    .filter(
      (o) =>
        WORKLOAD_API_VERSIONS[o.kind] === o.apiVersion && (o.metadata.namespace ?? namespace) === namespace,
    )
    .map((o) => ({ kind: o.kind, name: o.metadata.name, ref: objectRef(o) }));
  if (targets.length === 0) {
    logger.info('No Deployments, StatefulSets, DaemonSets or Jobs to wait for.');
    return { ok: true, workloads: [] };
  }

  const stop = new AbortController();
  const live = new Map<string, Map<string, LiveObject>>(); // kind → name → object
  let pods = new Map<string, LiveObject>();
  let replicaSets = new Map<string, LiveObject>();
  const badSince = new Map<string, number>(); // `${pod}/${container}/${reason}` → first seen
  let states: (WorkloadState & { failed: boolean })[] = [];
  let settled = false;
  let lastLogged = '';

  const evaluate = (): boolean => {
    if (settled) return true;
    judgeAll();
    settled = states.every((s) => s.ready) || states.some((s) => s.failed);
    if (settled) stop.abort(); // the sibling watches need not wait for their next event
    return settled;
  };
  const judgeAll = (): void => {
    const now = Date.now();
    const seen = new Set<string>();
    states = targets.map((t) => {
      const w = live.get(t.kind)?.get(t.name);
      const { stuck, ...v } = judgeWorkload(t.kind, w);
      if (v.ready || v.failed || !w) return { ref: t.ref, ...v };
      // The Deployment's copy of ReplicaFailure lags its ReplicaSet's: look at the current one too.
      const rsFailure =
        t.kind === 'Deployment' && !stuck ? currentReplicaSetFailure(w, replicaSets.values()) : undefined;
      if (stuck || rsFailure) {
        if (rsFailure) v.state = rsFailure;
        const key = `${t.ref}/ReplicaFailure`;
        seen.add(key);
        const since = badSince.get(key) ?? now;
        badSince.set(key, since);
        if (now - since >= graceMs) return { ref: t.ref, ready: false, failed: true, state: v.state };
        return { ref: t.ref, ...v };
      }
      // Not ready yet: do its pods show a reason it never will be?
      const selector = podSelector(w);
      const current = currentRevisionPods(t.kind, w, replicaSets.values());
      if (selector && current) {
        for (const pod of pods.values()) {
          if (!matches(selector, pod.metadata.labels) || pod.metadata.deletionTimestamp) continue;
          if (!current(pod)) continue;
          for (const c of containerStatuses(pod)) {
            // A crash loop shows Running for a moment between back-offs, which would reset the
            // grace period below on every restart: repeated non-zero exits are proof enough.
            if (
              (c.restartCount ?? 0) >= CRASH_RESTARTS &&
              !c.ready &&
              (c.lastState?.terminated?.exitCode ?? 0) !== 0
            ) {
              return { ref: t.ref, ready: false, failed: true, state: 'CrashLoopBackOff' };
            }
            const reason = c.state?.waiting?.reason;
            if (!reason || !HOPELESS_REASONS.has(reason)) continue;
            const key = `${pod.metadata.name}/${c.name}/${reason === 'ErrImagePull' ? 'ImagePullBackOff' : reason}`;
            seen.add(key);
            const since = badSince.get(key) ?? now;
            badSince.set(key, since);
            if (now - since >= graceMs) return { ref: t.ref, ready: false, failed: true, state: reason };
            v.state = `${v.state}, ${reason}`;
          }
        }
      }
      return { ref: t.ref, ...v };
    });
    for (const k of [...badSince.keys()]) if (!seen.has(k)) badSince.delete(k);
    const summary = states.map((s) => `${s.ref} ${s.state}`).join('; ');
    if (summary !== lastLogged) {
      lastLogged = summary;
      logger.info(summary);
    }
  };

  const kinds = [...new Set(targets.map((t) => t.kind))];
  const watchers = kinds.map((kind) => {
    const byName = new Map<string, LiveObject>();
    live.set(kind, byName);
    return client.observe(
      WORKLOAD_API_VERSIONS[kind] as string,
      kind,
      { namespace, timeoutMs: opts.timeoutMs, tickMs: 1000, signal: stop.signal },
      (objects) => {
        byName.clear();
        for (const [k, v] of objects) byName.set(k, v);
        return evaluate();
      },
    );
  });
  if (kinds.includes('Deployment')) {
    // Which ReplicaSet is a Deployment's current revision: needed to judge only its pods.
    watchers.push(
      client.observe(
        'apps/v1',
        'ReplicaSet',
        { namespace, timeoutMs: opts.timeoutMs, signal: stop.signal },
        (objects) => {
          replicaSets = objects;
          return evaluate();
        },
      ),
    );
  }
  watchers.push(
    client.observe(
      'v1',
      'Pod',
      { namespace, timeoutMs: opts.timeoutMs, tickMs: 1000, signal: stop.signal },
      (objects) => {
        pods = objects;
        return evaluate();
      },
    ),
  );

  const started = Date.now();
  try {
    await Promise.all(watchers);
  } catch (e) {
    settled = true;
    stop.abort();
    throw new Error(`watching workloads in namespace ${namespace} failed: ${describeApiError(e)}`, {
      cause: e,
    });
  }
  if (!settled) judgeAll(); // timed out: judge the freshest state once more
  settled = true;

  const ok = states.every((s) => s.ready);
  const workloads = states.map(({ ref, ready, state }) => ({ ref, ready, state }));
  if (ok) {
    logger.info(
      `All ${workloads.length} workload(s) ready after ${Math.round((Date.now() - started) / 1000)}s.`,
    );
    return { ok, workloads };
  }
  const failing = workloads.filter((w) => !w.ready);
  const timedOut = !states.some((s) => s.failed);
  logger.warning(
    `${timedOut ? `Timed out after ${Math.round(opts.timeoutMs / 1000)}s` : 'Giving up early'} waiting for ` +
      failing.map((w) => `${w.ref} (${w.state})`).join(', '),
  );
  const diagnostics = await collectDiagnostics(client, {
    namespace,
    workloads: failing.map((w) => w.ref),
    logger,
  });
  return { ok, workloads, diagnostics };
}
