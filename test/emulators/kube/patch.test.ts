import { describe, expect, it } from '@jest/globals';
import {
  PatchError,
  jsonPatch,
  listStrategyAt,
  mergePatch,
  strategicMergePatch,
  supportsStrategicMerge,
  type JsonPatchOp,
} from './patch.js';
import type { KObject } from './store.js';

describe('mergePatch (RFC 7386 appendix A)', () => {
  const cases: [unknown, unknown, unknown][] = [
    [{ a: 'b' }, { a: 'c' }, { a: 'c' }],
    [{ a: 'b' }, { b: 'c' }, { a: 'b', b: 'c' }],
    [{ a: 'b' }, { a: null }, {}],
    [{ a: 'b', b: 'c' }, { a: null }, { b: 'c' }],
    [{ a: ['b'] }, { a: 'c' }, { a: 'c' }],
    [{ a: 'c' }, { a: ['b'] }, { a: ['b'] }],
    [{ a: { b: 'c' } }, { a: { b: 'd', c: null } }, { a: { b: 'd' } }],
    [{ a: [{ b: 'c' }] }, { a: [1] }, { a: [1] }],
    [
      ['a', 'b'],
      ['c', 'd'],
      ['c', 'd'],
    ],
    [{ a: 'b' }, ['c'], ['c']],
    [{ a: 'foo' }, null, null],
    [{ a: 'foo' }, 'bar', 'bar'],
    [{ e: null }, { a: 1 }, { e: null, a: 1 }],
    [[1, 2], { a: 'b', c: null }, { a: 'b' }],
    [{}, { a: { bb: { ccc: null } } }, { a: { bb: {} } }],
  ];
  it.each(cases)('%j + %j', (target, patch, expected) => {
    const before = structuredClone(target);
    expect(mergePatch(target, patch)).toEqual(expected);
    expect(target).toEqual(before); // the input is not mutated
  });
});

