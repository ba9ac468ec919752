// Contract: the real @kubernetes/client-node v2 (typed APIs, the generic KubernetesObjectApi with
// server-side apply, Watch and informers) works against the target cluster — the Kubernetes API
// emulator unless KUBESTAGE_TEST_KUBECONFIG points at a real one.
import {
  ApiException,
  AppsV1Api,
  CoreV1Api,
  KubeConfig,
  KubernetesObjectApi,
  PatchStrategy,
  Watch,
  makeInformer,
  setHeaderOptions,
  type KubernetesObject,
  type V1ConfigMap,
  type V1Deployment,
} from '@kubernetes/client-node';
import { kubeTarget, type KubeTarget } from '../support/kube-target.js';

function deployment(ns: string, replicas: number): V1Deployment {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'api', namespace: ns, labels: { app: 'api', tier: 'backend' } },
    spec: {
      replicas,
      selector: { matchLabels: { app: 'api' } },
      template: {
        metadata: { labels: { app: 'api' } },
        spec: { containers: [{ name: 'api', image: 'ghcr.io/example/api:1.0.0' }] },
      },
    },
  };
}

async function rejection(p: Promise<unknown>): Promise<ApiException<unknown>> {
  try {
    await p;
  } catch (e) {
    if (e instanceof ApiException) return e;
    throw e;
  }
  throw new Error('expected the call to fail');
}

/** Resolves with `p`, or fails after `ms` with what `describe` says was seen so far. */
async function within<T>(p: Promise<T>, ms: number, describe: () => string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(describe())), ms);
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function statusOf(e: ApiException<unknown>): {
  reason?: string;
  message?: string;
  details?: { causes?: { field?: string; message?: string }[] };
} {
  return (typeof e.body === 'string' ? JSON.parse(e.body) : e.body) as never;
}

