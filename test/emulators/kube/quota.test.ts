// ResourceQuota admission and the quota controller, over real HTTP and with real kubectl: usage in
// status.used, the real 403 messages for pods (including a Deployment's, StatefulSet's and Job's
// pods, which surface as FailedCreate events and the ReplicaFailure condition), services, claims
// and object counts; exact quantities; finished pods no longer counted.
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, test } from '@jest/globals';
import { EMULATOR_TOKEN, startKubeEmulator, type KObject, type KubeEmulator } from './index.js';
import { formatQuantity, parseQuantity } from './quantity.js';

let emu: KubeEmulator;
let cacheDir: string;

beforeAll(async () => {
  emu = await startKubeEmulator({ controllers: { readyDelayMs: 10, timeScale: 0.001 } });
  cacheDir = join(mkdtempSync(join(tmpdir(), 'kubestage-quota-')), 'cache');
});
afterAll(async () => {
  await emu.close();
});

type Body = KObject & { message?: string; reason?: string; code?: number; items?: KObject[] };

async function api(method: string, path: string, body?: unknown): Promise<{ status: number; body: Body }> {
  const res = await fetch(emu.httpUrl + path, {
    method,
    headers: {
      authorization: `Bearer ${EMULATOR_TOKEN}`,
      'content-type': method === 'PATCH' ? 'application/merge-patch+json' : 'application/json',
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Body };
}

async function kubectl(
  args: string[],
  stdin?: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(
      'kubectl',
      [`--kubeconfig=${emu.kubeconfigPath}`, `--cache-dir=${cacheDir}`, ...args],
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
    child.stdin?.end(stdin ?? '');
  });
}

async function eventually<T>(get: () => Promise<T | undefined>, what: string, ms = 8000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await get();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function namespace(name: string): Promise<void> {
  const r = await api('POST', '/api/v1/namespaces', {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name },
  });
  expect(r.status).toBe(201);
}

async function quota(
  ns: string,
  name: string,
  hard: Record<string, string>,
  extra: Record<string, unknown> = {},
) {
  const r = await api('POST', `/api/v1/namespaces/${ns}/resourcequotas`, {
    apiVersion: 'v1',
    kind: 'ResourceQuota',
    metadata: { name },
    spec: { hard, ...extra },
  });
  expect(r.status).toBe(201);
}

function pod(
  name: string,
  containers: { name: string; requests?: object; limits?: object }[],
  extra: Record<string, unknown> = {},
): object {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name },
    spec: {
      ...extra,
      containers: containers.map((c) => ({
        name: c.name,
        image: 'nginx:1.27',
        resources: {
          ...(c.requests ? { requests: c.requests } : {}),
          ...(c.limits ? { limits: c.limits } : {}),
        },
      })),
    },
  };
}

/** status.used of a quota once the controller has caught up with `want` keys. */
async function used(
  ns: string,
  name: string,
  expected?: Record<string, string>,
): Promise<Record<string, string>> {
  return eventually(
    async () => {
      const q = (await api('GET', `/api/v1/namespaces/${ns}/resourcequotas/${name}`)).body;
      const u = (q.status as { used?: Record<string, string> } | undefined)?.used;
      if (!u) return undefined;
      // Compared as sets of entries: the order of a map's keys means nothing.
      const sorted = (m: Record<string, string>) => JSON.stringify(Object.entries(m).sort());
      if (expected && sorted(u) !== sorted(expected)) return undefined;
      return u;
    },
    `quota ${ns}/${name} used ${JSON.stringify(expected)}`,
  );
}

describe('quantities', () => {
  it.each([
    ['500m', '500m'],
    ['0.5', '500m'],
    ['2', '2'],
    ['2000m', '2'],
    ['1024Mi', '1Gi'],
    ['1.5Gi', '1536Mi'],
    ['512Ki', '512Ki'],
    ['0.5Ki', '512'],
    ['1k', '1k'],
    ['1500000', '1500k'],
    ['1G', '1G'],
    ['1e3', '1e3'],
    ['1.5e3', '1500'],
    ['100n', '100n'],
    ['12e-3', '12e-3'],
  ])('%s is printed as %s', (input, out) => {
    expect(formatQuantity(parseQuantity(input)!)).toBe(out);
  });

  it('refuses what is no quantity', () => {
    for (const bad of ['', 'abc', '1.2.3', '5 Gi', '1Kb', 'Mi']) expect(parseQuantity(bad)).toBeUndefined();
  });
});

