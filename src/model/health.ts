// Whether an applied object is up, as one pure function of the object (kstatus' Compute,
// gitops-engine's GetResourceHealth): a table of the kinds whose readiness we know, a generic rule on
// status.conditions and observedGeneration for every other kind, and the fail-fast rules that say
// when a pod can no longer succeed on its own. The waiter (kube/wait.ts) only watches and feeds it.
import { apiGroup } from './kube-object.js';

export type HealthStatus =
  'InProgress' | 'Current' | 'Failed' | 'Terminating' | 'NotFound' | 'Suspended' | 'Unknown';

export interface Health {
  status: HealthStatus;
  /** What a person would want to read: '2/2 available', 'complete', 'ImagePullBackOff', … */
  message: string;
}

export interface Condition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
  lastTransitionTime?: string;
  lastUpdateTime?: string;
}

/** The fields of a live object the health rules read (a LiveObject fits). */
export interface HealthObject {
  apiVersion?: string;
  kind?: string;
  metadata: {
    name: string;
    uid?: string;
    generation?: number;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    ownerReferences?: { uid: string }[];
    deletionTimestamp?: string;
  };
  spec?: Record<string, unknown>;
  status?: Record<string, unknown>;
}

/** Objects that tell more about an object than its own status: a Deployment's ReplicaSets. */
export interface Related {
  replicaSets?: Iterable<HealthObject>;
}

/** Restarts after which a container that keeps exiting with an error counts as crash-looping. */
export const CRASH_RESTARTS = 3;

const REVISION_ANNOTATION = 'deployment.kubernetes.io/revision';

const num = (v: unknown): number => (typeof v === 'number' ? v : 0);
const progressing = (message: string): Health => ({ status: 'InProgress', message });
const current = (message: string): Health => ({ status: 'Current', message });
const failed = (message: string): Health => ({ status: 'Failed', message });

function conditionsOf(o: HealthObject): Condition[] {
  const c = o.status?.conditions;
  return Array.isArray(c) ? (c as Condition[]) : [];
}

function condition(o: HealthObject, type: string): Condition | undefined {
  return conditionsOf(o).find((c) => c.type === type);
}

/** `Reason: message`, either part omitted when absent. */
function describeCondition(c: Condition, fallback: string): string {
  const reason = c.reason || fallback;
  return c.message ? `${reason}: ${c.message}` : reason;
}

/** The controller has seen the latest spec (status.observedGeneration caught up with generation). */
function observed(o: HealthObject): boolean {
  const seen = o.status?.observedGeneration;
  return typeof seen === 'number' && seen >= (o.metadata.generation ?? 0);
}

const NOT_OBSERVED = progressing('waiting for the rollout to be observed');

/** The health of an object, or NotFound when it does not exist. */
export function computeHealth(obj: HealthObject | undefined, related: Related = {}): Health {
  if (!obj) return { status: 'NotFound', message: 'not found' };
  if (obj.metadata.deletionTimestamp) return { status: 'Terminating', message: 'terminating' };
  const known = builtinKind(obj);
  return known ? KINDS[known]!.health(obj, related) : genericHealth(obj);
}

/** Waiting for absence: the object is gone (not merely being deleted). */
export function isGone(h: Health): boolean {
  return h.status === 'NotFound';
}

/**
 * Settled for a wait: up (Current), or Suspended, which will not progress until someone resumes it
 * and so must not hold a rollout until the timeout.
 */
export function isSettledOk(h: Health): boolean {
  return h.status === 'Current' || h.status === 'Suspended';
}

type Rule = (o: HealthObject, related: Related) => Health;

