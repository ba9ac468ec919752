// Pod Security for previews. A preview runs code from a pull request — possibly a fork's — so its pods
// must not reach the node: the preview namespace is labelled for Kubernetes' own Pod Security
// Admission, and the rendered pod templates are checked against the Baseline rules before any write,
// so the refusal names the object and the field even on clusters without the admission plugin.
import type { KubeObject } from '../model/kube-object.js';

export const POD_SECURITY_LEVELS = ['privileged', 'baseline', 'restricted'] as const;
export type PodSecurityLevel = (typeof POD_SECURITY_LEVELS)[number];

/** The namespace labels that make the API server enforce (and warn about) `level`. */
export function podSecurityLabels(level: PodSecurityLevel): Record<string, string> {
  return {
    'pod-security.kubernetes.io/enforce': level,
    'pod-security.kubernetes.io/enforce-version': 'latest',
    'pod-security.kubernetes.io/warn': level,
    'pod-security.kubernetes.io/warn-version': 'latest',
  };
}

/** Capabilities the Baseline profile allows a container to add. */
const BASELINE_CAPABILITIES = new Set([
  'AUDIT_WRITE',
  'CHOWN',
  'DAC_OVERRIDE',
  'FOWNER',
  'FSETID',
  'KILL',
  'MKNOD',
  'NET_BIND_SERVICE',
  'SETFCAP',
  'SETGID',
  'SETPCAP',
  'SETUID',
  'SYS_CHROOT',
]);

type Json = Record<string, unknown>;

function obj(v: unknown): Json {
  return v && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : {};
}

function list(v: unknown): Json[] {
  return Array.isArray(v) ? v.map(obj) : [];
}

/** The pod spec inside a workload (and its path, for messages), or undefined for other kinds. */
export function podSpecOf(o: KubeObject): { spec: Json; path: string } | undefined {
  const spec = obj(o.spec);
  switch (o.kind) {
    case 'Pod':
      return { spec, path: 'spec' };
    case 'Deployment':
    case 'StatefulSet':
    case 'DaemonSet':
    case 'ReplicaSet':
    case 'Job':
    case 'ReplicationController':
      return { spec: obj(obj(spec.template).spec), path: 'spec.template.spec' };
    case 'CronJob':
      return {
        spec: obj(obj(obj(obj(spec.jobTemplate).spec).template).spec),
        path: 'spec.jobTemplate.spec.template.spec',
      };
    default:
      return undefined;
  }
}

/**
 * What in `o`'s pod template breaks the Baseline profile (the node-escape rules: privileged
 * containers, host namespaces, hostPath volumes, host ports, added capabilities outside the Baseline
 * set, Unconfined seccomp, unmasked /proc). Empty for `privileged`. `restricted` is checked here at
 * its Baseline part; the rest of it is left to the cluster's admission, which the namespace label enables.
 */
export function podSecurityViolations(o: KubeObject, level: PodSecurityLevel): string[] {
  if (level === 'privileged') return [];
  const found = podSpecOf(o);
  if (!found) return [];
  const { spec, path } = found;
  const out: string[] = [];
  for (const field of ['hostNetwork', 'hostPID', 'hostIPC'] as const) {
    if (spec[field] === true) out.push(`${path}.${field} is true`);
  }
  for (const v of list(spec.volumes)) {
    if (v.hostPath !== undefined) out.push(`${path}.volumes[name=${String(v.name)}] is a hostPath volume`);
  }
  if (obj(obj(spec.securityContext).seccompProfile).type === 'Unconfined') {
    out.push(`${path}.securityContext.seccompProfile.type is Unconfined`);
  }
  for (const key of ['initContainers', 'containers', 'ephemeralContainers'] as const) {
    for (const c of list(spec[key])) {
      const where = `${path}.${key}[name=${String(c.name)}]`;
      const sc = obj(c.securityContext);
      if (sc.privileged === true) out.push(`${where}.securityContext.privileged is true`);
      if (sc.procMount !== undefined && sc.procMount !== 'Default')
        out.push(`${where}.securityContext.procMount is ${String(sc.procMount)}`);
      if (obj(sc.seccompProfile).type === 'Unconfined')
        out.push(`${where}.securityContext.seccompProfile.type is Unconfined`);
      const added = (Array.isArray(obj(sc.capabilities).add) ? (obj(sc.capabilities).add as unknown[]) : [])
        .map(String)
        .filter((cap) => !BASELINE_CAPABILITIES.has(cap.replace(/^CAP_/, '')));
      if (added.length) out.push(`${where}.securityContext.capabilities.add has ${added.join(', ')}`);
      for (const p of list(c.ports)) {
        if (typeof p.hostPort === 'number' && p.hostPort !== 0)
          out.push(`${where}.ports uses hostPort ${p.hostPort}`);
      }
    }
  }
  return out.map((v) => `${v} (not allowed by the ${level} Pod Security level)`);
}
