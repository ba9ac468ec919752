// A cap on live previews (`max-previews`), decided on the cluster under a Lease so that runs racing for
// the last slot end with exactly one admitted. When full: `fail` (naming the live previews), `queue`
// (wait for a slot, higher priority first, then first come; the queue lives on the Lease), or `evict`
// (delete the least recently updated preview of lower or equal priority). A preview that already has
// its namespace is admitted at once: a push never waits behind new PRs.
import { HttpMethod } from '@kubernetes/client-node';
import type { KubeClient } from '../kube/client.js';
import { describeApiError, statusOf } from '../kube/errors.js';
import { takeLease } from '../kube/lease.js';
import { startDeadline } from '../model/deadline.js';
import { runPreDeleteHooks } from './hooks.js';
import { isTerminating } from '../kube/namespaces.js';
import type { LiveObject } from '../kube/types.js';
import type { Logger } from '../logger.js';
import {
  ANNOTATION_PR,
  ANNOTATION_UPDATED_AT,
  LABEL_ENVIRONMENT,
  LABEL_MANAGED_BY,
  LABEL_REPO,
  MANAGED_BY,
  PREVIEW_ENVIRONMENT,
} from '../model/labels.js';
import { decodeRecord, type NamespaceRecord } from '../model/records.js';

export const ANNOTATION_PRIORITY = 'kubestage.dev/priority';
const ANNOTATION_QUEUE = 'kubestage.dev/queue';
export const PRIORITIES = ['low', 'normal', 'high'] as const;
export type Priority = (typeof PRIORITIES)[number];
const RANK: Record<Priority, number> = { low: 0, normal: 1, high: 2 };

export interface AdmissionOptions {
  /** 0: no cap. */
  max: number;
  scope: 'repo' | 'cluster';
  whenFull: 'fail' | 'queue' | 'evict';
  queueTimeoutMs: number;
  /** PR label prefix naming the priority: `preview-priority/high`. */
  priorityPrefix: string;
  /** Where the Lease lives. */
  lockNamespace: string;
}

export interface AdmissionRequest {
  namespace: string;
  /** The labels the namespace is created with (ours). */
  labels: Record<string, string>;
  pr: number;
  repoLabel: string;
  priority: Priority;
  now: () => Date;
  signal?: AbortSignal;
  logger: Logger;
  /** Told each time the queue position changes (the PR comment shows it). */
  onQueued?: (position: number, waiting: number) => Promise<void>;
}

export interface LivePreview {
  namespace: string;
  record: NamespaceRecord;
  priority: Priority;
  createdAt?: Date;
}

export type Admission =
  | { admitted: true; how: 'existing' | 'free' | 'queued' | 'uncapped'; waitedMs?: number }
  | { admitted: true; how: 'evicted'; victim: LivePreview }
  | { admitted: false; reason: string; live: LivePreview[] };

interface QueueEntry {
  ns: string;
  pr: number;
  priority: Priority;
  since: string;
  seen: string;
}

/** The priority a PR's labels give (`preview-priority/high`), normal by default. */
export function priorityOf(labels: readonly string[], prefix: string): Priority {
  let best: Priority | undefined;
  for (const l of labels) {
    if (!l.toLowerCase().startsWith(prefix.toLowerCase())) continue;
    const v = l.slice(prefix.length).toLowerCase() as Priority;
    if (PRIORITIES.includes(v) && (best === undefined || RANK[v] > RANK[best])) best = v;
  }
  return best ?? 'normal';
}