describe('jsonPatch (RFC 6902 appendix A)', () => {
  const ok: [string, unknown, JsonPatchOp[], unknown][] = [
    [
      'A.1 add member',
      { foo: 'bar' },
      [{ op: 'add', path: '/baz', value: 'qux' }],
      { baz: 'qux', foo: 'bar' },
    ],
    [
      'A.2 add array element',
      { foo: ['bar', 'baz'] },
      [{ op: 'add', path: '/foo/1', value: 'qux' }],
      { foo: ['bar', 'qux', 'baz'] },
    ],
    ['A.3 remove member', { baz: 'qux', foo: 'bar' }, [{ op: 'remove', path: '/baz' }], { foo: 'bar' }],
    [
      'A.4 remove element',
      { foo: ['bar', 'qux', 'baz'] },
      [{ op: 'remove', path: '/foo/1' }],
      { foo: ['bar', 'baz'] },
    ],
    [
      'A.5 replace',
      { baz: 'qux', foo: 'bar' },
      [{ op: 'replace', path: '/baz', value: 'boo' }],
      { baz: 'boo', foo: 'bar' },
    ],
    [
      'A.6 move member',
      { foo: { bar: 'baz', waldo: 'fred' }, qux: { corge: 'grault' } },
      [{ op: 'move', from: '/foo/waldo', path: '/qux/thud' }],
      { foo: { bar: 'baz' }, qux: { corge: 'grault', thud: 'fred' } },
    ],
    [
      'A.7 move element',
      { foo: ['all', 'grass', 'cows', 'eat'] },
      [{ op: 'move', from: '/foo/1', path: '/foo/3' }],
      { foo: ['all', 'cows', 'eat', 'grass'] },
    ],
    [
      'A.8 test success',
      { baz: 'qux', foo: ['a', 2, 'c'] },
      [
        { op: 'test', path: '/baz', value: 'qux' },
        { op: 'test', path: '/foo/1', value: 2 },
      ],
      { baz: 'qux', foo: ['a', 2, 'c'] },
    ],
    [
      'A.10 add nested member',
      { foo: 'bar' },
      [{ op: 'add', path: '/child', value: { grandchild: {} } }],
      { foo: 'bar', child: { grandchild: {} } },
    ],
    [
      'A.11 unrecognized members ignored',
      { foo: 'bar' },
      [{ op: 'add', path: '/baz', value: 'qux', xyz: 123 } as JsonPatchOp],
      { foo: 'bar', baz: 'qux' },
    ],
    [
      'A.14 ~ escaping',
      { '/': 9, '~1': 10 },
      [{ op: 'test', path: '/~01', value: 10 }],
      { '/': 9, '~1': 10 },
    ],
    [
      'A.16 append with -',
      { foo: ['bar'] },
      [{ op: 'add', path: '/foo/-', value: ['abc', 'def'] }],
      { foo: ['bar', ['abc', 'def']] },
    ],
    ['copy', { a: { b: 1 } }, [{ op: 'copy', from: '/a', path: '/c' }], { a: { b: 1 }, c: { b: 1 } }],
    ['replace root', { a: 1 }, [{ op: 'replace', path: '', value: [1] }], [1]],
    [
      'kubectl label style path',
      { metadata: { labels: { 'app.kubernetes.io/name': 'x' } } },
      [{ op: 'replace', path: '/metadata/labels/app.kubernetes.io~1name', value: 'y' }],
      { metadata: { labels: { 'app.kubernetes.io/name': 'y' } } },
    ],
  ];
  it.each(ok)('%s', (_name, target, ops, expected) => {
    const before = structuredClone(target);
    expect(jsonPatch(target, ops)).toEqual(expected);
    expect(target).toEqual(before);
  });

  const failing: [string, unknown, JsonPatchOp[], RegExp][] = [
    ['A.9 test failure', { baz: 'qux' }, [{ op: 'test', path: '/baz', value: 'bar' }], /test/],
    [
      'A.12 add to missing parent',
      { foo: 'bar' },
      [{ op: 'add', path: '/baz/bat', value: 'qux' }],
      /does not exist/,
    ],
    ['A.15 string vs number', { '/': 9, '~1': 10 }, [{ op: 'test', path: '/~01', value: '10' }], /test/],
    ['remove missing', { a: 1 }, [{ op: 'remove', path: '/b' }], /nonexistent/],
    ['replace missing', { a: 1 }, [{ op: 'replace', path: '/b', value: 2 }], /does not exist/],
    ['index out of bounds', { a: [1] }, [{ op: 'add', path: '/a/2', value: 2 }], /out of bounds/],
    ['leading zero index', { a: [1, 2] }, [{ op: 'remove', path: '/a/01' }], /invalid array index/],
    ['move into own child', { a: { b: {} } }, [{ op: 'move', from: '/a', path: '/a/b/c' }], /own child/],
    ['add without value', { a: 1 }, [{ op: 'add', path: '/b' } as JsonPatchOp], /requires "value"/],
    ['pointer without slash', { a: 1 }, [{ op: 'remove', path: 'a' }], /must start with/],
    ['unknown op', { a: 1 }, [{ op: 'frob', path: '/a' } as unknown as JsonPatchOp], /unknown/],
  ];
  it.each(failing)('%s → PatchError', (_name, target, ops, message) => {
    expect(() => jsonPatch(target, ops)).toThrow(PatchError);
    expect(() => jsonPatch(target, ops)).toThrow(message);
  });

  it('is atomic: a failing op leaves the input untouched', () => {
    const target = { a: 1 };
    expect(() =>
      jsonPatch(target, [
        { op: 'add', path: '/b', value: 2 },
        { op: 'test', path: '/a', value: 9 },
      ]),
    ).toThrow(PatchError);
    expect(target).toEqual({ a: 1 });
  });
});

const DEPLOY = { group: 'apps', kind: 'Deployment' };

function deployment(): KObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name: 'web',
      namespace: 'pr-1',
      labels: { app: 'web', tier: 'front' },
      finalizers: ['a', 'b'],
    },
    spec: {
      replicas: 2,
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1 } },
      template: {
        metadata: { labels: { app: 'web' } },
        spec: {
          containers: [
            {
              name: 'web',
              image: 'web:1',
              ports: [{ containerPort: 8080 }],
              env: [
                { name: 'A', value: '1' },
                { name: 'B', value: '2' },
              ],
              volumeMounts: [{ name: 'data', mountPath: '/data' }],
            },
            { name: 'sidecar', image: 'proxy:1', args: ['--x'] },
          ],
          volumes: [{ name: 'data', emptyDir: {} }],
          tolerations: [{ key: 'k', operator: 'Exists' }],
        },
      },
    },
  };
}

