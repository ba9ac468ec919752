import {
  computeHealth,
  containerConfigProblem,
  crashLoopProblem,
  failFastProblems,
  imagePullProblem,
  isGone,
  isSettledOk,
  needsWatch,
  podProblems,
  podsToJudge,
  unschedulable,
  type ContainerStatus,
  type Health,
  type HealthObject,
} from '../../../src/model/health.js';

const obj = (
  apiVersion: string,
  kind: string,
  fields: { generation?: number; spec?: Record<string, unknown>; status?: Record<string, unknown> } = {},
): HealthObject => ({
  apiVersion,
  kind,
  metadata: { name: 'web', generation: fields.generation ?? 1 },
  ...(fields.spec ? { spec: fields.spec } : {}),
  ...(fields.status ? { status: fields.status } : {}),
});

const cond = (type: string, status: string, reason?: string, message?: string) => ({
  type,
  status,
  ...(reason ? { reason } : {}),
  ...(message ? { message } : {}),
});

const UNSCHEDULABLE = '0/1 nodes are available: 1 Insufficient cpu. preemption: 0/1 nodes are available.';

describe('computeHealth per kind', () => {
  test.each<[string, HealthObject | undefined, Health]>([
    ['absent: NotFound', undefined, { status: 'NotFound', message: 'not found' }],
    [
      'any object being deleted: Terminating',
      {
        ...obj('apps/v1', 'Deployment', { status: { observedGeneration: 1, availableReplicas: 1 } }),
        metadata: { name: 'web', deletionTimestamp: '2025-01-01T00:00:00Z' },
      },
      { status: 'Terminating', message: 'terminating' },
    ],
    [
      'Deployment available',
      obj('apps/v1', 'Deployment', {
        spec: { replicas: 2 },
        status: { observedGeneration: 1, replicas: 2, updatedReplicas: 2, availableReplicas: 2 },
      }),
      { status: 'Current', message: '2/2 available' },
    ],
    [
      'Deployment paused: Suspended, whatever its replicas',
      obj('apps/v1', 'Deployment', {
        spec: { replicas: 2, paused: true },
        status: { observedGeneration: 1, replicas: 0 },
      }),
      { status: 'Suspended', message: 'suspended (spec.paused)' },
    ],
    [
      'Deployment past its progress deadline: Failed',
      obj('apps/v1', 'Deployment', {
        status: {
          observedGeneration: 1,
          conditions: [cond('Progressing', 'False', 'ProgressDeadlineExceeded')],
        },
      }),
      { status: 'Failed', message: 'ProgressDeadlineExceeded' },
    ],
    [
      'Deployment whose pods may not be created: in progress, saying why',
      obj('apps/v1', 'Deployment', {
        status: {
          observedGeneration: 1,
          conditions: [cond('ReplicaFailure', 'True', 'FailedCreate', 'exceeded quota: compute')],
        },
      }),
      { status: 'InProgress', message: 'FailedCreate: exceeded quota: compute' },
    ],
    [
      'StatefulSet with a partition: only the ordinals above it must be updated',
      obj('apps/v1', 'StatefulSet', {
        spec: { replicas: 3, updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 2 } } },
        status: {
          observedGeneration: 1,
          readyReplicas: 3,
          updatedReplicas: 1,
          currentRevision: 'a',
          updateRevision: 'b',
        },
      }),
      { status: 'Current', message: '3/3 ready' },
    ],
    [
      'StatefulSet OnDelete: the update revision is not awaited',
      obj('apps/v1', 'StatefulSet', {
        spec: { replicas: 1, updateStrategy: { type: 'OnDelete' } },
        status: { observedGeneration: 1, readyReplicas: 1, currentRevision: 'a', updateRevision: 'b' },
      }),
      { status: 'Current', message: '1/1 ready' },
    ],
    [
      'DaemonSet not all available',
      obj('apps/v1', 'DaemonSet', {
        status: {
          observedGeneration: 1,
          desiredNumberScheduled: 2,
          updatedNumberScheduled: 2,
          numberAvailable: 1,
        },
      }),
      { status: 'InProgress', message: '1/2 available' },
    ],
    [
      'ReplicaSet available',
      obj('apps/v1', 'ReplicaSet', {
        spec: { replicas: 2 },
        status: { observedGeneration: 1, replicas: 2, readyReplicas: 2, availableReplicas: 2 },
      }),
      { status: 'Current', message: '2/2 available' },
    ],
    [
      'ReplicaSet not observed yet',
      obj('apps/v1', 'ReplicaSet', {
        generation: 2,
        spec: { replicas: 1 },
        status: { observedGeneration: 1 },
      }),
      { status: 'InProgress', message: 'waiting for the rollout to be observed' },
    ],
    [
      'ReplicationController short of replicas',
      obj('v1', 'ReplicationController', {
        spec: { replicas: 3 },
        status: { observedGeneration: 1, replicas: 3, availableReplicas: 1 },
      }),
      { status: 'InProgress', message: '1/3 available' },
    ],
    [
      'Job complete',
      obj('batch/v1', 'Job', { status: { conditions: [cond('Complete', 'True')], succeeded: 1 } }),
      { status: 'Current', message: 'complete' },
    ],
    [
      'Job past its activeDeadlineSeconds: Failed',
      obj('batch/v1', 'Job', {
        spec: { activeDeadlineSeconds: 60 },
        status: {
          conditions: [
            cond('Failed', 'True', 'DeadlineExceeded', 'Job was active longer than specified deadline'),
          ],
        },
      }),
      { status: 'Failed', message: 'Failed: DeadlineExceeded' },
    ],
    [
      'Job out of retries: Failed',
      obj('batch/v1', 'Job', { status: { conditions: [cond('Failed', 'True', 'BackoffLimitExceeded')] } }),
      { status: 'Failed', message: 'Failed: BackoffLimitExceeded' },
    ],
    [
      'Job determined to fail, pods still stopping (FailureTarget): Failed',
      obj('batch/v1', 'Job', {
        status: { conditions: [cond('FailureTarget', 'True', 'BackoffLimitExceeded')] },
      }),
      { status: 'Failed', message: 'Failed: BackoffLimitExceeded' },
    ],
    [
      'Job suspended',
      obj('batch/v1', 'Job', {
        spec: { suspend: true },
        status: { conditions: [cond('Suspended', 'True')] },
      }),
      { status: 'Suspended', message: 'suspended (spec.suspend)' },
    ],
    [
      'Job running',
      obj('batch/v1', 'Job', { spec: { completions: 3 }, status: { succeeded: 1, active: 2 } }),
      { status: 'InProgress', message: '1/3 succeeded' },
    ],
    [
      'CronJob suspended',
      obj('batch/v1', 'CronJob', { spec: { suspend: true, schedule: '0 * * * *' } }),
      { status: 'Suspended', message: 'suspended (spec.suspend)' },
    ],
    [
      'CronJob scheduled',
      obj('batch/v1', 'CronJob', { spec: { schedule: '0 * * * *' } }),
      { status: 'Current', message: 'scheduled' },
    ],
    [
      'Pod running and ready',
      obj('v1', 'Pod', { status: { phase: 'Running', conditions: [cond('Ready', 'True')] } }),
      { status: 'Current', message: 'running' },
    ],
    [
      'Pod running, not ready yet',
      obj('v1', 'Pod', { status: { phase: 'Running', conditions: [cond('Ready', 'False')] } }),
      { status: 'InProgress', message: 'Running' },
    ],
    [
      'Pod succeeded',
      obj('v1', 'Pod', { status: { phase: 'Succeeded' } }),
      { status: 'Current', message: 'succeeded' },
    ],
    [
      'Pod failed: its container exit',
      obj('v1', 'Pod', {
        status: {
          phase: 'Failed',
          containerStatuses: [{ name: 'app', state: { terminated: { exitCode: 2, reason: 'Error' } } }],
        },
      }),
      { status: 'Failed', message: 'Failed: Error' },
    ],
    [
      'Pod failed: evicted',
      obj('v1', 'Pod', { status: { phase: 'Failed', reason: 'Evicted' } }),
      { status: 'Failed', message: 'Failed: Evicted' },
    ],
    [
      'Pod pending on an unschedulable request: the scheduler says why',
      obj('v1', 'Pod', {
        status: {
          phase: 'Pending',
          conditions: [cond('PodScheduled', 'False', 'Unschedulable', UNSCHEDULABLE)],
        },
      }),
      { status: 'InProgress', message: `FailedScheduling: ${UNSCHEDULABLE}` },
    ],
    [
      'Pod pending on its image',
      obj('v1', 'Pod', {
        status: {
          phase: 'Pending',
          containerStatuses: [{ name: 'app', state: { waiting: { reason: 'ImagePullBackOff' } } }],
        },
      }),
      { status: 'InProgress', message: 'ImagePullBackOff' },
    ],
    [
      'Pod pending on an init container',
      obj('v1', 'Pod', {
        status: {
          phase: 'Pending',
          initContainerStatuses: [{ name: 'migrate', state: { waiting: { reason: 'CrashLoopBackOff' } } }],
          containerStatuses: [{ name: 'app', state: { waiting: { reason: 'PodInitializing' } } }],
        },
      }),
      { status: 'InProgress', message: 'Init:CrashLoopBackOff' },
    ],
    [
      'Pod on a node that stopped reporting: Unknown',
      obj('v1', 'Pod', { status: { phase: 'Unknown' } }),
      { status: 'Unknown', message: 'node not reporting' },
    ],
    [
      'PVC Bound',
      obj('v1', 'PersistentVolumeClaim', { status: { phase: 'Bound' } }),
      { status: 'Current', message: 'Bound' },
    ],
    [
      'PVC Pending',
      obj('v1', 'PersistentVolumeClaim', { status: { phase: 'Pending' } }),
      { status: 'InProgress', message: 'Pending' },
    ],
    [
      'PVC Lost',
      obj('v1', 'PersistentVolumeClaim', { status: { phase: 'Lost' } }),
      { status: 'Failed', message: 'Lost: its volume no longer exists' },
    ],
    [
      'LoadBalancer Service without an address',
      obj('v1', 'Service', { spec: { type: 'LoadBalancer' }, status: { loadBalancer: {} } }),
      { status: 'InProgress', message: 'waiting for a load balancer address' },
    ],
    [
      'LoadBalancer Service with an address',
      obj('v1', 'Service', {
        spec: { type: 'LoadBalancer' },
        status: { loadBalancer: { ingress: [{ ip: '203.0.113.7' }] } },
      }),
      { status: 'Current', message: 'load balancer ready' },
    ],
    [
      'ClusterIP Service',
      obj('v1', 'Service', { spec: { type: 'ClusterIP' }, status: { loadBalancer: {} } }),
      { status: 'Current', message: 'applied' },
    ],
    [
      'Ingress without a load balancer address (many controllers never set one)',
      obj('networking.k8s.io/v1', 'Ingress', { status: { loadBalancer: {} } }),
      { status: 'Current', message: 'applied' },
    ],
  ])('%s', (_name, o, expected) => {
    expect(computeHealth(o)).toEqual(expected);
  });

  test('a Deployment whose current ReplicaSet may not create pods says so before the Deployment does', () => {
    const deployment: HealthObject = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: {
        name: 'web',
        uid: 'd1',
        generation: 1,
        annotations: { 'deployment.kubernetes.io/revision': '2' },
      },
      status: { observedGeneration: 1, replicas: 0 },
    };
    const rs = (revision: string, message: string): HealthObject => ({
      metadata: {
        name: `web-${revision}`,
        ownerReferences: [{ uid: 'd1' }],
        annotations: { 'deployment.kubernetes.io/revision': revision },
      },
      status: { conditions: [cond('ReplicaFailure', 'True', 'FailedCreate', message)] },
    });
    expect(computeHealth(deployment, { replicaSets: [rs('1', 'old'), rs('2', 'quota')] })).toEqual({
      status: 'InProgress',
      message: 'FailedCreate: quota',
    });
  });

  test('a custom resource named like a built-in kind gets the generic rule', () => {
    const job = obj('example.com/v1', 'Job', { status: { conditions: [cond('Ready', 'True')] } });
    expect(computeHealth(job)).toEqual({ status: 'Current', message: 'Ready' });
  });
});

