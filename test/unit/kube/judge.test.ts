import { formatDiagnostics } from '../../../src/kube/diagnostics.js';
import { ownershipProblem, isProtectedNamespace } from '../../../src/kube/namespaces.js';
import type { LiveObject } from '../../../src/kube/types.js';
import { computeHealth, failFastProblems } from '../../../src/model/health.js';

/**
 * The verdict these cases were written for (kube/wait.ts's judgeWorkload, now the health model):
 * ready = Current, failed = Failed, stuck = a fail-fast problem of the object itself (ReplicaFailure),
 * which fails it once it has lasted the grace period.
 */
function judgeWorkload(kind: string, w: LiveObject | undefined) {
  const obj = w && { ...w, kind };
  const h = computeHealth(obj);
  const stuck =
    obj !== undefined &&
    h.status === 'InProgress' &&
    failFastProblems(obj, { pods: [], replicaSets: [] }).length > 0;
  return {
    ready: h.status === 'Current',
    failed: h.status === 'Failed',
    state: h.message,
    ...(stuck ? { stuck: true } : {}),
  };
}

const obj = (
  generation: number,
  spec: Record<string, unknown>,
  status: Record<string, unknown>,
): LiveObject => ({
  metadata: { name: 'web', generation },
  spec,
  status,
});

