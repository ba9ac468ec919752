// Why a workload is not up, in the words `kubectl describe` and `kubectl logs` would use: its
// conditions, its pods' waiting reasons and restarts, recent Warning events, and the last log lines
// of failing containers. Best effort: a diagnostic that cannot be fetched is skipped, never fatal.
import type { Logger } from '../logger.js';
import type { ContainerStatus } from '../model/health.js';
import type { KubeClient } from './client.js';
import { describeApiError } from './errors.js';
import { apiGroup } from '../model/kube-object.js';
import { formatObjectId, type ObjectId } from '../model/object-id.js';
import type { Condition, LiveObject } from './types.js';

export interface PodDiagnostics {
  name: string;
  phase: string;
  waiting?: { reason: string; message: string };
  restarts: number;
  lastLogLines: string[];
}

export interface WorkloadDiagnostics {
  ref: string;
  conditions: string[];
  pods: PodDiagnostics[];
}

export interface EventDiagnostics {
  type: string;
  reason: string;
  object: string;
  message: string;
  count: number;
  /** RFC 3339 time the event was last seen. */
  last: string;
}

export interface Diagnostics {
  workloads: WorkloadDiagnostics[];
  events: EventDiagnostics[];
}

/** apiVersion of the kinds we diagnose: those that run pods, and a bare Pod. */
const WORKLOAD_API_VERSIONS: Record<string, string> = {
  Deployment: 'apps/v1',
  StatefulSet: 'apps/v1',
  DaemonSet: 'apps/v1',
  ReplicaSet: 'apps/v1',
  Job: 'batch/v1',
  Pod: 'v1',
};

const MAX_PODS = 5;
const MAX_LOG_PODS = 2;
const LOG_LINES = 20;
const MAX_EVENTS = 20;

interface PodStatus {
  phase?: string;
  conditions?: Condition[];
  containerStatuses?: ContainerStatus[];
  initContainerStatuses?: ContainerStatus[];
}

function containerStatuses(pod: LiveObject): ContainerStatus[] {
  const st = (pod.status ?? {}) as PodStatus;
  return [...(st.initContainerStatuses ?? []), ...(st.containerStatuses ?? [])];
}

/** The label selector string for a workload's pods (matchLabels only; enough for our own objects). */
function podSelector(workload: LiveObject): string | undefined {
  const sel = (workload.spec as { selector?: { matchLabels?: Record<string, string> } } | undefined)
    ?.selector;
  const labels = sel?.matchLabels;
  if (!labels || Object.keys(labels).length === 0) return undefined;
  return Object.entries(labels)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
}

export function formatCondition(c: Condition): string {
  return `${c.type}=${c.status}${c.reason ? ` (${c.reason})` : ''}${c.message ? `: ${c.message}` : ''}`;
}

export async function collectDiagnostics(
  client: KubeClient,
  opts: { namespace: string; workloads: ObjectId[]; logger: Logger },
): Promise<Diagnostics> {
  const { namespace, logger } = opts;
  const workloads = await Promise.all(
    opts.workloads.map((id) => diagnoseWorkload(client, namespace, id, logger)),
  );
  const events = await warningEvents(client, namespace, logger);
  return { workloads, events };
}

async function diagnoseWorkload(
  client: KubeClient,
  namespace: string,
  id: ObjectId,
  logger: Logger,
): Promise<WorkloadDiagnostics> {
  const ref = formatObjectId(id);
  const out: WorkloadDiagnostics = { ref, conditions: [], pods: [] };
  const apiVersion = WORKLOAD_API_VERSIONS[id.kind];
  // Only the built-in workload kinds have pods to describe (a CR named Deployment is not one).
  if (!apiVersion || apiGroup(apiVersion) !== id.group) return out;
  try {
    const w = await client.get<LiveObject>(apiVersion, id.kind, id.name, namespace);
    if (!w) {
      out.conditions.push('not found');
      return out;
    }
    const pods = id.kind === 'Pod' ? [w] : await workloadPods(client, namespace, w, id.kind, out, logger);
    // Failing pods first, then newest: those explain the problem.
    pods.sort(
      (a, b) =>
        badness(b) - badness(a) ||
        (b.metadata.creationTimestamp ?? '').localeCompare(a.metadata.creationTimestamp ?? ''),
    );
    let logsFetched = 0;
    for (const pod of pods.slice(0, MAX_PODS)) {
      const d = describePod(pod);
      const failing = containerStatuses(pod).filter(isFailingContainer);
      if (failing.length && logsFetched < MAX_LOG_PODS) {
        logsFetched++;
        d.lastLogLines = await lastLogLines(client, namespace, pod, failing[0] as ContainerStatus, logger);
      }
      out.pods.push(d);
    }
  } catch (e) {
    logger.debug(`could not diagnose ${ref} in ${namespace}: ${describeApiError(e)}`);
  }
  return out;
}