describe('computeHealth: Gateway API, ready only once its controller says so', () => {
  const GW = 'gateway.networking.k8s.io/v1';
  const route = (parents: unknown[]) =>
    obj(GW, 'HTTPRoute', { spec: { parentRefs: [{ name: 'gw' }] }, status: { parents } });
  test.each<[string, HealthObject, Health]>([
    [
      'a Gateway no controller has seen (its GatewayClass is not installed)',
      obj(GW, 'Gateway', { spec: { gatewayClassName: 'example' } }),
      { status: 'InProgress', message: 'waiting for a controller of GatewayClass "example" to program it' },
    ],
    [
      'a programmed Gateway',
      obj(GW, 'Gateway', { status: { conditions: [cond('Accepted', 'True'), cond('Programmed', 'True')] } }),
      { status: 'Current', message: 'programmed' },
    ],
    [
      'a Gateway its controller refused',
      obj(GW, 'Gateway', { status: { conditions: [cond('Accepted', 'False', 'InvalidParameters', 'bad')] } }),
      { status: 'Failed', message: 'InvalidParameters: bad' },
    ],
    [
      'a route no Gateway has accepted yet',
      route([]),
      { status: 'InProgress', message: 'waiting for its Gateway to accept it' },
    ],
    [
      'a route its Gateway accepted',
      route([{ parentRef: { name: 'gw' }, conditions: [cond('Accepted', 'True')] }]),
      { status: 'Current', message: 'accepted' },
    ],
    [
      'a route whose hostnames no listener takes',
      route([
        {
          parentRef: { name: 'gw' },
          conditions: [cond('Accepted', 'False', 'NoMatchingListenerHostname', 'no listener for foo')],
        },
      ]),
      {
        status: 'Failed',
        message: 'not accepted by Gateway gw: NoMatchingListenerHostname: no listener for foo',
      },
    ],
  ])('%s', (_what, o, expected) => expect(computeHealth(o)).toEqual(expected));
});

