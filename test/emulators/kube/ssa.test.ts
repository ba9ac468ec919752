import { describe, expect, it } from '@jest/globals';
import { PatchError } from './patch.js';
import { fieldSetOf, serverSideApply, trackUpdate } from './ssa.js';
import type { KObject, ManagedFieldsEntry } from './store.js';

const T0 = '2025-01-01T00:00:00Z';
const T1 = '2025-01-01T00:01:00Z';
const T2 = '2025-01-01T00:02:00Z';
const apply = (manager: string, now = T1, force = false) => ({ manager, force, apiVersion: 'apps/v1', now });
const update = (manager: string, now = T1, subresource?: string) => ({
  manager,
  operation: 'Update' as const,
  apiVersion: 'apps/v1',
  now,
  ...(subresource ? { subresource } : {}),
});

interface Container {
  name: string;
  image?: string;
  env?: { name: string; value: string }[];
}

function deployment(
  opts: { replicas?: number; containers?: Container[]; labels?: Record<string, string> } = {},
): KObject {
  const spec: Record<string, unknown> = {
    selector: { matchLabels: { app: 'web' } },
    template: {
      metadata: { labels: { app: 'web' } },
      spec: { containers: opts.containers ?? [{ name: 'web', image: 'web:1' }] },
    },
  };
  if (opts.replicas !== undefined) spec.replicas = opts.replicas;
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'pr-1', ...(opts.labels ? { labels: opts.labels } : {}) },
    spec,
  };
}

/** What the store adds on create; SSA must keep it untouched. */
function stored(o: KObject): KObject {
  return {
    ...o,
    metadata: { ...o.metadata, uid: 'u-1', resourceVersion: '7', generation: 1, creationTimestamp: T0 },
  };
}

const entry = (o: KObject, manager: string, operation = 'Apply'): ManagedFieldsEntry | undefined =>
  o.metadata.managedFields?.find((e) => e.manager === manager && e.operation === operation);
const managers = (o: KObject): string[] =>
  (o.metadata.managedFields ?? []).map((e) => `${e.manager}/${e.operation}`);
const spec = (o: KObject) => o.spec as { replicas?: number; template: { spec: { containers: Container[] } } };

describe('fieldSetOf', () => {
  it('produces FieldsV1 with keyed items, set values and no server-owned metadata', () => {
    const o: KObject = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: {
        name: 'web',
        namespace: 'ns',
        uid: 'x',
        resourceVersion: '1',
        labels: { app: 'web' },
        finalizers: ['a/b'],
      },
      spec: {
        replicas: 2,
        template: {
          spec: {
            containers: [{ name: 'web', image: 'i', ports: [{ containerPort: 80 }], args: ['-v'] }],
            volumes: [],
          },
        },
      },
      status: { replicas: 2 },
    };
    expect(fieldSetOf(o)).toEqual({
      'f:metadata': { 'f:labels': { 'f:app': {} }, 'f:finalizers': { 'v:"a/b"': {} } },
      'f:spec': {
        'f:replicas': {},
        'f:template': {
          'f:spec': {
            'f:containers': {
              'k:{"name":"web"}': {
                '.': {},
                'f:args': {},
                'f:image': {},
                'f:name': {},
                'f:ports': { 'k:{"containerPort":80,"protocol":"TCP"}': { '.': {}, 'f:containerPort': {} } },
              },
            },
            'f:volumes': {},
          },
        },
      },
      'f:status': { 'f:replicas': {} },
    });
    expect(fieldSetOf(o, '.status')).toEqual({ 'f:status': { 'f:replicas': {} } });
  });
});

