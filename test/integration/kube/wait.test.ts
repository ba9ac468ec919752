import { applyObjects } from '../../../src/kube/apply.js';
import { formatDiagnostics } from '../../../src/kube/diagnostics.js';
import { waitForWorkloads } from '../../../src/kube/wait.js';
import type { KubeObject } from '../../../src/model/kube-object.js';
import type { KObject } from '../../emulators/kube/index.js';
import { kubeBedWithNamespace, ourLabels, smallApp, type KubeBed } from './setup.js';

const NS = 'pr-7';
const WEB = { group: 'apps', kind: 'Deployment', name: 'web', namespace: NS };
const MIGRATE = { group: 'batch', kind: 'Job', name: 'migrate', namespace: NS };

describe('waitForWorkloads against the emulator', () => {
  let bed: KubeBed;
  beforeEach(async () => {
    bed = await kubeBedWithNamespace(NS);
  });
  afterEach(() => bed.close());

  const deployAndWait = async (objects: KubeObject[], timeoutMs = 20_000, failFastAfterMs = 300) => {
    await applyObjects(bed.client, objects, { logger: bed.logger });
    return waitForWorkloads(bed.client, {
      namespace: NS,
      objects,
      timeoutMs,
      logger: bed.logger,
      failFastAfterMs,
    });
  };

  test('a healthy Deployment and a Job become ready', async () => {
    const job: KubeObject = {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: 'migrate', namespace: NS, labels: ourLabels(NS) },
      spec: {
        template: {
          spec: {
            restartPolicy: 'Never',
            containers: [{ name: 'migrate', image: 'ghcr.io/acme/migrate:1' }],
          },
        },
      },
    };
    const result = await deployAndWait([...smallApp(NS), job]);
    expect(result).toEqual({
      ok: true,
      workloads: [
        {
          id: WEB,
          ref: 'Deployment/web',
          ready: true,
          state: '2/2 available',
          health: 'Current',
          images: expect.any(Array) as string[],
        },
        {
          id: MIGRATE,
          ref: 'Job/migrate',
          ready: true,
          state: 'complete',
          health: 'Current',
          images: expect.any(Array) as string[],
        },
      ],
    });
    // Each waited-for object says which images its live pod template names.
    expect(result.workloads[0]?.images).toEqual(['ghcr.io/acme/shop:pr-7-abc1234']);
    const stored = bed.stored('apps/v1', 'Deployment', 'web', NS) as {
      status: { availableReplicas: number };
    };
    expect(stored.status.availableReplicas).toBe(2);
    // Watched, not polled: a handful of LISTs and WATCHes, not a GET loop.
    const gets = bed.emu.requests.filter((r) => r.method === 'GET' && r.path.includes('/deployments'));
    expect(gets.length).toBeLessThan(10);
  });

  test('a bad image fails fast with ImagePullBackOff, the event and the reason in the diagnostics', async () => {
    const started = Date.now();
    const result = await deployAndWait(smallApp(NS, { image: 'ghcr.io/acme/does-not-exist:pr-7' }), 60_000);
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(result.ok).toBe(false);
    expect(result.workloads).toEqual([
      {
        id: WEB,
        ref: 'Deployment/web',
        ready: false,
        state: expect.stringMatching(/ImagePullBackOff|ErrImagePull/),
        health: 'Failed',
        images: expect.any(Array) as string[],
      },
    ]);
    const d = result.diagnostics!;
    expect(d.workloads[0]?.ref).toBe('Deployment/web');
    expect(
      d.workloads[0]?.pods.some((p) => /ImagePullBackOff|ErrImagePull/.test(p.waiting?.reason ?? '')),
    ).toBe(true);
    expect(d.events.some((e) => e.type === 'Warning' && /does-not-exist/.test(e.message))).toBe(true);
    const text = formatDiagnostics(d);
    expect(text).toMatch(/Deployment\/web/);
    expect(text).toMatch(/Warning events \(most recent first\):/);
  });

  test('a crashing container fails fast with CrashLoopBackOff and its last log lines', async () => {
    const result = await deployAndWait(smallApp(NS, { image: 'ghcr.io/acme/crash:1', replicas: 1 }), 60_000);
    expect(result.ok).toBe(false);
    expect(result.workloads[0]?.state).toBe('CrashLoopBackOff');
    const pods = result.diagnostics!.workloads[0]!.pods;
    const crashing = pods.find((p) => p.waiting?.reason === 'CrashLoopBackOff');
    expect(crashing).toBeDefined();
    expect(crashing!.restarts).toBeGreaterThan(0);
    expect(crashing!.lastLogLines.length).toBeGreaterThan(0);
    expect(formatDiagnostics(result.diagnostics!)).toMatch(/last \d+ log lines?:/);
  });

  /** smallApp's Deployment with its pod spec changed by `edit`. */
  const withPodSpec = (edit: (spec: Record<string, unknown>) => void): KubeObject[] =>
    smallApp(NS, { replicas: 1 }).map((o) => {
      if (o.kind !== 'Deployment') return o;
      const d = structuredClone(o) as KubeObject & { spec: { template: { spec: Record<string, unknown> } } };
      edit(d.spec.template.spec);
      return d;
    });

  test('an init container that crash-loops fails the wait as Init:CrashLoopBackOff', async () => {
    const result = await deployAndWait(
      withPodSpec((spec) => {
        spec.initContainers = [{ name: 'migrate', image: 'ghcr.io/acme/crash-migrate:1' }];
      }),
      60_000,
    );
    expect(result.ok).toBe(false);
    expect(result.workloads[0]?.state).toBe('Init:CrashLoopBackOff');
  });

  test("a pod no node can take fails the wait with the scheduler's FailedScheduling message", async () => {
    const result = await deployAndWait(
      withPodSpec((spec) => {
        spec.nodeSelector = { 'cloud.google.com/gke-nodepool': 'gpu' };
      }),
      60_000,
    );
    expect(result.ok).toBe(false);
    expect(result.workloads[0]?.state).toContain(
      "0/1 nodes are available: 1 node(s) didn't match Pod's node affinity/selector.",
    );
  });

  test('a crash loop that shows Running between restarts still fails fast', async () => {
    // Each restart is Running for a moment (readyDelay) before it crashes again.
    bed.emu.controllers.options.readyDelayMs = 400;
    bed.emu.controllers.options.timeScale = 0.01;
    // The default grace (20 s) would never pass: each Running moment used to restart it.
    const result = await deployAndWait(
      smallApp(NS, { image: 'ghcr.io/acme/crash:2', replicas: 1 }),
      12_000,
      20_000,
    );
    expect(result.ok).toBe(false);
    expect(result.workloads[0]?.state).toBe('CrashLoopBackOff');
  });

  test('the timeout ends the wait with the state reached so far', async () => {
    bed.emu.controllers.options.readyDelayMs = 60_000;
    const result = await deployAndWait(smallApp(NS), 1000);
    expect(result.ok).toBe(false);
    expect(result.workloads[0]?.ready).toBe(false);
    expect(bed.logger.warnings.join('\n')).toMatch(/Timed out after 1s waiting for Deployment\/web/);
  });

  test('nothing to wait for is success', async () => {
    const [cm] = smallApp(NS) as [KubeObject];
    expect(await deployAndWait([cm])).toEqual({ ok: true, workloads: [] });
  });
  test('an old pod still crash-looping does not fail a good rollout that replaces it', async () => {
    const crashing = await deployAndWait(
      smallApp(NS, { image: 'ghcr.io/acme/crash:1', replicas: 1 }),
      60_000,
    );
    expect(crashing.workloads[0]?.state).toBe('CrashLoopBackOff');
    // The new pod takes well past the fail-fast grace (300 ms) to become ready; until then the
    // old one stays (maxUnavailable 0 with one replica) and keeps crash-looping.
    bed.emu.controllers.options.readyDelayMs = 1500;
    const warned = bed.logger.warnings.length;
    const started = Date.now();
    const result = await deployAndWait(smallApp(NS, { image: 'ghcr.io/acme/shop:pr-7-good', replicas: 1 }));
    expect(result).toEqual({
      ok: true,
      workloads: [
        {
          id: WEB,
          ref: 'Deployment/web',
          ready: true,
          state: '1/1 available',
          health: 'Current',
          images: expect.any(Array) as string[],
        },
      ],
    });
    expect(Date.now() - started).toBeGreaterThan(1000);
    expect(bed.logger.warnings.slice(warned)).toEqual([]);
  });

  describe('a ReplicaSet that may not create pods (ResourceQuota requires requests)', () => {
    const QUOTA = 'pods "web-5d4f7-" is forbidden: failed quota: compute: must specify limits.cpu for: web';
    const replicaFailure = {
      type: 'ReplicaFailure',
      status: 'True',
      reason: 'FailedCreate',
      message: QUOTA,
      lastTransitionTime: new Date().toISOString(),
    };
    // The emulator's controllers never produce ReplicaFailure: stop them and write the status a
    // real Deployment (or ReplicaSet) controller writes when the quota admission rejects its pods.
    const setStatus = (apiVersion: string, kind: string, name: string, patch: (o: KObject) => KObject) => {
      const t = bed.emu.store.findTypeByKind(apiVersion, kind)!;
      bed.emu.store.update(t, patch(bed.emu.store.get(t, NS, name)!));
    };

    test('on the Deployment: fails after the grace period, the quota message as state and in diagnostics', async () => {
      bed.emu.controllers.stop();
      const app = smallApp(NS, { replicas: 2 });
      await applyObjects(bed.client, app, { logger: bed.logger });
      setStatus('apps/v1', 'Deployment', 'web', (o) => ({
        ...o,
        status: {
          observedGeneration: 1,
          replicas: 0,
          conditions: [
            { type: 'Progressing', status: 'True', reason: 'NewReplicaSetCreated' },
            { type: 'Available', status: 'False', reason: 'MinimumReplicasUnavailable' },
            replicaFailure,
          ],
        },
      }));
      const started = Date.now();
      const result = await waitForWorkloads(bed.client, {
        namespace: NS,
        objects: app,
        timeoutMs: 30_000,
        logger: bed.logger,
        failFastAfterMs: 300,
      });
      expect(Date.now() - started).toBeLessThan(5000);
      expect(result.ok).toBe(false);
      expect(result.workloads).toEqual([
        {
          id: WEB,
          ref: 'Deployment/web',
          ready: false,
          state: `FailedCreate: ${QUOTA}`,
          health: 'Failed',
          images: expect.any(Array) as string[],
        },
      ]);
      expect(result.diagnostics!.workloads[0]!.conditions).toContain(
        `ReplicaFailure=True (FailedCreate): ${QUOTA}`,
      );
      expect(bed.logger.warnings.join('\n')).toContain(
        `Giving up early waiting for Deployment/web (FailedCreate: ${QUOTA})`,
      );
    });

    test('on the current ReplicaSet only (not yet copied to the Deployment): fails the same way', async () => {
      bed.emu.controllers.stop();
      const app = smallApp(NS, { replicas: 1 });
      await applyObjects(bed.client, app, { logger: bed.logger });
      const deployT = bed.emu.store.findTypeByKind('apps/v1', 'Deployment')!;
      const deploy = bed.emu.store.get(deployT, NS, 'web')!;
      const revision = { 'deployment.kubernetes.io/revision': '1' };
      bed.emu.store.update(deployT, {
        ...deploy,
        metadata: { ...deploy.metadata, annotations: { ...deploy.metadata.annotations, ...revision } },
        status: { observedGeneration: 1, replicas: 0 },
      });
      const rsT = bed.emu.store.findTypeByKind('apps/v1', 'ReplicaSet')!;
      const spec = deploy.spec as { selector: unknown; template: unknown };
      bed.emu.store.create(rsT, {
        apiVersion: 'apps/v1',
        kind: 'ReplicaSet',
        metadata: {
          name: 'web-5d4f7',
          namespace: NS,
          labels: { app: 'web', 'pod-template-hash': '5d4f7' },
          annotations: revision,
          ownerReferences: [
            {
              apiVersion: 'apps/v1',
              kind: 'Deployment',
              name: 'web',
              uid: deploy.metadata.uid!,
              controller: true,
            },
          ],
        },
        spec: { replicas: 1, selector: spec.selector, template: spec.template },
        status: { replicas: 0, conditions: [replicaFailure] },
      });
      const result = await waitForWorkloads(bed.client, {
        namespace: NS,
        objects: app,
        timeoutMs: 30_000,
        logger: bed.logger,
        failFastAfterMs: 300,
      });
      expect(result.workloads).toEqual([
        {
          id: WEB,
          ref: 'Deployment/web',
          ready: false,
          state: `FailedCreate: ${QUOTA}`,
          health: 'Failed',
          images: expect.any(Array) as string[],
        },
      ]);
      expect(result.diagnostics!.workloads[0]!.conditions).toContain(
        `ReplicaFailure=True (FailedCreate): ${QUOTA} (ReplicaSet web-5d4f7)`,
      );
    });
  });

  describe('every applied kind, not only the four workload kinds', () => {
    const pod = (name: string, image: string): KubeObject => ({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name, namespace: NS, labels: ourLabels(NS) },
      spec: { containers: [{ name: 'app', image }] },
    });
    const id = (group: string, kind: string, name: string) => ({ group, kind, name, namespace: NS });

    test('a bare Pod with a bad image fails fast instead of counting as ready', async () => {
      const started = Date.now();
      const result = await deployAndWait([pod('debug', 'ghcr.io/acme/does-not-exist:1')], 60_000);
      expect(Date.now() - started).toBeLessThan(20_000);
      expect(result.ok).toBe(false);
      expect(result.workloads).toEqual([
        {
          id: id('', 'Pod', 'debug'),
          ref: 'Pod/debug',
          ready: false,
          state: expect.stringMatching(/^(ImagePullBackOff|ErrImagePull)$/),
          health: 'Failed',
          images: expect.any(Array) as string[],
        },
      ]);
      expect(bed.logger.warnings.join('\n')).toMatch(/Giving up early waiting for Pod\/debug/);
      const [diagnosed] = result.diagnostics!.workloads;
      expect(diagnosed?.ref).toBe('Pod/debug');
      expect(diagnosed?.pods.map((p) => [p.name, p.waiting?.reason])).toEqual([
        ['debug', expect.stringMatching(/^(ImagePullBackOff|ErrImagePull)$/)],
      ]);
    });

    test('a bare Pod that runs becomes ready', async () => {
      const result = await deployAndWait([pod('debug', 'ghcr.io/acme/shop:pr-7-abc1234')]);
      expect(result).toEqual({
        ok: true,
        workloads: [
          {
            id: id('', 'Pod', 'debug'),
            ref: 'Pod/debug',
            ready: true,
            state: 'running',
            health: 'Current',
            images: expect.any(Array) as string[],
          },
        ],
      });
      const stored = bed.stored('v1', 'Pod', 'debug', NS) as { status: { phase: string } };
      expect(stored.status.phase).toBe('Running');
    });

    test('a ReplicaSet is waited for until its replicas are available', async () => {
      bed.emu.controllers.options.readyDelayMs = 500;
      const rs: KubeObject = {
        apiVersion: 'apps/v1',
        kind: 'ReplicaSet',
        metadata: { name: 'worker', namespace: NS, labels: ourLabels(NS) },
        spec: {
          replicas: 2,
          selector: { matchLabels: { app: 'worker' } },
          template: {
            metadata: { labels: { app: 'worker' } },
            spec: { containers: [{ name: 'worker', image: 'ghcr.io/acme/worker:1' }] },
          },
        },
      };
      const started = Date.now();
      const result = await deployAndWait([rs]);
      expect(Date.now() - started).toBeGreaterThan(400);
      expect(result.workloads).toEqual([
        {
          id: id('apps', 'ReplicaSet', 'worker'),
          ref: 'ReplicaSet/worker',
          ready: true,
          state: '2/2 available',
          health: 'Current',
          images: expect.any(Array) as string[],
        },
      ]);
      const stored = bed.stored('apps/v1', 'ReplicaSet', 'worker', NS) as {
        status: { availableReplicas: number };
      };
      expect(stored.status.availableReplicas).toBe(2);
    });

    test('a paused Deployment is reported suspended at once, not waited out', async () => {
      const [cm, svc, deploy] = smallApp(NS) as [KubeObject, KubeObject, KubeObject];
      const paused = { ...deploy, spec: { ...(deploy.spec as object), paused: true } };
      const started = Date.now();
      const result = await deployAndWait([cm, svc, paused], 30_000);
      expect(Date.now() - started).toBeLessThan(5000);
      expect(result).toEqual({
        ok: true,
        workloads: [
          {
            id: WEB,
            ref: 'Deployment/web',
            ready: true,
            state: 'suspended (spec.paused)',
            health: 'Suspended',
            images: expect.any(Array) as string[],
          },
        ],
      });
      expect(bed.logger.text()).toMatch(
        /All 1 object\(s\) ready after \d+s \(1 suspended, not waited for\)\./,
      );
    });

    test('the log prints an object again only when its state changed', async () => {
      bed.emu.controllers.options.readyDelayMs = 300;
      const job: KubeObject = {
        apiVersion: 'batch/v1',
        kind: 'Job',
        metadata: { name: 'migrate', namespace: NS, labels: ourLabels(NS) },
        spec: {
          template: {
            spec: {
              restartPolicy: 'Never',
              containers: [{ name: 'migrate', image: 'ghcr.io/acme/migrate:1' }],
            },
          },
        },
      };
      await applyObjects(bed.client, [...smallApp(NS, { replicas: 3 }), job], { logger: bed.logger });
      const from = bed.logger.lines.length;
      const result = await waitForWorkloads(bed.client, {
        namespace: NS,
        objects: [...smallApp(NS, { replicas: 3 }), job],
        timeoutMs: 20_000,
        logger: bed.logger,
      });
      expect(result.ok).toBe(true);
      const lines = bed.logger.lines.slice(from, -1); // the last one is the summary
      const logged = new Map<string, string[]>();
      for (const entry of lines.flatMap((l) => l.split('; '))) {
        const [ref, ...state] = entry.split(' ');
        logged.set(ref!, [...(logged.get(ref!) ?? []), state.join(' ')]);
      }
      // The Deployment went through several states while the Job's stayed put: each printed once.
      expect(logged.get('Deployment/web')!.length).toBeGreaterThan(1);
      for (const [ref, states] of logged) {
        expect({ ref, states }).toEqual({ ref, states: states.filter((s, i) => s !== states[i - 1]) });
      }
      expect(logged.get('Job/migrate')!.at(-1)).toBe('complete');
      expect(bed.logger.lines.at(-1)).toMatch(/^All 2 object\(s\) ready after \d+s\.$/);
    });

    test('an aborted wait ends at once, saying so, without diagnostics', async () => {
      bed.emu.controllers.options.readyDelayMs = 60_000;
      const app = smallApp(NS);
      await applyObjects(bed.client, app, { logger: bed.logger });
      const abort = new AbortController();
      setTimeout(() => abort.abort(), 300);
      const started = Date.now();
      const result = await waitForWorkloads(bed.client, {
        namespace: NS,
        objects: app,
        timeoutMs: 30_000,
        logger: bed.logger,
        signal: abort.signal,
      });
      expect(Date.now() - started).toBeLessThan(5000);
      expect(result).toEqual({
        ok: false,
        aborted: true,
        workloads: [
          {
            id: WEB,
            ref: 'Deployment/web',
            ready: false,
            state: expect.any(String),
            health: 'InProgress',
            images: expect.any(Array) as string[],
          },
        ],
      });
      expect(bed.logger.warnings.join('\n')).toMatch(/Aborted after \d+s while waiting for Deployment\/web/);
    });
  });
});
