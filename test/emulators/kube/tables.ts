// Server-side printing (meta.k8s.io/v1 Table) for `kubectl get`: kubectl asks for
// `application/json;as=Table;v=v1;g=meta.k8s.io` and prints the columns the server chose. Without
// this, kubectl falls back to NAME/AGE only; with it, `kubectl get deploy,pods` in a test log looks
// as it would against a real cluster.
import type { KObject, ResourceType } from './store.js';

interface Column {
  name: string;
  type: 'string' | 'integer' | 'date';
  format?: string;
  priority?: number;
  description: string;
  cell: (o: KObject) => string | number;
}

export function wantsTable(accept: string | undefined): boolean {
  if (!accept) return false;
  const first = accept.split(',')[0];
  return /as=Table/.test(first) && /g=meta\.k8s\.io/.test(first);
}

/** kubectl's duration.HumanDuration, as the server fills the Age column. */
export function humanDuration(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 120) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 10) return s % 60 === 0 ? `${m}m` : `${m}m${s % 60}s`;
  if (m < 180) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 8) return m % 60 === 0 ? `${h}h` : `${h}h${m % 60}m`;
  if (h < 48) return `${h}h`;
  const d = Math.floor(h / 24);
  if (d < 8) return h % 24 === 0 ? `${d}d` : `${d}d${h % 24}h`;
  return `${d}d`;
}

function rec(v: unknown): Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}
function arr(v: unknown): Record<string, unknown>[] {
  return Array.isArray(v) ? v.map(rec) : [];
}
function num(v: unknown): number {
  return typeof v === 'number' ? v : 0;
}

const nameCol: Column = {
  name: 'Name',
  type: 'string',
  format: 'name',
  description: 'Name must be unique within a namespace.',
  cell: (o) => o.metadata.name ?? '',
};
const ageCol: Column = {
  name: 'Age',
  type: 'string',
  description: 'CreationTimestamp is a timestamp representing the server time when this object was created.',
  cell: (o) =>
    o.metadata.creationTimestamp
      ? humanDuration(Date.now() - Date.parse(o.metadata.creationTimestamp))
      : '<unknown>',
};
const col = (name: string, cell: Column['cell'], type: Column['type'] = 'string', priority = 0): Column => ({
  name,
  type,
  priority,
  description: name,
  cell,
});

function containers(o: KObject, path: 'spec' | 'template'): Record<string, unknown>[] {
  const spec = rec(o.spec);
  return arr(path === 'spec' ? spec.containers : rec(rec(spec.template).spec).containers);
}

function podStatus(o: KObject): string {
  const status = rec(o.status);
  if (o.metadata.deletionTimestamp) return 'Terminating';
  // printPod: an init container not yet done decides the status, as Init:<reason> or Init:i/n.
  const inits = arr(status.initContainerStatuses);
  for (const [i, cs] of inits.entries()) {
    const terminated = rec(rec(cs.state).terminated);
    if (terminated.exitCode === 0) continue;
    if (typeof terminated.exitCode === 'number')
      return terminated.reason ? `Init:${String(terminated.reason)}` : `Init:ExitCode:${terminated.exitCode}`;
    const waiting = rec(rec(cs.state).waiting);
    if (typeof waiting.reason === 'string' && waiting.reason && waiting.reason !== 'PodInitializing')
      return `Init:${waiting.reason}`;
    return `Init:${i}/${inits.length}`;
  }
  for (const cs of arr(status.containerStatuses)) {
    const waiting = rec(rec(cs.state).waiting);
    if (typeof waiting.reason === 'string' && waiting.reason) return waiting.reason;
    const terminated = rec(rec(cs.state).terminated);
    if (typeof terminated.reason === 'string' && terminated.reason) return terminated.reason;
  }
  if (status.phase === 'Succeeded') return 'Completed';
  return typeof status.reason === 'string'
    ? status.reason
    : typeof status.phase === 'string'
      ? status.phase
      : 'Pending';
}

function selectorString(sel: unknown): string {
  const s = rec(sel);
  const parts: string[] = [];
  for (const [k, v] of Object.entries(rec(s.matchLabels))) parts.push(`${k}=${String(v)}`);
  for (const e of arr(s.matchExpressions)) {
    const values = Array.isArray(e.values) ? (e.values as unknown[]).map(String).join(',') : '';
    const op = String(e.operator ?? '');
    if (op === 'In') parts.push(`${String(e.key)} in (${values})`);
    else if (op === 'NotIn') parts.push(`${String(e.key)} notin (${values})`);
    else if (op === 'Exists') parts.push(String(e.key));
    else if (op === 'DoesNotExist') parts.push(`!${String(e.key)}`);
  }
  return parts.length ? parts.join(',') : '<none>';
}

