// A lock on the cluster: a coordination.k8s.io/v1 Lease taken by compare-and-swap (create, or update at
// the resourceVersion read), so two runs deciding "is there a free preview slot?" never decide at once.
// GitHub is not asked: the cluster is the one place every run of every repository sees.
import { randomUUID } from 'node:crypto';
import { HttpMethod } from '@kubernetes/client-node';
import type { KubeClient } from './client.js';
import { describeApiError, statusOf } from './errors.js';
import { microTime } from './ledger.js';
import { permissionHint } from './permissions.js';

interface LeaseObject {
  apiVersion: 'coordination.k8s.io/v1';
  kind: 'Lease';
  metadata: {
    name: string;
    namespace: string;
    resourceVersion?: string;
    annotations?: Record<string, string>;
  };
  spec: {
    holderIdentity?: string;
    leaseDurationSeconds?: number;
    acquireTime?: string;
    renewTime?: string;
  };
}

export interface LeaseOptions {
  namespace: string;
  name: string;
  /** How long a holder that died keeps the lock. */
  ttlSeconds: number;
  /** How long to try to take it. */
  timeoutMs: number;
  signal?: AbortSignal;
  now?: () => number;
}

export interface HeldLease {
  /** The Lease's annotations when it was taken (state kept under the lock, e.g. a queue). */
  annotations: Record<string, string>;
  /** Writes annotations and lets go (best effort: an expired lock frees itself). */
  release(annotations?: Record<string, string>): Promise<void>;
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => (clearTimeout(t), resolve()), { once: true });
  });

export async function takeLease(kube: KubeClient, o: LeaseOptions): Promise<HeldLease> {
  const now = o.now ?? Date.now;
  const me = `kubestage-${randomUUID()}`;
  const path = `/apis/coordination.k8s.io/v1/namespaces/${encodeURIComponent(o.namespace)}/leases`;
  const started = now();
  let lastHolder = '';
  for (let attempt = 0; ; attempt++) {
    if (o.signal?.aborted) throw new Error('the run was cancelled while waiting for the admission lock');
    let lease: LeaseObject | undefined;
    try {
      lease = await kube.get<LeaseObject>('coordination.k8s.io/v1', 'Lease', o.name, o.namespace);
    } catch (e) {
      throw leaseError('read', o, e);
    }
    const t = now();
    const spec = {
      holderIdentity: me,
      leaseDurationSeconds: o.ttlSeconds,
      acquireTime: microTime(new Date(t)),
      renewTime: microTime(new Date(t)),
    };
    try {
      if (!lease) {
        const created = await kube.request<LeaseObject>(HttpMethod.POST, path, {
          body: {
            apiVersion: 'coordination.k8s.io/v1',
            kind: 'Lease',
            metadata: { name: o.name, namespace: o.namespace },
            spec,
          },
        });
        return held(kube, path, created);
      }
      const holder = lease.spec.holderIdentity ?? '';
      const renewed = Date.parse(lease.spec.renewTime ?? '') || 0;
      const expired = renewed + (lease.spec.leaseDurationSeconds ?? o.ttlSeconds) * 1000 < t;
      if (holder === '' || expired) {
        const updated = await kube.request<LeaseObject>(
          HttpMethod.PUT,
          `${path}/${encodeURIComponent(o.name)}`,
          {
            body: { ...lease, spec: { ...lease.spec, ...spec } },
          },
        );
        return held(kube, path, updated);
      }
      lastHolder = holder;
    } catch (e) {
      // Another run got there first (409 AlreadyExists or Conflict): look again.
      if (statusOf(e) !== 409) throw leaseError('take', o, e);
    }
    if (now() - started > o.timeoutMs) {
      throw new Error(
        `could not take the admission lock (Lease ${o.namespace}/${o.name}) within ${Math.round(o.timeoutMs / 1000)}s: ${lastHolder || 'another run'} holds it. ` +
          `A run that died frees it after ${o.ttlSeconds}s; re-run then.`,
      );
    }
    await sleep(50 + Math.random() * Math.min(400, 50 * (attempt + 1)), o.signal);
  }
}

function held(kube: KubeClient, path: string, lease: LeaseObject): HeldLease {
  return {
    annotations: { ...(lease.metadata.annotations ?? {}) },
    async release(annotations) {
      const body: LeaseObject = {
        ...lease,
        metadata: { ...lease.metadata, ...(annotations ? { annotations } : {}) },
        spec: { ...lease.spec, holderIdentity: '' },
      };
      try {
        await kube.request(HttpMethod.PUT, `${path}/${encodeURIComponent(lease.metadata.name)}`, { body });
      } catch {
        // Someone broke an expired lock of ours, or the API is gone: the Lease expires by itself.
      }
    },
  };
}

function leaseError(verb: string, o: LeaseOptions, e: unknown): Error {
  return new Error(
    `could not ${verb} the admission lock (Lease ${o.namespace}/${o.name}): ${describeApiError(e)}` +
      (statusOf(e) === 403
        ? `. ${permissionHint(`get, create and update on leases.coordination.k8s.io in namespace ${o.namespace}`)}`
        : ''),
    { cause: e },
  );
}
