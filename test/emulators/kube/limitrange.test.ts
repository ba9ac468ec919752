// LimitRanger admission over real HTTP and real kubectl: LimitRange items defaulted when stored,
// container defaults filled into new pods (before quota admission sees them) with the
// kubernetes.io/limit-ranger annotation, and min / max / ratio refusals with the real messages,
// for pods sent directly and for a Deployment's pods (ReplicaSet FailedCreate).
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { EMULATOR_TOKEN, startKubeEmulator, type KObject, type KubeEmulator } from './index.js';

let emu: KubeEmulator;
let cacheDir: string;

beforeAll(async () => {
  emu = await startKubeEmulator({ controllers: { readyDelayMs: 10, timeScale: 0.001 } });
  cacheDir = join(mkdtempSync(join(tmpdir(), 'kubestage-limits-')), 'cache');
});
afterAll(async () => {
  await emu.close();
});

type Body = KObject & { message?: string; items?: KObject[] };

async function api(method: string, path: string, body?: unknown): Promise<{ status: number; body: Body }> {
  const res = await fetch(emu.httpUrl + path, {
    method,
    headers: { authorization: `Bearer ${EMULATOR_TOKEN}`, 'content-type': 'application/json' },
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

async function setup(ns: string, limits: object[]): Promise<void> {
  expect(
    (await api('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } }))
      .status,
  ).toBe(201);
  const r = await api('POST', `/api/v1/namespaces/${ns}/limitranges`, {
    apiVersion: 'v1',
    kind: 'LimitRange',
    metadata: { name: 'defaults' },
    spec: { limits },
  });
  expect(r.status).toBe(201);
}

function pod(name: string, resources: object = {}, more: object[] = []): object {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name },
    spec: { containers: [{ name: 'web', image: 'nginx:1.27', resources }, ...more] },
  };
}

type Resources = { requests?: Record<string, string>; limits?: Record<string, string> };
const resourcesOf = (p: KObject, i = 0) =>
  ((p.spec as { containers: { resources: Resources }[] }).containers[i] ?? { resources: {} }).resources;

test('a stored LimitRange item is defaulted: default from max, defaultRequest from default then min', async () => {
  await setup('lr-defaults', [
    {
      type: 'Container',
      max: { cpu: '2', memory: '1Gi' },
      default: { cpu: '500m' },
      min: { memory: '64Mi' },
    },
  ]);
  const out = await kubectl(['-n', 'lr-defaults', 'get', 'limitrange', 'defaults', '-o', 'json']);
  const item = (JSON.parse(out.stdout) as { spec: { limits: Record<string, unknown>[] } }).spec.limits[0];
  expect(item).toEqual({
    type: 'Container',
    max: { cpu: '2', memory: '1Gi' },
    min: { memory: '64Mi' },
    default: { cpu: '500m', memory: '1Gi' },
    defaultRequest: { cpu: '500m', memory: '1Gi' },
  });
  const table = await kubectl(['-n', 'lr-defaults', 'get', 'limits']);
  expect(table.stdout).toMatch(/^NAME\s+CREATED AT\s*\ndefaults\s+\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\s*$/m);
});

test('a new pod gets the default requests and limits it lacks, and the annotation says which', async () => {
  await setup('lr-fill', [
    {
      type: 'Container',
      default: { cpu: '500m', memory: '256Mi' },
      defaultRequest: { cpu: '100m', memory: '128Mi' },
    },
  ]);
  const r = await api(
    'POST',
    '/api/v1/namespaces/lr-fill/pods',
    pod('web', { requests: { cpu: '200m' } }, [{ name: 'log', image: 'busybox:1.36' }]),
  );
  expect(r.status).toBe(201);
  expect(resourcesOf(r.body, 0)).toEqual({
    requests: { cpu: '200m', memory: '128Mi' },
    limits: { cpu: '500m', memory: '256Mi' },
  });
  expect(resourcesOf(r.body, 1)).toEqual({
    requests: { cpu: '100m', memory: '128Mi' },
    limits: { cpu: '500m', memory: '256Mi' },
  });
  expect(r.body.metadata.annotations?.['kubernetes.io/limit-ranger']).toBe(
    'LimitRanger plugin set: memory request for container web; cpu, memory limit for container web; cpu, memory request for container log; cpu, memory limit for container log',
  );
  // A Deployment's pods get them too (the ReplicaSet controller's create goes through admission).
  const applied = await kubectl(['-n', 'lr-fill', 'create', 'deployment', 'app', '--image=nginx:1.27']);
  expect(applied.code).toBe(0);
  const created = await eventually(async () => {
    const items =
      (await api('GET', '/api/v1/namespaces/lr-fill/pods?labelSelector=app%3Dapp')).body.items ?? [];
    return items[0];
  }, "the Deployment's pod");
  expect(resourcesOf(created)).toEqual({
    requests: { cpu: '100m', memory: '128Mi' },
    limits: { cpu: '500m', memory: '256Mi' },
  });
});

test('defaults are applied before quota admission: a quota on limits admits a pod that states none', async () => {
  await setup('lr-quota', [
    {
      type: 'Container',
      default: { cpu: '500m', memory: '256Mi' },
      defaultRequest: { cpu: '250m', memory: '128Mi' },
    },
  ]);
  const q = await api('POST', '/api/v1/namespaces/lr-quota/resourcequotas', {
    apiVersion: 'v1',
    kind: 'ResourceQuota',
    metadata: { name: 'kubestage-preview' },
    spec: { hard: { 'limits.cpu': '1', 'limits.memory': '1Gi', 'requests.cpu': '1' } },
  });
  expect(q.status).toBe(201);
  expect((await api('POST', '/api/v1/namespaces/lr-quota/pods', pod('a'))).status).toBe(201);
  expect((await api('POST', '/api/v1/namespaces/lr-quota/pods', pod('b'))).status).toBe(201);
  const third = await api('POST', '/api/v1/namespaces/lr-quota/pods', pod('c'));
  expect(third.status).toBe(403);
  expect(third.body.message).toBe(
    'pods "c" is forbidden: exceeded quota: kubestage-preview, requested: limits.cpu=500m, used: limits.cpu=1, limited: limits.cpu=1',
  );
  await eventually(async () => {
    const s = (await api('GET', '/api/v1/namespaces/lr-quota/resourcequotas/kubestage-preview')).body
      .status as { used?: Record<string, string> } | undefined;
    return s?.used?.['limits.memory'] === '512Mi' && s.used['requests.cpu'] === '500m' ? true : undefined;
  }, 'quota usage from defaulted pods');
});

test('max and min per Container are refused with the real messages, several in brackets', async () => {
  await setup('lr-bounds', [{ type: 'Container', max: { cpu: '1', memory: '512Mi' }, min: { cpu: '100m' } }]);
  const big = await api('POST', '/api/v1/namespaces/lr-bounds/pods', pod('big', { limits: { cpu: '2' } }));
  expect(big.status).toBe(403);
  expect(big.body).toMatchObject({
    kind: 'Status',
    reason: 'Forbidden',
    code: 403,
    details: { name: 'big', kind: 'pods' },
    message: 'pods "big" is forbidden: maximum cpu usage per Container is 1, but limit is 2',
  });
  const tiny = await api(
    'POST',
    '/api/v1/namespaces/lr-bounds/pods',
    pod('tiny', { requests: { cpu: '50m' }, limits: { cpu: '200m' } }),
  );
  expect(tiny.body.message).toBe(
    'pods "tiny" is forbidden: minimum cpu usage per Container is 100m, but request is 50m',
  );
  const both = await api(
    'POST',
    '/api/v1/namespaces/lr-bounds/pods',
    pod('both', { limits: { cpu: '1500m', memory: '1Gi' } }),
  );
  expect(both.body.message).toBe(
    'pods "both" is forbidden: [maximum cpu usage per Container is 1, but limit is 1500m, maximum memory usage per Container is 512Mi, but limit is 1Gi]',
  );
  const ok = await api('POST', '/api/v1/namespaces/lr-bounds/pods', pod('ok', { requests: { cpu: '100m' } }));
  expect(ok.status).toBe(201);
  // Defaulted from max: the limit is the maximum.
  expect(resourcesOf(ok.body).limits).toEqual({ cpu: '1', memory: '512Mi' });
});

test('kubectl apply of a Deployment over max: the ReplicaSet reports the refusal', async () => {
  await setup('lr-deploy', [{ type: 'Container', max: { cpu: '1' } }]);
  const manifest = `apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: web
        image: nginx:1.27
        resources: {limits: {cpu: "2"}}
`;
  expect(await kubectl(['-n', 'lr-deploy', 'apply', '-f', '-'], manifest)).toMatchObject({
    code: 0,
    stdout: 'deployment.apps/web created\n',
  });
  const message =
    /^pods "web-[a-z0-9]+-[a-z0-9]{5}" is forbidden: maximum cpu usage per Container is 1, but limit is 2$/;
  const event = await eventually(async () => {
    const out = await kubectl([
      '-n',
      'lr-deploy',
      'get',
      'events',
      '--field-selector',
      'reason=FailedCreate',
      '-o',
      'json',
    ]);
    return (JSON.parse(out.stdout) as { items: { message: string }[] }).items[0];
  }, 'FailedCreate');
  expect(event.message.replace(/^Error creating: /, '')).toMatch(message);
  const described = await kubectl(['-n', 'lr-deploy', 'describe', 'rs', '-l', 'app=web']);
  expect(described.stdout).toMatch(/ReplicaFailure\s+True\s+FailedCreate/);
  expect(described.stdout).toContain('maximum cpu usage per Container is 1, but limit is 2');
});

test('Pod-type and ratio limits, and claims against a PersistentVolumeClaim item', async () => {
  await setup('lr-other', [
    { type: 'Pod', max: { cpu: '2' } },
    { type: 'Container', maxLimitRequestRatio: { cpu: '2' } },
    { type: 'PersistentVolumeClaim', max: { storage: '2Gi' }, min: { storage: '1Gi' } },
  ]);
  const wide = await api(
    'POST',
    '/api/v1/namespaces/lr-other/pods',
    pod('wide', { requests: { cpu: '1' }, limits: { cpu: '2' } }, [
      { name: 'side', image: 'busybox:1.36', resources: { requests: { cpu: '1' }, limits: { cpu: '1' } } },
    ]),
  );
  expect(wide.body.message).toBe('pods "wide" is forbidden: maximum cpu usage per Pod is 2, but limit is 3');
  const ratio = await api(
    'POST',
    '/api/v1/namespaces/lr-other/pods',
    pod('ratio', { requests: { cpu: '250m' }, limits: { cpu: '1' } }),
  );
  expect(ratio.body.message).toBe(
    'pods "ratio" is forbidden: cpu max limit to request ratio per Container is 2, but provided ratio is 4.000000',
  );
  const claim = (name: string, storage: string) => ({
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: { name },
    spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage } } },
  });
  const huge = await api('POST', '/api/v1/namespaces/lr-other/persistentvolumeclaims', claim('huge', '5Gi'));
  expect(huge.status).toBe(403);
  expect(huge.body.message).toBe(
    'persistentvolumeclaims "huge" is forbidden: maximum storage usage per PersistentVolumeClaim is 2Gi, but request is 5Gi',
  );
  const small = await api(
    'POST',
    '/api/v1/namespaces/lr-other/persistentvolumeclaims',
    claim('small', '500Mi'),
  );
  expect(small.body.message).toBe(
    'persistentvolumeclaims "small" is forbidden: minimum storage usage per PersistentVolumeClaim is 1Gi, but request is 500Mi',
  );
  expect(
    (await api('POST', '/api/v1/namespaces/lr-other/persistentvolumeclaims', claim('fits', '1536Mi'))).status,
  ).toBe(201);
});