function mapSelector(sel: unknown): string {
  const entries = Object.entries(rec(sel));
  return entries.length ? entries.map(([k, v]) => `${k}=${String(v)}`).join(',') : '<none>';
}

function since(ts: unknown): string {
  return typeof ts === 'string' && ts ? humanDuration(Date.now() - Date.parse(ts)) : '<none>';
}

function serviceExternalIp(o: KObject): string {
  const spec = rec(o.spec);
  const external = Array.isArray(spec.externalIPs) ? (spec.externalIPs as unknown[]).map(String) : [];
  switch (spec.type) {
    case 'ExternalName':
      return String(spec.externalName ?? '<none>');
    case 'LoadBalancer': {
      const ingress = arr(rec(rec(o.status).loadBalancer).ingress)
        .map((i) => String(i.ip ?? i.hostname ?? ''))
        .filter(Boolean);
      const all = [...ingress, ...external];
      return all.length ? all.join(',') : '<pending>';
    }
    default:
      return external.length ? external.join(',') : '<none>';
  }
}

function jobStatus(o: KObject): string {
  const conds = arr(rec(o.status).conditions).filter((c) => c.status === 'True');
  for (const want of ['Failed', 'Complete', 'Suspended', 'FailureTarget', 'SuccessCriteriaMet']) {
    if (conds.some((c) => c.type === want))
      return want === 'FailureTarget'
        ? 'FailureTarget'
        : want === 'SuccessCriteriaMet'
          ? 'SuccessCriteriaMet'
          : want;
  }
  return o.metadata.deletionTimestamp ? 'Terminating' : 'Running';
}

function jobDuration(o: KObject): string {
  const st = rec(o.status);
  if (typeof st.startTime !== 'string') return '';
  const end = typeof st.completionTime === 'string' ? Date.parse(st.completionTime) : Date.now();
  return humanDuration(end - Date.parse(st.startTime));
}

function hpaTargets(o: KObject): string {
  const spec = rec(o.spec);
  const current = arr(rec(o.status).currentMetrics);
  const metrics = arr(spec.metrics);
  if (!metrics.length) return '<none>';
  const shown = metrics.slice(0, 2).map((m, i) => {
    const cur = current[i];
    if (m.type === 'Resource') {
      const r = rec(m.resource);
      const target = rec(r.target);
      const curRes = rec(rec(cur?.resource).current);
      if (target.averageUtilization !== undefined) {
        const now =
          curRes.averageUtilization !== undefined ? `${String(curRes.averageUtilization)}%` : '<unknown>';
        return `${String(r.name)}: ${now}/${String(target.averageUtilization)}%`;
      }
      const now = curRes.averageValue !== undefined ? String(curRes.averageValue) : '<unknown>';
      return `${String(r.name)}: ${now}/${String(target.averageValue ?? target.value ?? '')}`;
    }
    return `<unknown>/${String(rec(rec(m[String(m.type ?? '').replace(/^./, (c) => c.toLowerCase())]).target).averageValue ?? '')}`;
  });
  const more = metrics.length > 2 ? ` + ${metrics.length - 2} more...` : '';
  return shown.join(', ') + more;
}

function ingressPorts(o: KObject): string {
  return arr(rec(o.spec).tls).length ? '80, 443' : '80';
}

function endpointsCell(o: KObject): string {
  const list: string[] = [];
  for (const sub of arr(o.subsets)) {
    const ports = arr(sub.ports);
    for (const a of arr(sub.addresses)) {
      if (!ports.length) list.push(String(a.ip));
      for (const p of ports) list.push(`${String(a.ip)}:${String(p.port)}`);
    }
  }
  if (!list.length) return '<none>';
  const shown = list.slice(0, 3).join(',');
  return list.length > 3 ? `${shown} + ${list.length - 3} more...` : shown;
}

function nodeStatus(o: KObject): string {
  const ready = arr(rec(o.status).conditions).find((c) => c.type === 'Ready');
  let s = ready?.status === 'True' ? 'Ready' : ready?.status === 'False' ? 'NotReady' : 'Unknown';
  if (rec(o.spec).unschedulable === true) s += ',SchedulingDisabled';
  return s;
}

