// Apply order: what other objects depend on goes first, so a Deployment never starts before its ConfigMap,
// ServiceAccount or RBAC exists, and routes come last when their backends are there.
import { apiGroup, type KubeObject } from '../model/kube-object.js';

export const WAVE_CRDS = 0;
export const WAVE_CONFIG = 1;
export const WAVE_RBAC = 2;
export const WAVE_SERVICES = 3;
export const WAVE_WORKLOADS = 4;
/** Ingress, HTTPRoute and every kind not listed here. */
export const WAVE_LAST = 5;

const WAVES = new Map<string, number>([
  ['apiextensions.k8s.io/CustomResourceDefinition', WAVE_CRDS],
  ['/Namespace', WAVE_CRDS],
  ['/ServiceAccount', WAVE_CONFIG],
  ['/ConfigMap', WAVE_CONFIG],
  ['/Secret', WAVE_CONFIG],
  ['/PersistentVolumeClaim', WAVE_CONFIG],
  ['/ResourceQuota', WAVE_CONFIG],
  ['/LimitRange', WAVE_CONFIG],
  // Isolation before any pod runs.
  ['networking.k8s.io/NetworkPolicy', WAVE_CONFIG],
  ['rbac.authorization.k8s.io/Role', WAVE_RBAC],
  ['rbac.authorization.k8s.io/RoleBinding', WAVE_RBAC],
  ['rbac.authorization.k8s.io/ClusterRole', WAVE_RBAC],
  ['rbac.authorization.k8s.io/ClusterRoleBinding', WAVE_RBAC],
  ['/Service', WAVE_SERVICES],
  ['apps/Deployment', WAVE_WORKLOADS],
  ['apps/StatefulSet', WAVE_WORKLOADS],
  ['apps/DaemonSet', WAVE_WORKLOADS],
  ['apps/ReplicaSet', WAVE_WORKLOADS],
  ['batch/Job', WAVE_WORKLOADS],
  ['batch/CronJob', WAVE_WORKLOADS],
  ['/Pod', WAVE_WORKLOADS],
  ['autoscaling/HorizontalPodAutoscaler', WAVE_WORKLOADS],
  ['policy/PodDisruptionBudget', WAVE_WORKLOADS],
]);

/** The wave an object is applied in (0 first); matched on group and kind, so a CRD kind named `Service` goes last. */
export function waveOf(o: KubeObject): number {
  return WAVES.get(`${apiGroup(o.apiVersion)}/${o.kind}`) ?? WAVE_LAST;
}

/**
 * The objects grouped by wave, in apply order: CRDs → ServiceAccount/ConfigMap/Secret/PVC/quotas → RBAC →
 * Services → workloads → Ingress/HTTPRoute/NetworkPolicy and unknown kinds. Only non-empty waves are
 * returned; inside a wave the input order is kept.
 */
export function groupIntoWaves(objects: KubeObject[]): KubeObject[][] {
  const waves: KubeObject[][] = Array.from({ length: WAVE_LAST + 1 }, () => []);
  for (const o of objects) waves[waveOf(o)].push(o);
  return waves.filter((w) => w.length > 0);
}
