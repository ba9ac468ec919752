import { apiGroup, checkKubeObject, objectRef } from '../../../src/model/kube-object.js';

describe('objectRef', () => {
  it.each([
    ['apps/v1', 'Deployment', 'web', 'Deployment/web'],
    ['v1', 'Service', 'web', 'Service/web'],
    ['networking.k8s.io/v1', 'Ingress', 'web', 'Ingress/web'],
    ['rbac.authorization.k8s.io/v1', 'ClusterRoleBinding', 'x', 'ClusterRoleBinding/x'],
    ['gateway.networking.k8s.io/v1', 'HTTPRoute', 'web', 'HTTPRoute.gateway.networking.k8s.io/web'],
    ['cert-manager.io/v1', 'Certificate', 'tls', 'Certificate.cert-manager.io/tls'],
  ])('%s %s %s → %s', (apiVersion, kind, name, ref) => {
    expect(objectRef({ apiVersion, kind, metadata: { name } })).toBe(ref);
  });

  it.each([
    ['v1', ''],
    ['apps/v1', 'apps'],
    ['gateway.networking.k8s.io/v1beta1', 'gateway.networking.k8s.io'],
  ])('apiGroup(%s) = %j', (v, g) => expect(apiGroup(v)).toBe(g));
});

describe('checkKubeObject', () => {
  it('accepts a complete object', () => {
    const doc = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', labels: { a: 'b' } } };
    expect(checkKubeObject(doc)).toEqual({ object: doc });
  });

  it.each([
    ['a string', 'hello', /is string/],
    ['a list', [1], /is a list/],
    ['no apiVersion', { kind: 'X', metadata: { name: 'a' } }, /no apiVersion/],
    ['no kind', { apiVersion: 'v1', metadata: { name: 'a' } }, /no kind/],
    ['no metadata', { apiVersion: 'v1', kind: 'ConfigMap' }, /ConfigMap has no metadata/],
    ['no name', { apiVersion: 'v1', kind: 'ConfigMap', metadata: {} }, /no metadata.name/],
    [
      'numeric label',
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', labels: { a: 1 } } },
      /quote numbers/,
    ],
  ])('refuses %s', (_what, doc, problem) => {
    const result = checkKubeObject(doc);
    expect('problem' in result && result.problem).toMatch(problem);
  });
});
