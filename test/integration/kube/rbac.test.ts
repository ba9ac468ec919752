// A namespace-scoped identity (no list/watch on namespaces, no access to most kinds) against the
// emulator: waiting falls back to polling, prune lists only what was applied, 403s are one line.
import { HttpMethod } from '@kubernetes/client-node';
import { applyObjects, pruneObjects } from '../../../src/kube/apply.js';
import { deleteNamespace, ensureNamespace, readNamespace } from '../../../src/kube/namespaces.js';
import { REQUIRED_PERMISSIONS } from '../../../src/kube/permissions.js';
import { ANNOTATION_APPLIED_KINDS } from '../../../src/model/labels.js';
import type { KubeObject } from '../../../src/model/kube-object.js';
import { EMULATOR_TOKEN } from '../../emulators/kube/index.js';
import { kubeBed, ourLabels, REPO_LABEL, smallApp, type KubeBed } from './setup.js';

const owner = { repoLabel: REPO_LABEL };
const NAMESPACES = /^\/api\/v1\/namespaces$/;
const FORBIDDEN_LIST =
  'namespaces is forbidden: User "system:serviceaccount:ci:deployer" cannot list resource "namespaces" in API group "" at the cluster scope';

const AUTH = { authorization: `Bearer ${EMULATOR_TOKEN}` };