describe('@kubernetes/client-node against the target cluster', () => {
  let target: KubeTarget;
  let kc: KubeConfig;
  let core: CoreV1Api;
  let apps: AppsV1Api;
  let objects: KubernetesObjectApi;

  beforeAll(async () => {
    target = await kubeTarget();
    kc = new KubeConfig();
    kc.loadFromFile(target.kubeconfigPath);
    core = kc.makeApiClient(CoreV1Api);
    apps = kc.makeApiClient(AppsV1Api);
    objects = KubernetesObjectApi.makeApiClient(kc);
  });
  afterAll(async () => {
    await target.cleanup();
  });

  async function freshNamespace(prefix: string): Promise<string> {
    const ns = target.namespace(prefix);
    await core.createNamespace({
      body: { metadata: { name: ns, labels: { 'app.kubernetes.io/managed-by': 'kubestage' } } },
    });
    return ns;
  }

  it('typed APIs create, read, list by label, patch and delete', async () => {
    const ns = await freshNamespace('typed');
    const created = await apps.createNamespacedDeployment({ namespace: ns, body: deployment(ns, 1) });
    expect(created.metadata?.uid).toBeTruthy();
    expect(created.metadata?.resourceVersion).toBeTruthy();

    const read = await apps.readNamespacedDeployment({ name: 'api', namespace: ns });
    expect(read.spec?.template.spec?.containers[0].image).toBe('ghcr.io/example/api:1.0.0');

    const listed = await apps.listNamespacedDeployment({
      namespace: ns,
      labelSelector: 'tier in (backend,frontend),app=api',
    });
    expect(listed.items.map((d) => d.metadata?.name)).toEqual(['api']);
    expect(listed.metadata?.resourceVersion).toBeTruthy();
    const none = await apps.listNamespacedDeployment({ namespace: ns, labelSelector: 'tier!=backend' });
    expect(none.items).toHaveLength(0);

    const patched = await apps.patchNamespacedDeployment(
      { name: 'api', namespace: ns, body: { spec: { replicas: 3 } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    expect(patched.spec?.replicas).toBe(3);
    expect(patched.metadata?.generation).toBe(2);

    await apps.deleteNamespacedDeployment({ name: 'api', namespace: ns });
    const gone = await rejection(apps.readNamespacedDeployment({ name: 'api', namespace: ns }));
    expect(gone.code).toBe(404);
    expect(statusOf(gone).message).toBe('deployments.apps "api" not found');
  });

  it('errors surface as ApiException with the real codes and reasons', async () => {
    const ns = await freshNamespace('errors');
    const cm: V1ConfigMap = { metadata: { name: 'dup', namespace: ns }, data: { a: '1' } };
    await core.createNamespacedConfigMap({ namespace: ns, body: cm });
    const dup = await rejection(core.createNamespacedConfigMap({ namespace: ns, body: cm }));
    expect(dup.code).toBe(409);
    expect(statusOf(dup).reason).toBe('AlreadyExists');
    expect(statusOf(dup).message).toBe('configmaps "dup" already exists');

    const stale = await core.readNamespacedConfigMap({ name: 'dup', namespace: ns });
    await core.replaceNamespacedConfigMap({
      name: 'dup',
      namespace: ns,
      body: { ...stale, data: { a: '2' } },
    });
    const conflict = await rejection(
      core.replaceNamespacedConfigMap({ name: 'dup', namespace: ns, body: { ...stale, data: { a: '3' } } }),
    );
    expect(conflict.code).toBe(409);
    expect(statusOf(conflict).reason).toBe('Conflict');

    const badName = await rejection(
      core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'Not_Valid' } } }),
    );
    expect(badName.code).toBe(422);
    expect(statusOf(badName).reason).toBe('Invalid');
    expect(statusOf(badName).details?.causes?.[0].field).toBe('metadata.name');

    const missingNs = target.namespace('missing');
    const noNs = await rejection(
      core.createNamespacedConfigMap({ namespace: missingNs, body: { metadata: { name: 'x' } } }),
    );
    expect(noNs.code).toBe(404);
    expect(statusOf(noNs).message).toBe(`namespaces "${missingNs}" not found`);
  });

  it('KubernetesObjectApi does generic CRUD and server-side apply with a field manager', async () => {
    const ns = await freshNamespace('generic');
    const applied = await objects.patch(
      deployment(ns, 2),
      undefined,
      undefined,
      'kubestage',
      true,
      PatchStrategy.ServerSideApply,
    );
    expect(applied.metadata?.managedFields?.map((m) => m.manager)).toContain('kubestage');
    expect((applied as V1Deployment).spec?.replicas).toBe(2);

    const again = await objects.patch(
      deployment(ns, 4),
      undefined,
      undefined,
      'kubestage',
      true,
      PatchStrategy.ServerSideApply,
    );
    expect((again as V1Deployment).spec?.replicas).toBe(4);

    const read = await objects.read<V1Deployment>({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'api', namespace: ns },
    });
    expect(read.spec?.replicas).toBe(4);

    await objects.create<KubernetesObject>({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'c1', namespace: ns },
    });
    const list = await objects.list('v1', 'ConfigMap', ns);
    expect(list.items.map((i) => i.metadata?.name)).toContain('c1');

    // A different manager changing an owned field conflicts unless forced.
    const conflict = await rejection(
      objects.patch(
        deployment(ns, 5),
        undefined,
        undefined,
        'intruder',
        false,
        PatchStrategy.ServerSideApply,
      ),
    );
    expect(conflict.code).toBe(409);
    expect(statusOf(conflict).message).toContain('conflict with "kubestage"');
    expect(statusOf(conflict).details?.causes?.map((c) => c.field)).toContain('.spec.replicas');

    await objects.delete({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c1', namespace: ns } });
    const gone = await rejection(
      objects.read({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c1', namespace: ns } }),
    );
    expect(gone.code).toBe(404);
  });

  it('Watch delivers ADDED, MODIFIED and DELETED for a label-selected collection', async () => {
    const ns = await freshNamespace('watch');
    const events: string[] = [];
    let resolveDeleted!: () => void;
    const deleted = new Promise<void>((r) => (resolveDeleted = r));
    const watch = new Watch(kc);
    const controller = await watch.watch(
      `/api/v1/namespaces/${ns}/configmaps`,
      { labelSelector: 'watched=yes' },
      (phase, obj: KubernetesObject) => {
        events.push(`${phase} ${obj.metadata?.name}`);
        if (phase === 'DELETED') resolveDeleted();
      },
      () => undefined,
    );
    try {
      await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'ignored' } } });
      await core.createNamespacedConfigMap({
        namespace: ns,
        body: { metadata: { name: 'w', labels: { watched: 'yes' } } },
      });
      await core.patchNamespacedConfigMap(
        { name: 'w', namespace: ns, body: { data: { k: 'v' } } },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      );
      await core.deleteNamespacedConfigMap({ name: 'w', namespace: ns });
      await within(deleted, 10_000, () => `events so far: ${events.join(', ')}`);
    } finally {
      controller.abort();
    }
    expect(events).toEqual(['ADDED w', 'MODIFIED w', 'DELETED w']);
  });

  it('an informer lists, then follows changes', async () => {
    const ns = await freshNamespace('informer');
    await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'before' } } });
    const informer = makeInformer<V1ConfigMap>(kc, `/api/v1/namespaces/${ns}/configmaps`, () =>
      core.listNamespacedConfigMap({ namespace: ns }),
    );
    const added: string[] = [];
    const sawAfter = new Promise<void>((resolve) => {
      informer.on('add', (o) => {
        added.push(o.metadata?.name ?? '');
        if (o.metadata?.name === 'after') resolve();
      });
    });
    await informer.start();
    try {
      await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'after' } } });
      await within(sawAfter, 10_000, () => `added: ${added.join(', ')}`);
      expect(
        informer
          .list(ns)
          .map((o) => o.metadata?.name)
          // Every namespace of a real cluster also holds the root CA bundle ConfigMap.
          .filter((n) => n !== 'kube-root-ca.crt')
          .sort(),
      ).toEqual(['after', 'before']);
    } finally {
      await informer.stop();
    }
  });
});
