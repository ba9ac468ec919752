import { applyObjects, pruneObjects } from '../../../src/kube/apply.js';
import { ensureNamespace } from '../../../src/kube/namespaces.js';
import type { KubeObject } from '../../../src/model/kube-object.js';
import { kubeBed, ourLabels, REPO_LABEL, smallApp, type KubeBed } from './setup.js';

const NS = 'pr-7';

describe('applyObjects / pruneObjects against the emulator', () => {
  let bed: KubeBed;
  beforeEach(async () => {
    bed = await kubeBed();
    await ensureNamespace(bed.client, {
      name: NS,
      labels: ourLabels(NS),
      annotations: {},
      owner: { repoLabel: REPO_LABEL },
      waitTerminatingMs: 5000,
      logger: bed.logger,
    });
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

    const again = await applyObjects(bed.client, app, { waves: [app], logger: bed.logger });
    expect(again.applied.map((a) => [a.ref, a.action]).sort()).toEqual([
      ['ConfigMap/web-config', 'unchanged'],
      ['Deployment/web', 'unchanged'],
      ['Service/web', 'unchanged'],
    ]);

    const changed = smallApp(NS, { greeting: 'hi' });
    const third = await applyObjects(bed.client, changed, { waves: [changed], logger: bed.logger });
    expect(third.applied.find((a) => a.ref === 'ConfigMap/web-config')?.action).toBe('configured');
    expect(
      (bed.stored('v1', 'ConfigMap', 'web-config', NS) as { data: Record<string, string> }).data.GREETING,
    ).toBe('hi');
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
    expect(pruned).toEqual(['ConfigMap/old-feature']);
    expect(bed.stored('v1', 'ConfigMap', 'old-feature', NS)).toBeUndefined();
    expect(bed.stored('v1', 'ConfigMap', 'hand-made', NS)).toBeDefined();
    expect(bed.stored('v1', 'ConfigMap', 'web-config', NS)).toBeDefined();
    expect(bed.stored('apps/v1', 'Deployment', 'web', NS)).toBeDefined();
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
});