describe('computeHealth: the generic rule for other kinds (custom resources)', () => {
  const cr = (status?: Record<string, unknown>, generation = 1) =>
    obj('example.com/v1', 'Database', { generation, ...(status ? { status } : {}) });
  test.each<[string, HealthObject, Health]>([
    [
      'no status at all (ConfigMap, Secret, RBAC, an unreconciled CR)',
      cr(),
      { status: 'Current', message: 'applied' },
    ],
    ['Ready=True', cr({ conditions: [cond('Ready', 'True')] }), { status: 'Current', message: 'Ready' }],
    [
      'Ready=False: in progress with the reason, never guessed failed',
      cr({ conditions: [cond('Ready', 'False', 'ProvisioningFailed', 'quota exceeded')] }),
      { status: 'InProgress', message: 'Ready=False: ProvisioningFailed: quota exceeded' },
    ],
    [
      'Stalled=True: Failed',
      cr({
        conditions: [cond('Stalled', 'True', 'InvalidSpec', 'size must be positive'), cond('Ready', 'False')],
      }),
      { status: 'Failed', message: 'InvalidSpec: size must be positive' },
    ],
    [
      'Reconciling=True: in progress even when Ready is still True from before',
      cr({ conditions: [cond('Reconciling', 'True', 'Progressing'), cond('Ready', 'True')] }),
      { status: 'InProgress', message: 'Progressing' },
    ],
    [
      'observedGeneration behind generation: in progress, whatever the conditions say',
      cr({ observedGeneration: 2, conditions: [cond('Ready', 'True')] }, 3),
      { status: 'InProgress', message: 'waiting for generation 3 to be observed' },
    ],
    [
      'a status without the conditions we know',
      cr({ observedGeneration: 1, phase: 'Whatever' }),
      { status: 'Current', message: 'applied' },
    ],
  ])('%s', (_name, o, expected) => {
    expect(computeHealth(o)).toEqual(expected);
  });
});

