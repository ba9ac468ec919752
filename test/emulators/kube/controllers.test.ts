import { afterEach, describe, expect, it } from '@jest/globals';
import { BUILTIN_TYPES, emulatorNode } from './builtins.js';
import { type Controllers, type ControllerOptions, NODE_NAME, startControllers } from './controllers.js';
import { type KObject, type ResourceType, Store, StoreError } from './store.js';

type Cond = { type: string; status: string; reason?: string; message?: string };
type Dict = Record<string, unknown>;

let running: Controllers[] = [];
afterEach(() => {
  for (const c of running) c.stop();
  running = [];
});

function setup(opts: Partial<ControllerOptions> = {}): {
  store: Store;
  ctl: Controllers;
  t: (kind: string) => ResourceType;
} {
  const store = new Store();
  for (const ty of BUILTIN_TYPES) store.registerType(ty);
  const t = (kind: string) => {
    const found = store.allTypes().find((x) => x.kind === kind);
    if (!found) throw new Error(`no type ${kind}`);
    return found;
  };
  store.create(t('Namespace'), {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name: 'app' },
    status: { phase: 'Active' },
  });
  // A cluster has a node to schedule onto (the emulator seeds it; this bare store needs it too).
  store.create(t('Node'), emulatorNode(NODE_NAME, 'v1.32.0'));
  const ctl = startControllers(store, { readyDelayMs: 20, ...opts });
  running.push(ctl);
  return { store, ctl, t };
}

/** Resolves when `check` returns a value, re-checking on every store event; fails after `ms`. */
function waitFor<T>(store: Store, what: string, check: () => T | undefined | false, ms = 5000): Promise<T> {
  return new Promise((resolve, reject) => {
    const first = check();
    if (first) return resolve(first);
    const timer = setTimeout(() => {
      unsub();
      reject(new Error(`timed out after ${ms}ms waiting for ${what}`));
    }, ms);
    const unsub = store.subscribe(() => {
      const v = check();
      if (v) {
        clearTimeout(timer);
        unsub();
        resolve(v);
      }
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const cond = (o: KObject | undefined, type: string): Cond | undefined =>
  ((o?.status as { conditions?: Cond[] } | undefined)?.conditions ?? []).find((c) => c.type === type);
const status = (o: KObject | undefined): Dict => (o?.status ?? {}) as Dict;

function deployment(name: string, image: string, extra: Dict = {}): KObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: 'app', labels: { app: name } },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: { containers: [{ name: 'web', image, ports: [{ name: 'http', containerPort: 8080 }] }] },
      },
      ...extra,
    },
  };
}

/** kubectl v1.32's DeploymentStatusViewer.Status, to prove `kubectl rollout status` would finish. */
function rolloutStatus(d: KObject): { done: boolean; message: string } {
  const s = status(d) as {
    observedGeneration?: number;
    updatedReplicas?: number;
    replicas?: number;
    availableReplicas?: number;
  };
  const want = (d.spec as { replicas?: number }).replicas ?? 1;
  if ((d.metadata.generation ?? 0) > (s.observedGeneration ?? 0))
    return { done: false, message: 'waiting for spec update' };
  if (cond(d, 'Progressing')?.reason === 'ProgressDeadlineExceeded')
    throw new Error(`deployment "${d.metadata.name}" exceeded its progress deadline`);
  if ((s.updatedReplicas ?? 0) < want)
    return {
      done: false,
      message: `${s.updatedReplicas ?? 0} out of ${want} new replicas have been updated`,
    };
  if ((s.replicas ?? 0) > (s.updatedReplicas ?? 0))
    return { done: false, message: 'old replicas are pending termination' };
  if ((s.availableReplicas ?? 0) < (s.updatedReplicas ?? 0))
    return { done: false, message: 'updated replicas are available' };
  return { done: true, message: `deployment "${d.metadata.name}" successfully rolled out` };
}

const owned = (store: Store, type: ResourceType, uid: string | undefined) =>
  store
    .list(type, 'app')
    .filter((o) => o.metadata.ownerReferences?.some((r) => r.uid === uid && r.controller));

