import type { KubeObject } from '../../../src/model/kube-object.js';
import { podSecurityLabels, podSecurityViolations } from '../../../src/render/pod-security.js';

function deployment(podSpec: Record<string, unknown>): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'pr-1' },
    spec: { template: { spec: { containers: [{ name: 'web', image: 'web:1' }], ...podSpec } } },
  };
}

const c = (extra: Record<string, unknown>) => ({ containers: [{ name: 'web', image: 'web:1', ...extra }] });

test.each([
  ['hostNetwork', deployment({ hostNetwork: true }), 'spec.template.spec.hostNetwork is true'],
  ['hostPID', deployment({ hostPID: true }), 'spec.template.spec.hostPID is true'],
  [
    'hostPath',
    deployment({ volumes: [{ name: 'root', hostPath: { path: '/' } }] }),
    'volumes[name=root] is a hostPath volume',
  ],
  [
    'privileged',
    deployment(c({ securityContext: { privileged: true } })),
    'containers[name=web].securityContext.privileged is true',
  ],
  [
    'SYS_ADMIN',
    deployment(c({ securityContext: { capabilities: { add: ['NET_BIND_SERVICE', 'SYS_ADMIN'] } } })),
    'capabilities.add has SYS_ADMIN',
  ],
  ['hostPort', deployment(c({ ports: [{ containerPort: 80, hostPort: 80 }] })), 'ports uses hostPort 80'],
  [
    'Unconfined seccomp',
    deployment({ securityContext: { seccompProfile: { type: 'Unconfined' } } }),
    'seccompProfile.type is Unconfined',
  ],
])('baseline refuses %s, naming the field', (_name, o, expected) => {
  const found = podSecurityViolations(o, 'baseline');
  expect(found).toHaveLength(1);
  expect(found[0]).toContain(expected);
  expect(found[0]).toContain('(not allowed by the baseline Pod Security level)');
});

test('a plain pod template, allowed capabilities and the privileged level pass', () => {
  expect(podSecurityViolations(deployment({}), 'baseline')).toEqual([]);
  expect(
    podSecurityViolations(
      deployment(c({ securityContext: { capabilities: { add: ['CHOWN'], drop: ['ALL'] } } })),
      'restricted',
    ),
  ).toEqual([]);
  expect(podSecurityViolations(deployment({ hostNetwork: true }), 'privileged')).toEqual([]);
});

test('CronJob and Pod templates are found too; other kinds are not pod templates', () => {
  const cron: KubeObject = {
    apiVersion: 'batch/v1',
    kind: 'CronJob',
    metadata: { name: 'c' },
    spec: { jobTemplate: { spec: { template: { spec: { hostIPC: true, containers: [] } } } } },
  };
  expect(podSecurityViolations(cron, 'baseline')[0]).toContain(
    'spec.jobTemplate.spec.template.spec.hostIPC is true',
  );
  const pod: KubeObject = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'p' },
    spec: { hostNetwork: true, containers: [] },
  };
  expect(podSecurityViolations(pod, 'baseline')[0]).toContain('spec.hostNetwork is true');
  expect(
    podSecurityViolations(
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x' }, spec: { hostNetwork: true } },
      'baseline',
    ),
  ).toEqual([]);
});

test('the namespace labels enforce and warn at the level', () => {
  expect(podSecurityLabels('baseline')).toEqual({
    'pod-security.kubernetes.io/enforce': 'baseline',
    'pod-security.kubernetes.io/enforce-version': 'latest',
    'pod-security.kubernetes.io/warn': 'baseline',
    'pod-security.kubernetes.io/warn-version': 'latest',
  });
});