describe('what settles a wait', () => {
  test.each<[Health['status'], boolean, boolean]>([
    ['Current', true, false],
    ['Suspended', true, false],
    ['InProgress', false, false],
    ['Failed', false, false],
    ['Terminating', false, false],
    ['Unknown', false, false],
    ['NotFound', false, true],
  ])('%s: settled OK %s, gone %s', (status, ok, gone) => {
    expect(isSettledOk({ status, message: '' })).toBe(ok);
    expect(isGone({ status, message: '' })).toBe(gone);
  });
});

const waiting = (reason: string, extra: Partial<ContainerStatus> = {}): ContainerStatus => ({
  name: 'app',
  state: { waiting: { reason } },
  ...extra,
});

describe('fail-fast rules', () => {
  test.each([
    ['ImagePullBackOff', true],
    ['ErrImagePull', true],
    ['InvalidImageName', true],
    ['ErrImageNeverPull', true],
    ['ImageInspectError', true],
    ['ContainerCreating', false],
    ['CrashLoopBackOff', false],
  ])('image pull: %s → %s', (reason, hit) => {
    expect(imagePullProblem(waiting(reason))).toEqual(
      hit ? { rule: 'image-pull', reason, immediate: false } : undefined,
    );
  });

  test.each<[string, ContainerStatus, ReturnType<typeof crashLoopProblem>]>([
    [
      'waiting in CrashLoopBackOff: after the grace period',
      waiting('CrashLoopBackOff', { restartCount: 1 }),
      { rule: 'crash-loop', reason: 'CrashLoopBackOff', immediate: false },
    ],
    [
      'RunContainerError: after the grace period',
      waiting('RunContainerError'),
      { rule: 'crash-loop', reason: 'RunContainerError', immediate: false },
    ],
    [
      `${3} restarts, last exit non-zero, Running between back-offs: at once`,
      {
        name: 'app',
        restartCount: 3,
        ready: false,
        state: { running: {} },
        lastState: { terminated: { exitCode: 1 } },
      },
      { rule: 'crash-loop', reason: 'CrashLoopBackOff', immediate: true },
    ],
    [
      '3 restarts that all exited 0 (a job-like container restarted by policy): no problem',
      {
        name: 'app',
        restartCount: 3,
        ready: false,
        state: { running: {} },
        lastState: { terminated: { exitCode: 0 } },
      },
      undefined,
    ],
    [
      '2 restarts with errors: not yet',
      {
        name: 'app',
        restartCount: 2,
        ready: false,
        state: { running: {} },
        lastState: { terminated: { exitCode: 1 } },
      },
      undefined,
    ],
    [
      'restarted often but ready now: recovered',
      {
        name: 'app',
        restartCount: 5,
        ready: true,
        state: { running: {} },
        lastState: { terminated: { exitCode: 1 } },
      },
      undefined,
    ],
  ])('crash loop: %s', (_name, c, expected) => {
    expect(crashLoopProblem(c)).toEqual(expected);
  });

  test.each([
    ['CreateContainerConfigError', true],
    ['CreateContainerError', true],
    ['ContainerCreating', false],
  ])('container config: %s → %s', (reason, hit) => {
    expect(containerConfigProblem(waiting(reason))).toEqual(
      hit ? { rule: 'container-config', reason, immediate: false } : undefined,
    );
  });

  test.each<[string, Record<string, unknown>, ReturnType<typeof unschedulable>]>([
    [
      'PodScheduled=False (Unschedulable): the scheduler message',
      { conditions: [cond('PodScheduled', 'False', 'Unschedulable', UNSCHEDULABLE)] },
      { key: 'web/unschedulable', state: `FailedScheduling: ${UNSCHEDULABLE}`, immediate: false },
    ],
    [
      'PodScheduled=False for another reason (SchedulingGated): no problem',
      { conditions: [cond('PodScheduled', 'False', 'SchedulingGated')] },
      undefined,
    ],
    ['scheduled', { conditions: [cond('PodScheduled', 'True')] }, undefined],
  ])('unschedulable: %s', (_name, status, expected) => {
    expect(unschedulable(obj('v1', 'Pod', { status }))).toEqual(expected);
  });

  test('init containers are reported as Init:<reason>, keyed apart from app containers', () => {
    const pod = obj('v1', 'Pod', {
      status: {
        initContainerStatuses: [
          waiting('ImagePullBackOff', { name: 'fetch' }),
          { name: 'migrate', restartCount: 4, ready: false, lastState: { terminated: { exitCode: 1 } } },
        ],
        containerStatuses: [waiting('PodInitializing')],
      },
    });
    expect(podProblems(pod)).toEqual([
      { key: 'web/init:fetch/image-pull', state: 'Init:ImagePullBackOff', immediate: false },
      { key: 'web/init:migrate/crash-loop', state: 'Init:CrashLoopBackOff', immediate: true },
    ]);
  });

  test('one problem per container; the key survives ErrImagePull ↔ ImagePullBackOff', () => {
    const pod = (reason: string) =>
      obj('v1', 'Pod', { status: { containerStatuses: [waiting(reason, { restartCount: 0 })] } });
    const [a] = podProblems(pod('ErrImagePull'));
    const [b] = podProblems(pod('ImagePullBackOff'));
    expect(a?.key).toBe(b?.key);
    expect([a?.state, b?.state]).toEqual(['ErrImagePull', 'ImagePullBackOff']);
  });
});

