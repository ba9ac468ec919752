// Pod Security admission (k8s.io/pod-security-admission): the baseline and restricted checks of
// the "latest" policy a kind cluster enforces from namespace labels, worded as the real plugin
// words its denials and warnings. Baseline checks come first, then restricted, each group in the
// registry's (alphabetical) order. AppArmor, SELinux, sysctls and Windows checks are not modelled.
import { isMap } from './patch.js';
import type { KObject } from './store.js';

export type Level = 'privileged' | 'baseline' | 'restricted';
type JsonMap = Record<string, unknown>;

export interface NamespacePolicy {
  enforce?: string;
  warn?: string;
}

const LABEL = 'pod-security.kubernetes.io/';
const BASELINE_CAPS = new Set([
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
const RESTRICTED_VOLUMES = new Set([
  'configMap',
  'csi',
  'downwardAPI',
  'emptyDir',
  'ephemeral',
  'persistentVolumeClaim',
  'projected',
  'secret',
]);

/** `baseline:latest` for the namespace's enforce and warn labels (levels other than privileged). */
export function namespacePolicy(ns: KObject | undefined): NamespacePolicy {
  const labels = ns?.metadata.labels ?? {};
  const mode = (m: 'enforce' | 'warn') => {
    const level = labels[`${LABEL}${m}`];
    if (level !== 'baseline' && level !== 'restricted') return undefined;
    return `${level}:${labels[`${LABEL}${m}-version`] ?? 'latest'}`;
  };
  return { enforce: mode('enforce'), warn: mode('warn') };
}

function maps(v: unknown): JsonMap[] {
  return Array.isArray(v) ? v.filter(isMap) : [];
}

function sc(c: JsonMap): JsonMap {
  return isMap(c.securityContext) ? c.securityContext : {};
}

/** `container "a"` / `containers "a", "b"`. */
function containersPhrase(names: string[], noun = 'container'): string {
  return `${noun}${names.length > 1 ? 's' : ''} ${names.map((n) => JSON.stringify(n)).join(', ')}`;
}

/** What `spec` (a pod spec) does that `policy` ("baseline:latest") forbids, as the real messages. */
export function violations(spec: JsonMap, policy: string): string[] {
  const level = policy.split(':')[0] as Level;
  const containers = [
    ...maps(spec.initContainers),
    ...maps(spec.containers),
    ...maps(spec.ephemeralContainers),
  ];
  const name = (c: JsonMap) => String(c.name ?? '');
  const podSc = isMap(spec.securityContext) ? spec.securityContext : {};
  const volumes = maps(spec.volumes);
  const out: string[] = [];
  const add = (what: string, badNames: string[], detail: (p: string) => string) => {
    if (badNames.length) out.push(`${what} (${detail(containersPhrase(badNames))})`);
  };

  // baseline
  const addCaps = containers.flatMap((c) => {
    const caps = isMap(sc(c).capabilities) ? (sc(c).capabilities as JsonMap) : {};
    return (Array.isArray(caps.add) ? caps.add : [])
      .map(String)
      .filter((cap) => !BASELINE_CAPS.has(cap))
      .map((cap) => ({ c: name(c), cap }));
  });
  if (addCaps.length) {
    const byCap = [...new Set(addCaps.map((x) => x.cap))];
    const names = [...new Set(addCaps.map((x) => x.c))];
    out.push(
      `non-default capabilities (${containersPhrase(names)} must not include ${byCap.map((x) => JSON.stringify(x)).join(', ')} in securityContext.capabilities.add)`,
    );
  }
  const hostNs = ['hostNetwork', 'hostPID', 'hostIPC'].filter((k) => spec[k] === true);
  if (hostNs.length) out.push(`host namespaces (${hostNs.map((k) => `${k}=true`).join(', ')})`);
  const hostPaths = volumes
    .filter((v) => v.hostPath !== undefined)
    .map((v) => JSON.stringify(String(v.name)));
  if (hostPaths.length)
    out.push(`hostPath volumes (volume${hostPaths.length > 1 ? 's' : ''} ${hostPaths.join(', ')})`);
  const ports = containers.flatMap((c) =>
    maps(c.ports)
      .filter((p) => typeof p.hostPort === 'number' && p.hostPort !== 0)
      .map((p) => ({ c: name(c), port: p.hostPort as number })),
  );
  if (ports.length) {
    const names = [...new Set(ports.map((p) => p.c))];
    out.push(
      `hostPort (${containersPhrase(names)} ${names.length > 1 ? 'use' : 'uses'} hostPort${ports.length > 1 ? 's' : ''} ${ports.map((p) => p.port).join(', ')})`,
    );
  }
  add(
    'privileged',
    containers.filter((c) => sc(c).privileged === true).map(name),
    (p) => `${p} must not set securityContext.privileged=true`,
  );
  const unconfined = (x: JsonMap) => isMap(x.seccompProfile) && x.seccompProfile.type === 'Unconfined';
  if (unconfined(podSc) || containers.some((c) => unconfined(sc(c)))) {
    const names = containers.filter((c) => unconfined(sc(c))).map(name);
    const who = [...(unconfined(podSc) ? ['pod'] : []), ...(names.length ? [containersPhrase(names)] : [])];
    out.push(
      `seccompProfile (${who.join(' and ')} must not set securityContext.seccompProfile.type to "Unconfined")`,
    );
  }
  if (level !== 'restricted') return out;

  // restricted
  add(
    'allowPrivilegeEscalation != false',
    containers.filter((c) => sc(c).allowPrivilegeEscalation !== false).map(name),
    (p) => `${p} must set securityContext.allowPrivilegeEscalation=false`,
  );
  const dropsAll = (c: JsonMap) => {
    const caps = isMap(sc(c).capabilities) ? (sc(c).capabilities as JsonMap) : {};
    return Array.isArray(caps.drop) && caps.drop.map(String).includes('ALL');
  };
  add(
    'unrestricted capabilities',
    containers.filter((c) => !dropsAll(c)).map(name),
    (p) => `${p} must set securityContext.capabilities.drop=["ALL"]`,
  );
  const restricted = volumes.filter(
    (v) => !Object.keys(v).some((k) => k !== 'name' && RESTRICTED_VOLUMES.has(k)),
  );
  if (restricted.length) {
    const parts = restricted.map((v) => {
      const type = Object.keys(v).find((k) => k !== 'name') ?? 'unknown';
      return `volume ${JSON.stringify(String(v.name))} uses restricted volume type ${JSON.stringify(type)}`;
    });
    out.push(`restricted volume types (${parts.join(', ')})`);
  }
  const nonRoot = (x: JsonMap) => x.runAsNonRoot;
  if (nonRoot(podSc) !== true || containers.some((c) => nonRoot(sc(c)) === false)) {
    const names = containers.filter((c) => nonRoot(sc(c)) !== true).map(name);
    if (nonRoot(podSc) !== true && names.length)
      out.push(
        `runAsNonRoot != true (pod or ${containersPhrase(names)} must set securityContext.runAsNonRoot=true)`,
      );
  }
  add(
    'runAsUser=0',
    containers.filter((c) => sc(c).runAsUser === 0).map(name),
    (p) => `${p} must not set runAsUser=0`,
  );
  const seccompOk = (x: JsonMap) =>
    isMap(x.seccompProfile) &&
    (x.seccompProfile.type === 'RuntimeDefault' || x.seccompProfile.type === 'Localhost');
  if (!seccompOk(podSc)) {
    const names = containers.filter((c) => !seccompOk(sc(c))).map(name);
    if (names.length)
      out.push(
        `seccompProfile (pod or ${containersPhrase(names)} must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")`,
      );
  }
  return out;
}

/** The denial's reason: `violates PodSecurity "baseline:latest": privileged (…)`. */
export function violationText(policy: string, found: string[]): string {
  return `violates PodSecurity "${policy}": ${found.join(', ')}`;
}

/** The pod spec inside a pod or a workload's template, or undefined for other kinds. */
export function podSpecOf(kind: string, o: KObject): JsonMap | undefined {
  const spec = isMap(o.spec) ? o.spec : undefined;
  if (!spec) return undefined;
  if (kind === 'Pod') return spec;
  if (kind === 'CronJob') {
    const jt = isMap(spec.jobTemplate) && isMap(spec.jobTemplate.spec) ? spec.jobTemplate.spec : undefined;
    return jt && isMap(jt.template) && isMap(jt.template.spec) ? jt.template.spec : undefined;
  }
  if (['Deployment', 'ReplicaSet', 'StatefulSet', 'DaemonSet', 'Job', 'ReplicationController'].includes(kind))
    return isMap(spec.template) && isMap(spec.template.spec) ? spec.template.spec : undefined;
  if (kind === 'PodTemplate') return undefined;
  return undefined;
}

/** The `Warning` header values for a write of `o` in a namespace with `policy` (warn, and enforce for workloads). */
export function warnings(kind: string, o: KObject, policy: NamespacePolicy): string[] {
  const spec = podSpecOf(kind, o);
  if (!spec) return [];
  const levels = kind === 'Pod' ? [policy.warn] : [policy.enforce, policy.warn];
  const out: string[] = [];
  for (const p of new Set(levels.filter((x): x is string => x !== undefined))) {
    const found = violations(spec, p);
    if (found.length) out.push(`would violate PodSecurity "${p}": ${found.join(', ')}`);
  }
  return out;
}

/** An HTTP Warning header value: `299 - "text"` with the text's quotes escaped. */
export function warningHeader(text: string): string {
  return `299 - ${JSON.stringify(text)}`;
}
