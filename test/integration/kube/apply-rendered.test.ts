// applyRendered (the release step's apply: namespace → steps → prune) against the emulator: what it
// reports, which requests it makes and in which order, and the commit check that stops a run taken over.
import { pruneObjects, listOurs } from '../../../src/kube/apply.js';
import { ANNOTATION_HEAD_SHA } from '../../../src/model/labels.js';
import type { KubeObject } from '../../../src/model/kube-object.js';
import { applyRendered, SupersededError, type ApplyRenderedOptions } from '../../../src/steps/release.js';
import { kubeBed, ourLabels, REPO_LABEL, smallApp, type KubeBed } from './setup.js';

const NS = 'pr-7';
const SHA_A = 'a'.repeat(40);
const SHA_B = 'b'.repeat(40);
const NEW_IMAGE = 'ghcr.io/acme/shop:pr-7-def5678';

let bed: KubeBed;
beforeEach(async () => {
  bed = await kubeBed();
});
afterEach(() => bed.close());

function options(headSha = SHA_A): ApplyRenderedOptions {
  return {
    namespace: NS,
    labels: ourLabels(NS),
    annotations: { [ANNOTATION_HEAD_SHA]: headSha },
    repoLabel: REPO_LABEL,
    waitTerminatingMs: 5000,
    logger: bed.logger,
    claim: { headSha, confirmedHead: true },
  };
}

const configMap = (name: string, data: Record<string, string> = { a: '1' }): KubeObject => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, namespace: NS, labels: ourLabels(NS) },
  data,
});

/** The requests served since `from`, as `METHOD path` (LISTs marked by their selector or not). */
function served(from: number): string[] {
  return bed.emu.requests.slice(from).map((r) => `${r.method} ${r.path}`);
}

test('a push lists each rendered kind once before the first apply, and tells unchanged from configured', async () => {
  await applyRendered(bed.client, smallApp(NS), options());
  const from = bed.emu.requests.length;
  const { applied, pruned } = await applyRendered(
    bed.client,
    smallApp(NS, { image: NEW_IMAGE }),
    options(SHA_B),
  );
  expect(applied.map((a) => [a.ref, a.action]).sort()).toEqual([
    ['ConfigMap/web-config', 'unchanged'],
    ['Deployment/web', 'configured'],
    ['Service/web', 'unchanged'],
  ]);
  expect(pruned).toEqual([]);
  const requests = served(from);
  const lists = requests.filter((r) => /^GET \/api(s\/apps)?\/v1\/namespaces\/pr-7\/\w+$/.test(r));
  expect(lists.sort()).toEqual([
    'GET /api/v1/namespaces/pr-7/configmaps',
    'GET /api/v1/namespaces/pr-7/services',
    'GET /apis/apps/v1/namespaces/pr-7/deployments',
  ]);
  const firstObjectPatch = requests.findIndex((r) => r.startsWith('PATCH /api/v1/namespaces/pr-7/'));
  for (const list of lists) expect(requests.indexOf(list)).toBeLessThan(firstObjectPatch);
  // The namespace read and written once, one commit check before the workloads, nothing to prune.
  expect(requests.filter((r) => r === 'GET /api/v1/namespaces/pr-7')).toHaveLength(2);
  expect(requests.filter((r) => r === 'PATCH /api/v1/namespaces/pr-7')).toHaveLength(1);
  expect(requests.filter((r) => r.startsWith('PATCH '))).toHaveLength(4);
  expect(requests.filter((r) => r.startsWith('DELETE '))).toEqual([]);
});

test('config, RBAC and Services go in one step, and the commit check runs before the workloads', async () => {
  const from = bed.emu.requests.length;
  const [cm, svc, deploy] = smallApp(NS) as [KubeObject, KubeObject, KubeObject];
  const role: KubeObject = {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'Role',
    metadata: { name: 'reader', namespace: NS, labels: ourLabels(NS) },
    rules: [{ apiGroups: [''], resources: ['configmaps'], verbs: ['get'] }],
  };
  await applyRendered(bed.client, [deploy, svc, role, cm], options());
  const requests = served(from).filter(
    (r) => r.startsWith('PATCH /api') || r === 'GET /api/v1/namespaces/pr-7',
  );
  const check = requests.lastIndexOf('GET /api/v1/namespaces/pr-7');
  const at = (kind: string) => requests.findIndex((r) => r.includes(`/${kind}/`));
  for (const kind of ['configmaps', 'services', 'roles']) expect(at(kind)).toBeLessThan(check);
  expect(at('deployments')).toBeGreaterThan(check);
});

