import { HttpMethod } from '@kubernetes/client-node';
import { applyObjects, pruneObjects } from '../../../src/kube/apply.js';
import { deleteNamespace } from '../../../src/kube/namespaces.js';
import { waitForWorkloads } from '../../../src/kube/wait.js';
import type { KubeObject } from '../../../src/model/kube-object.js';
import { kubeBedWithNamespace, ourLabels, REPO_LABEL, smallApp, type KubeBed } from './setup.js';

const NS = 'pr-7';

describe('applyObjects / pruneObjects against the emulator', () => {
  let bed: KubeBed;
  beforeEach(async () => {
    bed = await kubeBedWithNamespace(NS);
  });
  afterEach(() => bed.close());

  test('applies a small app, then a re-apply reports every object unchanged', async () => {
    const app = smallApp(NS);
    const first = await applyObjects(bed.client, app, { waves: [app], logger: bed.logger });
    expect(first.applied.map((a) => a.action)).toEqual(['created', 'created', 'created']);
    const cm = bed.stored('v1', 'ConfigMap', 'web-config', NS) as {
      data: Record<string, string>;
      metadata: { managedFields: { manager: string; operation: string }[] };
    };
    expect(cm.data.GREETING).toBe('hello');
    expect(cm.metadata.managedFields).toEqual(
      expect.arrayContaining([expect.objectContaining({ manager: 'kubestage', operation: 'Apply' })]),
    );
    expect(bed.stored('apps/v1', 'Deployment', 'web', NS)).toBeDefined();

    // Straight away, while the deployment controller is still writing the rollout's status: a
    // resourceVersion moved by another writer is not a change of ours.
    const again = await applyObjects(bed.client, app, { waves: [app], logger: bed.logger });
    expect(again.applied.map((a) => [a.ref, a.action]).sort()).toEqual([
      ['ConfigMap/web-config', 'unchanged'],
      ['Deployment/web', 'unchanged'],
      ['Service/web', 'unchanged'],
    ]);

    const changed = smallApp(NS, { greeting: 'hi' });
    const third = await applyObjects(bed.client, changed, { waves: [changed], logger: bed.logger });
    expect(third.applied.find((a) => a.ref === 'ConfigMap/web-config')).toEqual({
      id: { group: '', kind: 'ConfigMap', namespace: NS, name: 'web-config' },
      ref: 'ConfigMap/web-config',
      action: 'configured',
    });
    expect(
      (bed.stored('v1', 'ConfigMap', 'web-config', NS) as { data: Record<string, string> }).data.GREETING,
    ).toBe('hi');

    // A new image changes the Deployment's spec (its generation moves): configured, even while the
    // controller is busy with the previous rollout.
    const retagged = smallApp(NS, { greeting: 'hi', image: 'ghcr.io/acme/shop:pr-7-def5678' });
    const fourth = await applyObjects(bed.client, retagged, { waves: [retagged], logger: bed.logger });
    expect(fourth.applied.map((a) => [a.ref, a.action]).sort()).toEqual([
      ['ConfigMap/web-config', 'unchanged'],
      ['Deployment/web', 'configured'],
      ['Service/web', 'unchanged'],
    ]);
  });

  test('applies waves in order: nothing of a later wave is sent before the earlier wave is done', async () => {
    const [cm, svc, deploy] = smallApp(NS) as [KubeObject, KubeObject, KubeObject];
    const before = bed.emu.requests.length;
    await applyObjects(bed.client, [cm, svc, deploy], { waves: [[cm], [svc], [deploy]], logger: bed.logger });
    const patches = bed.emu.requests
      .slice(before)
      .filter((r) => r.method === 'PATCH')
      .map((r) => r.path.split('?')[0]);
    expect(patches).toEqual([
      `/api/v1/namespaces/${NS}/configmaps/web-config`,
      `/api/v1/namespaces/${NS}/services/web`,
      `/apis/apps/v1/namespaces/${NS}/deployments/web`,
    ]);
  });

  test('a rejected object is named with the API server message and later waves are not applied', async () => {
    const bad: KubeObject = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'Bad_Name', namespace: NS, labels: ourLabels(NS) },
      data: {},
    };
    const [, svc] = smallApp(NS) as [KubeObject, KubeObject];
    await expect(
      applyObjects(bed.client, [bad, svc], { waves: [[bad], [svc]], logger: bed.logger }),
    ).rejects.toThrow(
      /apply ConfigMap\/Bad_Name in namespace pr-7: HTTP 422.*Invalid value.*later waves were not applied|apply ConfigMap\/Bad_Name in namespace pr-7: HTTP 422/s,
    );
    expect(bed.stored('v1', 'Service', 'web', NS)).toBeUndefined();
  });

  test('prune removes what is no longer rendered and leaves foreign and controller-owned objects alone', async () => {
    const app = smallApp(NS);
    const extra: KubeObject = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'old-feature', namespace: NS, labels: ourLabels(NS) },
      data: { a: '1' },
    };
    const foreign: KubeObject = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'hand-made', namespace: NS, labels: { app: 'web' } },
      data: {},
    };
    await applyObjects(bed.client, [...app, extra, foreign], { logger: bed.logger });

    const pruned = await pruneObjects(bed.client, {
      namespace: NS,
      instanceLabel: NS,
      keep: app,
      logger: bed.logger,
    });
    expect(pruned).toEqual([{ group: '', kind: 'ConfigMap', namespace: NS, name: 'old-feature' }]);
    expect(bed.stored('v1', 'ConfigMap', 'old-feature', NS)).toBeUndefined();
    expect(bed.stored('v1', 'ConfigMap', 'hand-made', NS)).toBeDefined();
    expect(bed.stored('v1', 'ConfigMap', 'web-config', NS)).toBeDefined();
    expect(bed.stored('apps/v1', 'Deployment', 'web', NS)).toBeDefined();
    // The endpoints controller copies the Service's labels onto its Endpoints: not ours to prune.
    expect(bed.stored('v1', 'Endpoints', 'web', NS)).toBeDefined();
    // A second prune has nothing left to do.
    expect(
      await pruneObjects(bed.client, { namespace: NS, instanceLabel: NS, keep: app, logger: bed.logger }),
    ).toEqual([]);
  });

  test('300 objects apply in bounded parallel over reused connections, one discovery per group/version', async () => {
    const many: KubeObject[] = Array.from({ length: 300 }, (_, i) => ({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: `cm-${i}`, namespace: NS, labels: ourLabels(NS) },
      data: { i: String(i) },
    }));
    const before = bed.emu.requests.length;
    const { applied } = await applyObjects(bed.client, many, { logger: bed.logger });
    expect(applied).toHaveLength(300);
    const reqs = bed.emu.requests.slice(before);
    expect(reqs.filter((r) => r.method === 'PATCH')).toHaveLength(300);
    // No per-object discovery or GET: one LIST for the kind, the applies, nothing else.
    expect(reqs.filter((r) => r.method === 'GET').length).toBeLessThanOrEqual(2);
  });
  test('a PVC someone else made with our labels (volumeClaimTemplates) is neither pruned nor counted', async () => {
    const app = smallApp(NS);
    await applyObjects(bed.client, app, { logger: bed.logger });
    // What the StatefulSet controller makes from a volumeClaimTemplate that kustomize `labels`
    // (includeTemplates) stamped with our labels: no ownerReferences, created (not applied) by it.
    await bed.client.request(HttpMethod.POST, `/api/v1/namespaces/${NS}/persistentvolumeclaims`, {
      query: { fieldManager: 'kube-controller-manager' },
      body: {
        apiVersion: 'v1',
        kind: 'PersistentVolumeClaim',
        metadata: { name: 'data-db-0', namespace: NS, labels: ourLabels(NS) },
        spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
      },
    });
    expect(
      await pruneObjects(bed.client, { namespace: NS, instanceLabel: NS, keep: app, logger: bed.logger }),
    ).toEqual([]);
    expect(bed.stored('v1', 'PersistentVolumeClaim', 'data-db-0', NS)).toBeDefined();

    // Counted when the preview goes: the three applied objects, not the PVC nor the Endpoints.
    const gone = await deleteNamespace(bed.client, {
      name: NS,
      owner: { repoLabel: REPO_LABEL },
      timeoutMs: 10_000,
      logger: bed.logger,
    });
    expect(gone.objectsRemoved).toBe(3);
  });

  test('a Job re-applied with a new image is recreated (its template is immutable) and completes', async () => {
    const job = (image: string): KubeObject => ({
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: 'migrate', namespace: NS, labels: ourLabels(NS) },
      spec: {
        backoffLimit: 0,
        template: {
          spec: { restartPolicy: 'Never', containers: [{ name: 'migrate', image }] },
        },
      },
    });
    const wait = (objects: KubeObject[]) =>
      waitForWorkloads(bed.client, { namespace: NS, objects, timeoutMs: 20_000, logger: bed.logger });
    const first = [job('ghcr.io/acme/shop:pr-7-aaa1111')];
    await applyObjects(bed.client, first, { logger: bed.logger });
    expect((await wait(first)).ok).toBe(true);
    const oldUid = (bed.stored('batch/v1', 'Job', 'migrate', NS) as { metadata: { uid: string } }).metadata
      .uid;

    const second = [job('ghcr.io/acme/shop:pr-7-bbb2222')];
    const { applied } = await applyObjects(bed.client, second, { logger: bed.logger });
    expect(applied).toEqual([expect.objectContaining({ ref: 'Job/migrate', action: 'recreated' })]);
    expect(bed.logger.text()).toMatch(/Job\/migrate: spec\.template is immutable; recreated it/);
    const stored = bed.stored('batch/v1', 'Job', 'migrate', NS) as {
      metadata: { uid: string };
      spec: { template: { spec: { containers: { image: string }[] } } };
    };
    expect(stored.metadata.uid).not.toBe(oldUid);
    expect(stored.spec.template.spec.containers[0]?.image).toBe('ghcr.io/acme/shop:pr-7-bbb2222');
    expect(await wait(second)).toEqual({
      ok: true,
      workloads: [
        {
          id: { group: 'batch', kind: 'Job', name: 'migrate', namespace: NS },
          ref: 'Job/migrate',
          ready: true,
          state: 'complete',
          health: 'Current',
          images: expect.any(Array) as string[],
        },
      ],
    });
  });

  test('a StatefulSet whose volumeClaimTemplates change fails with the field and how to recreate it', async () => {
    const sts = (storage: string): KubeObject => ({
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: { name: 'db', namespace: NS, labels: ourLabels(NS) },
      spec: {
        serviceName: 'db',
        replicas: 1,
        selector: { matchLabels: { app: 'db' } },
        template: {
          metadata: { labels: { app: 'db' } },
          spec: { containers: [{ name: 'db', image: 'postgres:16' }] },
        },
        volumeClaimTemplates: [
          {
            metadata: { name: 'data' },
            spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage } } },
          },
        ],
      },
    });
    await applyObjects(bed.client, [sts('1Gi')], { logger: bed.logger });
    const err = await applyObjects(bed.client, [sts('2Gi')], { logger: bed.logger }).catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    const msg = (err as Error).message;
    expect(msg).toMatch(
      /apply StatefulSet\/db in namespace pr-7: HTTP 422 Invalid: StatefulSet.apps "db" is invalid: spec: Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden/,
    );
    expect(msg).toMatch(
      /spec of an existing StatefulSet cannot be changed in place; delete the preview \(cleanup\) and run preview again/,
    );
    expect(msg).not.toMatch(/fix the field named above/);
    // Only the mutable fields may change: a new image is fine.
    const newImage = sts('1Gi');
    (
      newImage.spec as { template: { spec: { containers: { image: string }[] } } }
    ).template.spec.containers[0]!.image = 'postgres:17';
    const ok = await applyObjects(bed.client, [newImage], { logger: bed.logger });
    expect(ok.applied[0]?.action).toBe('configured');
  });
});