describe('a namespace-scoped identity against the emulator', () => {
  let bed: KubeBed;
  beforeEach(async () => {
    bed = await kubeBed();
  });
  afterEach(() => bed.close());

  const ensure = (name: string, objects?: KubeObject[]) =>
    ensureNamespace(bed.client, {
      name,
      labels: ourLabels(name),
      annotations: {},
      owner,
      waitTerminatingMs: 10_000,
      logger: bed.logger,
      appliedKinds: objects,
    });
  const held = (ns: string): KubeObject => ({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'held', namespace: ns, labels: ourLabels(ns), finalizers: ['example.com/hold'] },
    data: {},
  });
  const release = (ns: string) =>
    bed.client.request(HttpMethod.PATCH, `/api/v1/namespaces/${ns}/configmaps/held`, {
      body: { metadata: { finalizers: null } },
      contentType: 'application/merge-patch+json',
    });

  test('the injected 403 is the Forbidden Status a real API server writes', async () => {
    bed.emu.faults.failNext(1, { method: 'GET', pathPattern: NAMESPACES, status: 403 });
    const res = await fetch(`${bed.emu.httpUrl}/api/v1/namespaces`, { headers: AUTH });
    expect(res.status).toBe(403);
    expect(await res.json()).toMatchObject({
      kind: 'Status',
      status: 'Failure',
      reason: 'Forbidden',
      code: 403,
      message: FORBIDDEN_LIST,
      details: { kind: 'namespaces' },
    });
    bed.emu.faults.failNext(1, { method: 'GET', queryPattern: /watch=true/, status: 403 });
    const watch = await fetch(`${bed.emu.httpUrl}/api/v1/namespaces/pr-1/pods?watch=true`, { headers: AUTH });
    expect(((await watch.json()) as { message: string }).message).toBe(
      'pods is forbidden: User "system:serviceaccount:ci:deployer" cannot watch resource "pods" in API group "" in the namespace "pr-1"',
    );
  });

  test('cleanup without list/watch on namespaces polls the namespace until it is gone', async () => {
    await ensure('pr-7');
    await applyObjects(bed.client, smallApp('pr-7'), { logger: bed.logger });
    bed.emu.faults.failNext(1000, { method: 'GET', pathPattern: NAMESPACES, status: 403 });
    const started = Date.now();
    const result = await deleteNamespace(bed.client, {
      name: 'pr-7',
      owner,
      timeoutMs: 10_000,
      logger: bed.logger,
    });
    expect(result).toEqual({ deleted: true, alreadyGone: false, objectsRemoved: 3 });
    expect(Date.now() - started).toBeLessThan(5000);
    expect(bed.stored('v1', 'Namespace', 'pr-7')).toBeUndefined();
    expect(bed.emu.faults.injected.some((f) => f.kind === 403 && f.path === '/api/v1/namespaces')).toBe(true);
    expect(bed.logger.text()).toContain(`May not watch namespaces (HTTP 403 Forbidden: ${FORBIDDEN_LIST})`);
    expect(bed.logger.warnings).toEqual([]);
  });

  test('a 403 on the watch alone (list allowed) also falls back to polling, and a stuck namespace is still reported', async () => {
    await ensure('pr-8');
    await applyObjects(bed.client, [held('pr-8')], { logger: bed.logger });
    bed.emu.faults.failNext(1000, {
      method: 'GET',
      pathPattern: NAMESPACES,
      queryPattern: /watch=/,
      status: 403,
    });
    const result = await deleteNamespace(bed.client, {
      name: 'pr-8',
      owner,
      timeoutMs: 1500,
      logger: bed.logger,
    });
    expect(result.deleted).toBe(true);
    expect(result.stuck).toEqual([
      {
        id: { group: '', kind: 'ConfigMap', namespace: 'pr-8', name: 'held' },
        object: 'ConfigMap/held',
        finalizers: ['example.com/hold'],
      },
    ]);
    expect(bed.logger.text()).toContain(
      'May not watch namespaces (HTTP 403 Forbidden: the API server refused to watch /api/v1/namespaces)',
    );
    await release('pr-8');
  });

  test('a failure after the DELETE was accepted is a warning on a deleted result, not a refusal', async () => {
    await ensure('pr-9');
    await applyObjects(bed.client, [held('pr-9')], { logger: bed.logger });
    // Once the DELETE is through, the identity may not even read the namespace any more.
    const info = bed.logger.info;
    bed.logger.info = (m: string) => {
      if (m.startsWith('Deleting namespace pr-9'))
        bed.emu.faults.failNext(1000, { method: 'GET', pathPattern: /^\/api\/v1\/namespaces/, status: 403 });
      info(m);
    };
    const result = await deleteNamespace(bed.client, {
      name: 'pr-9',
      owner,
      timeoutMs: 5000,
      logger: bed.logger,
    });
    expect(result).toMatchObject({ deleted: true, alreadyGone: false, objectsRemoved: 1 });
    expect(result.warning).toMatch(
      /^Namespace pr-9 is being deleted, but waiting for it to go failed: HTTP 403 Forbidden/,
    );
    expect(result.warning).toContain(REQUIRED_PERMISSIONS);
    expect(bed.logger.warnings).toEqual([result.warning]);
    bed.emu.faults.reset();
    expect((await readNamespace(bed.client, 'pr-9'))?.metadata.deletionTimestamp).toBeDefined();
    await release('pr-9');
  });

  test('ensureNamespace waits out a Terminating namespace by polling when it may not watch', async () => {
    await ensure('pr-10');
    await applyObjects(bed.client, [held('pr-10')], { logger: bed.logger });
    await bed.client.delete('v1', 'Namespace', 'pr-10');
    bed.emu.faults.failNext(1000, { method: 'GET', pathPattern: NAMESPACES, status: 403 });
    const ensuring = ensure('pr-10');
    await new Promise((r) => setTimeout(r, 300));
    await release('pr-10');
    expect(await ensuring).toEqual({ created: true, waitedForTermination: true });
  });

  test('a 403 creating the namespace names every permission kubestage needs', async () => {
    bed.emu.faults.failNext(1, { method: 'PATCH', pathPattern: /namespaces\/pr-11$/, status: 403 });
    const err = (await ensure('pr-11').catch((e: unknown) => e)) as Error;
    expect(err.message).toContain('could not create namespace "pr-11": HTTP 403 Forbidden');
    expect(err.message).toContain('namespaces: get, list, watch, create, patch, delete');
    expect(err.message).toContain('get, list, watch on pods, pods/log, events and replicasets');
  });

  test('prune lists only the recorded and rendered kinds, and still removes a kind no longer rendered', async () => {
    const secret: KubeObject = {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'old-token', namespace: 'pr-12', labels: ourLabels('pr-12') },
      stringData: { t: 'x' },
    };
    const first = [...smallApp('pr-12'), secret];
    expect((await ensure('pr-12', first)).recordedKinds).toBeUndefined();
    await applyObjects(bed.client, first, { logger: bed.logger });
    const ns = await readNamespace(bed.client, 'pr-12');
    expect(JSON.parse(ns?.metadata.annotations?.[ANNOTATION_APPLIED_KINDS] ?? '')).toEqual([
      'apps/v1 Deployment',
      'v1 ConfigMap',
      'v1 Secret',
      'v1 Service',
    ]);

    // The next run renders no Secret: it learns the recorded kinds, and records them with its own.
    const second = smallApp('pr-12');
    const { recordedKinds } = await ensure('pr-12', second);
    expect(recordedKinds?.map((k) => k.kind)).toEqual(['Deployment', 'ConfigMap', 'Secret', 'Service']);
    await applyObjects(bed.client, second, { logger: bed.logger });
    const before = bed.emu.requests.length;
    const pruned = await pruneObjects(bed.client, {
      namespace: 'pr-12',
      instanceLabel: 'pr-12',
      keep: second,
      kinds: recordedKinds,
      logger: bed.logger,
    });
    expect(pruned).toEqual([{ group: '', kind: 'Secret', namespace: 'pr-12', name: 'old-token' }]);
    const lists = bed.emu.requests
      .slice(before)
      .filter((r) => r.method === 'GET' && r.query.includes('labelSelector'))
      .map((r) => r.path)
      .sort();
    expect(lists).toEqual([
      '/api/v1/namespaces/pr-12/configmaps',
      '/api/v1/namespaces/pr-12/secrets',
      '/api/v1/namespaces/pr-12/services',
      '/apis/apps/v1/namespaces/pr-12/deployments',
    ]);

    // Cleanup counts over the recorded kinds too.
    const beforeDelete = bed.emu.requests.length;
    const gone = await deleteNamespace(bed.client, {
      name: 'pr-12',
      owner,
      timeoutMs: 10_000,
      logger: bed.logger,
    });
    expect(gone.objectsRemoved).toBe(3);
    expect(
      bed.emu.requests
        .slice(beforeDelete)
        .filter((r) => r.method === 'GET' && r.query.includes('labelSelector')),
    ).toHaveLength(4);
  });

  test('kinds prune may not list are one info line, not a warning each', async () => {
    await ensure('pr-13');
    const app = smallApp('pr-13');
    await applyObjects(bed.client, app, { logger: bed.logger });
    bed.emu.faults.failNext(1000, {
      method: 'GET',
      pathPattern: /^\/apis\/(coordination\.k8s\.io|policy|autoscaling)\/[^/]+\/namespaces\//,
      status: 403,
    });
    expect(
      await pruneObjects(bed.client, {
        namespace: 'pr-13',
        instanceLabel: 'pr-13',
        keep: app,
        logger: bed.logger,
      }),
    ).toEqual([]);
    expect(bed.logger.warnings).toEqual([]);
    const skipped = bed.logger.lines.filter((l) => l.startsWith('Prune skipped'));
    expect(skipped).toHaveLength(1);
    expect(skipped[0]).toMatch(
      /^Prune skipped \d+ kind\(s\) the kubeconfig identity may not list in pr-13 \(HTTP 403 Forbidden\): .*Lease \(coordination\.k8s\.io\/v1\)/,
    );
    expect(skipped[0]).toContain('cannot list resource');
  });
});