export async function admit(kube: KubeClient, o: AdmissionOptions, r: AdmissionRequest): Promise<Admission> {
  const existing = await kube.get<LiveObject>('v1', 'Namespace', r.namespace);
  if (existing && !isTerminating(existing)) return { admitted: true, how: 'existing' };
  if (o.max <= 0) return { admitted: true, how: 'uncapped' };

  const started = r.now().getTime();
  const pollMs = Math.max(200, Math.min(5000, o.queueTimeoutMs / 20));
  const lockName =
    o.scope === 'cluster' ? 'kubestage-previews' : `kubestage-previews-${r.repoLabel}`.slice(0, 253);
  let lastPosition = 0;
  for (;;) {
    const lock = await takeLease(kube, {
      namespace: o.lockNamespace,
      name: lockName,
      // Held while an evicted preview's pre-delete hooks run (at most EVICTION_HOOKS_MS).
      ttlSeconds: 90,
      timeoutMs: 120_000,
      signal: r.signal,
    });
    const queue = readQueue(lock.annotations, r.now().getTime(), pollMs);
    let release = lock.annotations;
    try {
      const live = await livePreviews(kube, o, r.repoLabel);
      const mine = queue.find((q) => q.ns === r.namespace);
      const order = [...queue].sort(byPriority);
      const ahead = mine
        ? order.indexOf(mine)
        : order.filter((q) => RANK[q.priority] >= RANK[r.priority]).length;
      if (live.length < o.max && ahead === 0) {
        await createNamespace(kube, r);
        release = writeQueue(
          lock.annotations,
          queue.filter((q) => q.ns !== r.namespace),
        );
        const waitedMs = r.now().getTime() - started;
        r.logger.info(
          `Admitted${mine ? ` after waiting ${Math.round(waitedMs / 1000)}s in the queue` : ''}: ${live.length + 1} of ${o.max} previews (${o.scope === 'cluster' ? 'on the cluster' : 'of this repository'}).`,
        );
        return { admitted: true, how: mine ? 'queued' : 'free', ...(mine ? { waitedMs } : {}) };
      }
      if (live.length >= o.max && o.whenFull === 'evict') {
        const victim = await evictOne(kube, live, r);
        if (victim) {
          await createNamespace(kube, r);
          r.logger.warning(
            `The cap of ${o.max} previews was reached: deleted ${victim.namespace} (PR #${victim.record.pr ?? '?'}, priority ${victim.priority}, last updated ${victim.record.updatedAt?.toISOString() ?? 'never'}) to make room.`,
          );
          return { admitted: true, how: 'evicted', victim };
        }
      }
      if (o.whenFull !== 'queue' || r.now().getTime() - started >= o.queueTimeoutMs) {
        if (mine)
          release = writeQueue(
            lock.annotations,
            queue.filter((q) => q.ns !== r.namespace),
          );
        return { admitted: false, reason: fullReason(o, live, r, started), live };
      }
      // Queue: (re)enter with a heartbeat, and wait.
      const now = r.now().toISOString();
      const entry: QueueEntry = mine
        ? { ...mine, seen: now }
        : { ns: r.namespace, pr: r.pr, priority: r.priority, since: now, seen: now };
      const next = [...queue.filter((q) => q.ns !== r.namespace), entry];
      release = writeQueue(lock.annotations, next);
      const position = [...next].sort(byPriority).indexOf(entry) + 1;
      if (position !== lastPosition) {
        lastPosition = position;
        r.logger.info(
          `Waiting for a preview slot: position ${position} of ${next.length} (${live.length} of ${o.max} in use).`,
        );
        await r.onQueued?.(position, next.length).catch(() => undefined);
      }
    } finally {
      await lock.release(release);
    }
    await new Promise((res) => setTimeout(res, pollMs));
    if (r.signal?.aborted) throw new Error('the run was cancelled while it waited for a preview slot');
  }
}

function byPriority(a: QueueEntry, b: QueueEntry): number {
  return RANK[b.priority] - RANK[a.priority] || a.since.localeCompare(b.since);
}

/** The queue on the Lease, without entries whose run stopped refreshing them. */
function readQueue(annotations: Record<string, string>, now: number, pollMs: number): QueueEntry[] {
  try {
    const all = JSON.parse(annotations[ANNOTATION_QUEUE] ?? '[]') as QueueEntry[];
    return Array.isArray(all) ? all.filter((q) => now - Date.parse(q.seen) < pollMs * 3 + 30_000) : [];
  } catch {
    return [];
  }
}

function writeQueue(annotations: Record<string, string>, queue: QueueEntry[]): Record<string, string> {
  const out = { ...annotations };
  if (queue.length) out[ANNOTATION_QUEUE] = JSON.stringify(queue);
  else delete out[ANNOTATION_QUEUE];
  return out;
}

/** Our preview namespaces in scope that count: not being deleted. */
export async function livePreviews(
  kube: KubeClient,
  o: Pick<AdmissionOptions, 'scope'>,
  repoLabel: string,
): Promise<LivePreview[]> {
  const selector = [
    `${LABEL_MANAGED_BY}=${MANAGED_BY}`,
    `${LABEL_ENVIRONMENT}=${PREVIEW_ENVIRONMENT}`,
    ...(o.scope === 'repo' ? [`${LABEL_REPO}=${repoLabel}`] : []),
  ].join(',');
  const list = await kube.list<LiveObject>('v1', 'Namespace', { labelSelector: selector });
  return list.items
    .filter((ns) => !isTerminating(ns))
    .map((ns) => {
      const created = ns.metadata.creationTimestamp ? new Date(ns.metadata.creationTimestamp) : undefined;
      const p = ns.metadata.annotations?.[ANNOTATION_PRIORITY] as Priority | undefined;
      return {
        namespace: ns.metadata.name,
        record: decodeRecord(ns.metadata),
        priority: p && PRIORITIES.includes(p) ? p : 'normal',
        ...(created ? { createdAt: created } : {}),
      };
    });
}

