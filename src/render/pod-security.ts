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

/** Sysctls the Baseline profile allows: namespaced to the pod, harmless to the node. */
const SAFE_SYSCTLS = new Set([
  'kernel.shm_rmid_forced',
  'net.ipv4.ip_local_port_range',
  'net.ipv4.ip_unprivileged_port_start',
  'net.ipv4.tcp_syncookies',
  'net.ipv4.ping_group_range',
  'net.ipv4.ip_local_reserved_ports',
  'net.ipv4.tcp_keepalive_time',
  'net.ipv4.tcp_fin_timeout',
  'net.ipv4.tcp_keepalive_intvl',
  'net.ipv4.tcp_keepalive_probes',
]);
const SELINUX_TYPES = new Set([
  '',
  'container_t',
  'container_init_t',
  'container_kvm_t',
  'container_engine_t',
]);
const APPARMOR_ANNOTATION = 'container.apparmor.security.beta.kubernetes.io/';
/** Volume types the Restricted profile allows. */
const RESTRICTED_VOLUMES = [
  'configMap',
  'csi',
  'downwardAPI',
  'emptyDir',
  'ephemeral',
  'persistentVolumeClaim',
  'projected',
  'secret',
];

/** The pod spec inside a workload, its pod metadata (AppArmor annotations), and their paths for messages; undefined for other kinds. */
export function podSpecOf(
  o: KubeObject,
): { spec: Json; path: string; metadata: Json; metadataPath: string } | undefined {
  const spec = obj(o.spec);
  const template = (t: unknown, at: string) => ({
    spec: obj(obj(t).spec),
    path: `${at}.spec`,
    metadata: obj(obj(t).metadata),
    metadataPath: `${at}.metadata`,
  });
  switch (o.kind) {
    case 'Pod':
      return { spec, path: 'spec', metadata: obj(o.metadata), metadataPath: 'metadata' };
    case 'Deployment':
    case 'StatefulSet':
    case 'DaemonSet':
    case 'ReplicaSet':
    case 'Job':
    case 'ReplicationController':
      return template(spec.template, 'spec.template');
    case 'CronJob':
      return template(obj(obj(spec.jobTemplate).spec).template, 'spec.jobTemplate.spec.template');
    default:
      return undefined;
  }
}

const CONTAINER_LISTS = ['initContainers', 'containers', 'ephemeralContainers'] as const;

/**
 * What in `o`'s pod template breaks the Pod Security level, each as "<field> is <value>: <why>": for Baseline,
 * the node-escape rules (privileged and Windows hostProcess containers, host namespaces, hostPath volumes,
 * host ports, capabilities outside the Baseline set, Unconfined seccomp or AppArmor, SELinux types, users and
 * roles, unsafe sysctls, unmasked /proc); for Restricted, those and its own (volume types, privilege
 * escalation, non-root, seccomp RuntimeDefault/Localhost, capabilities drop ALL / add only
 * NET_BIND_SERVICE). Empty for `privileged`.
 */
export function podSecurityViolations(o: KubeObject, level: PodSecurityLevel): string[] {
  if (level === 'privileged') return [];
  const found = podSpecOf(o);
  if (!found) return [];
  const out = baselineViolations(found);
  if (level === 'restricted') out.push(...restrictedViolations(found));
  return out.map((v) => `${v} (not allowed by the ${level} Pod Security level)`);
}

type Found = NonNullable<ReturnType<typeof podSpecOf>>;

function containers(spec: Json, path: string): { c: Json; where: string; sc: Json }[] {
  return CONTAINER_LISTS.flatMap((key) =>
    list(spec[key]).map((c) => ({
      c,
      where: `${path}.${key}[name=${String(c.name)}]`,
      sc: obj(c.securityContext),
    })),
  );
}