type Spec = { replicas?: number; strategy?: Record<string, unknown>; template: { spec: PodSpec } };
type PodSpec = { containers: Container[]; volumes?: unknown[]; tolerations?: unknown[] };
type Container = {
  name: string;
  image?: string;
  env?: { name: string; value?: string }[];
  args?: string[];
  ports?: unknown[];
  volumeMounts?: unknown[];
};
const spec = (o: KObject): Spec => o.spec as Spec;
const podSpec = (o: KObject): PodSpec => spec(o).template.spec;
const container = (o: KObject, name: string): Container | undefined =>
  podSpec(o).containers.find((c) => c.name === name);

describe('strategicMergePatch on a Deployment', () => {
  const cases: [string, Record<string, unknown>, (o: KObject) => void][] = [
    [
      'container image change by name keeps the other container and fields',
      { spec: { template: { spec: { containers: [{ name: 'web', image: 'web:2' }] } } } },
      (o) => {
        expect(podSpec(o).containers.map((c) => [c.name, c.image])).toEqual([
          ['web', 'web:2'],
          ['sidecar', 'proxy:1'],
        ]);
        expect(container(o, 'web')?.env).toHaveLength(2);
        expect(container(o, 'web')?.ports).toEqual([{ containerPort: 8080 }]);
      },
    ],
    [
      'env add merges by name',
      { spec: { template: { spec: { containers: [{ name: 'web', env: [{ name: 'C', value: '3' }] }] } } } },
      (o) => expect(container(o, 'web')?.env?.map((e) => e.name)).toEqual(['A', 'B', 'C']),
    ],
    [
      'env change by name',
      { spec: { template: { spec: { containers: [{ name: 'web', env: [{ name: 'A', value: 'x' }] }] } } } },
      (o) =>
        expect(container(o, 'web')?.env).toEqual([
          { name: 'A', value: 'x' },
          { name: 'B', value: '2' },
        ]),
    ],
    [
      'env remove with $patch: delete',
      {
        spec: {
          template: { spec: { containers: [{ name: 'web', env: [{ name: 'A', $patch: 'delete' }] }] } },
        },
      },
      (o) => expect(container(o, 'web')?.env).toEqual([{ name: 'B', value: '2' }]),
    ],
    [
      'container removal with $patch: delete',
      { spec: { template: { spec: { containers: [{ name: 'sidecar', $patch: 'delete' }] } } } },
      (o) => expect(podSpec(o).containers.map((c) => c.name)).toEqual(['web']),
    ],
    [
      'new container appended',
      { spec: { template: { spec: { containers: [{ name: 'init', image: 'i:1' }] } } } },
      (o) => expect(podSpec(o).containers.map((c) => c.name)).toEqual(['web', 'sidecar', 'init']),
    ],
    [
      'null deletes a field',
      { spec: { replicas: null, template: { spec: { containers: [{ name: 'sidecar', args: null }] } } } },
      (o) => {
        expect(spec(o).replicas).toBeUndefined();
        expect(container(o, 'sidecar')).toEqual({ name: 'sidecar', image: 'proxy:1' });
      },
    ],
    [
      'atomic list (tolerations, args) is replaced',
      {
        spec: {
          template: {
            spec: { tolerations: [{ key: 'z' }], containers: [{ name: 'sidecar', args: ['--y'] }] },
          },
        },
      },
      (o) => {
        expect(podSpec(o).tolerations).toEqual([{ key: 'z' }]);
        expect(container(o, 'sidecar')?.args).toEqual(['--y']);
      },
    ],
    [
      'list-level $patch: replace',
      {
        spec: { template: { spec: { containers: [{ $patch: 'replace' }, { name: 'only', image: 'o:1' }] } } },
      },
      (o) => expect(podSpec(o).containers).toEqual([{ name: 'only', image: 'o:1' }]),
    ],
    [
      'map-level $patch: replace',
      { spec: { strategy: { $patch: 'replace', type: 'Recreate' } } },
      (o) => expect(spec(o).strategy).toEqual({ type: 'Recreate' }),
    ],
    [
      '$retainKeys clears the other union member',
      { spec: { strategy: { $retainKeys: ['type'], type: 'Recreate' } } },
      (o) => expect(spec(o).strategy).toEqual({ type: 'Recreate' }),
    ],
    [
      'volumeMounts by mountPath, volumes by name',
      {
        spec: {
          template: {
            spec: {
              volumes: [{ name: 'cache', emptyDir: {} }],
              containers: [{ name: 'web', volumeMounts: [{ name: 'cache', mountPath: '/cache' }] }],
            },
          },
        },
      },
      (o) => {
        expect(podSpec(o).volumes).toHaveLength(2);
        expect(container(o, 'web')?.volumeMounts).toHaveLength(2);
      },
    ],
    [
      'labels merge per key',
      { metadata: { labels: { tier: null, extra: 'y' } } },
      (o) => expect(o.metadata.labels).toEqual({ app: 'web', extra: 'y' }),
    ],
    [
      'finalizers merge as a set; $deleteFromPrimitiveList removes',
      { metadata: { finalizers: ['b', 'c'], '$deleteFromPrimitiveList/finalizers': ['a'] } },
      (o) => expect(o.metadata.finalizers).toEqual(['b', 'c']),
    ],
    [
      '$setElementOrder reorders keyed items',
      {
        spec: {
          template: {
            spec: { '$setElementOrder/containers': [{ name: 'sidecar' }, { name: 'web' }], containers: [] },
          },
        },
      },
      (o) => expect(podSpec(o).containers.map((c) => c.name)).toEqual(['sidecar', 'web']),
    ],
  ];
  it.each(cases)('%s', (_name, patch, check) => {
    const target = deployment();
    const out = strategicMergePatch(target, patch, DEPLOY);
    check(out);
    expect(target).toEqual(deployment()); // the input is not mutated
  });

  it.each([
    [
      'item without merge key',
      { spec: { template: { spec: { containers: [{ image: 'x' }] } } } },
      /merge key: name/,
    ],
    ['unknown $patch', { spec: { $patch: 'frob' } }, /unknown patch type/],
    [
      'key outside $retainKeys',
      { spec: { strategy: { $retainKeys: ['x'], type: 'Recreate' } } },
      /retainKeys/,
    ],
  ])('%s → PatchError', (_name, patch, message) => {
    expect(() => strategicMergePatch(deployment(), patch, DEPLOY)).toThrow(message);
  });

  it('merges Service ports by port', () => {
    const svc: KObject = {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 's' },
      spec: { ports: [{ port: 80, targetPort: 8080 }, { port: 443 }] },
    };
    const out = strategicMergePatch(
      svc,
      { spec: { ports: [{ port: 80, targetPort: 9090 }] } },
      { group: '', kind: 'Service' },
    );
    expect((out.spec as { ports: unknown[] }).ports).toEqual([{ port: 80, targetPort: 9090 }, { port: 443 }]);
  });
});