test('a retried apply whose 201 Created was lost still reports the object created', async () => {
  await applyRendered(bed.client, [configMap('first')], options());
  bed.emu.faults.failNext(1, { method: 'PATCH', pathPattern: /configmaps\/second$/, status: 'dropReply' });
  const { applied } = await applyRendered(bed.client, [configMap('first'), configMap('second')], options());
  expect(bed.emu.faults.injected.map((f) => f.kind)).toEqual(['dropReply']);
  expect(applied.map((a) => [a.ref, a.action]).sort()).toEqual([
    ['ConfigMap/first', 'unchanged'],
    ['ConfigMap/second', 'created'],
  ]);
});

test('in a namespace the run created, every object is reported created, even when a 201 was lost', async () => {
  bed.emu.faults.failNext(1, { method: 'PATCH', pathPattern: /configmaps\/first$/, status: 'dropReply' });
  const { applied, createdNamespace } = await applyRendered(bed.client, [configMap('first')], options());
  expect(createdNamespace).toBe(true);
  expect(bed.emu.faults.injected.map((f) => f.kind)).toEqual(['dropReply']);
  expect(applied.map((a) => [a.ref, a.action])).toEqual([['ConfigMap/first', 'created']]);
});

test('a kind no longer rendered is listed by our selector while the apply runs, and its objects pruned', async () => {
  const secret: KubeObject = {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: 'old-token', namespace: NS, labels: ourLabels(NS) },
    stringData: { t: 'x' },
  };
  await applyRendered(bed.client, [...smallApp(NS), secret], options());
  const from = bed.emu.requests.length;
  const { pruned } = await applyRendered(bed.client, smallApp(NS), options());
  expect(pruned).toEqual([{ group: '', kind: 'Secret', namespace: NS, name: 'old-token' }]);
  expect(bed.stored('v1', 'Secret', 'old-token', NS)).toBeUndefined();
  const secretLists = bed.emu.requests
    .slice(from)
    .filter((r) => r.method === 'GET' && r.path === `/api/v1/namespaces/${NS}/secrets`);
  expect(secretLists).toHaveLength(1);
  expect(decodeURIComponent(secretLists[0]?.query ?? '')).toContain(`kubestage.dev/instance=${NS}`);
});

test('a run taken over during its last step prunes nothing: the commit is checked before deleting', async () => {
  await applyRendered(bed.client, [...smallApp(NS), configMap('stale')], options());
  const deployments = bed.emu.store.findTypeByKind('apps/v1', 'Deployment')!;
  const namespaces = bed.emu.store.findTypeByKind('v1', 'Namespace')!;
  let tookOver = false;
  // What a newer run does as it starts: record its commit, here right as our workloads are applied.
  const stop = bed.emu.store.subscribe((ev) => {
    const image = (ev.object as { spec?: { template?: { spec?: { containers?: { image?: string }[] } } } })
      .spec?.template?.spec?.containers?.[0]?.image;
    if (tookOver || ev.type_ !== deployments || image !== NEW_IMAGE) return;
    tookOver = true;
    setImmediate(() => {
      const ns = bed.emu.store.get(namespaces, undefined, NS)!;
      ns.metadata.annotations = { ...ns.metadata.annotations, [ANNOTATION_HEAD_SHA]: SHA_B };
      bed.emu.store.update(namespaces, ns);
    });
  });
  try {
    const err = await applyRendered(bed.client, smallApp(NS, { image: NEW_IMAGE }), options()).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(SupersededError);
    expect((err as SupersededError).by).toBe(SHA_B);
    expect(bed.stored('v1', 'ConfigMap', 'stale', NS)).toBeDefined();
  } finally {
    stop();
  }
});

test('prune from an inventory leaves alone an object made again since it was listed', async () => {
  await applyRendered(bed.client, [...smallApp(NS), configMap('stale')], options());
  const inventory = await listOurs(bed.client, {
    namespace: NS,
    instanceLabel: NS,
    keep: smallApp(NS),
    logger: bed.logger,
  });
  // Someone deletes it and applies it again under the same name after prune listed it.
  await bed.client.delete('v1', 'ConfigMap', 'stale', NS);
  await bed.client.apply(configMap('stale', { b: '2' }), { force: true });
  const pruned = await pruneObjects(bed.client, {
    namespace: NS,
    instanceLabel: NS,
    keep: smallApp(NS),
    logger: bed.logger,
    inventory,
  });
  expect(pruned).toEqual([]);
  expect(bed.stored('v1', 'ConfigMap', 'stale', NS)).toMatchObject({ data: { b: '2' } });
  expect(bed.logger.text()).toContain('Left ConfigMap/stale alone: made again since prune listed it');
});
