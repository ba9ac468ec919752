import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HttpMethod } from '@kubernetes/client-node';
import { applyObjects, pruneObjects } from '../../../src/kube/apply.js';
import { deleteNamespace, ensureNamespace } from '../../../src/kube/namespaces.js';
import { createKubeClient } from '../../../src/kube/client.js';
import { KubeApiError } from '../../../src/kube/errors.js';
import { loadKubeConfig } from '../../../src/kube/kubeconfig.js';
import { EMULATOR_TOKEN } from '../../emulators/kube/index.js';
import { kubeBed, ourLabels, REPO_LABEL, smallApp, testLogger, type KubeBed } from './setup.js';

describe('KubeClient against the emulator', () => {
  let bed: KubeBed;
  beforeEach(async () => {
    bed = await kubeBed();
  });
  afterEach(() => bed.close());

  test('loads the emulator kubeconfig from content, base64 and path, masking the token each time', () => {
    for (const [kubeconfig, source] of [
      [bed.emu.kubeconfig, 'input (YAML)'],
      [Buffer.from(bed.emu.kubeconfig).toString('base64'), 'input (base64)'],
      [bed.emu.kubeconfigPath, `file ${bed.emu.kubeconfigPath}`],
    ] as const) {
      const masked: string[] = [];
      const loaded = loadKubeConfig({ kubeconfig, env: {}, mask: (s) => masked.push(s) });
      expect(loaded.source).toBe(source);
      expect(masked).toContain(EMULATOR_TOKEN);
    }
  });

  test('retries through injected 429 (honouring Retry-After), 503 and a dropped connection', async () => {
    const retries: number[] = [];
    const client = createKubeClient(loadKubeConfig({ kubeconfig: bed.emu.kubeconfig, env: {} }).kc, {
      logger: testLogger(),
      retry: { baseMs: 5, maxMs: 50, onRetry: (_e, attempt) => retries.push(attempt) },
    });
    bed.emu.faults.failNext(1, { method: 'GET', pathPattern: /\/namespaces\/default$/, status: 429 });
    bed.emu.faults.failNext(1, { method: 'GET', pathPattern: /\/namespaces\/default$/, status: 503 });
    bed.emu.faults.failNext(1, { method: 'GET', pathPattern: /\/namespaces\/default$/, status: 'drop' });
    const ns = await client.get('v1', 'Namespace', 'default');
    expect(ns?.metadata.name).toBe('default');
    expect(retries).toEqual([1, 2, 3]);
    const statuses = bed.emu.requests
      .filter((r) => r.path.endsWith('/namespaces/default'))
      .map((r) => r.status);
    expect(statuses).toEqual(expect.arrayContaining([429, 503, 200]));
  });

  test('server-side apply is retried through faults, and creates exactly one object', async () => {
    await bed.client.apply({
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: 'pr-7', labels: ourLabels('pr-7') },
    });
    bed.emu.faults.failNext(2, { method: 'PATCH', status: 503 });
    bed.emu.faults.failNext(1, { method: 'PATCH', status: 'drop' });
    const { applied } = await applyObjects(bed.client, smallApp('pr-7'), {
      logger: bed.logger,
      concurrency: 1,
    });
    expect(applied).toHaveLength(3);
    expect(bed.stored('apps/v1', 'Deployment', 'web', 'pr-7')).toBeDefined();
  });

  test('gives up after the bounded attempts with the status in the error', async () => {
    bed.emu.faults.failNext(10, { method: 'GET', pathPattern: /\/namespaces\/default$/, status: 500 });
    const err = await bed.client.get('v1', 'Namespace', 'default').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KubeApiError);
    expect((err as KubeApiError).code).toBe(500);
  });

  test('does not retry a create (POST) after a 5xx, since it may have been processed', async () => {
    bed.emu.faults.failNext(1, { method: 'POST', status: 503 });
    const err = await bed.client
      .request(HttpMethod.POST, '/api/v1/namespaces', {
        body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'x1' } },
      })
      .catch((e: unknown) => e);
    expect((err as KubeApiError).code).toBe(503);
  });

  test('tells namespaced from cluster-scoped kinds through discovery, and answers synchronously after preloading', async () => {
    expect(await bed.client.discovery.scope('apps/v1', 'Deployment')).toBe(true);
    expect(await bed.client.discovery.scope('rbac.authorization.k8s.io/v1', 'ClusterRole')).toBe(false);
    expect(await bed.client.discovery.scope('example.com/v1', 'Widget')).toBeUndefined();

    const resolver = await bed.client.preloadScopes([
      ['v1', 'ConfigMap'],
      { apiVersion: 'v1', kind: 'Namespace' },
    ]);
    expect(resolver('v1', 'ConfigMap')).toBe(true);
    expect(bed.client.scopeOf('v1', 'Namespace')).toBe(false);
    expect(bed.client.scopeOf('v1', 'NeverAsked')).toBeUndefined();

    // A CRD installed later is found (discovery for its group is fetched again).
    await bed.client.apply({
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: { name: 'widgets.example.com' },
      spec: {
        group: 'example.com',
        scope: 'Namespaced',
        names: { plural: 'widgets', singular: 'widget', kind: 'Widget' },
        versions: [
          {
            name: 'v1',
            served: true,
            storage: true,
            schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } },
          },
        ],
      },
    });
    await new Promise((r) => setTimeout(r, 100));
    expect(await bed.client.discovery.resourceFor('example.com/v1', 'Widget')).toMatchObject({
      name: 'widgets',
      namespaced: true,
    });
  });
  test('an aggregated API whose discovery answers 503 is warned about once; prune and delete still work', async () => {
    // A stale metrics-server: the group is listed under /apis, its discovery document fails.
    bed.emu.store.registerType({
      group: 'metrics.k8s.io',
      version: 'v1beta1',
      kind: 'PodMetrics',
      plural: 'pods',
      singular: '',
      namespaced: true,
      verbs: ['get', 'list'],
    });
    bed.emu.faults.failNext(1000, {
      method: 'GET',
      pathPattern: /^\/apis\/metrics\.k8s\.io\/v1beta1$/,
      status: 503,
    });
    const ns = 'pr-7';
    const owner = { repoLabel: REPO_LABEL };
    await ensureNamespace(bed.client, {
      name: ns,
      labels: ourLabels(ns),
      annotations: {},
      owner,
      waitTerminatingMs: 1000,
      logger: bed.logger,
    });
    const app = smallApp(ns);
    const stale = { ...app[0]!, metadata: { ...app[0]!.metadata, name: 'stale' } };
    await applyObjects(bed.client, [...app, stale], { logger: bed.logger });

    expect(
      await pruneObjects(bed.client, { namespace: ns, instanceLabel: ns, keep: app, logger: bed.logger }),
    ).toEqual([{ group: '', kind: 'ConfigMap', namespace: ns, name: 'stale' }]);
    const result = await deleteNamespace(bed.client, {
      name: ns,
      owner,
      timeoutMs: 10_000,
      logger: bed.logger,
    });
    expect(result).toEqual({ deleted: true, alreadyGone: false, objectsRemoved: 3 });
    const warnings = bed.logger.warnings.filter((w) => w.includes('discovery'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(
      /API discovery failed for metrics\.k8s\.io\/v1beta1 \(HTTP 503 ServiceUnavailable/,
    );
  });
});

test('an unreachable API server is named, with the low-level cause and what to check', async () => {
  // A port that was free a moment ago: nothing listens there (loopback only).
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  await new Promise((r) => server.close(r));
  const kubeconfig = [
    'apiVersion: v1',
    'kind: Config',
    `clusters: [{name: c, cluster: {server: "http://127.0.0.1:${port}", insecure-skip-tls-verify: true}}]`,
    'users: [{name: u, user: {token: t0k3n-for-the-test}}]',
    'contexts: [{name: c, context: {cluster: c, user: u}}]',
    'current-context: c',
  ].join('\n');
  const client = createKubeClient(loadKubeConfig({ kubeconfig, env: {} }).kc, {
    logger: testLogger(),
    retry: { attempts: 2, baseMs: 1, maxMs: 2 },
  });
  const err = await client.get('v1', 'Namespace', 'default').then(
    () => undefined,
    (e: Error) => e,
  );
  expect(err?.message).toContain(
    `Cannot reach the Kubernetes API server at http://127.0.0.1:${port} (GET /api/v1`,
  );
  expect(err?.message).toContain('ECONNREFUSED');
  expect(err?.message).toContain('firewall, VPN or private endpoint');
  expect(err?.message).not.toContain('t0k3n-for-the-test');
});