describe('failFastProblems judges only the pods of the current revision', () => {
  const deployment: HealthObject = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name: 'web',
      uid: 'd1',
      generation: 2,
      annotations: { 'deployment.kubernetes.io/revision': '2' },
    },
    spec: { selector: { matchLabels: { app: 'web' } } },
    status: { observedGeneration: 2 },
  };
  const replicaSets: HealthObject[] = ['1', '2'].map((rev) => ({
    metadata: {
      name: `web-h${rev}`,
      ownerReferences: [{ uid: 'd1' }],
      labels: { app: 'web', 'pod-template-hash': `h${rev}` },
      annotations: { 'deployment.kubernetes.io/revision': rev },
    },
  }));
  const pod = (name: string, hash: string, reason: string): HealthObject => ({
    metadata: { name, labels: { app: 'web', 'pod-template-hash': hash } },
    status: { containerStatuses: [waiting(reason)] },
  });

  test('an old revision crash-looping is ignored; the new one pulling badly is reported', () => {
    const pods = [pod('old', 'h1', 'CrashLoopBackOff'), pod('new', 'h2', 'ImagePullBackOff')];
    expect(failFastProblems(deployment, { pods, replicaSets })).toEqual([
      { key: 'new/app/image-pull', state: 'ImagePullBackOff', immediate: false },
    ]);
  });

  test('before the current ReplicaSet is known, no pod is judged', () => {
    expect(podsToJudge(deployment, [pod('new', 'h2', 'ImagePullBackOff')], [])).toEqual([]);
  });

  test('a StatefulSet judges pods of its update revision', () => {
    const sts: HealthObject = {
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: { name: 'db', generation: 1 },
      spec: { selector: { matchLabels: { app: 'db' } } },
      status: { observedGeneration: 1, updateRevision: 'db-2' },
    };
    const p = (name: string, rev: string): HealthObject => ({
      metadata: { name, labels: { app: 'db', 'controller-revision-hash': rev } },
    });
    expect(podsToJudge(sts, [p('db-0', 'db-1'), p('db-1', 'db-2')], []).map((x) => x.metadata.name)).toEqual([
      'db-1',
    ]);
  });

  test('a ReplicationController selects by its plain selector map; a bare Pod is its own', () => {
    const rc: HealthObject = {
      apiVersion: 'v1',
      kind: 'ReplicationController',
      metadata: { name: 'legacy' },
      spec: { selector: { app: 'legacy' } },
    };
    const mine = { metadata: { name: 'legacy-x', labels: { app: 'legacy' } } };
    const other = { metadata: { name: 'web-x', labels: { app: 'web' } } };
    expect(podsToJudge(rc, [mine, other], [])).toEqual([mine]);
    const bare = obj('v1', 'Pod', { status: { containerStatuses: [waiting('ErrImagePull')] } });
    expect(failFastProblems(bare, { pods: [], replicaSets: [] })).toEqual([
      { key: 'web/app/image-pull', state: 'ErrImagePull', immediate: false },
    ]);
  });

  test('a ReplicaFailure is a problem once observed, not before', () => {
    const rs = (observedGeneration: number) =>
      obj('apps/v1', 'ReplicaSet', {
        generation: 2,
        status: { observedGeneration, conditions: [cond('ReplicaFailure', 'True', 'FailedCreate', 'quota')] },
      });
    expect(failFastProblems(rs(2), { pods: [], replicaSets: [] })).toEqual([
      { key: 'ReplicaSet/web/ReplicaFailure', state: 'FailedCreate: quota', immediate: false },
    ]);
    expect(failFastProblems(rs(1), { pods: [], replicaSets: [] })).toEqual([]);
  });
});

describe('needsWatch', () => {
  test.each([
    ['v1', 'ConfigMap', undefined, false],
    ['v1', 'Secret', undefined, false],
    ['v1', 'ServiceAccount', undefined, false],
    ['rbac.authorization.k8s.io/v1', 'RoleBinding', undefined, false],
    ['networking.k8s.io/v1', 'NetworkPolicy', undefined, false],
    ['networking.k8s.io/v1', 'Ingress', undefined, false],
    ['v1', 'Service', { type: 'ClusterIP' }, false],
    ['v1', 'Service', { type: 'LoadBalancer' }, true],
    ['apps/v1', 'Deployment', undefined, true],
    ['v1', 'Pod', undefined, true],
    ['v1', 'PersistentVolumeClaim', undefined, true],
    ['batch/v1', 'CronJob', undefined, true],
    ['example.com/v1', 'ConfigMap', undefined, true],
    ['example.com/v1', 'Database', undefined, true],
  ])('%s %s %j → %s', (apiVersion, kind, spec, expected) => {
    expect(needsWatch({ apiVersion, kind, spec })).toBe(expected);
  });
});