function nodeRoles(o: KObject): string {
  const roles = Object.keys(o.metadata.labels ?? {})
    .filter((k) => k.startsWith('node-role.kubernetes.io/'))
    .map((k) => k.slice('node-role.kubernetes.io/'.length))
    .filter(Boolean);
  return roles.length ? roles.sort().join(',') : '<none>';
}

function nodeAddress(o: KObject, type: string): string {
  const a = arr(rec(o.status).addresses).find((x) => x.type === type);
  return a ? String(a.address) : '<none>';
}

function servicePorts(o: KObject): string {
  const ports = arr(rec(o.spec).ports);
  if (!ports.length) return '<none>';
  return ports
    .map(
      (p) => `${String(p.port)}${p.nodePort ? `:${String(p.nodePort)}` : ''}/${String(p.protocol ?? 'TCP')}`,
    )
    .join(',');
}

const COLUMNS: Record<string, Column[]> = {
  '/Namespace': [nameCol, col('Status', (o) => String(rec(o.status).phase ?? '')), ageCol],
  '/Pod': [
    nameCol,
    col('Ready', (o) => {
      const cs = arr(rec(o.status).containerStatuses);
      return `${cs.filter((c) => c.ready === true).length}/${containers(o, 'spec').length}`;
    }),
    col('Status', podStatus),
    col(
      'Restarts',
      (o) => arr(rec(o.status).containerStatuses).reduce((n, c) => n + num(c.restartCount), 0),
      'integer',
    ),
    ageCol,
    col('IP', (o) => String(rec(o.status).podIP ?? '<none>'), 'string', 1),
    col('Node', (o) => String(rec(o.spec).nodeName ?? '<none>'), 'string', 1),
    col('Nominated Node', (o) => String(rec(o.status).nominatedNodeName ?? '<none>'), 'string', 1),
    col(
      'Readiness Gates',
      (o) => {
        const gates = arr(rec(o.spec).readinessGates);
        if (!gates.length) return '<none>';
        const conds = arr(rec(o.status).conditions);
        const ready = gates.filter((g) =>
          conds.some((c) => c.type === g.conditionType && c.status === 'True'),
        ).length;
        return `${ready}/${gates.length}`;
      },
      'string',
      1,
    ),
  ],
  '/Node': [
    nameCol,
    col('Status', nodeStatus),
    col('Roles', nodeRoles),
    ageCol,
    col('Version', (o) => String(rec(rec(o.status).nodeInfo).kubeletVersion ?? '')),
    col('Internal-IP', (o) => nodeAddress(o, 'InternalIP'), 'string', 1),
    col('External-IP', (o) => nodeAddress(o, 'ExternalIP'), 'string', 1),
    col('OS-Image', (o) => String(rec(rec(o.status).nodeInfo).osImage ?? '<unknown>'), 'string', 1),
    col(
      'Kernel-Version',
      (o) => String(rec(rec(o.status).nodeInfo).kernelVersion ?? '<unknown>'),
      'string',
      1,
    ),
    col(
      'Container-Runtime',
      (o) => String(rec(rec(o.status).nodeInfo).containerRuntimeVersion ?? '<unknown>'),
      'string',
      1,
    ),
  ],
  '/ResourceQuota': [
    nameCol,
    ageCol,
    col('Request', (o) => quotaCell(o, false)),
    col('Limit', (o) => quotaCell(o, true)),
  ],
  '/LimitRange': [nameCol, col('Created At', (o) => String(o.metadata.creationTimestamp ?? ''), 'date')],
  '/ServiceAccount': [nameCol, col('Secrets', (o) => arr(o.secrets).length, 'integer'), ageCol],
  '/Endpoints': [nameCol, col('Endpoints', endpointsCell), ageCol],
  '/PersistentVolumeClaim': [
    nameCol,
    col('Status', (o) => String(rec(o.status).phase ?? 'Pending')),
    col('Volume', (o) => String(rec(o.spec).volumeName ?? '')),
    col('Capacity', (o) => String(rec(rec(o.status).capacity).storage ?? '')),
    col('Access Modes', (o) =>
      (Array.isArray(rec(o.status).accessModes) ? (rec(o.status).accessModes as string[]) : [])
        .map(
          (m) =>
            ({ ReadWriteOnce: 'RWO', ReadOnlyMany: 'ROX', ReadWriteMany: 'RWX', ReadWriteOncePod: 'RWOP' })[
              m
            ] ?? m,
        )
        .join(','),
    ),
    col('StorageClass', (o) => String(rec(o.spec).storageClassName ?? '<unset>')),
    col('VolumeAttributesClass', (o) => String(rec(o.spec).volumeAttributesClassName ?? '<unset>')),
    ageCol,
    col('VolumeMode', (o) => String(rec(o.spec).volumeMode ?? 'Filesystem'), 'string', 1),
  ],
  '/Service': [
    nameCol,
    col('Type', (o) => String(rec(o.spec).type ?? 'ClusterIP')),
    col('Cluster-IP', (o) => String(rec(o.spec).clusterIP ?? '<none>')),
    col('External-IP', serviceExternalIp),
    col('Port(s)', servicePorts),
    ageCol,
    col('Selector', (o) => mapSelector(rec(o.spec).selector), 'string', 1),
  ],
  '/ConfigMap': [
    nameCol,
    col('Data', (o) => Object.keys(rec(o.data)).length + Object.keys(rec(o.binaryData)).length, 'integer'),
    ageCol,
  ],
  '/Secret': [
    nameCol,
    col('Type', (o) => String(o.type ?? 'Opaque')),
    col('Data', (o) => Object.keys(rec(o.data)).length, 'integer'),
    ageCol,
  ],
  '/Event': [
    col('Last Seen', (o) => {
      const t = (o.lastTimestamp ?? o.eventTime ?? o.metadata.creationTimestamp) as string | undefined;
      return t ? humanDuration(Date.now() - Date.parse(t)) : '<unknown>';
    }),
    col('Type', (o) => String(o.type ?? '')),
    col('Reason', (o) => String(o.reason ?? '')),
    col(
      'Object',
      (o) =>
        `${String(rec(o.involvedObject).kind ?? '').toLowerCase()}/${String(rec(o.involvedObject).name ?? '')}`,
    ),
    col('Message', (o) => String(o.message ?? '')),
  ],
  'apps/Deployment': [
    nameCol,
    col('Ready', (o) => `${num(rec(o.status).readyReplicas)}/${num(rec(o.spec).replicas)}`),
    col('Up-to-date', (o) => num(rec(o.status).updatedReplicas), 'integer'),
    col('Available', (o) => num(rec(o.status).availableReplicas), 'integer'),
    ageCol,
    col(
      'Containers',
      (o) =>
        containers(o, 'template')
          .map((c) => String(c.name))
          .join(','),
      'string',
      1,
    ),
    col(
      'Images',
      (o) =>
        containers(o, 'template')
          .map((c) => String(c.image))
          .join(','),
      'string',
      1,
    ),
    col('Selector', (o) => selectorString(rec(o.spec).selector), 'string', 1),
  ],
  'apps/ReplicaSet': [
    nameCol,
    col('Desired', (o) => num(rec(o.spec).replicas), 'integer'),
    col('Current', (o) => num(rec(o.status).replicas), 'integer'),
    col('Ready', (o) => num(rec(o.status).readyReplicas), 'integer'),
    ageCol,
    ...workloadWide('template'),
  ],
  'apps/StatefulSet': [
    nameCol,
    col('Ready', (o) => `${num(rec(o.status).readyReplicas)}/${num(rec(o.spec).replicas)}`),
    ageCol,
    col('Containers', (o) => names(containers(o, 'template')), 'string', 1),
    col('Images', (o) => images(containers(o, 'template')), 'string', 1),
  ],
  'apps/DaemonSet': [
    nameCol,
    col('Desired', (o) => num(rec(o.status).desiredNumberScheduled), 'integer'),
    col('Current', (o) => num(rec(o.status).currentNumberScheduled), 'integer'),
    col('Ready', (o) => num(rec(o.status).numberReady), 'integer'),
    col('Up-to-date', (o) => num(rec(o.status).updatedNumberScheduled), 'integer'),
    col('Available', (o) => num(rec(o.status).numberAvailable), 'integer'),
    col('Node Selector', (o) => mapSelector(rec(rec(rec(o.spec).template).spec).nodeSelector)),
    ageCol,
    ...workloadWide('template'),
  ],
  'batch/Job': [
    nameCol,
    col('Status', jobStatus),
    col('Completions', (o) => {
      const spec = rec(o.spec);
      const done = num(rec(o.status).succeeded);
      if (typeof spec.completions === 'number') return `${done}/${spec.completions}`;
      const p = num(spec.parallelism);
      return p > 1 ? `${done}/1 of ${p}` : `${done}/1`;
    }),
    col('Duration', jobDuration),
    ageCol,
    ...workloadWide('template'),
  ],
  'batch/CronJob': [
    nameCol,
    col('Schedule', (o) => String(rec(o.spec).schedule ?? '')),
    col('Timezone', (o) => String(rec(o.spec).timeZone ?? '<none>')),
    col('Suspend', (o) => String(rec(o.spec).suspend === true ? 'True' : 'False')),
    col('Active', (o) => arr(rec(o.status).active).length, 'integer'),
    col('Last Schedule', (o) => since(rec(o.status).lastScheduleTime)),
    ageCol,
    col('Containers', (o) => names(cronContainers(o)), 'string', 1),
    col('Images', (o) => images(cronContainers(o)), 'string', 1),
    col('Selector', (o) => selectorString(rec(rec(rec(o.spec).jobTemplate).spec).selector), 'string', 1),
  ],
  'autoscaling/HorizontalPodAutoscaler': [
    nameCol,
    col('Reference', (o) => {
      const ref = rec(rec(o.spec).scaleTargetRef);
      return `${String(ref.kind ?? '')}/${String(ref.name ?? '')}`;
    }),
    col('Targets', hpaTargets),
    col('MinPods', (o) =>
      typeof rec(o.spec).minReplicas === 'number' ? num(rec(o.spec).minReplicas) : '<unset>',
    ),
    col('MaxPods', (o) => num(rec(o.spec).maxReplicas), 'integer'),
    col('Replicas', (o) => num(rec(o.status).currentReplicas), 'integer'),
    ageCol,
  ],
  'networking.k8s.io/Ingress': [
    nameCol,
    col('Class', (o) => String(rec(o.spec).ingressClassName ?? '<none>')),
    col('Hosts', (o) => {
      const hosts = arr(rec(o.spec).rules).map((r) => String(r.host ?? '*'));
      if (!hosts.length) return '*';
      return hosts.length > 4
        ? `${hosts.slice(0, 4).join(',')} + ${hosts.length - 4} more...`
        : hosts.join(',');
    }),
    col('Address', (o) =>
      arr(rec(rec(o.status).loadBalancer).ingress)
        .map((i) => String(i.ip ?? i.hostname ?? ''))
        .filter(Boolean)
        .join(','),
    ),
    col('Ports', ingressPorts),
    ageCol,
  ],
  'networking.k8s.io/NetworkPolicy': [
    nameCol,
    col('Pod-Selector', (o) => {
      const s = selectorString(rec(o.spec).podSelector);
      return s === '<none>' ? '<none>' : s;
    }),
    ageCol,
  ],
  'coordination.k8s.io/Lease': [
    nameCol,
    col('Holder', (o) => String(rec(o.spec).holderIdentity ?? '')),
    ageCol,
  ],
  'policy/PodDisruptionBudget': [
    nameCol,
    col('Min Available', (o) => String(rec(o.spec).minAvailable ?? 'N/A')),
    col('Max Unavailable', (o) => String(rec(o.spec).maxUnavailable ?? 'N/A')),
    col('Allowed Disruptions', (o) => num(rec(o.status).disruptionsAllowed), 'integer'),
    ageCol,
  ],
  'rbac.authorization.k8s.io/Role': [
    nameCol,
    col('Created At', (o) => String(o.metadata.creationTimestamp ?? ''), 'date'),
  ],
  'rbac.authorization.k8s.io/ClusterRole': [
    nameCol,
    col('Created At', (o) => String(o.metadata.creationTimestamp ?? ''), 'date'),
  ],
  'rbac.authorization.k8s.io/RoleBinding': [
    nameCol,
    col('Role', (o) => `${String(rec(o.roleRef).kind ?? '')}/${String(rec(o.roleRef).name ?? '')}`),
    ageCol,
  ],
  'rbac.authorization.k8s.io/ClusterRoleBinding': [
    nameCol,
    col('Role', (o) => `${String(rec(o.roleRef).kind ?? '')}/${String(rec(o.roleRef).name ?? '')}`),
    ageCol,
  ],
};