/** The kinds whose readiness we know, with their API group. */
const KINDS: Record<string, { group: string; health: Rule }> = {
  Deployment: { group: 'apps', health: deploymentHealth },
  StatefulSet: { group: 'apps', health: statefulSetHealth },
  DaemonSet: { group: 'apps', health: daemonSetHealth },
  ReplicaSet: { group: 'apps', health: replicaSetHealth },
  ReplicationController: { group: '', health: replicaSetHealth },
  Job: { group: 'batch', health: jobHealth },
  CronJob: {
    group: 'batch',
    health: (o) => (o.spec?.suspend === true ? suspended('spec.suspend') : current('scheduled')),
  },
  Pod: { group: '', health: podHealth },
  PersistentVolumeClaim: { group: '', health: claimHealth },
  Service: { group: '', health: serviceHealth },
  // Ingress controllers differ on status.loadBalancer.ingress: many (and most on preview clusters)
  // never set it, so waiting for it would time every such preview out. Whether the route answers is
  // the URL probe's job.
  Ingress: { group: 'networking.k8s.io', health: () => current('applied') },
  // Gateway API: a Gateway routes nothing until a controller of its class has programmed it, and a
  // route serves nothing until its Gateway has accepted it — a URL is not ready before that.
  Gateway: { group: 'gateway.networking.k8s.io', health: gatewayHealth },
  HTTPRoute: { group: 'gateway.networking.k8s.io', health: routeHealth },
  GRPCRoute: { group: 'gateway.networking.k8s.io', health: routeHealth },
};

/** Programmed=True; no conditions yet means no controller of its GatewayClass has seen it. */
function gatewayHealth(o: HealthObject): Health {
  const programmed = condition(o, 'Programmed');
  const accepted = condition(o, 'Accepted');
  if (programmed?.status === 'True') return current('programmed');
  if (accepted?.status === 'False') return failed(describeCondition(accepted, 'NotAccepted'));
  if (programmed?.status === 'False' && programmed.reason && programmed.reason !== 'Pending')
    return progressing(describeCondition(programmed, 'NotProgrammed'));
  const cls = typeof o.spec?.gatewayClassName === 'string' ? o.spec.gatewayClassName : '?';
  return progressing(`waiting for a controller of GatewayClass "${cls}" to program it`);
}

/**
 * Accepted by every Gateway it names (status.parents); a parent that refuses it (no listener for its
 * hostnames, not allowed from this namespace) fails it with the Gateway's reason.
 */
function routeHealth(o: HealthObject): Health {
  const parents = (Array.isArray(o.status?.parents) ? o.status.parents : []) as {
    parentRef?: { name?: string };
    conditions?: Condition[];
  }[];
  const wanted = Array.isArray(o.spec?.parentRefs) ? o.spec.parentRefs.length : 0;
  for (const p of parents) {
    const accepted = p.conditions?.find((c) => c.type === 'Accepted');
    if (accepted?.status === 'False')
      return failed(
        `not accepted by Gateway ${p.parentRef?.name ?? '?'}: ${describeCondition(accepted, 'NotAccepted')}`,
      );
  }
  const ok = parents.filter((p) => p.conditions?.some((c) => c.type === 'Accepted' && c.status === 'True'));
  if (ok.length > 0 && ok.length >= wanted) return current('accepted');
  return progressing(`waiting for its Gateway${wanted === 1 ? '' : 's'} to accept it`);
}

/**
 * The object's kind when the table knows it. The table is for Kubernetes' own kinds: a CRD of
 * another group may reuse a name such as `Job`. Without an apiVersion (list items carry none) the
 * object is taken as the built-in kind.
 */
function builtinKind(o: { apiVersion?: string; kind?: string }): string | undefined {
  const known = o.kind ? KINDS[o.kind] : undefined;
  if (!known) return undefined;
  return o.apiVersion === undefined || apiGroup(o.apiVersion) === known.group ? o.kind : undefined;
}

function suspended(field: string): Health {
  return { status: 'Suspended', message: `suspended (${field})` };
}