describe('Deployment controller', () => {
  it('creates a ReplicaSet and Ready pods, and reports Available as kubectl reads it', async () => {
    const { store, ctl, t } = setup();
    const d0 = store.create(t('Deployment'), deployment('web', 'nginx:1.27', { replicas: 2 }));
    store.create(t('Service'), {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'web', namespace: 'app' },
      spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] },
    });
    const d = await waitFor(store, 'Available', () => {
      const o = store.get(t('Deployment'), 'app', 'web');
      return (
        cond(o, 'Available')?.status === 'True' &&
        cond(o, 'Progressing')?.reason === 'NewReplicaSetAvailable' &&
        o
      );
    });
    expect(status(d)).toMatchObject({
      observedGeneration: 1,
      replicas: 2,
      updatedReplicas: 2,
      readyReplicas: 2,
      availableReplicas: 2,
    });
    expect(status(d).unavailableReplicas).toBeUndefined();
    expect(cond(d, 'Available')).toMatchObject({
      reason: 'MinimumReplicasAvailable',
      message: 'Deployment has minimum availability.',
    });
    expect(rolloutStatus(d)).toEqual({ done: true, message: 'deployment "web" successfully rolled out' });
    expect(d.metadata.annotations?.['deployment.kubernetes.io/revision']).toBe('1');

    const [rs, ...more] = owned(store, t('ReplicaSet'), d0.metadata.uid);
    expect(more).toHaveLength(0);
    const hash = rs.metadata.labels?.['pod-template-hash'];
    expect(hash).toMatch(/^[bcdfghjklmnpqrstvwxz2456789]{6,10}$/);
    expect(rs.metadata.name).toBe(`web-${hash}`);
    expect(rs.metadata.ownerReferences?.[0]).toMatchObject({
      kind: 'Deployment',
      name: 'web',
      controller: true,
    });
    expect(rs.metadata.annotations?.['deployment.kubernetes.io/revision']).toBe('1');
    expect(status(rs)).toMatchObject({
      replicas: 2,
      readyReplicas: 2,
      availableReplicas: 2,
      observedGeneration: 1,
    });

    const pods = owned(store, t('Pod'), rs.metadata.uid);
    expect(pods).toHaveLength(2);
    for (const p of pods) {
      expect(p.metadata.name).toMatch(new RegExp(`^web-${hash}-[bcdfghjklmnpqrstvwxz2456789]{5}$`));
      expect(p.metadata.labels).toMatchObject({ app: 'web', 'pod-template-hash': hash });
      expect((p.spec as Dict).nodeName).toBe('emulator-node');
      const s = status(p) as {
        phase: string;
        podIP: string;
        hostIP: string;
        startTime: string;
        containerStatuses: Dict[];
        conditions: Cond[];
      };
      expect(s.phase).toBe('Running');
      expect(s.podIP).toMatch(/^10\.244\.\d+\.\d+$/);
      expect(s.hostIP).toBeTruthy();
      expect(s.startTime).toMatch(/Z$/);
      expect(s.conditions.map((c) => `${c.type}=${c.status}`).sort()).toEqual(
        [
          'ContainersReady=True',
          'Initialized=True',
          'PodReadyToStartContainers=True',
          'PodScheduled=True',
          'Ready=True',
        ].sort(),
      );
      expect(s.containerStatuses[0]).toMatchObject({
        name: 'web',
        ready: true,
        started: true,
        restartCount: 0,
        image: 'nginx:1.27',
      });
      expect(s.containerStatuses[0].imageID).toMatch(/@sha256:[0-9a-f]{64}$/);
      expect((s.containerStatuses[0].state as Dict).running).toBeDefined();
    }
    const log = ctl.podLog('app', pods[0].metadata.name ?? '');
    expect(log).toContain('Listening on 0.0.0.0:8080');
    expect(ctl.podLog('app', 'no-such-pod')).toBeUndefined();

    const reasons = store
      .list(t('Event'), 'app')
      .filter((e) => (e.involvedObject as Dict).name === pods[0].metadata.name)
      .map((e) => e.reason);
    expect(reasons).toEqual(expect.arrayContaining(['Scheduled', 'Pulling', 'Pulled', 'Created', 'Started']));
    const scaled = store.list(t('Event'), 'app').find((e) => e.reason === 'ScalingReplicaSet');
    expect(scaled?.message).toBe(`Scaled up replica set web-${hash} from 0 to 2`);

    const ep = await waitFor(store, 'endpoints', () => {
      const e = store.get(t('Endpoints'), 'app', 'web');
      const subsets = e?.subsets as { addresses?: { ip: string }[]; ports: { port: number }[] }[] | undefined;
      return subsets?.[0]?.addresses?.length === 2 && subsets[0];
    });
    expect(ep.ports).toEqual([{ name: 'http', port: 8080, protocol: 'TCP' }]);
    expect(ep.addresses?.map((a) => a.ip).sort()).toEqual(
      pods.map((p) => (status(p) as { podIP: string }).podIP).sort(),
    );
    expect(ctl.errors).toEqual([]);
  });

  it('shows ImagePullBackOff with Warning events and times out progressing for a bad image', async () => {
    const { store, ctl, t } = setup({ timeScale: 0.001 });
    store.create(
      t('Deployment'),
      deployment('bad', 'registry.example/does-not-exist:1', { progressDeadlineSeconds: 300 }),
    );
    const d = await waitFor(store, 'ProgressDeadlineExceeded', () => {
      const o = store.get(t('Deployment'), 'app', 'bad');
      return cond(o, 'Progressing')?.reason === 'ProgressDeadlineExceeded' && o;
    });
    expect(cond(d, 'Progressing')?.status).toBe('False');
    expect(cond(d, 'Progressing')?.message).toMatch(/^ReplicaSet "bad-\w+" has timed out progressing\.$/);
    expect(cond(d, 'Available')).toMatchObject({ status: 'False', reason: 'MinimumReplicasUnavailable' });
    expect(status(d)).toMatchObject({ replicas: 1, updatedReplicas: 1, unavailableReplicas: 1 });
    expect(() => rolloutStatus(d)).toThrow('exceeded its progress deadline');

    const pod = await waitFor(store, 'ImagePullBackOff', () =>
      store.list(t('Pod'), 'app').find((p) => JSON.stringify(p.status).includes('"ImagePullBackOff"')),
    );
    const s = status(pod) as {
      phase: string;
      containerStatuses: { ready: boolean; state: { waiting: { reason: string; message: string } } }[];
    };
    expect(s.phase).toBe('Pending');
    expect(s.containerStatuses[0].ready).toBe(false);
    expect(s.containerStatuses[0].state.waiting.message).toContain(
      'Back-off pulling image "registry.example/does-not-exist:1"',
    );

    const events = store
      .list(t('Event'), 'app')
      .filter((e) => (e.involvedObject as Dict).uid === pod.metadata.uid);
    const failed = events.find(
      (e) => e.reason === 'Failed' && String(e.message).startsWith('Failed to pull image'),
    );
    expect(failed).toMatchObject({ type: 'Warning', source: { component: 'kubelet' } });
    expect(failed?.message).toMatch(
      /^Failed to pull image "registry.example\/does-not-exist:1": .*not found$/,
    );
    expect(failed?.metadata.name).toMatch(new RegExp(`^${pod.metadata.name}\\.[0-9a-f]+$`));
    expect(failed?.involvedObject).toMatchObject({
      kind: 'Pod',
      name: pod.metadata.name,
      namespace: 'app',
      fieldPath: 'spec.containers{web}',
    });
    expect(failed?.firstTimestamp).toBeTruthy();
    expect(events.find((e) => e.reason === 'BackOff')?.message).toBe(
      'Back-off pulling image "registry.example/does-not-exist:1"',
    );
    // The kubelet keeps retrying: the same Event is counted up rather than duplicated.
    const again = await waitFor(store, 'a repeated pull failure', () => {
      const e = store.get(t('Event'), 'app', failed?.metadata.name ?? '');
      return (e?.count as number) >= 2 && e;
    });
    expect(again.lastTimestamp).toBeTruthy();
    expect(ctl.podLog('app', pod.metadata.name ?? '')).toBeUndefined();
  });

  it('puts a crashing container in CrashLoopBackOff with restarts and an error log', async () => {
    const { store, ctl, t } = setup({ timeScale: 0.001 });
    store.create(t('Deployment'), deployment('boom', 'example/crash-loop:1'));
    const pod = await waitFor(store, 'restartCount ≥ 2 in CrashLoopBackOff', () =>
      store.list(t('Pod'), 'app').find((p) => {
        const cs = (
          status(p).containerStatuses as
            { restartCount: number; state: { waiting?: { reason: string } } }[] | undefined
        )?.[0];
        return cs && cs.restartCount >= 2 && cs.state.waiting?.reason === 'CrashLoopBackOff';
      }),
    );
    const cs = (status(pod).containerStatuses as Dict[])[0] as {
      lastState: { terminated: { exitCode: number; reason: string } };
      ready: boolean;
    };
    expect(status(pod).phase).toBe('Running');
    expect(cs.ready).toBe(false);
    expect(cs.lastState.terminated).toMatchObject({ exitCode: 1, reason: 'Error' });
    expect(ctl.podLog('app', pod.metadata.name ?? '', 'web')).toMatch(/Error: .*crash/);
    const backoff = store.list(t('Event'), 'app').find((e) => e.reason === 'BackOff');
    expect(backoff).toMatchObject({ type: 'Warning' });
    expect(backoff?.message).toContain(
      `Back-off restarting failed container web in pod ${pod.metadata.name}_app`,
    );
    const d = store.get(t('Deployment'), 'app', 'boom');
    expect(cond(d, 'Available')?.status).toBe('False');
  });

  it('rolls a template change out to a new ReplicaSet and scales the old one down', async () => {
    const { store, t } = setup();
    const d0 = store.create(t('Deployment'), deployment('web', 'nginx:1.26'));
    const done = (rev: string) => () => {
      const o = store.get(t('Deployment'), 'app', 'web');
      return (
        o &&
        o.metadata.annotations?.['deployment.kubernetes.io/revision'] === rev &&
        rolloutStatus(o).done &&
        o
      );
    };
    await waitFor(store, 'first rollout', done('1'));
    const [oldRs] = owned(store, t('ReplicaSet'), d0.metadata.uid);
    const cur = store.get(t('Deployment'), 'app', 'web') as KObject;
    ((cur.spec as Dict).template as { spec: { containers: { image: string }[] } }).spec.containers[0].image =
      'nginx:1.27';
    const updated = store.update(t('Deployment'), cur);
    expect(updated.metadata.generation).toBe(2);
    const d = await waitFor(store, 'second rollout', done('2'));
    expect(status(d)).toMatchObject({
      observedGeneration: 2,
      replicas: 1,
      updatedReplicas: 1,
      availableReplicas: 1,
    });

    const rss = owned(store, t('ReplicaSet'), d0.metadata.uid);
    expect(rss).toHaveLength(2);
    const newRs = rss.find((r) => r.metadata.name !== oldRs.metadata.name) as KObject;
    expect(newRs.metadata.annotations?.['deployment.kubernetes.io/revision']).toBe('2');
    expect((store.get(t('ReplicaSet'), 'app', oldRs.metadata.name ?? '')?.spec as Dict).replicas).toBe(0);
    const pods = store.list(t('Pod'), 'app');
    expect(pods).toHaveLength(1);
    expect(pods[0].metadata.labels?.['pod-template-hash']).toBe(newRs.metadata.labels?.['pod-template-hash']);
    expect(((pods[0].spec as Dict).containers as { image: string }[])[0].image).toBe('nginx:1.27');
  });

  it('scales pods up and down with spec.replicas', async () => {
    const { store, t } = setup();
    store.create(t('Deployment'), deployment('web', 'nginx:1.27'));
    const readyWith = (n: number) => () => {
      const o = store.get(t('Deployment'), 'app', 'web');
      return (
        o &&
        status(o).availableReplicas === n &&
        status(o).replicas === n &&
        store.list(t('Pod'), 'app').length === n &&
        o
      );
    };
    await waitFor(store, '1 replica', readyWith(1));
    const scale = (n: number) => {
      const o = store.get(t('Deployment'), 'app', 'web') as KObject;
      (o.spec as Dict).replicas = n;
      store.update(t('Deployment'), o);
    };
    scale(3);
    const d = await waitFor(store, '3 replicas', readyWith(3));
    expect(rolloutStatus(d).done).toBe(true);
    scale(1);
    await waitFor(store, 'back to 1 replica', readyWith(1));
  });

  it('defaults replicas to 1 and retries a write that meets a Conflict', async () => {
    const { store, t } = setup();
    // Another writer changes the Deployment between our read and our write, once.
    const realUpdate = store.update.bind(store);
    let conflicts = 0;
    store.update = (ty, obj) => {
      if (ty.kind === 'Deployment' && obj.status && conflicts === 0) {
        conflicts++;
        throw new StoreError('Conflict', 'the object has been modified');
      }
      return realUpdate(ty, obj);
    };
    const dep = deployment('web', 'nginx:1.27');
    delete (dep.spec as Dict).replicas;
    store.create(t('Deployment'), dep);
    const d = await waitFor(store, 'Available', () => {
      const o = store.get(t('Deployment'), 'app', 'web');
      return cond(o, 'Available')?.status === 'True' && o;
    });
    expect(conflicts).toBe(1);
    expect(status(d).availableReplicas).toBe(1);
  });

  it('deletes ReplicaSets and pods with their Deployment and creates none in a Terminating namespace', async () => {
    const { store, ctl, t } = setup();
    store.create(t('Deployment'), deployment('web', 'nginx:1.27'));
    store.create(t('Deployment'), deployment('api', 'nginx:1.27'));
    await waitFor(
      store,
      'two pods',
      () =>
        store.list(t('Pod'), 'app').length === 2 &&
        store.list(t('Pod'), 'app').every((p) => status(p).phase === 'Running'),
    );
    store.remove(t('Deployment'), 'app', 'web');
    await waitFor(
      store,
      'web gone',
      () =>
        !store.list(t('ReplicaSet'), 'app').some((r) => r.metadata.name?.startsWith('web-')) &&
        store.list(t('Pod'), 'app').length === 1,
    );
    expect(store.list(t('Pod'), 'app')[0].metadata.name).toMatch(/^api-/);

    const ns = store.get(t('Namespace'), undefined, 'app') as KObject;
    ns.status = { phase: 'Terminating' };
    ns.metadata.deletionTimestamp = new Date().toISOString();
    store.update(t('Namespace'), ns);
    store.remove(t('Pod'), 'app', store.list(t('Pod'), 'app')[0].metadata.name ?? '');
    await sleep(100);
    expect(store.list(t('Pod'), 'app')).toHaveLength(0);
    expect(ctl.errors).toEqual([]);
  });
});