/** printResourceQuota: `used/hard` per resource, `limits.*` in the Limit column, the rest in Request. */
function quotaCell(o: KObject, limits: boolean): string {
  const status = rec(o.status);
  const hard = rec(status.hard);
  const used = rec(status.used);
  return Object.keys(hard)
    .sort()
    .filter((r) => (r.split('.').length > 1 && r.split('.')[0] === 'limits') === limits)
    .map((r) => `${r}: ${String(used[r] ?? '0')}/${String(hard[r])}`)
    .join(', ');
}

function names(cs: Record<string, unknown>[]): string {
  return cs.map((c) => String(c.name)).join(',');
}
function images(cs: Record<string, unknown>[]): string {
  return cs.map((c) => String(c.image)).join(',');
}
function cronContainers(o: KObject): Record<string, unknown>[] {
  return arr(rec(rec(rec(rec(rec(o.spec).jobTemplate).spec).template).spec).containers);
}
function workloadWide(path: 'template'): Column[] {
  return [
    col('Containers', (o) => names(containers(o, path)), 'string', 1),
    col('Images', (o) => images(containers(o, path)), 'string', 1),
    col('Selector', (o) => selectorString(rec(o.spec).selector), 'string', 1),
  ];
}

/** A CRD's additionalPrinterColumns entry. */
export interface PrinterColumn {
  name: string;
  type?: string;
  format?: string;
  description?: string;
  priority?: number;
  jsonPath: string;
}

