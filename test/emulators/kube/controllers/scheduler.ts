// The simulated kube-scheduler: binds each new pod to a node that fits it, or leaves it Pending
// with PodScheduled=False/Unschedulable and a FailedScheduling event in the scheduler's words.
// Filters, in the default profile's order, first failure per node: TaintToleration, NodeAffinity
// (nodeSelector and required node affinity), NodeResourcesFit (cpu, memory, pod count against the
// requests of the pods already bound). Every pod has priority 0, so preemption never finds victims.
// Unschedulable pods are retried when a pod goes away or a node changes.
import type { KObject } from '../store.js';
import { nowTime, type Runtime } from './runtime.js';
import { type Condition, type PodSpec, podRequests, podTerminal, quantity, setCondition } from './util.js';

const SCHEDULER = 'default-scheduler';
export const SELECTED_NODE = 'volume.kubernetes.io/selected-node';

interface Toleration {
  key?: string;
  operator?: string;
  value?: string;
  effect?: string;
}

interface NodeSelectorRequirement {
  key: string;
  operator: string;
  values?: string[];
}

interface NodeSelectorTerm {
  matchExpressions?: NodeSelectorRequirement[];
  matchFields?: NodeSelectorRequirement[];
}

/** Why a node cannot take the pod: reasons, and whether evicting pods could help. */
interface Misfit {
  reasons: string[];
  resolvable: boolean;
}

export function registerScheduler(rt: Runtime, onBound: (pod: KObject, node: string) => void): void {
  const waiting = new Set<string>(); // ns/name of pods left Pending
  const retryAll = () => {
    for (const key of waiting) {
      const [ns, name] = key.split('/');
      rt.enqueue('Scheduler', ns, name);
    }
  };
  rt.on('Pod', (ev, previous) => {
    const p = ev.object;
    const key = `${p.metadata.namespace}/${p.metadata.name}`;
    if (ev.type === 'DELETED' || (podTerminal(p) && previous && !podTerminal(previous))) {
      waiting.delete(key);
      if ((p.spec as PodSpec | undefined)?.nodeName) retryAll();
      return;
    }
    if (!(p.spec as PodSpec | undefined)?.nodeName && !p.metadata.deletionTimestamp)
      rt.enqueue('Scheduler', p.metadata.namespace ?? '', p.metadata.name ?? '');
  });
  rt.on('Node', () => retryAll());

  rt.reconciler('Scheduler', (ns, name) => {
    const pod = rt.get('Pod', ns, name);
    const spec = pod?.spec as PodSpec | undefined;
    const key = `${ns}/${name}`;
    if (!pod || !spec || spec.nodeName || pod.metadata.deletionTimestamp) {
      waiting.delete(key);
      return;
    }
    if ((spec.schedulerName ?? SCHEDULER) !== SCHEDULER) return;
    const nodes = rt
      .listAll('Node')
      .sort((a, b) => (a.metadata.name ?? '').localeCompare(b.metadata.name ?? ''));
    const misfits = new Map<string, Misfit>();
    const fits: KObject[] = [];
    for (const node of nodes) {
      const m = misfit(rt, pod, spec, node);
      if (m) misfits.set(node.metadata.name ?? '', m);
      else fits.push(node);
    }
    if (fits.length) {
      waiting.delete(key);
      // The least requested node, as the default scoring prefers.
      const node = fits.sort((a, b) => load(rt, a) - load(rt, b))[0];
      bind(rt, pod, node.metadata.name ?? '');
      onBound(rt.get('Pod', ns, name) ?? pod, node.metadata.name ?? '');
      return;
    }
    waiting.add(key);
    const message = unschedulableMessage(nodes.length, [...misfits.values()]);
    const written = rt.mutate('Pod', ns, name, (p) => {
      if (p.metadata.uid !== pod.metadata.uid || (p.spec as PodSpec).nodeName) return false;
      const status = (p.status ?? {}) as { phase?: string; conditions?: Condition[] };
      const conditions = setCondition(
        status.conditions ?? [],
        { type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message },
        nowTime(),
        { probeTime: true },
      );
      if (conditions === status.conditions && status.phase === 'Pending') return false;
      p.status = { ...status, phase: 'Pending', conditions };
    });
    if (written) rt.event(written, 'Warning', 'FailedScheduling', message, SCHEDULER);
  });
}

function bind(rt: Runtime, pod: KObject, node: string): void {
  const ns = pod.metadata.namespace ?? '';
  const name = pod.metadata.name ?? '';
  const bound = rt.mutate('Pod', ns, name, (p) => {
    if (p.metadata.uid !== pod.metadata.uid) return false;
    (p.spec as PodSpec).nodeName = node;
    const status = (p.status ?? {}) as { conditions?: Condition[] };
    p.status = {
      ...status,
      phase: 'Pending',
      conditions: setCondition(status.conditions ?? [], { type: 'PodScheduled', status: 'True' }, nowTime(), {
        probeTime: true,
      }),
    };
  });
  if (bound)
    rt.event(bound, 'Normal', 'Scheduled', `Successfully assigned ${ns}/${name} to ${node}`, SCHEDULER);
}