describe('pod deletion', () => {
  it('finishes a graceful pod deletion and the ReplicaSet replaces the pod', async () => {
    const { store, t } = setup();
    store.create(t('Deployment'), deployment('web', 'nginx:1.27'));
    const first = await waitFor(store, 'running pod', () =>
      store.list(t('Pod'), 'app').find((p) => status(p).phase === 'Running'),
    );
    // What the HTTP layer does on DELETE with a grace period: mark, and let the kubelet confirm.
    const marked = store.get(t('Pod'), 'app', first.metadata.name ?? '') as KObject;
    marked.metadata.deletionTimestamp = new Date().toISOString();
    marked.metadata.deletionGracePeriodSeconds = 30;
    store.update(t('Pod'), marked);
    const replacement = await waitFor(store, 'replacement running, old pod gone', () => {
      const pods = store.list(t('Pod'), 'app');
      return (
        pods.length === 1 &&
        pods[0].metadata.name !== first.metadata.name &&
        status(pods[0]).phase === 'Running' &&
        pods[0]
      );
    });
    expect(replacement.metadata.labels?.['pod-template-hash']).toBe(
      first.metadata.labels?.['pod-template-hash'],
    );
  });
});

describe('Job controller', () => {
  const job = (name: string, image: string, spec: Dict = {}): KObject => ({
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name, namespace: 'app' },
    spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'main', image }] } }, ...spec },
  });

  it('completes with succeeded, Complete + SuccessCriteriaMet and completionTime', async () => {
    const { store, ctl, t } = setup();
    store.create(t('Job'), job('migrate', 'busybox:1.36'));
    const j = await waitFor(store, 'Complete', () => {
      const o = store.get(t('Job'), 'app', 'migrate');
      return cond(o, 'Complete')?.status === 'True' && o;
    });
    expect(cond(j, 'SuccessCriteriaMet')).toMatchObject({ status: 'True', reason: 'CompletionsReached' });
    expect(status(j)).toMatchObject({ succeeded: 1 });
    expect(status(j).completionTime).toBeTruthy();
    expect(status(j).startTime).toBeTruthy();
    expect(status(j).active).toBeUndefined();
    const [pod] = store.list(t('Pod'), 'app');
    expect(status(pod).phase).toBe('Succeeded');
    expect(pod.metadata.labels?.['job-name']).toBe('migrate');
    expect(ctl.podLog('app', pod.metadata.name ?? '')).toContain('Completed successfully');
  });

  it('fails with BackoffLimitExceeded after backoffLimit crashing pods', async () => {
    const { store, t } = setup({ timeScale: 0.001 });
    store.create(t('Job'), job('broken', 'example/crash:1', { backoffLimit: 1 }));
    const j = await waitFor(store, 'Failed', () => {
      const o = store.get(t('Job'), 'app', 'broken');
      return cond(o, 'Failed')?.status === 'True' && o;
    });
    expect(cond(j, 'Failed')).toMatchObject({
      reason: 'BackoffLimitExceeded',
      message: 'Job has reached the specified backoff limit',
    });
    expect(cond(j, 'FailureTarget')?.status).toBe('True');
    expect(status(j).failed).toBe(2);
    expect(cond(j, 'Complete')).toBeUndefined();
    const pods = store.list(t('Pod'), 'app');
    expect(pods).toHaveLength(2);
    for (const p of pods) expect(status(p).phase).toBe('Failed');
  });

  it('fails a Job whose image cannot be pulled', async () => {
    const { store, t } = setup({ timeScale: 0.001 });
    store.create(t('Job'), job('nopull', 'nonexistent/image:1', { backoffLimit: 0 }));
    const j = await waitFor(store, 'Failed', () => {
      const o = store.get(t('Job'), 'app', 'nopull');
      return cond(o, 'Failed')?.status === 'True' && o;
    });
    expect(cond(j, 'Failed')?.reason).toBe('BackoffLimitExceeded');
    expect(JSON.stringify(store.list(t('Pod'), 'app')[0].status)).toContain('ImagePullBackOff');
  });
});

