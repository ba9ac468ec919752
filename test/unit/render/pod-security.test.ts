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

const RESTRICTED_CONTAINER = {
  securityContext: {
    allowPrivilegeEscalation: false,
    runAsNonRoot: true,
    seccompProfile: { type: 'RuntimeDefault' },
    capabilities: { drop: ['ALL'], add: ['NET_BIND_SERVICE'] },
  },
};

test('a plain pod template, allowed capabilities, safe settings and the privileged level pass', () => {
  expect(podSecurityViolations(deployment({}), 'baseline')).toEqual([]);
  expect(
    podSecurityViolations(
      deployment({
        ...c({
          securityContext: {
            capabilities: { add: ['CHOWN'] },
            seLinuxOptions: { type: 'container_init_t' },
            appArmorProfile: { type: 'RuntimeDefault' },
          },
        }),
        securityContext: { sysctls: [{ name: 'net.ipv4.ip_local_port_range', value: '1024 65535' }] },
      }),
      'baseline',
    ),
  ).toEqual([]);
  expect(
    podSecurityViolations(
      deployment({ ...c(RESTRICTED_CONTAINER), volumes: [{ name: 'tmp', emptyDir: {} }] }),
      'restricted',
    ),
  ).toEqual([]);
  expect(podSecurityViolations(deployment({ hostNetwork: true }), 'privileged')).toEqual([]);
});

test.each<[string, KubeObject, string]>([
  [
    'an AppArmor annotation unconfined',
    {
      ...deployment({}),
      spec: {
        template: {
          metadata: { annotations: { 'container.apparmor.security.beta.kubernetes.io/web': 'unconfined' } },
          spec: c({}),
        },
      },
    },
    'spec.template.metadata.annotations["container.apparmor.security.beta.kubernetes.io/web"] is unconfined',
  ],
  [
    'a pod appArmorProfile Unconfined',
    deployment({ securityContext: { appArmorProfile: { type: 'Unconfined' } } }),
    'spec.template.spec.securityContext.appArmorProfile.type is Unconfined',
  ],
  [
    'a container appArmorProfile Unconfined',
    deployment(c({ securityContext: { appArmorProfile: { type: 'Unconfined' } } })),
    'containers[name=web].securityContext.appArmorProfile.type is Unconfined',
  ],
  [
    'an SELinux type',
    deployment({ securityContext: { seLinuxOptions: { type: 'spc_t' } } }),
    'spec.template.spec.securityContext.seLinuxOptions.type is spc_t: only container_t, container_init_t',
  ],
  [
    'an SELinux user',
    deployment(c({ securityContext: { seLinuxOptions: { user: 'system_u' } } })),
    'containers[name=web].securityContext.seLinuxOptions.user is system_u',
  ],
  [
    'an SELinux role',
    deployment(c({ securityContext: { seLinuxOptions: { role: 'sysadm_r' } } })),
    'seLinuxOptions.role is sysadm_r',
  ],
  [
    'an unsafe sysctl',
    deployment({ securityContext: { sysctls: [{ name: 'kernel.msgmax', value: '1' }] } }),
    'spec.template.spec.securityContext.sysctls[0].name is kernel.msgmax: not one of the sysctls namespaced to the pod',
  ],
  [
    'an unmasked /proc',
    deployment(c({ securityContext: { procMount: 'Unmasked' } })),
    'containers[name=web].securityContext.procMount is Unmasked',
  ],
  [
    'a Windows hostProcess pod',
    deployment({ securityContext: { windowsOptions: { hostProcess: true } } }),
    'spec.template.spec.securityContext.windowsOptions.hostProcess is true',
  ],
  [
    'a Windows hostProcess container',
    deployment(c({ securityContext: { windowsOptions: { hostProcess: true } } })),
    'containers[name=web].securityContext.windowsOptions.hostProcess is true',
  ],
])('baseline refuses %s', (_what, o, expected) => {
  const found = podSecurityViolations(o, 'baseline');
  expect(found).toHaveLength(1);
  expect(found[0]).toContain(expected);
});

test.each<[string, Record<string, unknown>, string]>([
  [
    'allowPrivilegeEscalation unset',
    { allowPrivilegeEscalation: undefined },
    'containers[name=web].securityContext.allowPrivilegeEscalation is unset: it must be false',
  ],
  ['runAsNonRoot unset', { runAsNonRoot: undefined }, "runAsNonRoot is unset (and so is the pod's)"],
  ['runAsNonRoot false', { runAsNonRoot: false }, 'runAsNonRoot is false: it must be true'],
  ['runAsUser 0', { runAsUser: 0 }, 'runAsUser is 0: it must not run as root'],
  [
    'no seccomp profile',
    { seccompProfile: undefined },
    "seccompProfile.type is unset (and so is the pod's): set RuntimeDefault or Localhost",
  ],
  [
    'capabilities not dropped',
    { capabilities: { add: [] } },
    'capabilities.drop is unset: it must include ALL',
  ],
  [
    'a Baseline capability added',
    { capabilities: { drop: ['ALL'], add: ['CHOWN'] } },
    'capabilities.add has CHOWN: Restricted allows only NET_BIND_SERVICE',
  ],
])('restricted refuses %s', (_what, override, expected) => {
  const container = { securityContext: { ...RESTRICTED_CONTAINER.securityContext, ...override } };
  const found = podSecurityViolations(deployment(c(container)), 'restricted');
  expect(found).toEqual([expect.stringContaining(expected)]);
  expect(found[0]).toContain('(not allowed by the restricted Pod Security level)');
});

test('restricted refuses volume types beyond its list, and accepts runAsNonRoot set on the pod', () => {
  const sc = { ...RESTRICTED_CONTAINER.securityContext, runAsNonRoot: undefined };
  const found = podSecurityViolations(
    deployment({
      ...c({ securityContext: sc }),
      securityContext: { runAsNonRoot: true },
      volumes: [{ name: 'nfs', nfs: { server: 'x', path: '/' } }],
    }),
    'restricted',
  );
  expect(found).toEqual([
    expect.stringContaining(
      'spec.template.spec.volumes[name=nfs] is a nfs volume: Restricted allows only configMap',
    ),
  ]);
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
