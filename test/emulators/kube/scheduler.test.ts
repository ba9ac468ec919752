// The scheduler and the volume binder of the Kubernetes API emulator, observed as a client sees
// them: pods that fit are bound, the rest stay Pending in the scheduler's words; claims of the
// default WaitForFirstConsumer class bind when a pod that uses them is scheduled.
import { EMULATOR_TOKEN, startKubeEmulator, type KObject, type KubeEmulator } from './index.js';

let emu: KubeEmulator;
afterEach(async () => {
  await emu?.close();
});

async function api(method: string, path: string, body?: unknown) {
  const res = await fetch(emu.httpUrl + path, {
    method,
    headers: { authorization: `Bearer ${EMULATOR_TOKEN}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as KObject & { items?: KObject[] } };
}

function pod(name: string, spec: Record<string, unknown> = {}, cpu?: string): KObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name },
    spec: {
      containers: [
        {
          name: 'app',
          image: 'nginx:1.27',
          ...(cpu ? { resources: { requests: { cpu, memory: '64Mi' } } } : {}),
        },
      ],
      ...spec,
    },
  };
}

async function eventually<T>(what: string, check: () => Promise<T | undefined>, ms = 5000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const get = async (path: string) => (await api('GET', path)).body;
const scheduled = (p: KObject) =>
  (
    (p.status as { conditions?: { type: string; status: string; reason?: string; message?: string }[] })
      ?.conditions ?? []
  ).find((c) => c.type === 'PodScheduled');

async function events(name: string): Promise<KObject[]> {
  const list = await get(`/api/v1/namespaces/default/events?fieldSelector=involvedObject.name=${name}`);
  return list.items ?? [];
}

async function unschedulable(name: string): Promise<{ message: string; event: KObject }> {
  return eventually(`${name} unschedulable`, async () => {
    const p = await get(`/api/v1/namespaces/default/pods/${name}`);
    const c = scheduled(p);
    const e = (await events(name)).find((x) => x.reason === 'FailedScheduling');
    return c?.status === 'False' && e ? { message: c.message ?? '', event: e } : undefined;
  });
}

describe('scheduler', () => {
  test('a pod whose requests do not fit stays Pending: PodScheduled=False Unschedulable and FailedScheduling', async () => {
    emu = await startKubeEmulator({ controllers: { readyDelayMs: 10 } });
    expect((await api('POST', '/api/v1/namespaces/default/pods', pod('huge', {}, '64'))).status).toBe(201);
    const { message, event } = await unschedulable('huge');
    const expected =
      '0/1 nodes are available: 1 Insufficient cpu. preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod.';
    expect(message).toBe(expected);
    expect(event).toMatchObject({
      type: 'Warning',
      message: expected,
      source: { component: 'default-scheduler' },
    });
    const p = await get('/api/v1/namespaces/default/pods/huge');
    expect(p.status).toMatchObject({ phase: 'Pending' });
    expect((p.spec as { nodeName?: string }).nodeName).toBeUndefined();
    expect(scheduled(p)).toMatchObject({ reason: 'Unschedulable' });
  });

  test('a nodeSelector or required node affinity that matches no node is unschedulable', async () => {
    emu = await startKubeEmulator({ controllers: { readyDelayMs: 10 } });
    await api(
      'POST',
      '/api/v1/namespaces/default/pods',
      pod('gpu', { nodeSelector: { accelerator: 'nvidia' } }),
    );
    await api(
      'POST',
      '/api/v1/namespaces/default/pods',
      pod('arm', {
        affinity: {
          nodeAffinity: {
            requiredDuringSchedulingIgnoredDuringExecution: {
              nodeSelectorTerms: [
                { matchExpressions: [{ key: 'kubernetes.io/arch', operator: 'In', values: ['arm64'] }] },
              ],
            },
          },
        },
      }),
    );
    const expected =
      "0/1 nodes are available: 1 node(s) didn't match Pod's node affinity/selector. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.";
    expect((await unschedulable('gpu')).message).toBe(expected);
    expect((await unschedulable('arm')).message).toBe(expected);
    // A pod selecting a label the node has is bound and runs.
    await api(
      'POST',
      '/api/v1/namespaces/default/pods',
      pod('amd', { nodeSelector: { 'kubernetes.io/arch': 'amd64' } }),
    );
    await eventually('amd running', async () => {
      const p = await get('/api/v1/namespaces/default/pods/amd');
      return (p.status as { phase?: string }).phase === 'Running' ? p : undefined;
    });
    expect((await events('amd')).find((e) => e.reason === 'Scheduled')?.message).toBe(
      'Successfully assigned default/amd to emulator-node',
    );
  });

  test('nodes are configurable; requests of bound pods count; a freed node takes the waiting pod', async () => {
    emu = await startKubeEmulator({
      controllers: { readyDelayMs: 10 },
      nodes: { count: 2, allocatable: { cpu: '1', memory: '2Gi', pods: '10' }, taints: [] },
    });
    const nodes = (await get('/api/v1/nodes')).items ?? [];
    expect(
      nodes.map((n) => [n.metadata.name, (n.status as { allocatable: { cpu: string } }).allocatable.cpu]),
    ).toEqual([
      ['emulator-node', '1'],
      ['emulator-node-2', '1'],
    ]);
    for (const name of ['a', 'b'])
      await api('POST', '/api/v1/namespaces/default/pods', pod(name, {}, '800m'));
    const nodeOf = async (name: string) =>
      (await get(`/api/v1/namespaces/default/pods/${name}`)).spec as { nodeName?: string };
    await eventually('a and b bound', async () =>
      (await nodeOf('a')).nodeName && (await nodeOf('b')).nodeName ? true : undefined,
    );
    expect(new Set([(await nodeOf('a')).nodeName, (await nodeOf('b')).nodeName]).size).toBe(2);
    await api('POST', '/api/v1/namespaces/default/pods', pod('c', {}, '500m'));
    expect((await unschedulable('c')).message).toBe(
      '0/2 nodes are available: 2 Insufficient cpu. preemption: 0/2 nodes are available: 2 No preemption victims found for incoming pod.',
    );
    await api('DELETE', '/api/v1/namespaces/default/pods/a');
    await eventually('c bound', async () => (await nodeOf('c')).nodeName);
  });

  test('a tainted node refuses pods that do not tolerate the taint', async () => {
    emu = await startKubeEmulator({
      controllers: { readyDelayMs: 10 },
      nodes: { taints: [{ key: 'dedicated', value: 'db', effect: 'NoSchedule' }] },
    });
    await api('POST', '/api/v1/namespaces/default/pods', pod('plain'));
    expect((await unschedulable('plain')).message).toBe(
      '0/1 nodes are available: 1 node(s) had untolerated taint {dedicated: db}. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.',
    );
  });
});

describe('volume binding', () => {
  test('a claim without a class gets the default standard class and binds when a pod using it is scheduled', async () => {
    emu = await startKubeEmulator({ controllers: { readyDelayMs: 10 } });
    const sc = await get('/apis/storage.k8s.io/v1/storageclasses/standard');
    expect(sc).toMatchObject({
      metadata: { annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' } },
      provisioner: 'rancher.io/local-path',
      volumeBindingMode: 'WaitForFirstConsumer',
    });
    const claim = await api('POST', '/api/v1/namespaces/default/persistentvolumeclaims', {
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: { name: 'data' },
      spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
    });
    expect((claim.body.spec as { storageClassName?: string }).storageClassName).toBe('standard');
    const waiting = await eventually('WaitForFirstConsumer', async () =>
      (await events('data')).find((e) => e.reason === 'WaitForFirstConsumer'),
    );
    expect(waiting.message).toBe('waiting for first consumer to be created before binding');
    await new Promise((r) => setTimeout(r, 50));
    expect((await get('/api/v1/namespaces/default/persistentvolumeclaims/data')).status).toMatchObject({
      phase: 'Pending',
    });
    await api(
      'POST',
      '/api/v1/namespaces/default/pods',
      pod('user', { volumes: [{ name: 'data', persistentVolumeClaim: { claimName: 'data' } }] }),
    );
    const bound = await eventually('claim bound', async () => {
      const c = await get('/api/v1/namespaces/default/persistentvolumeclaims/data');
      return (c.status as { phase?: string }).phase === 'Bound' ? c : undefined;
    });
    expect(bound.metadata.annotations).toMatchObject({
      'volume.kubernetes.io/selected-node': 'emulator-node',
    });
    const pvName = (bound.spec as { volumeName: string }).volumeName;
    expect(pvName).toBe(`pvc-${bound.metadata.uid}`);
    expect(await get(`/api/v1/persistentvolumes/${pvName}`)).toMatchObject({
      spec: {
        storageClassName: 'standard',
        claimRef: { name: 'data', namespace: 'default' },
        capacity: { storage: '1Gi' },
      },
      status: { phase: 'Bound' },
    });
  });

  test('a claim of an Immediate class binds at once', async () => {
    emu = await startKubeEmulator({ controllers: { readyDelayMs: 10 } });
    await api('POST', '/apis/storage.k8s.io/v1/storageclasses', {
      apiVersion: 'storage.k8s.io/v1',
      kind: 'StorageClass',
      metadata: { name: 'fast' },
      provisioner: 'rancher.io/local-path',
      volumeBindingMode: 'Immediate',
    });
    await api('POST', '/api/v1/namespaces/default/persistentvolumeclaims', {
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: { name: 'now' },
      spec: {
        storageClassName: 'fast',
        accessModes: ['ReadWriteOnce'],
        resources: { requests: { storage: '1Gi' } },
      },
    });
    await eventually('bound', async () => {
      const c = await get('/api/v1/namespaces/default/persistentvolumeclaims/now');
      return (c.status as { phase?: string }).phase === 'Bound' ? c : undefined;
    });
  });
});