/** `kubectl rollout status deployment`, plus spec.paused and ReplicaFailure. */
function deploymentHealth(o: HealthObject, related: Related): Health {
  // A paused Deployment does not roll out until someone resumes it.
  if (o.spec?.paused === true) return suspended('spec.paused');
  if (!observed(o)) return NOT_OBSERVED;
  const st = o.status ?? {};
  if (condition(o, 'Progressing')?.reason === 'ProgressDeadlineExceeded') {
    // Why it made no progress, when the controller says (a quota, Pod Security): that is the headline.
    const why = replicaFailure(o) ?? currentReplicaSetFailure(o, related.replicaSets);
    return failed(why ? `ProgressDeadlineExceeded: ${why}` : 'ProgressDeadlineExceeded');
  }
  const desired = o.spec?.replicas === undefined ? 1 : num(o.spec.replicas);
  const updated = num(st.updatedReplicas);
  const replicas = num(st.replicas);
  const available = num(st.availableReplicas);
  const waiting = (message: string): Health =>
    progressing(replicaFailure(o) ?? currentReplicaSetFailure(o, related.replicaSets) ?? message);
  if (updated < desired) return waiting(`${updated}/${desired} updated`);
  if (replicas > updated) return waiting(`${replicas - updated} old replica(s) terminating`);
  if (available < updated) return waiting(`${available}/${desired} available`);
  return current(`${available}/${desired} available`);
}

function statefulSetHealth(o: HealthObject): Health {
  if (!observed(o)) return NOT_OBSERVED;
  const st = o.status ?? {};
  const desired = o.spec?.replicas === undefined ? 1 : num(o.spec.replicas);
  const ready = num(st.readyReplicas);
  const updated = num(st.updatedReplicas);
  const strategy = o.spec?.updateStrategy as
    { type?: string; rollingUpdate?: { partition?: number } } | undefined;
  if (ready < desired) return progressing(`${ready}/${desired} ready`);
  // OnDelete: pods change only when someone deletes them, so the update revision is not awaited.
  if (strategy?.type !== 'OnDelete') {
    const partition = strategy?.rollingUpdate?.partition ?? 0;
    if (partition > 0) {
      // Only ordinals at or above the partition are updated.
      if (updated < desired - partition) return progressing(`${updated}/${desired - partition} updated`);
    } else if (st.updateRevision !== undefined && st.currentRevision !== st.updateRevision) {
      return progressing(`${updated}/${desired} updated`);
    }
  }
  return current(`${ready}/${desired} ready`);
}

function daemonSetHealth(o: HealthObject): Health {
  if (!observed(o)) return NOT_OBSERVED;
  const st = o.status ?? {};
  const desired = num(st.desiredNumberScheduled);
  const updated = num(st.updatedNumberScheduled);
  const available = num(st.numberAvailable);
  if (updated < desired) return progressing(`${updated}/${desired} updated`);
  if (available < desired) return progressing(`${available}/${desired} available`);
  return current(`${available}/${desired} available`);
}

/** ReplicaSet and ReplicationController: their status has the same fields. */
function replicaSetHealth(o: HealthObject): Health {
  if (!observed(o)) return NOT_OBSERVED;
  const st = o.status ?? {};
  const desired = o.spec?.replicas === undefined ? 1 : num(o.spec.replicas);
  const available = num(st.availableReplicas);
  if (available < desired) return progressing(replicaFailure(o) ?? `${available}/${desired} available`);
  return current(`${available}/${desired} available`);
}

function jobHealth(o: HealthObject): Health {
  // FailureTarget comes first (since 1.31) while the failed Job's pods are still being stopped.
  const failure = [condition(o, 'Failed'), condition(o, 'FailureTarget')].find((c) => c?.status === 'True');
  if (failure) return failed(`Failed${failure.reason ? `: ${failure.reason}` : ''}`);
  if (condition(o, 'Complete')?.status === 'True') return current('complete');
  if (o.spec?.suspend === true) return suspended('spec.suspend');
  const completions = o.spec?.completions === undefined ? 1 : num(o.spec.completions);
  return progressing(`${num(o.status?.succeeded)}/${completions} succeeded`);
}