/** The subset of JSONPath CRD printer columns use: `.a.b`, `[0]`, `[*]`, `[?(@.k=="v")]`. */
export function evalJsonPath(obj: unknown, path: string): unknown[] {
  let cur: unknown[] = [obj];
  const re =
    /\.([A-Za-z0-9_$-]+)|\[(\d+|\*)\]|\[\?\(@\.([A-Za-z0-9_.-]+)\s*==\s*["']([^"']*)["']\)\]|\['([^']+)'\]/gy;
  let m: RegExpExecArray | null;
  const p = path
    .trim()
    .replace(/^\{|\}$/g, '')
    .replace(/^\$/, '');
  re.lastIndex = 0;
  while (re.lastIndex < p.length && (m = re.exec(p))) {
    const next: unknown[] = [];
    for (const v of cur) {
      if (m[1] !== undefined || m[5] !== undefined) {
        const k = m[1] ?? m[5];
        const r = rec(v);
        if (Object.hasOwn(r, k)) next.push(r[k]);
      } else if (m[2] !== undefined) {
        if (!Array.isArray(v)) continue;
        if (m[2] === '*') next.push(...(v as unknown[]));
        else if (Number(m[2]) < v.length) next.push(v[Number(m[2])]);
      } else if (m[3] !== undefined) {
        if (!Array.isArray(v)) continue;
        for (const item of v as unknown[]) {
          let x: unknown = item;
          for (const part of m[3].split('.')) x = rec(x)[part];
          if (String(x) === m[4]) next.push(item);
        }
      }
    }
    cur = next;
  }
  return cur;
}

