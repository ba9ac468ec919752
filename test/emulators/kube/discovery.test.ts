// Discovery of the Kubernetes API emulator over real HTTP: every built-in resource of a v1.32 API
// server with its real scope, group/version, verbs, shortNames and kind, served through the
// generic store (CRUD works for all), and the create-only review kinds answered, never stored.
import { EMULATOR_TOKEN, startKubeEmulator, type KubeEmulator } from './index.js';

let emu: KubeEmulator;
beforeAll(async () => {
  emu = await startKubeEmulator();
});
afterAll(async () => {
  await emu.close();
});

interface Resource {
  name: string;
  namespaced: boolean;
  kind: string;
  verbs: string[];
  shortNames?: string[];
  categories?: string[];
}

async function api(method: string, path: string, body?: unknown) {
  const res = await fetch(emu.httpUrl + path, {
    method,
    headers: { authorization: `Bearer ${EMULATOR_TOKEN}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

async function resources(groupVersion: string): Promise<Resource[]> {
  const path = groupVersion === 'v1' ? '/api/v1' : `/apis/${groupVersion}`;
  const r = await api('GET', path);
  expect(r.status).toBe(200);
  return r.body.resources as Resource[];
}

const RW = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

describe('discovery', () => {
  test.each([
    // groupVersion, resource, kind, namespaced, shortNames
    ['v1', 'persistentvolumes', 'PersistentVolume', false, ['pv']],
    ['v1', 'replicationcontrollers', 'ReplicationController', true, ['rc']],
    ['v1', 'podtemplates', 'PodTemplate', true, undefined],
    ['v1', 'limitranges', 'LimitRange', true, ['limits']],
    ['v1', 'resourcequotas', 'ResourceQuota', true, ['quota']],
    ['v1', 'nodes', 'Node', false, ['no']],
    ['v1', 'events', 'Event', true, ['ev']],
    ['v1', 'serviceaccounts', 'ServiceAccount', true, ['sa']],
    ['storage.k8s.io/v1', 'storageclasses', 'StorageClass', false, ['sc']],
    ['storage.k8s.io/v1', 'csidrivers', 'CSIDriver', false, undefined],
    ['storage.k8s.io/v1', 'csinodes', 'CSINode', false, undefined],
    ['storage.k8s.io/v1', 'volumeattachments', 'VolumeAttachment', false, undefined],
    ['networking.k8s.io/v1', 'ingressclasses', 'IngressClass', false, undefined],
    ['networking.k8s.io/v1', 'networkpolicies', 'NetworkPolicy', true, ['netpol']],
    ['discovery.k8s.io/v1', 'endpointslices', 'EndpointSlice', true, undefined],
    ['apps/v1', 'controllerrevisions', 'ControllerRevision', true, undefined],
    ['scheduling.k8s.io/v1', 'priorityclasses', 'PriorityClass', false, ['pc']],
    ['node.k8s.io/v1', 'runtimeclasses', 'RuntimeClass', false, undefined],
    ['coordination.k8s.io/v1', 'leases', 'Lease', true, undefined],
    ['certificates.k8s.io/v1', 'certificatesigningrequests', 'CertificateSigningRequest', false, ['csr']],
    [
      'admissionregistration.k8s.io/v1',
      'validatingwebhookconfigurations',
      'ValidatingWebhookConfiguration',
      false,
      undefined,
    ],
    [
      'admissionregistration.k8s.io/v1',
      'mutatingwebhookconfigurations',
      'MutatingWebhookConfiguration',
      false,
      undefined,
    ],
    ['apiregistration.k8s.io/v1', 'apiservices', 'APIService', false, undefined],
    ['flowcontrol.apiserver.k8s.io/v1', 'flowschemas', 'FlowSchema', false, undefined],
    [
      'flowcontrol.apiserver.k8s.io/v1',
      'prioritylevelconfigurations',
      'PriorityLevelConfiguration',
      false,
      undefined,
    ],
    ['events.k8s.io/v1', 'events', 'Event', true, ['ev']],
    ['autoscaling/v2', 'horizontalpodautoscalers', 'HorizontalPodAutoscaler', true, ['hpa']],
    ['autoscaling/v1', 'horizontalpodautoscalers', 'HorizontalPodAutoscaler', true, ['hpa']],
    ['policy/v1', 'poddisruptionbudgets', 'PodDisruptionBudget', true, ['pdb']],
    ['batch/v1', 'cronjobs', 'CronJob', true, ['cj']],
    ['rbac.authorization.k8s.io/v1', 'clusterroles', 'ClusterRole', false, undefined],
    ['rbac.authorization.k8s.io/v1', 'clusterrolebindings', 'ClusterRoleBinding', false, undefined],
    ['rbac.authorization.k8s.io/v1', 'roles', 'Role', true, undefined],
    ['rbac.authorization.k8s.io/v1', 'rolebindings', 'RoleBinding', true, undefined],
  ] as const)('%s %s: kind %s, namespaced %s, shortNames %j', async (gv, name, kind, namespaced, short) => {
    const r = (await resources(gv)).find((x) => x.name === name);
    expect(r).toEqual({
      name,
      singularName: kind.toLowerCase(),
      namespaced,
      kind,
      verbs: RW,
      ...(short ? { shortNames: short } : {}),
      ...(r?.categories ? { categories: r.categories } : {}),
    });
  });

  test('componentstatuses are read-only and the reviews create-only', async () => {
    const core = await resources('v1');
    expect(core.find((r) => r.name === 'componentstatuses')).toMatchObject({
      namespaced: false,
      shortNames: ['cs'],
      verbs: ['get', 'list'],
    });
    for (const [gv, name, namespaced] of [
      ['authentication.k8s.io/v1', 'tokenreviews', false],
      ['authentication.k8s.io/v1', 'selfsubjectreviews', false],
      ['authorization.k8s.io/v1', 'subjectaccessreviews', false],
      ['authorization.k8s.io/v1', 'localsubjectaccessreviews', true],
    ] as const) {
      expect((await resources(gv)).find((r) => r.name === name)).toMatchObject({
        namespaced,
        verbs: ['create'],
      });
    }
  });

  test('autoscaling serves v2 (preferred) and v1 from one storage', async () => {
    const group = await api('GET', '/apis/autoscaling');
    expect(group.body).toMatchObject({
      versions: [
        { groupVersion: 'autoscaling/v2', version: 'v2' },
        { groupVersion: 'autoscaling/v1', version: 'v1' },
      ],
      preferredVersion: { groupVersion: 'autoscaling/v2', version: 'v2' },
    });
    const created = await api('POST', '/apis/autoscaling/v1/namespaces/default/horizontalpodautoscalers', {
      apiVersion: 'autoscaling/v1',
      kind: 'HorizontalPodAutoscaler',
      metadata: { name: 'web' },
      spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' }, maxReplicas: 3 },
    });
    expect(created.status).toBe(201);
    expect(created.body.apiVersion).toBe('autoscaling/v1');
    const v2 = await api('GET', '/apis/autoscaling/v2/namespaces/default/horizontalpodautoscalers/web');
    expect(v2.body).toMatchObject({ apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler' });
    const v1 = await api('GET', '/apis/autoscaling/v1/namespaces/default/horizontalpodautoscalers/web');
    expect(v1.body).toMatchObject({ apiVersion: 'autoscaling/v1', metadata: { name: 'web' } });
  });

  test('cluster-scoped kinds are stored and served through the generic store', async () => {
    const pv = {
      apiVersion: 'v1',
      kind: 'PersistentVolume',
      metadata: { name: 'static-1' },
      spec: { capacity: { storage: '1Gi' }, accessModes: ['ReadWriteOnce'], hostPath: { path: '/data' } },
    };
    expect((await api('POST', '/api/v1/persistentvolumes', pv)).status).toBe(201);
    expect((await api('GET', '/api/v1/persistentvolumes/static-1')).body).toMatchObject(pv);
    const pc = {
      apiVersion: 'scheduling.k8s.io/v1',
      kind: 'PriorityClass',
      metadata: { name: 'high' },
      value: 1000,
    };
    expect((await api('POST', '/apis/scheduling.k8s.io/v1/priorityclasses', pc)).status).toBe(201);
    const patched = await api('PUT', '/apis/scheduling.k8s.io/v1/priorityclasses/high', {
      ...pc,
      description: 'for the checkout',
    });
    expect(patched.body).toMatchObject({ description: 'for the checkout' });
    expect((await api('DELETE', '/apis/scheduling.k8s.io/v1/priorityclasses/high')).status).toBe(200);
    expect((await api('GET', '/apis/scheduling.k8s.io/v1/priorityclasses/high')).status).toBe(404);
  });

  test('a TokenReview says whether a token is one the server accepts; nothing is stored', async () => {
    const review = (token: string) =>
      api('POST', '/apis/authentication.k8s.io/v1/tokenreviews', {
        apiVersion: 'authentication.k8s.io/v1',
        kind: 'TokenReview',
        spec: { token },
      });
    const good = await review(EMULATOR_TOKEN);
    expect(good.status).toBe(201);
    expect(good.body.status).toMatchObject({ authenticated: true, user: { username: 'kubernetes-admin' } });
    expect((await review('nope')).body.status).toMatchObject({ user: {} });
    expect((await review('nope')).body.status).not.toHaveProperty('authenticated');
    const whoami = await api('POST', '/apis/authentication.k8s.io/v1/selfsubjectreviews', {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'SelfSubjectReview',
    });
    expect(whoami.body.status).toMatchObject({ userInfo: { username: 'kubernetes-admin' } });
    expect((await api('GET', '/apis/authentication.k8s.io/v1/tokenreviews')).status).toBe(405);
  });
});
