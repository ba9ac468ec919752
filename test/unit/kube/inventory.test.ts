import {
  appliedKindsAnnotation,
  MAX_RECORDED_KINDS,
  mergeKinds,
  parseAppliedKinds,
  recordedKinds,
} from '../../../src/kube/inventory.js';
import { ANNOTATION_APPLIED_KINDS } from '../../../src/model/labels.js';

describe('the applied-kinds annotation', () => {
  const k = (apiVersion: string, kind: string) => ({ apiVersion, kind });

  test('is sorted, deduplicated and merged with what was recorded before', () => {
    const value = appliedKindsAnnotation(
      [k('v1', 'Service'), k('apps/v1', 'Deployment'), k('v1', 'Service')],
      [k('v1', 'Secret')],
    );
    expect(value).toBe('["apps/v1 Deployment","v1 Secret","v1 Service"]');
    expect(parseAppliedKinds(value)).toEqual([
      k('apps/v1', 'Deployment'),
      k('v1', 'Secret'),
      k('v1', 'Service'),
    ]);
  });

  test('is left empty past its bound, and anything unreadable counts as no record', () => {
    const many = Array.from({ length: MAX_RECORDED_KINDS + 1 }, (_, i) => k('example.com/v1', `Kind${i}`));
    expect(appliedKindsAnnotation(many)).toBe('');
    for (const bad of [undefined, '', 'nope', '{}', '[1]', '["v1"]'])
      expect(parseAppliedKinds(bad)).toBeUndefined();
    expect(mergeKinds([k('v1', 'A')], undefined, [k('v1', 'A')])).toEqual([k('v1', 'A')]);
  });

  test('is read from the namespace, and a namespace without one (or none at all) has no record', () => {
    const ns = (annotations?: Record<string, string>) => ({ metadata: { name: 'pr-1', annotations } });
    expect(recordedKinds(ns({ [ANNOTATION_APPLIED_KINDS]: '["v1 ConfigMap"]' }))).toEqual([
      k('v1', 'ConfigMap'),
    ]);
    expect(recordedKinds(ns())).toBeUndefined();
    expect(recordedKinds(undefined)).toBeUndefined();
  });
});