function printerColumns(cols: PrinterColumn[]): Column[] {
  return [
    nameCol,
    ...cols.map((c): Column => {
      const type =
        c.type === 'integer' || c.type === 'number' ? 'integer' : c.type === 'date' ? 'date' : 'string';
      return {
        name: c.name,
        type,
        format: c.format,
        priority: c.priority ?? 0,
        description: c.description ?? c.name,
        cell: (o) => {
          const vals = evalJsonPath(o, c.jsonPath);
          if (!vals.length || vals[0] === undefined || vals[0] === null) return '<none>' as string;
          const v = vals[0];
          if (c.type === 'date')
            return typeof v === 'string' ? humanDuration(Date.now() - Date.parse(v)) : '<invalid>';
          if (typeof v === 'number') return v;
          if (typeof v === 'string') return v;
          if (typeof v === 'boolean') return String(v);
          return JSON.stringify(v);
        },
      };
    }),
  ];
}

/** A Table of `objects`; each row carries the object's metadata (or the whole object on request). */
export function renderTable(
  t: ResourceType,
  objects: KObject[],
  listMeta: Record<string, unknown>,
  q: URLSearchParams,
  crdColumns?: PrinterColumn[],
): unknown {
  const columns =
    crdColumns && crdColumns.length
      ? printerColumns(crdColumns)
      : (COLUMNS[`${t.custom ? '\0' : ''}${t.group}/${t.kind}`] ?? [nameCol, ageCol]);
  const include = q.get('includeObject') ?? 'Metadata';
  const apiVersion = t.group ? `${t.group}/${t.version}` : t.version;
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: listMeta,
    columnDefinitions: columns.map((c) => ({
      name: c.name,
      type: c.type,
      format: c.format ?? '',
      description: c.description,
      priority: c.priority ?? 0,
    })),
    rows: objects.map((o) => ({
      cells: columns.map((c) => c.cell(o)),
      ...(include === 'None'
        ? {}
        : {
            object:
              include === 'Object'
                ? { ...o, kind: t.kind, apiVersion }
                : { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: o.metadata },
          }),
    })),
  };
}