/** Pods bound to a node that still hold their resources. */
function podsOn(rt: Runtime, node: string): KObject[] {
  return rt
    .listAll('Pod')
    .filter((p) => (p.spec as PodSpec | undefined)?.nodeName === node && !podTerminal(p));
}

function load(rt: Runtime, node: KObject): number {
  const alloc = allocatable(node);
  const used = podsOn(rt, node.metadata.name ?? '').reduce(
    (n, p) => n + podRequests(p.spec as PodSpec).cpu,
    0,
  );
  return alloc.cpu ? used / alloc.cpu : 0;
}

function allocatable(node: KObject): { cpu: number; memory: number; pods: number } {
  const a = ((node.status as { allocatable?: Record<string, string> } | undefined)?.allocatable ??
    {}) as Record<string, string>;
  return { cpu: quantity(a.cpu), memory: quantity(a.memory), pods: quantity(a.pods) };
}

function misfit(rt: Runtime, pod: KObject, spec: PodSpec, node: KObject): Misfit | undefined {
  const taints = ((node.spec as { taints?: Toleration[] } | undefined)?.taints ?? []).filter(
    (t) => t.effect === 'NoSchedule' || t.effect === 'NoExecute',
  );
  const tolerations = (spec.tolerations ?? []) as Toleration[];
  const untolerated = taints.find((t) => !tolerations.some((tol) => tolerates(tol, t)));
  if (untolerated) {
    return {
      reasons: [`node(s) had untolerated taint {${untolerated.key}: ${untolerated.value ?? ''}}`],
      resolvable: false,
    };
  }
  if (!matchesNode(spec, node))
    return { reasons: ["node(s) didn't match Pod's node affinity/selector"], resolvable: false };
  const alloc = allocatable(node);
  const others = podsOn(rt, node.metadata.name ?? '').filter((p) => p.metadata.uid !== pod.metadata.uid);
  const used = { cpu: 0, memory: 0 };
  for (const p of others) {
    const r = podRequests(p.spec as PodSpec);
    used.cpu += r.cpu;
    used.memory += r.memory;
  }
  const want = podRequests(spec);
  const reasons: string[] = [];
  if (others.length + 1 > alloc.pods) reasons.push('Too many pods');
  if (want.cpu > 0 && used.cpu + want.cpu > alloc.cpu + 1e-9) reasons.push('Insufficient cpu');
  if (want.memory > 0 && used.memory + want.memory > alloc.memory) reasons.push('Insufficient memory');
  return reasons.length ? { reasons, resolvable: true } : undefined;
}

function tolerates(tol: Toleration, taint: Toleration): boolean {
  if (tol.effect && tol.effect !== taint.effect) return false;
  if (tol.operator === 'Exists') return !tol.key || tol.key === taint.key;
  return tol.key === taint.key && (tol.value ?? '') === (taint.value ?? '');
}

function matchesNode(spec: PodSpec, node: KObject): boolean {
  const labels = node.metadata.labels ?? {};
  for (const [k, v] of Object.entries(spec.nodeSelector ?? {})) if (labels[k] !== v) return false;
  const affinity = spec.affinity as
    | {
        nodeAffinity?: {
          requiredDuringSchedulingIgnoredDuringExecution?: { nodeSelectorTerms?: NodeSelectorTerm[] };
        };
      }
    | undefined;
  const terms = affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms;
  if (!terms) return true;
  const fields: Record<string, string> = { 'metadata.name': node.metadata.name ?? '' };
  // Terms are ORed, requirements within a term ANDed.
  return terms.some(
    (term) =>
      (term.matchExpressions ?? []).every((r) => requirementMatches(r, labels)) &&
      (term.matchFields ?? []).every((r) => requirementMatches(r, fields)),
  );
}

function requirementMatches(r: NodeSelectorRequirement, labels: Record<string, string>): boolean {
  const has = Object.hasOwn(labels, r.key);
  const v = labels[r.key];
  switch (r.operator) {
    case 'In':
      return has && (r.values ?? []).includes(v);
    case 'NotIn':
      return !has || !(r.values ?? []).includes(v);
    case 'Exists':
      return has;
    case 'DoesNotExist':
      return !has;
    case 'Gt':
      return has && Number(v) > Number(r.values?.[0]);
    case 'Lt':
      return has && Number(v) < Number(r.values?.[0]);
    default:
      return false;
  }
}

/** `0/N nodes are available: … preemption: 0/N nodes are available: ….`, counts sorted by reason. */
export function unschedulableMessage(nodeCount: number, misfits: Misfit[]): string {
  const count = (items: string[]) => {
    const m = new Map<string, number>();
    for (const r of items) m.set(r, (m.get(r) ?? 0) + 1);
    return [...m.keys()]
      .sort()
      .map((r) => `${m.get(r)} ${r}`)
      .join(', ');
  };
  const reasons = count(misfits.flatMap((m) => m.reasons));
  const preemption = count(
    misfits.map((m) =>
      m.resolvable
        ? 'No preemption victims found for incoming pod'
        : 'Preemption is not helpful for scheduling',
    ),
  );
  return `0/${nodeCount} nodes are available: ${reasons}. preemption: 0/${nodeCount} nodes are available: ${preemption}.`;
}
