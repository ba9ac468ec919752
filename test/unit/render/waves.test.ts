import type { KubeObject } from '../../../src/model/kube-object.js';
import { groupIntoWaves, waveOf } from '../../../src/render/waves.js';

const o = (apiVersion: string, kind: string, name = kind.toLowerCase()): KubeObject => ({
  apiVersion,
  kind,
  metadata: { name },
});

describe('waveOf', () => {
  it.each([
    ['apiextensions.k8s.io/v1', 'CustomResourceDefinition', 0],
    ['v1', 'ServiceAccount', 1],
    ['v1', 'ConfigMap', 1],
    ['v1', 'Secret', 1],
    ['v1', 'PersistentVolumeClaim', 1],
    ['v1', 'ResourceQuota', 1],
    ['v1', 'LimitRange', 1],
    ['rbac.authorization.k8s.io/v1', 'Role', 2],
    ['rbac.authorization.k8s.io/v1', 'RoleBinding', 2],
    ['v1', 'Service', 3],
    ['apps/v1', 'Deployment', 4],
    ['apps/v1', 'StatefulSet', 4],
    ['apps/v1', 'DaemonSet', 4],
    ['apps/v1', 'ReplicaSet', 4],
    ['batch/v1', 'Job', 4],
    ['batch/v1', 'CronJob', 4],
    ['v1', 'Pod', 4],
    ['autoscaling/v2', 'HorizontalPodAutoscaler', 4],
    ['policy/v1', 'PodDisruptionBudget', 4],
    ['networking.k8s.io/v1', 'Ingress', 5],
    // Isolation before any pod runs.
    ['networking.k8s.io/v1', 'NetworkPolicy', 1],
    ['gateway.networking.k8s.io/v1', 'HTTPRoute', 5],
    ['example.com/v1', 'Widget', 5],
    ['serving.knative.dev/v1', 'Service', 5],
  ])('%s %s → wave %d', (apiVersion, kind, wave) => expect(waveOf(o(apiVersion, kind))).toBe(wave));
});

describe('groupIntoWaves', () => {
  it('orders by wave, keeps input order inside a wave, and omits empty waves', () => {
    const objects = [
      o('networking.k8s.io/v1', 'Ingress', 'web'),
      o('apps/v1', 'Deployment', 'b'),
      o('v1', 'Service', 'web'),
      o('apps/v1', 'Deployment', 'a'),
      o('v1', 'ConfigMap', 'z'),
      o('v1', 'Secret', 'y'),
    ];
    const names = groupIntoWaves(objects).map((w) => w.map((x) => `${x.kind}/${x.metadata.name}`));
    expect(names).toEqual([
      ['ConfigMap/z', 'Secret/y'],
      ['Service/web'],
      ['Deployment/b', 'Deployment/a'],
      ['Ingress/web'],
    ]);
  });

  it('returns no waves for no objects', () => expect(groupIntoWaves([])).toEqual([]));
});