describe('list schema', () => {
  it.each([
    [{ group: 'apps', kind: 'Deployment' }, 'spec.template.spec.containers', 'map'],
    [{ group: 'batch', kind: 'CronJob' }, 'spec.jobTemplate.spec.template.spec.containers.env', 'map'],
    [{ group: '', kind: 'Pod' }, 'spec.containers.ports', 'map'],
    [{ group: '', kind: 'Pod' }, 'spec.tolerations', 'atomic'],
    [{ group: '', kind: 'Pod' }, 'spec.containers.envFrom', 'atomic'],
    [{ group: 'example.com', kind: 'Widget' }, 'spec.containers', 'atomic'],
    [{ group: 'example.com', kind: 'Widget' }, 'metadata.finalizers', 'set'],
    [{ group: '', kind: 'ConfigMap' }, 'metadata.ownerReferences', 'map'],
  ])('%j %s → %s', (kind, path, type) => {
    expect(listStrategyAt(kind, path.split('.')).type).toBe(type);
  });

  it.each([
    [{ group: 'apps', kind: 'Deployment' }, true],
    [{ group: '', kind: 'ConfigMap' }, true],
    [{ group: 'gateway.networking.k8s.io', kind: 'HTTPRoute' }, false],
    [{ group: 'example.com', kind: 'Widget' }, false],
  ])('supportsStrategicMerge(%j) = %s', (kind, expected) => {
    expect(supportsStrategicMerge(kind)).toBe(expected);
  });
});