/** A bare Pod: its phase and readiness; why it waits, as the STATUS column of kubectl get pods. */
function podHealth(o: HealthObject): Health {
  const phase = typeof o.status?.phase === 'string' ? o.status.phase : 'Pending';
  switch (phase) {
    case 'Succeeded':
      return current('succeeded');
    case 'Failed': {
      const st = o.status ?? {};
      const why = typeof st.reason === 'string' ? st.reason : terminatedReason(o);
      return failed(why ? `Failed: ${why}` : 'Failed');
    }
    case 'Unknown':
      // The node stopped reporting: nothing to say until it does.
      return { status: 'Unknown', message: 'node not reporting' };
  }
  if (phase === 'Running' && condition(o, 'Ready')?.status === 'True') return current('running');
  return progressing(unschedulable(o)?.state ?? waitingReason(o) ?? phase);
}

/** The first container's waiting reason, `Init:` for init containers, as kubectl shows it. */
function waitingReason(pod: HealthObject): string | undefined {
  for (const { status, init } of containers(pod)) {
    const reason = status.state?.waiting?.reason;
    if (reason) return init ? `Init:${reason}` : reason;
  }
  return undefined;
}

function terminatedReason(pod: HealthObject): string | undefined {
  for (const { status } of containers(pod)) {
    const t = status.state?.terminated;
    if (t && t.exitCode !== 0) return t.reason ?? `exit code ${t.exitCode}`;
  }
  return undefined;
}

function claimHealth(o: HealthObject): Health {
  const phase = typeof o.status?.phase === 'string' ? o.status.phase : 'Pending';
  // Lost: the bound volume is gone; the claim never recovers on its own.
  if (phase === 'Lost') return failed('Lost: its volume no longer exists');
  return phase === 'Bound' ? current('Bound') : progressing(phase);
}

function serviceHealth(o: HealthObject): Health {
  if (o.spec?.type !== 'LoadBalancer') return current('applied');
  const lb = o.status?.loadBalancer as { ingress?: unknown[] } | undefined;
  return lb?.ingress?.length
    ? current('load balancer ready')
    : progressing('waiting for a load balancer address');
}

/**
 * Every other kind (custom resources included), the kstatus way: a controller that has not seen
 * the latest generation is in progress; Stalled, Reconciling and Ready conditions say the rest; an
 * object without status (ConfigMap, Secret, RBAC, a CR nobody reconciles) is Current once applied.
 */
function genericHealth(o: HealthObject): Health {
  const st = o.status;
  if (!st || Object.keys(st).length === 0) return current('applied');
  const seen = st.observedGeneration;
  if (typeof seen === 'number' && seen < (o.metadata.generation ?? 0)) {
    return progressing(`waiting for generation ${o.metadata.generation} to be observed`);
  }
  const stalled = condition(o, 'Stalled');
  if (stalled?.status === 'True') return failed(describeCondition(stalled, 'Stalled'));
  const reconciling = condition(o, 'Reconciling');
  if (reconciling?.status === 'True') return progressing(describeCondition(reconciling, 'Reconciling'));
  const ready = condition(o, 'Ready');
  if (ready?.status === 'True') return current('Ready');
  // Ready=False may be a hopeless error or a step on the way; its reasons are the controller's own
  // vocabulary, so we cannot tell which: the timeout decides, the message says why.
  if (ready) return progressing(`Ready=${ready.status}: ${describeCondition(ready, 'NotReady')}`);
  return current('applied');
}

// --- Deployments and their ReplicaSets -------------------------------------------------------

/** A ReplicaFailure=True condition as the state to report: `FailedCreate: pods "web-…" is forbidden: …`. */
function replicaFailure(o: HealthObject): string | undefined {
  const c = condition(o, 'ReplicaFailure');
  return c?.status === 'True' ? describeCondition(c, 'ReplicaFailure') : undefined;
}