describe('serverSideApply', () => {
  it('create: the object is the config, owned by the applier; status is ignored', () => {
    const cfg = { ...deployment({ replicas: 2, labels: { team: 'a' } }), status: { replicas: 9 } };
    const { object, conflicts } = serverSideApply(undefined, cfg, apply('kubestage'));
    expect(conflicts).toEqual([]);
    expect(object.status).toBeUndefined();
    expect(spec(object).replicas).toBe(2);
    expect(object.metadata.managedFields).toEqual([
      {
        manager: 'kubestage',
        operation: 'Apply',
        apiVersion: 'apps/v1',
        time: T1,
        fieldsType: 'FieldsV1',
        fieldsV1: {
          'f:metadata': { 'f:labels': { 'f:team': {} } },
          'f:spec': {
            'f:replicas': {},
            'f:selector': { 'f:matchLabels': { 'f:app': {} } },
            'f:template': {
              'f:metadata': { 'f:labels': { 'f:app': {} } },
              'f:spec': { 'f:containers': { 'k:{"name":"web"}': { '.': {}, 'f:image': {}, 'f:name': {} } } },
            },
          },
        },
      },
    ]);
  });

  it('re-apply without change: same object, one entry, no conflict; server metadata kept', () => {
    const first = stored(serverSideApply(undefined, deployment({ replicas: 2 }), apply('kubestage')).object);
    const again = serverSideApply(first, deployment({ replicas: 2 }), apply('kubestage', T2));
    expect(again.conflicts).toEqual([]);
    expect({ ...again.object, metadata: { ...again.object.metadata, managedFields: [] } }).toEqual({
      ...first,
      metadata: { ...first.metadata, managedFields: [] },
    });
    expect(managers(again.object)).toEqual(['kubestage/Apply']);
    expect(again.object.metadata.uid).toBe('u-1');
  });

  it('removes fields the manager applied before and no longer applies', () => {
    const cfg = deployment({
      replicas: 2,
      labels: { team: 'a', keep: 'y' },
      containers: [
        {
          name: 'web',
          image: 'web:1',
          env: [
            { name: 'A', value: '1' },
            { name: 'B', value: '2' },
          ],
        },
        { name: 'sidecar', image: 'p:1' },
      ],
    });
    const live = stored(serverSideApply(undefined, cfg, apply('kubestage')).object);
    const next = deployment({
      labels: { keep: 'y' },
      containers: [{ name: 'web', image: 'web:1', env: [{ name: 'B', value: '2' }] }],
    });
    const { object } = serverSideApply(live, next, apply('kubestage', T2));
    expect(spec(object).replicas).toBeUndefined();
    expect(object.metadata.labels).toEqual({ keep: 'y' });
    expect(spec(object).template.spec.containers).toEqual([
      { name: 'web', image: 'web:1', env: [{ name: 'B', value: '2' }] },
    ]);
  });

  it('two managers setting the same value share the field; it stays until both drop it', () => {
    const a = stored(serverSideApply(undefined, deployment({ replicas: 3 }), apply('a')).object);
    const b = serverSideApply(a, deployment({ replicas: 3 }), apply('b', T2));
    expect(b.conflicts).toEqual([]);
    expect(entry(b.object, 'a')?.fieldsV1).toMatchObject({ 'f:spec': { 'f:replicas': {} } });
    expect(entry(b.object, 'b')?.fieldsV1).toMatchObject({ 'f:spec': { 'f:replicas': {} } });
    const aDrops = serverSideApply(b.object, deployment(), apply('a', T2));
    expect(spec(aDrops.object).replicas).toBe(3); // b still owns it
    const bDrops = serverSideApply(aDrops.object, deployment(), apply('b', T2));
    expect(spec(bDrops.object).replicas).toBeUndefined();
  });

  describe('conflicts with a client-side-apply owner of .spec.replicas', () => {
    const created = stored(
      trackUpdate(undefined, deployment({ replicas: 2 }), update('kubectl-client-side-apply', T0)),
    );

    it.each([
      [
        'different value, no force → conflict, nothing written',
        5,
        false,
        [{ manager: 'kubectl-client-side-apply', field: '.spec.replicas' }],
        2,
      ],
      ['same value → shared, no conflict', 2, false, [], 2],
      ['different value, force → applier takes the field', 5, true, [], 5],
    ])('%s', (_name, replicas, force, expected, finalReplicas) => {
      const res = serverSideApply(created, deployment({ replicas }), apply('kubestage', T1, force));
      expect(res.conflicts).toEqual(expected);
      expect(spec(res.object).replicas).toBe(finalReplicas);
      const csaOwnsReplicas = JSON.stringify(
        entry(res.object, 'kubectl-client-side-apply', 'Update')?.fieldsV1,
      ).includes('f:replicas');
      expect(csaOwnsReplicas).toBe(!force);
      if (expected.length) expect(res.object).toEqual(created);
      else expect(entry(res.object, 'kubestage')?.fieldsV1).toMatchObject({ 'f:spec': { 'f:replicas': {} } });
    });

    it('after force, the old owner keeps its other fields and a later drop by the applier removes replicas', () => {
      const forced = stored(
        serverSideApply(created, deployment({ replicas: 5 }), apply('kubestage', T1, true)).object,
      );
      expect(entry(forced, 'kubectl-client-side-apply', 'Update')?.fieldsV1).toMatchObject({
        'f:spec': { 'f:template': {} },
      });
      const dropped = serverSideApply(forced, deployment(), apply('kubestage', T2)).object;
      expect(spec(dropped).replicas).toBeUndefined();
    });
  });

  it('keyed list: each manager owns its own container; a change to the other container conflicts', () => {
    const a = stored(serverSideApply(undefined, deployment(), apply('a')).object);
    const withSidecar = deployment({ containers: [{ name: 'sidecar', image: 'proxy:1' }] });
    const b = serverSideApply(a, withSidecar, apply('b', T2));
    expect(b.conflicts).toEqual([]);
    expect(spec(b.object).template.spec.containers.map((c) => c.name)).toEqual(['web', 'sidecar']);
    const containersOf = (m: string) =>
      Object.keys(
        (
          entry(b.object, m)?.fieldsV1 as Record<
            string,
            Record<string, Record<string, Record<string, Record<string, object>>>>
          >
        )['f:spec']['f:template']['f:spec']['f:containers'] ?? {},
      );
    expect(containersOf('a')).toEqual(['k:{"name":"web"}']);
    expect(containersOf('b')).toEqual(['k:{"name":"sidecar"}']);

    const bTouchesWeb = deployment({
      containers: [
        { name: 'sidecar', image: 'proxy:1' },
        { name: 'web', image: 'web:2' },
      ],
    });
    expect(serverSideApply(b.object, bTouchesWeb, apply('b', T2)).conflicts).toEqual([
      { manager: 'a', field: '.spec.template.spec.containers[name="web"].image' },
    ]);

    // b stops applying its sidecar: only b's container goes.
    const bGone = serverSideApply(b.object, deployment({ containers: [] }), apply('b', T2));
    expect(spec(bGone.object).template.spec.containers.map((c) => c.name)).toEqual(['web']);
  });

  it('an item another manager added fields to survives the applier dropping it, minus its fields', () => {
    const cfg = deployment({
      containers: [
        { name: 'web', image: 'web:1' },
        { name: 'sidecar', image: 'p:1' },
      ],
    });
    const applied = stored(serverSideApply(undefined, cfg, apply('kubestage', T0)).object);
    const injected = structuredClone(applied);
    spec(injected).template.spec.containers[1].env = [{ name: 'INJECTED', value: '1' }];
    const live = trackUpdate(applied, injected, update('injector', T1));
    const { object } = serverSideApply(live, deployment(), apply('kubestage', T2));
    expect(spec(object).template.spec.containers).toEqual([
      { name: 'web', image: 'web:1' },
      { name: 'sidecar', env: [{ name: 'INJECTED', value: '1' }] },
    ]);
  });

  it('an untracked live object is attributed to before-first-apply', () => {
    const res = serverSideApply(
      stored(deployment({ replicas: 1 })),
      deployment({ replicas: 4 }),
      apply('kubestage'),
    );
    expect(res.conflicts).toEqual([{ manager: 'before-first-apply', field: '.spec.replicas' }]);
  });

  it.each([
    [
      'duplicate key',
      [
        { name: 'web', image: 'a' },
        { name: 'web', image: 'b' },
      ],
      /duplicate/,
    ],
    ['missing key', [{ image: 'a' } as Container], /omits key field "name"/],
  ])('rejects a config with a %s', (_name, containers, message) => {
    const run = () => serverSideApply(undefined, deployment({ containers }), apply('kubestage'));
    expect(run).toThrow(PatchError);
    expect(run).toThrow(message);
  });
});