test('status.hard and status.used follow what the namespace runs; finished pods no longer count', async () => {
  await namespace('q-status');
  await quota('q-status', 'compute', {
    pods: '4',
    'requests.cpu': '2',
    'requests.memory': '2Gi',
    'limits.memory': '4096Mi',
  });
  expect(await used('q-status', 'compute')).toEqual({
    pods: '0',
    'requests.cpu': '0',
    'requests.memory': '0',
    'limits.memory': '0',
  });
  const q = (await api('GET', '/api/v1/namespaces/q-status/resourcequotas/compute')).body;
  expect((q.status as { hard: unknown }).hard).toEqual({
    'limits.memory': '4Gi',
    pods: '4',
    'requests.cpu': '2',
    'requests.memory': '2Gi',
  });
  // A limit without a request requests the limit (pod defaulting), and the sums stay exact.
  const a = await api(
    'POST',
    '/api/v1/namespaces/q-status/pods',
    // Never scheduled (no node matches), so no simulated kubelet writes its status but the test.
    pod('a', [{ name: 'app', requests: { cpu: '0.5' }, limits: { memory: '128Mi' } }], {
      nodeSelector: { 'kubestage.dev/no-such-node': 'true' },
    }),
  );
  expect(a.status).toBe(201);
  const b = await api(
    'POST',
    '/api/v1/namespaces/q-status/pods',
    pod('b', [{ name: 'app', requests: { cpu: '250m', memory: '896Mi' }, limits: { memory: '896Mi' } }]),
  );
  expect(b.status).toBe(201);
  await used('q-status', 'compute', {
    'limits.memory': '1Gi',
    pods: '2',
    'requests.cpu': '750m',
    'requests.memory': '1Gi',
  });

  // A pod that has finished frees its share (the kubelet, or here the test, writes the phase).
  const done = await api('PATCH', '/api/v1/namespaces/q-status/pods/a/status', {
    status: { phase: 'Succeeded' },
  });
  expect(done.status).toBe(200);
  await used('q-status', 'compute', {
    'limits.memory': '896Mi',
    pods: '1',
    'requests.cpu': '250m',
    'requests.memory': '896Mi',
  });
  // Deleting the other one empties the quota again.
  expect((await api('DELETE', '/api/v1/namespaces/q-status/pods/b?gracePeriodSeconds=0')).status).toBe(200);
  await used('q-status', 'compute', {
    'limits.memory': '0',
    pods: '0',
    'requests.cpu': '0',
    'requests.memory': '0',
  });
});

test('a pod over quota is refused with the real 403 and message; a dry run is refused the same way', async () => {
  await namespace('q-pods');
  await quota('q-pods', 'kubestage-preview', { 'requests.cpu': '2', pods: '10' });
  expect(
    (
      await api(
        'POST',
        '/api/v1/namespaces/q-pods/pods',
        pod('first', [{ name: 'web', requests: { cpu: '1800m' } }]),
      )
    ).status,
  ).toBe(201);
  await used('q-pods', 'kubestage-preview', { pods: '1', 'requests.cpu': '1800m' });
  const r = await api(
    'POST',
    '/api/v1/namespaces/q-pods/pods',
    pod('web-6d5f-abc', [{ name: 'web', requests: { cpu: '500m' } }]),
  );
  expect(r.status).toBe(403);
  expect(r.body).toMatchObject({
    kind: 'Status',
    apiVersion: 'v1',
    status: 'Failure',
    reason: 'Forbidden',
    code: 403,
    details: { name: 'web-6d5f-abc', kind: 'pods' },
    message:
      'pods "web-6d5f-abc" is forbidden: exceeded quota: kubestage-preview, requested: requests.cpu=500m, used: requests.cpu=1800m, limited: requests.cpu=2',
  });
  const dry = await api(
    'POST',
    '/api/v1/namespaces/q-pods/pods?dryRun=All',
    pod('dry', [{ name: 'web', requests: { cpu: '1' } }]),
  );
  expect(dry.status).toBe(403);
  expect(dry.body.message).toBe(
    'pods "dry" is forbidden: exceeded quota: kubestage-preview, requested: requests.cpu=1, used: requests.cpu=1800m, limited: requests.cpu=2',
  );
  // What still fits is admitted.
  expect(
    (
      await api(
        'POST',
        '/api/v1/namespaces/q-pods/pods',
        pod('small', [{ name: 'web', requests: { cpu: '200m' } }]),
      )
    ).status,
  ).toBe(201);
});