/** The Deployment's ReplicaSet at its current revision (the annotation both carry). */
function currentReplicaSet(
  deployment: HealthObject,
  replicaSets: Iterable<HealthObject> | undefined,
): HealthObject | undefined {
  const revision = deployment.metadata.annotations?.[REVISION_ANNOTATION];
  if (!revision || !replicaSets) return undefined;
  for (const rs of replicaSets) {
    if (!rs.metadata.ownerReferences?.some((r) => r.uid === deployment.metadata.uid)) continue;
    if (rs.metadata.annotations?.[REVISION_ANNOTATION] === revision) return rs;
  }
  return undefined;
}

/** The Deployment's copy of ReplicaFailure lags its ReplicaSet's: the current one says it first. */
function currentReplicaSetFailure(
  deployment: HealthObject,
  replicaSets: Iterable<HealthObject> | undefined,
): string | undefined {
  const rs = currentReplicaSet(deployment, replicaSets);
  return rs ? replicaFailure(rs) : undefined;
}

/**
 * Which of a workload's pods belong to the revision being rolled out, so that a pod of the previous
 * revision still crash-looping (it stays until its replacement is available) cannot fail a good
 * rollout. undefined: the current revision is not known yet, so no pod is judged (the timeout and
 * ProgressDeadlineExceeded still apply).
 * - Deployment: pods whose pod-template-hash is that of its ReplicaSet carrying the Deployment's
 *   revision annotation.
 * - StatefulSet: pods whose controller-revision-hash is status.updateRevision.
 * - Others (DaemonSet, Job, ReplicaSet, ReplicationController): every pod they select (a DaemonSet's
 *   status names no update revision; the others' pods are all of their one template).
 */
export function currentRevisionPods(
  kind: string,
  w: HealthObject,
  replicaSets: Iterable<HealthObject>,
): ((pod: HealthObject) => boolean) | undefined {
  switch (kind) {
    case 'Deployment': {
      if (!observed(w)) return undefined;
      const hash = currentReplicaSet(w, replicaSets)?.metadata.labels?.['pod-template-hash'];
      return hash === undefined ? undefined : (pod) => pod.metadata.labels?.['pod-template-hash'] === hash;
    }
    case 'StatefulSet': {
      const revision = w.status?.updateRevision;
      if (!observed(w) || typeof revision !== 'string' || !revision) return undefined;
      return (pod) => pod.metadata.labels?.['controller-revision-hash'] === revision;
    }
    default:
      return () => true;
  }
}

/**
 * The labels a workload selects its pods by: spec.selector.matchLabels, or a ReplicationController's
 * plain spec.selector map. matchExpressions are not read: kustomize-rendered apps select by labels.
 */
function podLabels(w: HealthObject): Record<string, string> | undefined {
  const sel = w.spec?.selector as Record<string, unknown> | undefined;
  if (!sel) return undefined;
  const labels = (w.kind === 'ReplicationController' ? sel : sel.matchLabels) as
    Record<string, string> | undefined;
  return labels && Object.keys(labels).length ? labels : undefined;
}

/** Kinds whose pods the fail-fast rules look at (a bare Pod is its own). */
const POD_OWNERS = new Set([
  'Deployment',
  'StatefulSet',
  'DaemonSet',
  'ReplicaSet',
  'ReplicationController',
  'Job',
]);

/** Whether the fail-fast rules need to see pods to judge this object (a bare Pod included). */
export function ownsPods(o: { apiVersion?: string; kind?: string }): boolean {
  const kind = builtinKind(o);
  return kind === 'Pod' || (kind !== undefined && POD_OWNERS.has(kind));
}