describe('trackUpdate', () => {
  it('create: every field goes to the creator, with `.` for maps it created', () => {
    const o = trackUpdate(
      undefined,
      deployment({ replicas: 1, labels: { a: 'b' } }),
      update('kubectl-create', T0),
    );
    expect(managers(o)).toEqual(['kubectl-create/Update']);
    expect(entry(o, 'kubectl-create', 'Update')).toMatchObject({
      time: T0,
      fieldsV1: {
        'f:metadata': { 'f:labels': { '.': {}, 'f:a': {} } },
        'f:spec': { 'f:replicas': {}, 'f:selector': { '.': {}, 'f:matchLabels': { '.': {}, 'f:app': {} } } },
      },
    });
    expect(entry(o, 'kubectl-create', 'Update')?.fieldsV1).not.toHaveProperty(['f:spec', '.']);
  });

  it('an edit takes changed fields from the applier, who then conflicts on re-apply', () => {
    const applied = stored(
      serverSideApply(undefined, deployment({ replicas: 2 }), apply('kubestage', T0)).object,
    );
    const edited = structuredClone(applied);
    (edited.spec as { replicas: number }).replicas = 7;
    const after = trackUpdate(applied, edited, update('kubectl-edit', T1));
    expect(entry(after, 'kubectl-edit', 'Update')?.fieldsV1).toEqual({ 'f:spec': { 'f:replicas': {} } });
    expect(entry(after, 'kubestage')?.fieldsV1).not.toHaveProperty(['f:spec', 'f:replicas']);
    expect(managers(after)).toEqual(['kubestage/Apply', 'kubectl-edit/Update']); // Apply sorts first
    expect(serverSideApply(after, deployment({ replicas: 2 }), apply('kubestage', T2)).conflicts).toEqual([
      { manager: 'kubectl-edit', field: '.spec.replicas' },
    ]);
  });

  it('a no-op update adds no entry; removed fields leave every set', () => {
    const applied = stored(
      serverSideApply(undefined, deployment({ replicas: 2, labels: { x: '1' } }), apply('kubestage', T0))
        .object,
    );
    expect(managers(trackUpdate(applied, structuredClone(applied), update('ctl')))).toEqual([
      'kubestage/Apply',
    ]);
    const removed = structuredClone(applied);
    delete removed.metadata.labels;
    const after = trackUpdate(applied, removed, update('ctl'));
    expect(managers(after)).toEqual(['kubestage/Apply']);
    expect(entry(after, 'kubestage')?.fieldsV1).not.toHaveProperty('f:metadata');
  });

  it.each([
    [undefined, ['kubestage/Apply', 'ctl/Update'], 'f:spec'],
    ['status', ['kubestage/Apply', 'ctl/Update'], 'f:status'],
  ])('subresource %s tracks only its part', (subresource, expected, owned) => {
    const applied = stored(
      serverSideApply(undefined, deployment({ replicas: 2 }), apply('kubestage', T0)).object,
    );
    const changed = { ...structuredClone(applied), status: { readyReplicas: 2 } };
    spec(changed).replicas = 3;
    const after = trackUpdate(applied, changed, update('ctl', T1, subresource));
    expect(managers(after)).toEqual(expected);
    const e = entry(after, 'ctl', 'Update');
    expect(Object.keys(e?.fieldsV1 ?? {})).toEqual([owned]);
    expect(e?.subresource).toBe(subresource);
  });
});