describe('StatefulSet and DaemonSet controllers', () => {
  const podTemplate = (app: string) => ({
    metadata: { labels: { app } },
    spec: { containers: [{ name: 'c', image: 'redis:7' }] },
  });

  /** A StatefulSet `db` in namespace `app` with `replicas` pods, and a wait until all are ready. */
  async function readyStatefulSet(
    { store, t }: ReturnType<typeof setup>,
    replicas: number,
  ): Promise<KObject> {
    store.create(t('StatefulSet'), {
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: { name: 'db', namespace: 'app' },
      spec: {
        replicas,
        serviceName: 'db',
        selector: { matchLabels: { app: 'db' } },
        template: podTemplate('db'),
      },
    });
    return waitFor(store, 'StatefulSet ready', () => {
      const o = store.get(t('StatefulSet'), 'app', 'db');
      return status(o).readyReplicas === replicas && o;
    });
  }

  it('runs a StatefulSet as <name>-0..n-1 and reports it ready', async () => {
    const bed = setup();
    const { store, t } = bed;
    const s = await readyStatefulSet(bed, 3);
    expect(status(s)).toMatchObject({
      observedGeneration: 1,
      replicas: 3,
      currentReplicas: 3,
      updatedReplicas: 3,
      availableReplicas: 3,
    });
    expect(status(s).currentRevision).toBe(status(s).updateRevision);
    expect(store.list(t('Pod'), 'app').map((p) => p.metadata.name)).toEqual(['db-0', 'db-1', 'db-2']);
    expect(store.get(t('Pod'), 'app', 'db-1')?.metadata.labels?.['statefulset.kubernetes.io/pod-name']).toBe(
      'db-1',
    );
  });

  it('rolls a StatefulSet template change through every ordinal', async () => {
    const bed = setup();
    const { store, t } = bed;
    const first = await readyStatefulSet(bed, 2);
    const o = store.get(t('StatefulSet'), 'app', 'db') as KObject;
    ((o.spec as Dict).template as { spec: { containers: { image: string }[] } }).spec.containers[0].image =
      'redis:7.2';
    store.update(t('StatefulSet'), o);
    const s = await waitFor(store, 'rolled', () => {
      const x = store.get(t('StatefulSet'), 'app', 'db');
      const st = status(x);
      return (
        st.observedGeneration === 2 &&
        st.readyReplicas === 2 &&
        st.updatedReplicas === 2 &&
        st.currentRevision === st.updateRevision &&
        x
      );
    });
    expect(status(s).updateRevision).not.toBe(status(first).updateRevision);
    for (const p of store.list(t('Pod'), 'app'))
      expect(((p.spec as Dict).containers as { image: string }[])[0].image).toBe('redis:7.2');
  });

  it('runs one DaemonSet pod on the node and reports it ready', async () => {
    const { store, t } = setup();
    store.create(t('DaemonSet'), {
      apiVersion: 'apps/v1',
      kind: 'DaemonSet',
      metadata: { name: 'agent', namespace: 'app' },
      spec: { selector: { matchLabels: { app: 'agent' } }, template: podTemplate('agent') },
    });
    const ds = await waitFor(store, 'DaemonSet ready', () => {
      const o = store.get(t('DaemonSet'), 'app', 'agent');
      return status(o).numberReady === 1 && o;
    });
    expect(status(ds)).toMatchObject({
      desiredNumberScheduled: 1,
      currentNumberScheduled: 1,
      updatedNumberScheduled: 1,
      numberAvailable: 1,
      observedGeneration: 1,
    });
    const pods = store.list(t('Pod'), 'app');
    expect(pods).toHaveLength(1);
    expect((pods[0].spec as Dict).nodeName).toBe('emulator-node');
  });
});