/** The pods of a workload's current revision that the fail-fast rules judge (none while unknown). */
export function podsToJudge(
  w: HealthObject,
  pods: Iterable<HealthObject>,
  replicaSets: Iterable<HealthObject>,
): HealthObject[] {
  const kind = builtinKind(w);
  if (kind === 'Pod') return [w];
  if (kind === undefined || !POD_OWNERS.has(kind)) return [];
  const labels = podLabels(w);
  const isCurrent = currentRevisionPods(kind, w, replicaSets);
  if (!labels || !isCurrent) return [];
  const out: HealthObject[] = [];
  for (const pod of pods) {
    if (pod.metadata.deletionTimestamp) continue;
    if (!Object.entries(labels).every(([k, v]) => pod.metadata.labels?.[k] === v)) continue;
    if (isCurrent(pod)) out.push(pod);
  }
  return out;
}

// --- fail-fast rules ---------------------------------------------------------------------------

/**
 * Something that will not fix itself. `key` names it across observations (the waiter measures how
 * long it has lasted); `immediate` problems need no grace period, the others fail the object once
 * they have lasted it (the kubelet retries for minutes and rarely recovers).
 */
export interface Problem {
  key: string;
  /** The state to report: 'ImagePullBackOff', 'Init:CrashLoopBackOff', 'FailedScheduling: 0/1 nodes …'. */
  state: string;
  immediate: boolean;
}

export interface ContainerStatus {
  name: string;
  ready?: boolean;
  restartCount?: number;
  state?: {
    waiting?: { reason?: string; message?: string };
    terminated?: { reason?: string; exitCode?: number; message?: string };
    running?: unknown;
  };
  lastState?: { terminated?: { reason?: string; exitCode?: number } };
}

/** A container's status and whether it is an init container. */
interface ContainerView {
  status: ContainerStatus;
  init: boolean;
}

/** Init containers first (they run first), then the app containers. */
function containers(pod: HealthObject): ContainerView[] {
  const list = (field: string): ContainerStatus[] => {
    const v = pod.status?.[field];
    return Array.isArray(v) ? (v as ContainerStatus[]) : [];
  };
  return [
    ...list('initContainerStatuses').map((status) => ({ status, init: true })),
    ...list('containerStatuses').map((status) => ({ status, init: false })),
  ];
}

/** A container problem rule: its reasons, or undefined when the rule does not apply. */
type ContainerRule = (c: ContainerStatus) => { rule: string; reason: string; immediate: boolean } | undefined;

const IMAGE_PULL_REASONS = new Set([
  'ImagePullBackOff',
  'ErrImagePull',
  'InvalidImageName',
  'ErrImageNeverPull',
  'ImageInspectError',
]);

/** The image cannot be pulled: the kubelet alternates ErrImagePull and ImagePullBackOff, one rule. */
export const imagePullProblem: ContainerRule = (c) => {
  const reason = c.state?.waiting?.reason;
  return reason && IMAGE_PULL_REASONS.has(reason)
    ? { rule: 'image-pull', reason, immediate: false }
    : undefined;
};

/**
 * A crash loop. Repeated non-zero exits are proof enough at once: a crash-looping container shows
 * Running for a moment between back-offs, which would restart any grace period on every restart.
 */
export const crashLoopProblem: ContainerRule = (c) => {
  if ((c.restartCount ?? 0) >= CRASH_RESTARTS && !c.ready && (c.lastState?.terminated?.exitCode ?? 0) !== 0) {
    return { rule: 'crash-loop', reason: 'CrashLoopBackOff', immediate: true };
  }
  const reason = c.state?.waiting?.reason;
  return reason === 'CrashLoopBackOff' || reason === 'RunContainerError'
    ? { rule: 'crash-loop', reason, immediate: false }
    : undefined;
};

/**
 * The container cannot be created: a missing ConfigMap/Secret (key), a bad command. Graced: the
 * missing object may be applied a moment later.
 */
