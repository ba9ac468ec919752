import { formatObjectId, objectId, objectKey, sameObject } from '../../../src/model/object-id.js';

test.each([
  ['apps/v1', 'Deployment', 'web', 'Deployment/web'],
  ['v1', 'Service', 'api', 'Service/api'],
  ['gateway.networking.k8s.io/v1', 'HTTPRoute', 'web', 'HTTPRoute.gateway.networking.k8s.io/web'],
  ['example.com/v1alpha1', 'Widget', 'w', 'Widget.example.com/w'],
])('an object of %s %s is named as in every message', (apiVersion, kind, name, shown) => {
  const id = objectId({ apiVersion, kind, metadata: { name, namespace: 'pr-7' } });
  expect(formatObjectId(id)).toBe(shown);
  expect(id.namespace).toBe('pr-7');
});

test('identities compare by group, kind, namespace and name', () => {
  const a = objectId({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'x' },
  });
  const b = objectId({
    apiVersion: 'apps/v1beta1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'x' },
  });
  const c = objectId({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'y' },
  });
  expect(sameObject(a, b)).toBe(true); // the version is not part of an identity
  expect(sameObject(a, c)).toBe(false);
  expect(objectKey(a)).not.toBe(objectKey(c));
  expect(objectId({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'n' } })).toEqual({
    group: '',
    kind: 'Namespace',
    name: 'n',
  });
});
