// What a namespace runs now, judged by the health model: `status` shows it, `promote` refuses to move
// what is not healthy, and reads the digests its pods actually run (their imageIDs).
import type { KubeClient } from '../kube/client.js';
import { recordedKinds } from '../kube/inventory.js';
import type { LiveObject } from '../kube/types.js';
import { computeHealth, failFastProblems, needsWatch, type HealthObject } from '../model/health.js';
import { LABEL_INSTANCE } from '../model/labels.js';
import { formatObjectId, objectId } from '../model/object-id.js';

export interface LiveHealth {
  /** `Deployment/api ImagePullBackOff: …` for each object failing now. */
  failing: string[];
  /** Objects still rolling out (or whose state is unknown). */
  waiting: string[];
  /** How many kinds of ours the namespace records (0: nothing to judge). */
  judged: number;
  pods: LiveObject[];
}

/** Our objects in the namespace (the kinds its record lists) judged now; reads only. */
export async function readLiveHealth(kube: KubeClient, ns: LiveObject): Promise<LiveHealth> {
  const name = ns.metadata.name;
  // Kinds whose health can change after apply (a Service only if it is a LoadBalancer: list to see).
  const kinds = (recordedKinds(ns) ?? []).filter((k) => needsWatch(k) || k.kind === 'Service');
  const ours = { namespace: name, labelSelector: `${LABEL_INSTANCE}=${name}` };
  const [objects, pods, replicaSets] = await Promise.all([
    Promise.all(
      kinds.map((k) =>
        kube
          .list<LiveObject>(k.apiVersion, k.kind, ours)
          .then((l) => l.items.map((o) => ({ ...o, apiVersion: k.apiVersion, kind: k.kind }))),
      ),
    ),
    kube.list<LiveObject>('v1', 'Pod', { namespace: name }),
    kube.list<LiveObject>('apps/v1', 'ReplicaSet', { namespace: name }),
  ]);
  const related = { pods: pods.items as HealthObject[], replicaSets: replicaSets.items as HealthObject[] };
  const failing: string[] = [];
  const waiting: string[] = [];
  for (const o of objects.flat()) {
    const h = computeHealth(o as HealthObject, related);
    const ref = formatObjectId(
      objectId({ apiVersion: o.apiVersion ?? 'v1', kind: o.kind ?? '', metadata: o.metadata }),
    );
    if (h.status === 'Failed') failing.push(`${ref} ${h.message}`);
    else if (h.status === 'InProgress' || h.status === 'Unknown' || h.status === 'Terminating') {
      // A snapshot cannot wait out a grace period: a pod that cannot pull or crash-loops is failing now.
      const problem = failFastProblems(o as HealthObject, related)[0];
      if (problem) failing.push(`${ref} ${problem.state}`);
      else waiting.push(`${ref} ${h.message}`);
    }
  }
  return { failing, waiting, judged: kinds.length, pods: pods.items };
}

interface ContainerStatus {
  image?: string;
  imageID?: string;
  containerID?: string;
}

/**
 * The digests the running pods' containers report, by the image reference in their spec: the kubelet's
 * `imageID` (`docker.io/library/redis@sha256:…`, or `docker-pullable://…` from older runtimes). Pods
 * being deleted and containers not started (no imageID yet) are left out.
 */
export function runningDigests(pods: readonly LiveObject[]): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const pod of pods) {
    if (pod.metadata.deletionTimestamp) continue;
    const spec = (pod.spec ?? {}) as {
      containers?: { name: string; image?: string }[];
      initContainers?: { name: string; image?: string }[];
    };
    const status = (pod.status ?? {}) as {
      containerStatuses?: (ContainerStatus & { name: string })[];
      initContainerStatuses?: (ContainerStatus & { name: string })[];
    };
    const specs = [...(spec.containers ?? []), ...(spec.initContainers ?? [])];
    for (const s of [...(status.containerStatuses ?? []), ...(status.initContainerStatuses ?? [])]) {
      const image = specs.find((c) => c.name === s.name)?.image;
      const digest = /@(sha256:[a-f0-9]{64})$/.exec(s.imageID ?? '')?.[1];
      if (!image || !digest) continue;
      const set = out.get(image) ?? new Set<string>();
      set.add(digest);
      out.set(image, set);
    }
  }
  return out;
}