test('several resources over quota are all named, sorted, in one message', async () => {
  await namespace('q-multi');
  await quota('q-multi', 'tight', { pods: '1', 'requests.memory': '1Gi', 'requests.cpu': '1' });
  expect(
    (
      await api(
        'POST',
        '/api/v1/namespaces/q-multi/pods',
        pod('one', [{ name: 'a', requests: { cpu: '100m', memory: '512Mi' } }]),
      )
    ).status,
  ).toBe(201);
  await used('q-multi', 'tight', { pods: '1', 'requests.cpu': '100m', 'requests.memory': '512Mi' });
  const r = await api(
    'POST',
    '/api/v1/namespaces/q-multi/pods',
    pod('two', [{ name: 'a', requests: { cpu: '100m', memory: '768Mi' } }]),
  );
  expect(r.body.message).toBe(
    'pods "two" is forbidden: exceeded quota: tight, requested: pods=1,requests.memory=768Mi, used: pods=1,requests.memory=512Mi, limited: pods=1,requests.memory=1Gi',
  );
});

test('a quota on cpu or memory makes every container state it: "failed quota: … must specify"', async () => {
  await namespace('q-must');
  await quota('q-must', 'kubestage-preview', {
    'requests.cpu': '4',
    'limits.cpu': '4',
    'limits.memory': '4Gi',
  });
  const r = await api(
    'POST',
    '/api/v1/namespaces/q-must/pods',
    pod('web', [
      { name: 'web', requests: { cpu: '100m' } },
      { name: 'sidecar', requests: { cpu: '100m' }, limits: { cpu: '200m' } },
    ]),
  );
  expect(r.status).toBe(403);
  expect(r.body.message).toBe(
    'pods "web" is forbidden: failed quota: kubestage-preview: must specify limits.cpu for: web; limits.memory for: sidecar,web',
  );
  // A generated name is reported as the server generates it: the prefix plus five characters.
  const generated = await api('POST', '/api/v1/namespaces/q-must/pods', {
    ...pod('', [{ name: 'web' }]),
    metadata: { generateName: 'web-6d5f-' },
  });
  expect(generated.body.message).toMatch(
    /^pods "web-6d5f-[a-z0-9]{5}" is forbidden: failed quota: kubestage-preview: must specify limits\.cpu for: web; limits\.memory for: web; requests\.cpu for: web$/,
  );
});