/** Previews whose priority is not above ours, the least recently updated first. */
function victims(live: LivePreview[], priority: Priority): LivePreview[] {
  const when = (p: LivePreview) => (p.record.updatedAt ?? p.createdAt)?.getTime() ?? 0;
  return live.filter((p) => RANK[p.priority] <= RANK[priority]).sort((a, b) => when(a) - when(b));
}

/**
 * Deletes the first candidate whose pre-delete hooks succeed (as cleanup runs them: dropping a PR's
 * schema in a shared database must not be skipped because the preview was evicted); one whose hook
 * fails is kept and the next is tried.
 */
async function evictOne(
  kube: KubeClient,
  live: LivePreview[],
  r: AdmissionRequest,
): Promise<LivePreview | undefined> {
  for (const victim of victims(live, r.priority)) {
    const hooks = await runPreDeleteHooks(kube, victim.namespace, {
      deadline: startDeadline(EVICTION_HOOKS_MS),
      logger: r.logger,
      ...(r.signal ? { signal: r.signal } : {}),
    });
    if (hooks.failure) {
      r.logger.warning(
        `Not evicting ${victim.namespace}: its pre-delete hook failed (${hooks.failure.message}); trying the next preview.`,
      );
      continue;
    }
    await deleteVictim(kube, victim);
    return victim;
  }
  return undefined;
}

/** How long an evicted preview's pre-delete hooks may take (the admission lock is held meanwhile). */
const EVICTION_HOOKS_MS = 60_000;

async function deleteVictim(kube: KubeClient, victim: LivePreview): Promise<void> {
  try {
    await kube.delete('v1', 'Namespace', victim.namespace);
  } catch (e) {
    if (statusOf(e) !== 404)
      throw new Error(`could not evict preview ${victim.namespace}: ${describeApiError(e)}`, { cause: e });
  }
}

/** Creates the namespace under the lock, so the next run counts it (POST: it fails if it exists). */
async function createNamespace(kube: KubeClient, r: AdmissionRequest): Promise<void> {
  try {
    await kube.request(HttpMethod.POST, '/api/v1/namespaces', {
      body: {
        apiVersion: 'v1',
        kind: 'Namespace',
        metadata: {
          name: r.namespace,
          labels: r.labels,
          annotations: {
            [ANNOTATION_PR]: String(r.pr),
            [ANNOTATION_PRIORITY]: r.priority,
            [ANNOTATION_UPDATED_AT]: r.now().toISOString(),
          },
        },
      },
    });
  } catch (e) {
    // Still Terminating from an earlier life, or made meanwhile by a run of this PR: the preview's own
    // namespace step waits or checks ownership.
    if (statusOf(e) !== 409)
      throw new Error(`could not create namespace ${r.namespace}: ${describeApiError(e)}`, { cause: e });
  }
}

function fullReason(o: AdmissionOptions, live: LivePreview[], r: AdmissionRequest, started: number): string {
  const now = r.now().getTime();
  const age = (d?: Date) => (d ? `${Math.max(0, Math.round((now - d.getTime()) / 60_000))} min` : '?');
  const rows = [...live]
    .sort((a, b) => (a.record.pr ?? 0) - (b.record.pr ?? 0))
    .slice(0, 20)
    .map(
      (p) =>
        `${p.namespace} (PR #${p.record.pr ?? '?'}${o.scope === 'cluster' && p.record.repoLabel ? ` of ${p.record.repoLabel}` : ''}, priority ${p.priority}, ${age(p.createdAt)} old, updated ${age(p.record.updatedAt)} ago)`,
    );
  const waited =
    o.whenFull === 'queue' ? ` after waiting ${Math.round((now - started) / 1000)}s in the queue` : '';
  const evict = o.whenFull === 'evict' ? ` and none has a priority at or below ${r.priority}` : '';
  const advice =
    o.whenFull === 'queue'
      ? 'Close or merge a PR whose preview is no longer needed, raise `max-previews`, or give the queue longer (`queue-timeout`).'
      : o.whenFull === 'evict'
        ? `Every live preview has a higher priority than this PR (${r.priority}); close one, raise \`max-previews\`, or label this PR \`${o.priorityPrefix}high\`.`
        : 'Close or merge a PR whose preview is no longer needed, raise `max-previews`, or set `when-full: queue` (wait) or `evict` (replace the least recently updated).';
  return `No preview slot: ${live.length} of ${o.max} previews (max-previews, ${o.scope === 'cluster' ? 'on the cluster' : 'of this repository'}) are live${evict}${waited}: ${rows.join('; ')}. ${advice}`;
}