describe('lifecycle and cost', () => {
  it('stop() clears every timer and no more writes happen', async () => {
    const { store, ctl, t } = setup({ timeScale: 0.001 });
    const before = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    store.create(t('Deployment'), deployment('bad', 'nonexistent:1'));
    store.create(t('Deployment'), deployment('boom', 'crash:1'));
    await waitFor(store, 'pull failure', () =>
      store.list(t('Pod'), 'app').some((p) => JSON.stringify(p.status).includes('ErrImagePull')),
    );
    expect(ctl.pendingTimers()).toBeGreaterThan(0);
    ctl.stop();
    expect(ctl.pendingTimers()).toBe(0);
    expect(process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length).toBeLessThanOrEqual(
      before,
    );
    const rv = store.resourceVersion;
    await sleep(100);
    expect(store.resourceVersion).toBe(rv);
  });

  it('brings 300 Deployments to Available quickly', async () => {
    const { store, ctl, t } = setup({ readyDelayMs: 10 });
    // 300 pods need three nodes of 110 pods each, as on a real cluster.
    for (const i of [1, 2]) store.create(t('Node'), emulatorNode(`${NODE_NAME}-${i + 1}`, 'v1.32.0', {}, i));
    const started = Date.now();
    for (let i = 0; i < 300; i++) store.create(t('Deployment'), deployment(`svc-${i}`, 'nginx:1.27'));
    // Track availability from the events themselves: listing 300 objects per event would make
    // the test, not the controllers, the bottleneck.
    const available = new Set<string>();
    const unsub = store.subscribe((ev) => {
      if (ev.type_.kind === 'Deployment' && cond(ev.object, 'Available')?.status === 'True')
        available.add(ev.object.metadata.name ?? '');
    });
    await waitFor(store, '300 available', () => available.size === 300, 20000).finally(unsub);
    const elapsed = Date.now() - started;
    expect(elapsed).toBeLessThan(15000);
    expect(ctl.errors).toEqual([]);
  });
});
