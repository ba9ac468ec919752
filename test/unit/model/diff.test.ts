import { diffManifests, findDrift, lineDiff, sameQuantity } from '../../../src/model/diff.js';
import type { KubeObject } from '../../../src/model/kube-object.js';

const secret = (password: string, user = 'app'): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Secret',
  metadata: { name: 'db' },
  stringData: { password, user },
});
const deployment = (image: string, replicas = 2): KubeObject => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'api' },
  spec: {
    replicas,
    template: { spec: { containers: [{ name: 'api', image, resources: { limits: { cpu: '1000m' } } }] } },
  },
});

test('a changed Secret value is shown as changed, never shown itself', () => {
  const d = diffManifests([secret('hunter2-old-value')], [secret('hunter2-new-value')]);
  const text = JSON.stringify(d);
  expect(text).not.toContain('hunter2');
  expect(d.changes).toHaveLength(1);
  expect(d.changes[0].diff).toContain('-  password: <secret>');
  expect(d.changes[0].diff).toContain('+  password: <secret, changed>');
  // The unchanged key is not a change.
  expect(d.changes[0].diff.filter((l) => l.includes('user:') && /^[+-]/.test(l))).toEqual([]);
});

test('an unchanged Secret is not a change; added and removed objects are', () => {
  const d = diffManifests([secret('same-value-123'), deployment('a@sha256:1')], [secret('same-value-123')]);
  expect(d.unchanged).toBe(1);
  expect(d.changes.map((c) => `${c.action} ${c.object}`)).toEqual(['removed Deployment/api']);
});

test('an image change is a two-line hunk with context', () => {
  const d = diffManifests([deployment('api@sha256:aaa')], [deployment('api@sha256:bbb')]);
  const diff = d.changes[0].diff;
  expect(diff[0]).toMatch(/^@@ -\d+,\d+ \+\d+,\d+ @@$/);
  expect(diff.filter((l) => l.startsWith('-'))).toEqual(['-          image: api@sha256:aaa']);
  expect(diff.filter((l) => l.startsWith('+'))).toEqual(['+          image: api@sha256:bbb']);
});

test('lineDiff: identical input has no hunks; separate changes make separate hunks', () => {
  expect(lineDiff(['a', 'b'], ['a', 'b'])).toEqual([]);
  const a = Array.from({ length: 20 }, (_, i) => `l${i}`);
  const b = a.map((l, i) => (i === 1 || i === 18 ? `${l}!` : l));
  expect(lineDiff(a, b).filter((l) => l.startsWith('@@'))).toHaveLength(2);
});

test('drift: a hand-edited image is found; defaulted fields, equal quantities and HPA replicas are not drift', () => {
  const recorded = [
    deployment('api@sha256:1'),
    {
      apiVersion: 'autoscaling/v2',
      kind: 'HorizontalPodAutoscaler',
      metadata: { name: 'api' },
      spec: { scaleTargetRef: { kind: 'Deployment', name: 'api' } },
    },
  ];
  const live = (image: string) =>
    ({
      metadata: { name: 'api', labels: { extra: 'x' } },
      spec: {
        replicas: 5,
        strategy: { type: 'RollingUpdate' },
        template: {
          spec: {
            containers: [
              { name: 'api', image, resources: { limits: { cpu: '1' } }, imagePullPolicy: 'IfNotPresent' },
            ],
          },
        },
      },
    }) as Record<string, unknown>;
  const hpa = { metadata: { name: 'api' }, spec: { scaleTargetRef: { kind: 'Deployment', name: 'api' } } };
  expect(findDrift(recorded, (o) => (o.kind === 'Deployment' ? live('api@sha256:1') : hpa))).toEqual([]);
  expect(findDrift(recorded, (o) => (o.kind === 'Deployment' ? live('api@sha256:2') : hpa))).toEqual([
    {
      object: 'Deployment/api',
      fields: ['spec.template.spec.containers[0].image: "api@sha256:1" → "api@sha256:2"'],
    },
  ]);
  expect(findDrift(recorded, (o) => (o.kind === 'Deployment' ? undefined : hpa))).toEqual([
    { object: 'Deployment/api', fields: ['deleted from the cluster'] },
  ]);
});

test('drift of a Secret names the key, not the value', () => {
  const drift = findDrift([secret('recorded-secret-1')], () => ({
    data: {
      password: Buffer.from('edited-secret-2').toString('base64'),
      user: Buffer.from('app').toString('base64'),
    },
  }));
  expect(drift).toEqual([{ object: 'Secret/db', fields: ['data.password (value changed)'] }]);
  expect(JSON.stringify(drift)).not.toContain('secret-');
});

test('quantities compare by value', () => {
  expect(sameQuantity('1000m', '1')).toBe(true);
  expect(sameQuantity('1Gi', '1024Mi')).toBe(true);
  expect(sameQuantity('500m', '1')).toBe(false);
});

test('a changed line is shown removed, then added, as diff(1) does', () => {
  expect(lineDiff(['a', 'b', 'c'], ['a', 'B', 'c'])).toEqual(['@@ -1,3 +1,3 @@', ' a', '-b', '+B', ' c']);
});