describe('judgeWorkload (as kubectl rollout status)', () => {
  test.each([
    [
      'not observed yet',
      obj(
        2,
        { replicas: 2 },
        { observedGeneration: 1, updatedReplicas: 2, replicas: 2, availableReplicas: 2 },
      ),
      false,
      false,
      'waiting for the rollout to be observed',
    ],
    [
      'partly updated',
      obj(
        1,
        { replicas: 3 },
        { observedGeneration: 1, updatedReplicas: 1, replicas: 3, availableReplicas: 3 },
      ),
      false,
      false,
      '1/3 updated',
    ],
    [
      'old replicas still there',
      obj(
        1,
        { replicas: 2 },
        { observedGeneration: 1, updatedReplicas: 2, replicas: 3, availableReplicas: 2 },
      ),
      false,
      false,
      '1 old replica(s) terminating',
    ],
    [
      'not available',
      obj(
        1,
        { replicas: 2 },
        { observedGeneration: 1, updatedReplicas: 2, replicas: 2, availableReplicas: 1 },
      ),
      false,
      false,
      '1/2 available',
    ],
    [
      'complete',
      obj(
        1,
        { replicas: 2 },
        { observedGeneration: 1, updatedReplicas: 2, replicas: 2, availableReplicas: 2 },
      ),
      true,
      false,
      '2/2 available',
    ],
    [
      'replicas defaults to 1',
      obj(1, {}, { observedGeneration: 1, updatedReplicas: 1, replicas: 1, availableReplicas: 1 }),
      true,
      false,
      '1/1 available',
    ],
    [
      'deadline exceeded',
      obj(
        1,
        { replicas: 1 },
        {
          observedGeneration: 1,
          conditions: [{ type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded' }],
        },
      ),
      false,
      true,
      'ProgressDeadlineExceeded',
    ],
  ])('Deployment %s', (_name, w, ready, failed, state) => {
    expect(judgeWorkload('Deployment', w)).toEqual({ ready, failed, state });
  });

  test('Job: Complete is ready, Failed is failed with its reason', () => {
    expect(judgeWorkload('Job', obj(1, {}, { conditions: [{ type: 'Complete', status: 'True' }] }))).toEqual({
      ready: true,
      failed: false,
      state: 'complete',
    });
    expect(
      judgeWorkload(
        'Job',
        obj(1, {}, { conditions: [{ type: 'Failed', status: 'True', reason: 'BackoffLimitExceeded' }] }),
      ),
    ).toEqual({
      ready: false,
      failed: true,
      state: 'Failed: BackoffLimitExceeded',
    });
    expect(judgeWorkload('Job', obj(1, { completions: 2 }, { succeeded: 1 })).state).toBe('1/2 succeeded');
  });

  test('StatefulSet waits for ready replicas and the update revision', () => {
    expect(
      judgeWorkload('StatefulSet', obj(1, { replicas: 2 }, { observedGeneration: 1, readyReplicas: 1 }))
        .state,
    ).toBe('1/2 ready');
    expect(
      judgeWorkload(
        'StatefulSet',
        obj(
          1,
          { replicas: 2 },
          {
            observedGeneration: 1,
            readyReplicas: 2,
            currentRevision: 'a',
            updateRevision: 'b',
            updatedReplicas: 1,
          },
        ),
      ).ready,
    ).toBe(false);
    expect(
      judgeWorkload(
        'StatefulSet',
        obj(
          1,
          { replicas: 2 },
          { observedGeneration: 1, readyReplicas: 2, currentRevision: 'b', updateRevision: 'b' },
        ),
      ),
    ).toEqual({ ready: true, failed: false, state: '2/2 ready' });
  });

  test('DaemonSet counts scheduled, updated and available', () => {
    expect(
      judgeWorkload(
        'DaemonSet',
        obj(
          1,
          {},
          { observedGeneration: 1, desiredNumberScheduled: 3, updatedNumberScheduled: 3, numberAvailable: 2 },
        ),
      ).state,
    ).toBe('2/3 available');
    expect(
      judgeWorkload(
        'DaemonSet',
        obj(
          1,
          {},
          { observedGeneration: 1, desiredNumberScheduled: 3, updatedNumberScheduled: 3, numberAvailable: 3 },
        ),
      ).ready,
    ).toBe(true);
  });

  test('a missing workload is not ready and not (yet) failed', () => {
    expect(judgeWorkload('Deployment', undefined)).toEqual({
      ready: false,
      failed: false,
      state: 'not found',
    });
  });
});

describe('namespace ownership', () => {
  const ns = (labels: Record<string, string>): LiveObject => ({ metadata: { name: 'pr-7', labels } });
  test('ours when managed by kubestage and labelled with our repo', () => {
    expect(
      ownershipProblem(
        ns({ 'app.kubernetes.io/managed-by': 'kubestage', 'kubestage.dev/repo': 'acme.shop' }),
        { repoLabel: 'acme.shop' },
      ),
    ).toBeUndefined();
  });
  test('another repo is named together with ours', () => {
    expect(
      ownershipProblem(
        ns({ 'app.kubernetes.io/managed-by': 'kubestage', 'kubestage.dev/repo': 'other.repo' }),
        { repoLabel: 'acme.shop' },
      ),
    ).toMatch(/namespace "pr-7" belongs to repo "other.repo" \(kubestage.dev\/repo\), not "acme.shop"/);
  });
  test('a namespace recorded for another PR is refused, naming both PRs and the fix; the same PR or no record passes', () => {
    const ours = { 'app.kubernetes.io/managed-by': 'kubestage', 'kubestage.dev/repo': 'acme.shop' };
    const recorded = (pr: string): LiveObject => ({
      metadata: {
        name: 'preview-fix',
        labels: { ...ours, 'kubestage.dev/pr': pr },
        annotations: { 'kubestage.dev/pr': pr },
      },
    });
    expect(ownershipProblem(recorded('5'), { repoLabel: 'acme.shop', pr: 7 })).toMatch(
      /namespace "preview-fix" holds the preview of PR #5 \(kubestage.dev\/pr\), not PR #7: .* Put \{number\} in the `namespace-template` input/,
    );
    expect(ownershipProblem(recorded('7'), { repoLabel: 'acme.shop', pr: 7 })).toBeUndefined();
    expect(ownershipProblem(recorded('5'), { repoLabel: 'acme.shop' })).toBeUndefined(); // stages name no PR
    expect(ownershipProblem(ns(ours), { repoLabel: 'acme.shop', pr: 7 })).toBeUndefined();
  });
  test('another manager is named', () => {
    expect(
      ownershipProblem(ns({ 'app.kubernetes.io/managed-by': 'helm' }), { repoLabel: 'acme.shop' }),
    ).toMatch(/not managed by kubestage \(app.kubernetes.io\/managed-by=helm\)/);
    expect(ownershipProblem(ns({}), { repoLabel: 'acme.shop' })).toMatch(/managed-by=<unset>/);
  });
  test.each([
    ['default', true],
    ['kube-system', true],
    ['kube-public', true],
    ['pr-7', false],
    ['production', false],
  ])('isProtectedNamespace(%s) = %s', (name, expected) => {
    expect(isProtectedNamespace(name)).toBe(expected);
  });
});

describe('formatDiagnostics', () => {
  test('lists conditions, pods with waiting reasons and logs, then events newest first', () => {
    const text = formatDiagnostics({
      workloads: [
        {
          ref: 'Deployment/web',
          conditions: [
            'Available=False (MinimumReplicasUnavailable): Deployment does not have minimum availability.',
          ],
          pods: [
            {
              name: 'web-1',
              phase: 'Running',
              waiting: { reason: 'CrashLoopBackOff', message: 'back-off 10s' },
              restarts: 3,
              lastLogLines: ['boom'],
            },
          ],
        },
      ],
      events: [
        {
          type: 'Warning',
          reason: 'BackOff',
          object: 'Pod/web-1',
          message: 'Back-off restarting failed container',
          count: 4,
          last: '2025-01-01T00:00:00Z',
        },
      ],
    });
    expect(text).toBe(
      [
        'Deployment/web',
        '  condition Available=False (MinimumReplicasUnavailable): Deployment does not have minimum availability.',
        '  pod web-1: Running, CrashLoopBackOff: back-off 10s, 3 restarts',
        '    last 1 log line:',
        '      boom',
        'Warning events (most recent first):',
        '  2025-01-01T00:00:00Z  Pod/web-1  BackOff (x4): Back-off restarting failed container',
      ].join('\n'),
    );
  });
});

describe('judgeWorkload: ReplicaFailure (pods the ReplicaSet may not create)', () => {
  const quota = 'pods "web-5d4f7-" is forbidden: failed quota: compute: must specify limits.cpu for: web';
  const failure = { type: 'ReplicaFailure', status: 'True', reason: 'FailedCreate', message: quota };
  test.each([
    [
      'no pods created: stuck, with the condition as the state',
      { observedGeneration: 1, replicas: 0, conditions: [failure] },
      { ready: false, failed: false, stuck: true, state: `FailedCreate: ${quota}` },
    ],
    [
      'some pods created, the rest refused: stuck too',
      { observedGeneration: 1, updatedReplicas: 2, replicas: 2, availableReplicas: 1, conditions: [failure] },
      { ready: false, failed: false, stuck: true, state: `FailedCreate: ${quota}` },
    ],
    [
      'everything available: ready, a lingering condition notwithstanding',
      { observedGeneration: 1, updatedReplicas: 2, replicas: 2, availableReplicas: 2, conditions: [failure] },
      { ready: true, failed: false, state: '2/2 available' },
    ],
    [
      'ReplicaFailure=False is no failure',
      { observedGeneration: 1, replicas: 0, conditions: [{ ...failure, status: 'False' }] },
      { ready: false, failed: false, state: '0/2 updated' },
    ],
    [
      'not observed yet: not judged',
      { observedGeneration: 0, replicas: 0, conditions: [failure] },
      { ready: false, failed: false, state: 'waiting for the rollout to be observed' },
    ],
  ])('%s', (_name, status, verdict) => {
    expect(judgeWorkload('Deployment', obj(1, { replicas: 2 }, status))).toStrictEqual(verdict);
  });
});