function baselineViolations({ spec, path, metadata, metadataPath }: Found): string[] {
  const out: string[] = [];
  const podSc = obj(spec.securityContext);
  for (const field of ['hostNetwork', 'hostPID', 'hostIPC'] as const) {
    if (spec[field] === true) out.push(`${path}.${field} is true: the pod would share the node's namespace`);
  }
  for (const v of list(spec.volumes)) {
    if (v.hostPath !== undefined)
      out.push(`${path}.volumes[name=${String(v.name)}] is a hostPath volume: it mounts the node's files`);
  }
  const scopes = [
    { sc: podSc, where: `${path}.securityContext` },
    ...containers(spec, path).map(({ sc, where }) => ({ sc, where: `${where}.securityContext` })),
  ];
  for (const { sc, where } of scopes) {
    if (obj(sc.seccompProfile).type === 'Unconfined')
      out.push(`${where}.seccompProfile.type is Unconfined: no syscall filter`);
    if (obj(sc.appArmorProfile).type === 'Unconfined')
      out.push(`${where}.appArmorProfile.type is Unconfined: no AppArmor confinement`);
    const se = obj(sc.seLinuxOptions);
    if (se.type !== undefined && !SELINUX_TYPES.has(String(se.type)))
      out.push(
        `${where}.seLinuxOptions.type is ${String(se.type)}: only ${[...SELINUX_TYPES].filter(Boolean).join(', ')} keep the container confined`,
      );
    for (const field of ['user', 'role'] as const) {
      if (se[field] !== undefined && se[field] !== '')
        out.push(
          `${where}.seLinuxOptions.${field} is ${String(se[field])}: a custom SELinux ${field} can leave the container's confinement`,
        );
    }
    if (obj(sc.windowsOptions).hostProcess === true)
      out.push(`${where}.windowsOptions.hostProcess is true: it would run as a process of the Windows node`);
  }
  for (const [i, s] of list(podSc.sysctls).entries()) {
    const name = String(s.name);
    if (!SAFE_SYSCTLS.has(name))
      out.push(
        `${path}.securityContext.sysctls[${i}].name is ${name}: not one of the sysctls namespaced to the pod (${[...SAFE_SYSCTLS].join(', ')})`,
      );
  }
  for (const [key, value] of Object.entries(obj(metadata.annotations))) {
    if (
      key.startsWith(APPARMOR_ANNOTATION) &&
      value !== 'runtime/default' &&
      !String(value).startsWith('localhost/')
    )
      out.push(
        `${metadataPath}.annotations["${key}"] is ${String(value)}: no AppArmor confinement (use runtime/default or localhost/<profile>)`,
      );
  }
  for (const { c, where, sc } of containers(spec, path)) {
    if (sc.privileged === true)
      out.push(`${where}.securityContext.privileged is true: it would have the node's root powers`);
    if (sc.procMount !== undefined && sc.procMount !== 'Default')
      out.push(`${where}.securityContext.procMount is ${String(sc.procMount)}: it unmasks the node's /proc`);
    const added = strings(obj(sc.capabilities).add).filter(
      (cap) => !BASELINE_CAPABILITIES.has(cap.replace(/^CAP_/, '')),
    );
    if (added.length)
      out.push(
        `${where}.securityContext.capabilities.add has ${added.join(', ')}: beyond the capabilities Baseline allows`,
      );
    for (const p of list(c.ports)) {
      if (typeof p.hostPort === 'number' && p.hostPort !== 0)
        out.push(`${where}.ports uses hostPort ${p.hostPort}: it binds a port of the node`);
    }
  }
  return out;
}

function restrictedViolations({ spec, path }: Found): string[] {
  const out: string[] = [];
  const podSc = obj(spec.securityContext);
  for (const v of list(spec.volumes)) {
    const type = Object.keys(v).find((k) => k !== 'name');
    if (type !== undefined && type !== 'hostPath' && !RESTRICTED_VOLUMES.includes(type))
      out.push(
        `${path}.volumes[name=${String(v.name)}] is a ${type} volume: Restricted allows only ${RESTRICTED_VOLUMES.join(', ')}`,
      );
  }
  if (podSc.runAsNonRoot === false)
    out.push(`${path}.securityContext.runAsNonRoot is false: it must be true`);
  if (podSc.runAsUser === 0) out.push(`${path}.securityContext.runAsUser is 0: it must not run as root`);
  const podSeccomp = obj(podSc.seccompProfile).type;
  for (const { where, sc } of containers(spec, path)) {
    if (sc.allowPrivilegeEscalation !== false)
      out.push(
        `${where}.securityContext.allowPrivilegeEscalation is ${String(sc.allowPrivilegeEscalation ?? 'unset')}: it must be false`,
      );
    if (sc.runAsNonRoot === false)
      out.push(`${where}.securityContext.runAsNonRoot is false: it must be true`);
    else if (sc.runAsNonRoot !== true && podSc.runAsNonRoot !== true)
      out.push(
        `${where}.securityContext.runAsNonRoot is unset (and so is the pod's): set runAsNonRoot: true`,
      );
    if (sc.runAsUser === 0) out.push(`${where}.securityContext.runAsUser is 0: it must not run as root`);
    const seccomp = obj(sc.seccompProfile).type ?? podSeccomp;
    if (seccomp !== 'RuntimeDefault' && seccomp !== 'Localhost' && seccomp !== 'Unconfined')
      out.push(
        `${where}.securityContext.seccompProfile.type is ${String(seccomp ?? 'unset')} (and so is the pod's): set RuntimeDefault or Localhost`,
      );
    const caps = obj(sc.capabilities);
    if (!strings(caps.drop).includes('ALL'))
      out.push(
        `${where}.securityContext.capabilities.drop is ${strings(caps.drop).join(', ') || 'unset'}: it must include ALL`,
      );
    // Those outside the Baseline set are already named by baselineViolations.
    const added = strings(caps.add)
      .map((cap) => cap.replace(/^CAP_/, ''))
      .filter((cap) => cap !== 'NET_BIND_SERVICE' && BASELINE_CAPABILITIES.has(cap));
    if (added.length)
      out.push(
        `${where}.securityContext.capabilities.add has ${added.join(', ')}: Restricted allows only NET_BIND_SERVICE`,
      );
  }
  return out;
}

function strings(v: unknown): string[] {
  return Array.isArray(v) ? v.map(String) : [];
}
