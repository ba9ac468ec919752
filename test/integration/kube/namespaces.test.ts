import { HttpMethod } from '@kubernetes/client-node';
import { applyObjects } from '../../../src/kube/apply.js';
import { deleteNamespace, ensureNamespace, readNamespace } from '../../../src/kube/namespaces.js';
import {
  ANNOTATION_HEAD_SHA,
  LABEL_ENVIRONMENT,
  LABEL_MANAGED_BY,
  LABEL_REPO,
  MANAGED_BY,
} from '../../../src/model/labels.js';
import type { KubeObject } from '../../../src/model/kube-object.js';
import { kubeBed, ourLabels, REPO_LABEL, smallApp, type KubeBed } from './setup.js';

const owner = { repoLabel: REPO_LABEL };

describe('preview namespaces against the emulator', () => {
  let bed: KubeBed;
  beforeEach(async () => {
    bed = await kubeBed();
  });
  afterEach(() => bed.close());

  const ensure = (name: string, sha = 'aaa') =>
    ensureNamespace(bed.client, {
      name,
      labels: ourLabels(name),
      annotations: { [ANNOTATION_HEAD_SHA]: sha },
      owner,
      waitTerminatingMs: 10_000,
      logger: bed.logger,
    });

  test('creates the namespace with our labels, then reuses it and updates the annotations', async () => {
    expect(await ensure('pr-7', 'aaa')).toEqual({ created: true, waitedForTermination: false });
    let ns = bed.stored('v1', 'Namespace', 'pr-7') as {
      metadata: { labels: Record<string, string>; annotations: Record<string, string> };
    };
    expect(ns.metadata.labels[LABEL_MANAGED_BY]).toBe(MANAGED_BY);
    expect(ns.metadata.labels[LABEL_REPO]).toBe(REPO_LABEL);
    expect(ns.metadata.annotations[ANNOTATION_HEAD_SHA]).toBe('aaa');

    expect(await ensure('pr-7', 'bbb')).toEqual({ created: false, waitedForTermination: false });
    ns = bed.stored('v1', 'Namespace', 'pr-7') as typeof ns;
    expect(ns.metadata.annotations[ANNOTATION_HEAD_SHA]).toBe('bbb');
  });

  test('refuses a namespace of another repo, naming both owners, and leaves it untouched', async () => {
    await bed.client.apply({
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: 'pr-7', labels: { ...ourLabels('pr-7'), [LABEL_REPO]: 'other.repo' } },
    });
    await expect(ensure('pr-7')).rejects.toThrow(
      'namespace "pr-7" belongs to repo "other.repo" (kubestage.dev/repo), not "acme.shop"',
    );
    await expect(
      deleteNamespace(bed.client, { name: 'pr-7', owner, timeoutMs: 5000, logger: bed.logger }),
    ).rejects.toThrow(/refusing to delete.*other\.repo.*acme\.shop/);
    expect(bed.stored('v1', 'Namespace', 'pr-7')).toBeDefined();
  });

  test('refuses a namespace kubestage does not manage', async () => {
    await bed.client.apply({
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: 'pr-8', labels: { team: 'a' } },
    });
    await expect(ensure('pr-8')).rejects.toThrow(
      'namespace "pr-8" is not managed by kubestage (app.kubernetes.io/managed-by=<unset>)',
    );
  });

  test('never deletes default, kube-*, or an environment that is not a preview', async () => {
    await expect(
      deleteNamespace(bed.client, { name: 'default', owner, timeoutMs: 1000, logger: bed.logger }),
    ).rejects.toThrow(/refusing/);
    await expect(
      deleteNamespace(bed.client, { name: 'kube-system', owner, timeoutMs: 1000, logger: bed.logger }),
    ).rejects.toThrow(/refusing/);
    await bed.client.apply({
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: {
        name: 'production',
        labels: { ...ourLabels('production'), [LABEL_ENVIRONMENT]: 'production' },
      },
    });
    await expect(
      deleteNamespace(bed.client, { name: 'production', owner, timeoutMs: 1000, logger: bed.logger }),
    ).rejects.toThrow(
      /refusing to delete namespace "production": its kubestage.dev\/environment label is "production", not "preview"/,
    );
    expect(bed.stored('v1', 'Namespace', 'production')).toBeDefined();
    expect(bed.stored('v1', 'Namespace', 'default')).toBeDefined();
  });

  test('deletes a preview and counts what it held; a second delete finds it already gone', async () => {
    await ensure('pr-7');
    const app = smallApp('pr-7');
    await applyObjects(bed.client, app, { logger: bed.logger });
    const first = await deleteNamespace(bed.client, {
      name: 'pr-7',
      owner,
      timeoutMs: 10_000,
      logger: bed.logger,
    });
    expect(first).toEqual({ deleted: true, alreadyGone: false, objectsRemoved: 3 });
    expect(bed.stored('v1', 'Namespace', 'pr-7')).toBeUndefined();
    expect(await readNamespace(bed.client, 'pr-7')).toBeUndefined();
    const second = await deleteNamespace(bed.client, {
      name: 'pr-7',
      owner,
      timeoutMs: 10_000,
      logger: bed.logger,
    });
    expect(second).toEqual({ deleted: false, alreadyGone: true, objectsRemoved: 0 });
  });

  const finalized = (ns: string): KubeObject => ({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'held', namespace: ns, labels: ourLabels(ns), finalizers: ['example.com/hold'] },
    data: {},
  });
  const releaseFinalizer = (ns: string) =>
    bed.client.request(HttpMethod.PATCH, `/api/v1/namespaces/${ns}/configmaps/held`, {
      body: { metadata: { finalizers: null } },
      contentType: 'application/merge-patch+json',
    });

  test('a namespace held by a finalizer times out naming the object and its finalizer', async () => {
    await ensure('pr-9');
    await applyObjects(bed.client, [finalized('pr-9')], { logger: bed.logger });
    const result = await deleteNamespace(bed.client, {
      name: 'pr-9',
      owner,
      timeoutMs: 1500,
      logger: bed.logger,
    });
    expect(result.deleted).toBe(true);
    expect(result.stuck).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ object: 'ConfigMap/held', finalizers: ['example.com/hold'] }),
      ]),
    );
    expect(bed.logger.warnings.join('\n')).toMatch(
      /pr-9 is still Terminating.*ConfigMap\/held \(finalizers: example.com\/hold\)/,
    );
    await releaseFinalizer('pr-9');
  });

  test('a Terminating namespace is waited out, then recreated', async () => {
    await ensure('pr-10');
    await applyObjects(bed.client, [finalized('pr-10')], { logger: bed.logger });
    await bed.client.delete('v1', 'Namespace', 'pr-10');
    const ns = (await readNamespace(bed.client, 'pr-10'))!;
    expect(ns.metadata.deletionTimestamp).toBeDefined();

    const ensuring = ensure('pr-10', 'ccc');
    await new Promise((r) => setTimeout(r, 300));
    await releaseFinalizer('pr-10');
    expect(await ensuring).toEqual({ created: true, waitedForTermination: true });
    const fresh = (await readNamespace(bed.client, 'pr-10'))!;
    expect(fresh.metadata.deletionTimestamp).toBeUndefined();
    expect(fresh.metadata.uid).not.toBe(ns.metadata.uid);
    expect(fresh.metadata.annotations?.[ANNOTATION_HEAD_SHA]).toBe('ccc');
  });
  test('refuses to reuse a namespace of this repo whose environment is not a preview, leaving it untouched', async () => {
    await ensureNamespace(bed.client, {
      name: 'development',
      labels: { ...ourLabels('development'), [LABEL_ENVIRONMENT]: 'development' },
      annotations: {},
      owner,
      waitTerminatingMs: 1000,
      logger: bed.logger,
      environment: 'development',
    });
    const before = bed.stored('v1', 'Namespace', 'development') as { metadata: { resourceVersion: string } };
    await expect(
      ensureNamespace(bed.client, {
        name: 'development',
        labels: ourLabels('development'),
        annotations: {},
        owner,
        waitTerminatingMs: 1000,
        logger: bed.logger,
      }),
    ).rejects.toThrow(
      /namespace "development" belongs to this repo but its kubestage\.dev\/environment label is "development", not "preview".*namespace template/,
    );
    const after = bed.stored('v1', 'Namespace', 'development') as {
      metadata: { resourceVersion: string; labels: Record<string, string> };
    };
    expect(after.metadata.resourceVersion).toBe(before.metadata.resourceVersion);
    expect(after.metadata.labels[LABEL_ENVIRONMENT]).toBe('development');
  });

  test('a retried DELETE whose first reply was lost meets the namespace Terminating, and still succeeds', async () => {
    await ensure('pr-11');
    await applyObjects(bed.client, smallApp('pr-11'), { logger: bed.logger });
    // Keep it Terminating long enough that the retry meets it so (the real server answers 409 then).
    bed.emu.options.namespaceDeletionDelayMs = 500;
    bed.emu.faults.failNext(1, {
      method: 'DELETE',
      pathPattern: /^\/api\/v1\/namespaces\/pr-11$/,
      status: 'dropReply',
    });
    const result = await deleteNamespace(bed.client, {
      name: 'pr-11',
      owner,
      timeoutMs: 10_000,
      logger: bed.logger,
    });
    expect(result).toEqual({ deleted: true, alreadyGone: false, objectsRemoved: 3 });
    const deletes = bed.emu.requests.filter(
      (r) => r.method === 'DELETE' && r.path === '/api/v1/namespaces/pr-11',
    );
    expect(deletes.map((r) => r.status)).toEqual([0, 409]);
    expect(bed.stored('v1', 'Namespace', 'pr-11')).toBeUndefined();
  });

  test('a DELETE dropped before it reached the server is simply retried', async () => {
    await ensure('pr-12');
    bed.emu.faults.failNext(1, {
      method: 'DELETE',
      pathPattern: /^\/api\/v1\/namespaces\/pr-12$/,
      status: 'drop',
    });
    const result = await deleteNamespace(bed.client, {
      name: 'pr-12',
      owner,
      timeoutMs: 10_000,
      logger: bed.logger,
    });
    expect(result).toMatchObject({ deleted: true, alreadyGone: false });
  });
});