export const containerConfigProblem: ContainerRule = (c) => {
  const reason = c.state?.waiting?.reason;
  return reason === 'CreateContainerConfigError' || reason === 'CreateContainerError'
    ? { rule: 'container-config', reason, immediate: false }
    : undefined;
};

const CONTAINER_RULES = [crashLoopProblem, imagePullProblem, containerConfigProblem];

/** The scheduler found no node: PodScheduled=False (Unschedulable) with the scheduler's message. */
export function unschedulable(pod: HealthObject): Problem | undefined {
  const c = condition(pod, 'PodScheduled');
  if (c?.status !== 'False' || c.reason !== 'Unschedulable') return undefined;
  return {
    key: `${pod.metadata.name}/unschedulable`,
    state: c.message ? `FailedScheduling: ${c.message}` : 'FailedScheduling',
    immediate: false,
  };
}

/**
 * What in one pod will not fix itself: its scheduling, then each container (init containers
 * reported as `Init:<reason>`, as kubectl does).
 */
export function podProblems(pod: HealthObject): Problem[] {
  const out: Problem[] = [];
  const noNode = unschedulable(pod);
  if (noNode) out.push(noNode);
  for (const { status, init } of containers(pod)) {
    for (const rule of CONTAINER_RULES) {
      const hit = rule(status);
      if (!hit) continue;
      out.push({
        key: `${pod.metadata.name}/${init ? 'init:' : ''}${status.name}/${hit.rule}`,
        state: init ? `Init:${hit.reason}` : hit.reason,
        immediate: hit.immediate,
      });
      break;
    }
  }
  return out;
}

/**
 * Everything about a not-yet-ready object that will not fix itself: a ReplicaFailure (the controller
 * may not create pods, as when a ResourceQuota rejects them) and the problems of the pods of its
 * current revision.
 */
export function failFastProblems(
  obj: HealthObject,
  related: { pods: Iterable<HealthObject>; replicaSets: Iterable<HealthObject> },
): Problem[] {
  const out: Problem[] = [];
  const kind = builtinKind(obj);
  // A condition from before the latest spec was observed may no longer hold.
  const replicated = kind === 'Deployment' || kind === 'ReplicaSet' || kind === 'ReplicationController';
  if (replicated && observed(obj)) {
    const failure =
      replicaFailure(obj) ??
      (kind === 'Deployment' ? currentReplicaSetFailure(obj, related.replicaSets) : undefined);
    if (failure)
      out.push({ key: `${kind}/${obj.metadata.name}/ReplicaFailure`, state: failure, immediate: false });
  }
  for (const pod of podsToJudge(obj, related.pods, related.replicaSets)) out.push(...podProblems(pod));
  return out;
}

/**
 * Kinds whose health is settled by applying them (no status, or a status with no bearing on
 * readiness): the waiter need not watch them. Keyed `group/Kind`.
 */
const SETTLED_ON_APPLY = new Set([
  '/ConfigMap',
  '/Secret',
  '/ServiceAccount',
  '/Endpoints',
  '/LimitRange',
  '/ResourceQuota',
  'rbac.authorization.k8s.io/Role',
  'rbac.authorization.k8s.io/RoleBinding',
  'networking.k8s.io/NetworkPolicy',
  'networking.k8s.io/Ingress',
  'discovery.k8s.io/EndpointSlice',
  'policy/PodDisruptionBudget',
  'autoscaling/HorizontalPodAutoscaler',
]);

/** Whether an applied object's health can change after apply, so the waiter must watch its kind. */
export function needsWatch(o: { apiVersion: string; kind: string; spec?: unknown }): boolean {
  const group = apiGroup(o.apiVersion);
  if (SETTLED_ON_APPLY.has(`${group}/${o.kind}`)) return false;
  if (group === '' && o.kind === 'Service') {
    return (o.spec as { type?: unknown } | undefined)?.type === 'LoadBalancer';
  }
  return true;
}
