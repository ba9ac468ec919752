import type { KubeObject } from '../../../src/model/kube-object.js';
import { applySteps } from '../../../src/steps/release.js';

const o = (apiVersion: string, kind: string, name = kind.toLowerCase()): KubeObject => ({
  apiVersion,
  kind,
  metadata: { name },
});
const kinds = (steps: KubeObject[][]) => steps.map((s) => s.map((x) => x.kind));

describe('applySteps', () => {
  test('config, RBAC and Services share one step; CRDs before it, workloads and then routes after', () => {
    const objects = [
      o('networking.k8s.io/v1', 'Ingress'),
      o('apps/v1', 'Deployment'),
      o('v1', 'Service'),
      o('rbac.authorization.k8s.io/v1', 'RoleBinding'),
      o('v1', 'ConfigMap'),
      o('apiextensions.k8s.io/v1', 'CustomResourceDefinition'),
      o('v1', 'ServiceAccount'),
      o('batch/v1', 'Job'),
    ];
    expect(kinds(applySteps(objects))).toEqual([
      ['CustomResourceDefinition'],
      ['Service', 'RoleBinding', 'ConfigMap', 'ServiceAccount'],
      ['Deployment', 'Job'],
      ['Ingress'],
    ]);
  });

  test('omits empty steps and keeps the render order inside a step', () => {
    expect(kinds(applySteps([o('v1', 'Secret'), o('v1', 'Service'), o('v1', 'ConfigMap')]))).toEqual([
      ['Secret', 'Service', 'ConfigMap'],
    ]);
    expect(applySteps([])).toEqual([]);
  });
});