test('kubectl: a Deployment over quota shows the message as the ReplicaSet condition and FailedCreate event; describe quota shows used/hard', async () => {
  expect((await kubectl(['create', 'namespace', 'q-kubectl'])).code).toBe(0);
  const created = await kubectl([
    '-n',
    'q-kubectl',
    'create',
    'quota',
    'kubestage-preview',
    '--hard=requests.cpu=2,requests.memory=1Gi,pods=5',
  ]);
  expect(created).toMatchObject({ code: 0, stdout: 'resourcequota/kubestage-preview created\n' });
  expect(
    (
      await api(
        'POST',
        '/api/v1/namespaces/q-kubectl/pods',
        pod('big', [{ name: 'app', requests: { cpu: '1800m', memory: '256Mi' } }]),
      )
    ).status,
  ).toBe(201);
  await used('q-kubectl', 'kubestage-preview', {
    pods: '1',
    'requests.cpu': '1800m',
    'requests.memory': '256Mi',
  });

  const deployment = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: nginx:1.27
        resources:
          requests: {cpu: 500m, memory: 128Mi}
`;
  const applied = await kubectl(['-n', 'q-kubectl', 'apply', '-f', '-'], deployment);
  expect(applied).toMatchObject({ code: 0, stdout: 'deployment.apps/web created\n' });

  const message =
    /^pods "web-[a-z0-9]+-[a-z0-9]{5}" is forbidden: exceeded quota: kubestage-preview, requested: requests\.cpu=500m, used: requests\.cpu=1800m, limited: requests\.cpu=2$/;
  const rs = await eventually(async () => {
    const out = await kubectl(['-n', 'q-kubectl', 'get', 'rs', '-l', 'app=web', '-o', 'json']);
    const item = (JSON.parse(out.stdout) as { items: KObject[] }).items[0];
    const conds = (item?.status as { conditions?: { type: string; reason?: string; message?: string }[] })
      ?.conditions;
    return conds?.some((c) => c.type === 'ReplicaFailure') ? item : undefined;
  }, 'the ReplicaFailure condition');
  const cond = (
    rs.status as { conditions: { type: string; status: string; reason: string; message: string }[] }
  ).conditions.find((c) => c.type === 'ReplicaFailure')!;
  expect(cond).toMatchObject({ status: 'True', reason: 'FailedCreate' });
  expect(cond.message).toMatch(message);
  // The Deployment carries it too, as the real deployment controller copies it.
  const dep = await eventually(async () => {
    const out = await kubectl(['-n', 'q-kubectl', 'get', 'deployment', 'web', '-o', 'json']);
    const d = JSON.parse(out.stdout) as KObject;
    const c = (d.status as { conditions?: { type: string; message?: string }[] })?.conditions?.find(
      (x) => x.type === 'ReplicaFailure',
    );
    return c;
  }, 'the Deployment ReplicaFailure condition');
  expect(dep.message).toMatch(message);

  const events = await kubectl([
    '-n',
    'q-kubectl',
    'get',
    'events',
    '--field-selector',
    'reason=FailedCreate',
    '-o',
    'json',
  ]);
  const ev = (JSON.parse(events.stdout) as { items: { message: string; involvedObject: { kind: string } }[] })
    .items;
  expect(ev.length).toBeGreaterThan(0);
  expect(ev[0].involvedObject.kind).toBe('ReplicaSet');
  expect(ev[0].message.replace(/^Error creating: /, '')).toMatch(message);
  expect(ev[0].message.startsWith('Error creating: pods "web-')).toBe(true);

  // The controller backs off and the events are correlated as client-go does: after a while there are
  // at most 10 distinct FailedCreate events plus one "(combined from similar events)" whose count grows.
  await new Promise((r) => setTimeout(r, 1500));
  const later = (
    JSON.parse(
      (
        await kubectl([
          '-n',
          'q-kubectl',
          'get',
          'events',
          '--field-selector',
          'reason=FailedCreate',
          '-o',
          'json',
        ])
      ).stdout,
    ) as { items: { message: string; count?: number }[] }
  ).items;
  expect(later.length).toBeLessThanOrEqual(11);
  const combined = later.filter((e) =>
    e.message.startsWith('(combined from similar events): Error creating:'),
  );
  expect(combined.length).toBeLessThanOrEqual(1);
  if (later.length === 11) expect(combined[0]?.count ?? 0).toBeGreaterThanOrEqual(1);

  // Nothing of the Deployment was admitted: the quota still shows the one pod.
  const describe = await kubectl(['-n', 'q-kubectl', 'describe', 'quota', 'kubestage-preview']);
  expect(describe.code).toBe(0);
  expect(describe.stdout).toMatch(/^Name:\s+kubestage-preview$/m);
  expect(describe.stdout).toMatch(/^Resource\s+Used\s+Hard$/m);
  expect(describe.stdout).toMatch(/^pods\s+1\s+5$/m);
  expect(describe.stdout).toMatch(/^requests\.cpu\s+1800m\s+2$/m);
  expect(describe.stdout).toMatch(/^requests\.memory\s+256Mi\s+1Gi$/m);
  const get = await kubectl(['-n', 'q-kubectl', 'get', 'quota']);
  expect(get.stdout).toMatch(/^NAME\s+AGE\s+REQUEST\s+LIMIT\s*$/m);
  expect(get.stdout).toMatch(
    /^kubestage-preview\s+\S+\s+pods: 1\/5, requests\.cpu: 1800m\/2, requests\.memory: 256Mi\/1Gi\s*$/m,
  );

  // Freeing the quota lets the ReplicaSet's retry through.
  expect(
    (await kubectl(['-n', 'q-kubectl', 'delete', 'pod', 'big', '--grace-period=0', '--wait=false'])).code,
  ).toBe(0);
  await used('q-kubectl', 'kubestage-preview', {
    pods: '2',
    'requests.cpu': '1',
    'requests.memory': '256Mi',
  });
});

test('kubectl: a pod over quota prints the real "Error from server (Forbidden)"', async () => {
  await namespace('q-kubectl-pod');
  await quota('q-kubectl-pod', 'pods-only', { pods: '0' });
  const r = await kubectl(['-n', 'q-kubectl-pod', 'run', 'one', '--image=nginx:1.27']);
  expect(r.code).toBe(1);
  expect(r.stderr.trim()).toBe(
    'Error from server (Forbidden): pods "one" is forbidden: exceeded quota: pods-only, requested: pods=1, used: pods=0, limited: pods=0',
  );
});

test("StatefulSet and Job pods over quota: the controllers' FailedCreate events carry the message", async () => {
  await namespace('q-ctrl');
  await quota('q-ctrl', 'few', { pods: '0' });
  await api('POST', '/apis/apps/v1/namespaces/q-ctrl/statefulsets', {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name: 'db' },
    spec: {
      serviceName: 'db',
      selector: { matchLabels: { app: 'db' } },
      template: {
        metadata: { labels: { app: 'db' } },
        spec: { containers: [{ name: 'db', image: 'postgres:17' }] },
      },
    },
  });
  await api('POST', '/apis/batch/v1/namespaces/q-ctrl/jobs', {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name: 'migrate' },
    spec: { template: { spec: { containers: [{ name: 'm', image: 'busybox:1.36' }] } } },
  });
  const failed = async (kind: string) =>
    eventually(async () => {
      const items = (await api('GET', '/api/v1/namespaces/q-ctrl/events')).body.items ?? [];
      const e = items.find(
        (x) => x.reason === 'FailedCreate' && (x.involvedObject as { kind: string }).kind === kind,
      );
      return e?.message as string | undefined;
    }, `${kind} FailedCreate`);
  expect(await failed('StatefulSet')).toBe(
    'create Pod db-0 in StatefulSet db failed error: pods "db-0" is forbidden: exceeded quota: few, requested: pods=1, used: pods=0, limited: pods=0',
  );
  expect(await failed('Job')).toMatch(
    /^Error creating: pods "migrate-[a-z0-9]{5}" is forbidden: exceeded quota: few, requested: pods=1, used: pods=0, limited: pods=0$/,
  );
  const pods = (await api('GET', '/api/v1/namespaces/q-ctrl/pods')).body.items ?? [];
  expect(pods).toEqual([]);
});

test('services: load balancers and node ports are counted and refused with the real message', async () => {
  await namespace('q-svc');
  await quota('q-svc', 'net', { services: '3', 'services.loadbalancers': '0', 'services.nodeports': '1' });
  const svc = (name: string, type: string, ports: number[]) => ({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name },
    spec: { type, selector: { app: name }, ports: ports.map((port) => ({ name: `p${port}`, port })) },
  });
  const lb = await api('POST', '/api/v1/namespaces/q-svc/services', svc('public', 'LoadBalancer', [80]));
  expect(lb.status).toBe(403);
  expect(lb.body.message).toBe(
    'services "public" is forbidden: exceeded quota: net, requested: services.loadbalancers=1, used: services.loadbalancers=0, limited: services.loadbalancers=0',
  );
  const np = await api('POST', '/api/v1/namespaces/q-svc/services', svc('debug', 'NodePort', [80, 443]));
  expect(np.body.message).toBe(
    'services "debug" is forbidden: exceeded quota: net, requested: services.nodeports=2, used: services.nodeports=0, limited: services.nodeports=1',
  );
  expect(
    (await api('POST', '/api/v1/namespaces/q-svc/services', svc('one-port', 'NodePort', [80]))).status,
  ).toBe(201);
  expect((await api('POST', '/api/v1/namespaces/q-svc/services', svc('web', 'ClusterIP', [80]))).status).toBe(
    201,
  );
  await used('q-svc', 'net', { services: '2', 'services.loadbalancers': '0', 'services.nodeports': '1' });
});

test('claims: persistentvolumeclaims and requests.storage, also per storage class', async () => {
  await namespace('q-pvc');
  await quota('q-pvc', 'storage', {
    persistentvolumeclaims: '2',
    'requests.storage': '5Gi',
    'standard.storageclass.storage.k8s.io/requests.storage': '3Gi',
  });
  const claim = (name: string, size: string) => ({
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: { name },
    spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: size } } },
  });
  const big = await api('POST', '/api/v1/namespaces/q-pvc/persistentvolumeclaims', claim('big', '4Gi'));
  expect(big.status).toBe(403);
  // The default class was filled in before quota looked, so the class quota applies.
  expect(big.body.message).toBe(
    'persistentvolumeclaims "big" is forbidden: exceeded quota: storage, requested: standard.storageclass.storage.k8s.io/requests.storage=4Gi, used: standard.storageclass.storage.k8s.io/requests.storage=0, limited: standard.storageclass.storage.k8s.io/requests.storage=3Gi',
  );
  expect(
    (await api('POST', '/api/v1/namespaces/q-pvc/persistentvolumeclaims', claim('data', '2Gi'))).status,
  ).toBe(201);
  expect(
    (await api('POST', '/api/v1/namespaces/q-pvc/persistentvolumeclaims', claim('logs', '1Gi'))).status,
  ).toBe(201);
  const third = await api('POST', '/api/v1/namespaces/q-pvc/persistentvolumeclaims', claim('more', '100Mi'));
  // Both the count and the class's storage are full: both are named.
  expect(third.body.message).toBe(
    'persistentvolumeclaims "more" is forbidden: exceeded quota: storage, requested: persistentvolumeclaims=1,standard.storageclass.storage.k8s.io/requests.storage=100Mi, used: persistentvolumeclaims=2,standard.storageclass.storage.k8s.io/requests.storage=3Gi, limited: persistentvolumeclaims=2,standard.storageclass.storage.k8s.io/requests.storage=3Gi',
  );
  await used('q-pvc', 'storage', {
    persistentvolumeclaims: '2',
    'requests.storage': '3Gi',
    'standard.storageclass.storage.k8s.io/requests.storage': '3Gi',
  });
});

test('object counts: count/<resource>.<group> and the legacy core names', async () => {
  await namespace('q-count');
  await quota('q-count', 'counts', { 'count/deployments.apps': '1', configmaps: '2', 'count/secrets': '1' });
  // Every namespace starts with the kube-root-ca.crt ConfigMap, which counts.
  await used('q-count', 'counts', { configmaps: '1', 'count/deployments.apps': '0', 'count/secrets': '0' });
  const dep = (name: string) => ({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name },
    spec: {
      replicas: 0,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: { containers: [{ name: 'a', image: 'nginx:1.27' }] },
      },
    },
  });
  expect((await api('POST', '/apis/apps/v1/namespaces/q-count/deployments', dep('a'))).status).toBe(201);
  const second = await api('POST', '/apis/apps/v1/namespaces/q-count/deployments', dep('b'));
  expect(second.status).toBe(403);
  expect(second.body).toMatchObject({
    reason: 'Forbidden',
    details: { name: 'b', group: 'apps', kind: 'deployments' },
    message:
      'deployments.apps "b" is forbidden: exceeded quota: counts, requested: count/deployments.apps=1, used: count/deployments.apps=1, limited: count/deployments.apps=1',
  });
  const cm = (name: string) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data: {} });
  expect((await api('POST', '/api/v1/namespaces/q-count/configmaps', cm('one'))).status).toBe(201);
  expect((await api('POST', '/api/v1/namespaces/q-count/configmaps', cm('two'))).body.message).toBe(
    'configmaps "two" is forbidden: exceeded quota: counts, requested: configmaps=1, used: configmaps=2, limited: configmaps=2',
  );
  // Server-side apply creates are admitted the same way.
  const applied = await fetch(`${emu.httpUrl}/api/v1/namespaces/q-count/secrets/s2?fieldManager=test`, {
    method: 'PATCH',
    headers: { authorization: `Bearer ${EMULATOR_TOKEN}`, 'content-type': 'application/apply-patch+yaml' },
    body: JSON.stringify({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 's2' } }),
  });
  expect(applied.status).toBe(201);
  const over = await fetch(`${emu.httpUrl}/api/v1/namespaces/q-count/secrets/s3?fieldManager=test`, {
    method: 'PATCH',
    headers: { authorization: `Bearer ${EMULATOR_TOKEN}`, 'content-type': 'application/apply-patch+yaml' },
    body: JSON.stringify({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 's3' } }),
  });
  expect(over.status).toBe(403);
  expect(((await over.json()) as { message: string }).message).toBe(
    'secrets "s3" is forbidden: exceeded quota: counts, requested: count/secrets=1, used: count/secrets=1, limited: count/secrets=1',
  );
});

test('scopes: a BestEffort quota counts only pods without requests or limits', async () => {
  await namespace('q-scope');
  await quota('q-scope', 'besteffort', { pods: '1' }, { scopes: ['BestEffort'] });
  expect((await api('POST', '/api/v1/namespaces/q-scope/pods', pod('be1', [{ name: 'a' }]))).status).toBe(
    201,
  );
  expect(
    (
      await api(
        'POST',
        '/api/v1/namespaces/q-scope/pods',
        pod('burst', [{ name: 'a', requests: { cpu: '10m' } }]),
      )
    ).status,
  ).toBe(201);
  const r = await api('POST', '/api/v1/namespaces/q-scope/pods', pod('be2', [{ name: 'a' }]));
  expect(r.body.message).toBe(
    'pods "be2" is forbidden: exceeded quota: besteffort, requested: pods=1, used: pods=1, limited: pods=1',
  );
  await used('q-scope', 'besteffort', { pods: '1' });
});
