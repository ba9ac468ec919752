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
  for (const cs of arr(status.containerStatuses)) {
    const waiting = rec(rec(cs.state).waiting);
    if (typeof waiting.reason === 'string' && waiting.reason) return waiting.reason;
    const terminated = rec(rec(cs.state).terminated);
    if (typeof terminated.reason === 'string' && terminated.reason && status.phase !== 'Succeeded')
      return terminated.reason;
  }
  return typeof status.reason === 'string'
    ? status.reason
    : typeof status.phase === 'string'
      ? status.phase
      : 'Pending';
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
  ],
  '/Service': [
    nameCol,
    col('Type', (o) => String(rec(o.spec).type ?? 'ClusterIP')),
    col('Cluster-IP', (o) => String(rec(o.spec).clusterIP ?? '<none>')),
    col('External-IP', () => '<none>'),
    col('Port(s)', servicePorts),
    ageCol,
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
  ],
  'apps/ReplicaSet': [
    nameCol,
    col('Desired', (o) => num(rec(o.spec).replicas), 'integer'),
    col('Current', (o) => num(rec(o.status).replicas), 'integer'),
    col('Ready', (o) => num(rec(o.status).readyReplicas), 'integer'),
    ageCol,
  ],
  'apps/StatefulSet': [
    nameCol,
    col('Ready', (o) => `${num(rec(o.status).readyReplicas)}/${num(rec(o.spec).replicas)}`),
    ageCol,
  ],
  'apps/DaemonSet': [
    nameCol,
    col('Desired', (o) => num(rec(o.status).desiredNumberScheduled), 'integer'),
    col('Current', (o) => num(rec(o.status).currentNumberScheduled), 'integer'),
    col('Ready', (o) => num(rec(o.status).numberReady), 'integer'),
    ageCol,
  ],
  'batch/Job': [
    nameCol,
    col('Completions', (o) => `${num(rec(o.status).succeeded)}/${num(rec(o.spec).completions ?? 1) || 1}`),
    ageCol,
  ],
};

/** A Table of `objects`; each row carries the object's metadata (or the whole object on request). */
export function renderTable(
  t: ResourceType,
  objects: KObject[],
  listMeta: Record<string, unknown>,
  q: URLSearchParams,
): unknown {
  const columns = COLUMNS[`${t.group}/${t.kind}`] ?? [nameCol, ageCol];
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