/**
 * A workload's conditions (into `out`) and pods. A bare Pod's own conditions are left out: its line
 * under pods says what they would (phase, waiting reason, scheduling).
 */
async function workloadPods(
  client: KubeClient,
  namespace: string,
  w: LiveObject,
  kind: string,
  out: WorkloadDiagnostics,
  logger: Logger,
): Promise<LiveObject[]> {
  const conds = ((w.status as { conditions?: Condition[] } | undefined)?.conditions ?? []).map(
    formatCondition,
  );
  out.conditions.push(...conds);
  const selector = podSelector(w);
  if (!selector) return [];
  if (kind === 'Deployment')
    out.conditions.push(...(await replicaFailures(client, w, selector, out.conditions, logger)));
  return (await client.list<LiveObject>('v1', 'Pod', { namespace, labelSelector: selector })).items;
}

/**
 * ReplicaFailure conditions of a Deployment's ReplicaSets not already among its own conditions:
 * pods a ReplicaSet may not create (quota, admission) leave no pod to describe, this says why.
 */
async function replicaFailures(
  client: KubeClient,
  w: LiveObject,
  selector: string,
  known: string[],
  logger: Logger,
): Promise<string[]> {
  const out: string[] = [];
  try {
    const sets = await client.list<LiveObject>('apps/v1', 'ReplicaSet', {
      namespace: w.metadata.namespace,
      labelSelector: selector,
    });
    for (const rs of sets.items) {
      if (!rs.metadata.ownerReferences?.some((o) => o.uid === w.metadata.uid)) continue;
      for (const c of (rs.status as { conditions?: Condition[] } | undefined)?.conditions ?? []) {
        if (c.type !== 'ReplicaFailure' || c.status !== 'True') continue;
        const line = formatCondition(c);
        if (!known.includes(line)) out.push(`${line} (ReplicaSet ${rs.metadata.name})`);
      }
    }
  } catch (e) {
    logger.debug(`could not list the ReplicaSets of ${w.metadata.name}: ${describeApiError(e)}`);
  }
  return out;
}

function describePod(pod: LiveObject): PodDiagnostics {
  const st = (pod.status ?? {}) as PodStatus;
  const statuses = containerStatuses(pod);
  const waiting = statuses.map((c) => c.state?.waiting).find((w) => w?.reason);
  const terminated = statuses.map((c) => c.state?.terminated).find((t) => t && t.exitCode !== 0);
  const unschedulable = (st.conditions ?? []).find((c) => c.type === 'PodScheduled' && c.status === 'False');
  const d: PodDiagnostics = {
    name: pod.metadata.name,
    phase: pod.metadata.deletionTimestamp ? 'Terminating' : (st.phase ?? 'Unknown'),
    restarts: statuses.reduce((n, c) => n + (c.restartCount ?? 0), 0),
    lastLogLines: [],
  };
  if (waiting?.reason) d.waiting = { reason: waiting.reason, message: waiting.message ?? '' };
  else if (terminated)
    d.waiting = {
      reason: terminated.reason ?? 'Error',
      message: terminated.message ?? `exit code ${terminated.exitCode}`,
    };
  else if (unschedulable)
    d.waiting = { reason: unschedulable.reason ?? 'Unschedulable', message: unschedulable.message ?? '' };
  return d;
}

function isFailingContainer(c: ContainerStatus): boolean {
  const reason = c.state?.waiting?.reason;
  if (reason === 'CrashLoopBackOff' || reason === 'RunContainerError') return true;
  if (c.state?.terminated && c.state.terminated.exitCode !== 0) return true;
  return (c.restartCount ?? 0) > 0 && !c.state?.running;
}

function badness(pod: LiveObject): number {
  const statuses = containerStatuses(pod);
  if (statuses.some(isFailingContainer)) return 2;
  if (statuses.some((c) => c.state?.waiting?.reason && c.state.waiting.reason !== 'ContainerCreating'))
    return 1;
  return 0;
}

async function lastLogLines(
  client: KubeClient,
  namespace: string,
  pod: LiveObject,
  c: ContainerStatus,
  logger: Logger,
): Promise<string[]> {
  // A crash-looping container's current instance has usually not logged yet: read the one that died.
  const previous = (c.restartCount ?? 0) > 0 && !c.state?.terminated;
  for (const prev of previous ? [true, false] : [false]) {
    try {
      const text = await client.podLog(namespace, pod.metadata.name, {
        container: c.name,
        tailLines: LOG_LINES,
        previous: prev,
      });
      const lines = text.split('\n');
      if (lines[lines.length - 1] === '') lines.pop();
      return lines.slice(-LOG_LINES);
    } catch (e) {
      logger.debug(
        `could not read ${prev ? 'previous ' : ''}logs of ${pod.metadata.name}/${c.name}: ${describeApiError(e)}`,
      );
    }
  }
  return [];
}

interface EventObject extends LiveObject {
  type?: string;
  reason?: string;
  message?: string;
  count?: number;
  lastTimestamp?: string;
  eventTime?: string;
  firstTimestamp?: string;
  involvedObject?: { kind?: string; name?: string };
  series?: { count?: number; lastObservedTime?: string };
}

async function warningEvents(
  client: KubeClient,
  namespace: string,
  logger: Logger,
): Promise<EventDiagnostics[]> {
  try {
    const list = await client.list<EventObject>('v1', 'Event', { namespace });
    return list.items
      .filter((e) => e.type === 'Warning')
      .map((e) => ({
        type: e.type ?? 'Warning',
        reason: e.reason ?? '',
        object: `${e.involvedObject?.kind ?? 'Object'}/${e.involvedObject?.name ?? '?'}`,
        message: (e.message ?? '').trim(),
        count: e.series?.count ?? e.count ?? 1,
        last:
          e.series?.lastObservedTime ??
          e.lastTimestamp ??
          e.eventTime ??
          e.firstTimestamp ??
          e.metadata.creationTimestamp ??
          '',
      }))
      .sort((a, b) => Date.parse(b.last || '0') - Date.parse(a.last || '0'))
      .slice(0, MAX_EVENTS);
  } catch (e) {
    logger.debug(`could not list events in ${namespace}: ${describeApiError(e)}`);
    return [];
  }
}

/** Plain text for the log, the job summary (inside a code block) and the PR comment. */
export function formatDiagnostics(d: Diagnostics): string {
  const out: string[] = [];
  for (const w of d.workloads) {
    out.push(w.ref);
    for (const c of w.conditions) out.push(`  condition ${c}`);
    if (w.pods.length === 0) out.push('  no pods');
    for (const p of w.pods) {
      const waiting = p.waiting
        ? `, ${p.waiting.reason}${p.waiting.message ? `: ${p.waiting.message}` : ''}`
        : '';
      out.push(`  pod ${p.name}: ${p.phase}${waiting}, ${p.restarts} restart${p.restarts === 1 ? '' : 's'}`);
      if (p.lastLogLines.length) {
        out.push(`    last ${p.lastLogLines.length} log line${p.lastLogLines.length === 1 ? '' : 's'}:`);
        for (const l of p.lastLogLines) out.push(`      ${l}`);
      }
    }
  }
  if (d.events.length) {
    out.push('Warning events (most recent first):');
    for (const e of d.events) {
      out.push(
        `  ${e.last || '-'}  ${e.object}  ${e.reason}${e.count > 1 ? ` (x${e.count})` : ''}: ${e.message}`,
      );
    }
  } else {
    out.push('No Warning events.');
  }
  return out.join('\n');
}
