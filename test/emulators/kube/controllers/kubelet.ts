// The simulated scheduler + kubelet of the single node: every pod is bound to `emulator-node` and
// walks Pending → Running (Ready) after readyDelayMs, or fails the way a real node shows it
// (ErrImagePull ↔ ImagePullBackOff, CrashLoopBackOff), with kubelet Events and container logs.
// A simulated container prints its `args`, each `$(VAR)` expanded from its env as the kubelet
// expands them (values, Secret and ConfigMap keys), so a test can make a pod log a chosen line.
//
// Pod state lives here in memory (one PodSim per pod uid) and is rendered into pod.status on
// every transition, so the status is a pure function of the simulation and repeated writes of
// the same state are no-ops.
import { createHash } from 'node:crypto';
import type { KObject } from '../store.js';
import { HOST_IP, nowTime, type Runtime } from './runtime.js';
import { controllerRef } from './runtime.js';
import { type Condition, type Container, type PodSpec, qosClass, setCondition } from './util.js';

type Mode = 'ok' | 'pull' | 'crash' | 'hang';
type CState = 'creating' | 'pullError' | 'pullBackOff' | 'running' | 'crashBackOff' | 'completed' | 'failed';

interface Terminated {
  exitCode: number;
  reason: string;
  startedAt?: string;
  finishedAt: string;
  containerID?: string;
}

interface CSim {
  name: string;
  /** An init container: runs to completion, in order, before the app containers start. */
  init: boolean;
  image: string;
  mode: Mode;
  /** What the container prints when it starts: its args (see expandArgs). */
  args: string[];
  env: EnvVar[];
  state: CState;
  restartCount: number;
  startedAt?: string;
  finishedAt?: string;
  containerID?: string;
  /** `<repo>@sha256:…` of the image pulled when the container first started; fixed from then on. */
  imageID?: string;
  lastTerminated?: Terminated;
  /** Seconds of the current back-off, shown in the CrashLoopBackOff message. */
  backoffSeconds: number;
  backoffStep: number;
  logs: string[];
  port?: number;
  /** readinessProbe.initialDelaySeconds (0 without a probe). */
  probeDelaySeconds: number;
  /** False while the readiness probe has not passed since the container (re)started. */
  probed: boolean;
}

interface PodSim {
  uid: string;
  ns: string;
  name: string;
  restartPolicy: string;
  /** Run-to-completion pods of a Job give up on an unpullable image (see pullFailed). */
  jobOwned: boolean;
  containers: CSim[];
  init: CSim[];
  podIP: string;
  hostIP: string;
  startTime: string;
  gaveUp: boolean;
  deleting: boolean;
  timers: Set<NodeJS.Timeout>;
}

export interface Kubelet {
  podLog(namespace: string, pod: string, container?: string): string | undefined;
}

export function registerKubelet(rt: Runtime): Kubelet {
  const sims = new Map<string, PodSim>(); // pod uid → simulation
  const byName = new Map<string, string>(); // ns/name → uid
  let nextIp = 0;

  const allocIp = () => {
    // 10.244.0.0/16 like kind's pod CIDR; wraps long before a test bed could notice.
    const n = (nextIp++ % 65000) + 2;
    return `10.244.${Math.floor(n / 256)}.${n % 256}`;
  };

  const after = (sim: PodSim, ms: number, fn: () => void) => {
    const h = rt.after(ms, () => {
      sim.timers.delete(h);
      if (sims.get(sim.uid) === sim && !sim.deleting) fn();
    });
    sim.timers.add(h);
  };

  const dispose = (sim: PodSim) => {
    for (const h of sim.timers) rt.cancel(h);
    sim.timers.clear();
  };

  const podObject = (sim: PodSim) => rt.get('Pod', sim.ns, sim.name);

  const event = (sim: PodSim, type: 'Normal' | 'Warning', reason: string, message: string, c?: CSim) => {
    const pod = podObject(sim);
    const list = c?.init ? 'initContainers' : 'containers';
    if (pod) rt.event(pod, type, reason, message, 'kubelet', c ? `spec.${list}{${c.name}}` : undefined);
  };

  /** Exponential back-off as the kubelet's: 10s doubling to 5 min, scaled; never below readyDelay. */
  const nextBackoff = (c: CSim): number => {
    const seconds = Math.min(10 * 2 ** c.backoffStep, 300);
    c.backoffStep++;
    c.backoffSeconds = seconds;
    return Math.max(rt.scaled(seconds), rt.options.readyDelayMs, 5);
  };

  const write = (sim: PodSim) => {
    rt.mutate('Pod', sim.ns, sim.name, (p) => {
      if (p.metadata.uid !== sim.uid) return false;
      p.status = renderStatus(sim, p);
    });
  };

  const startContainer = (sim: PodSim, c: CSim) => {
    const first = c.startedAt === undefined && c.restartCount === 0;
    c.state = 'running';
    c.startedAt = nowTime();
    // The image is pulled (and so its digest fixed) once; restarts reuse it, as on a real node.
    c.imageID ??= imageID(c.image, rt.options.imageDigests);
    c.containerID = `containerd://${createHash('sha256').update(`${sim.uid}/${c.name}/${c.restartCount}`).digest('hex')}`;
    c.logs = [`Starting ${c.name} (image ${c.image})`, ...expandArgs(rt, podObject(sim), c)];
    if (first)
      event(
        sim,
        'Normal',
        'Pulled',
        `Successfully pulled image "${c.image}" in 1.021s (1.021s including waiting). Image size: 24712349 bytes.`,
        c,
      );
    else event(sim, 'Normal', 'Pulled', `Container image "${c.image}" already present on machine`, c);
    event(sim, 'Normal', 'Created', `Created container: ${c.name}`, c);
    event(sim, 'Normal', 'Started', `Started container ${c.name}`, c);
    if (c.mode === 'crash') {
      c.logs.push(`Error: cannot start ${c.name}: simulated crash (image "${c.image}")`, 'exit status 1');
      after(sim, Math.max(1, rt.options.readyDelayMs / 2), () => crash(sim, c));
    } else if (c.init || sim.restartPolicy !== 'Always') {
      c.logs.push(c.init ? 'Initializing...' : 'Working...');
      // A hanging run-to-completion container never exits: its Job stays active.
      if (c.mode !== 'hang') after(sim, Math.max(1, rt.options.readyDelayMs / 2), () => complete(sim, c));
    } else {
      c.logs.push(`Listening on 0.0.0.0:${c.port ?? 8080}`, 'Ready to serve requests');
      // The readiness probe first runs after its initialDelaySeconds; until it passes, not ready.
      if (c.probeDelaySeconds > 0) {
        c.probed = false;
        after(sim, rt.scaled(c.probeDelaySeconds), () => {
          c.probed = true;
          write(sim);
        });
      }
    }
    write(sim);
  };

  const crash = (sim: PodSim, c: CSim) => {
    c.lastTerminated = {
      exitCode: 1,
      reason: 'Error',
      startedAt: c.startedAt,
      finishedAt: nowTime(),
      containerID: c.containerID,
    };
    if (sim.restartPolicy === 'Never') {
      c.state = 'failed';
      // A failed init container of a pod that never restarts fails the pod.
      if (c.init) sim.gaveUp = true;
      write(sim);
      return;
    }
    c.restartCount++;
    c.state = 'crashBackOff';
    const delay = nextBackoff(c);
    event(
      sim,
      'Warning',
      'BackOff',
      `Back-off restarting failed container ${c.name} in pod ${sim.name}_${sim.ns}(${sim.uid})`,
      c,
    );
    write(sim);
    after(sim, delay, () => startContainer(sim, c));
  };

  const complete = (sim: PodSim, c: CSim) => {
    c.state = 'completed';
    c.finishedAt = nowTime();
    c.logs.push('Completed successfully');
    write(sim);
    if (c.init) advance(sim);
  };

  /** The next init container, in order; once all completed, the app containers all at once. */
  const advance = (sim: PodSim) => {
    const next = sim.init.find((c) => c.state !== 'completed');
    if (next) return pull(sim, next);
    for (const c of sim.containers) pull(sim, c);
  };

  const pull = (sim: PodSim, c: CSim) => {
    event(sim, 'Normal', 'Pulling', `Pulling image "${c.image}"`, c);
    after(sim, rt.options.readyDelayMs, () => {
      if (c.mode === 'pull') pullFailed(sim, c);
      else startContainer(sim, c);
    });
  };

  const pullFailed = (sim: PodSim, c: CSim) => {
    c.state = 'pullError';
    event(sim, 'Warning', 'Failed', `Failed to pull image "${c.image}": ${pullError(c.image)}`, c);
    event(sim, 'Warning', 'Failed', 'Error: ErrImagePull', c);
    write(sim);
    after(sim, rt.options.readyDelayMs, () => {
      c.state = 'pullBackOff';
      const delay = nextBackoff(c);
      event(sim, 'Normal', 'BackOff', `Back-off pulling image "${c.image}"`, c);
      event(sim, 'Warning', 'Failed', 'Error: ImagePullBackOff', c);
      // Deviation from a real node, on purpose: a Job's pod with an image that never pulls would
      // wait forever; here it fails so the Job reaches its backoffLimit and reports failure.
      if (sim.jobOwned) sim.gaveUp = true;
      write(sim);
      if (!sim.gaveUp) after(sim, delay, () => pull(sim, c));
    });
  };

  const simOf = (c: Container, init: boolean): CSim => {
    const image = c.image ?? '';
    const { failImagePattern, crashImagePattern, hangImagePattern } = rt.options;
    const mode: Mode = failImagePattern.test(image)
      ? 'pull'
      : crashImagePattern.test(image)
        ? 'crash'
        : hangImagePattern.test(image)
          ? 'hang'
          : 'ok';
    return {
      name: c.name,
      init,
      image,
      mode,
      args: Array.isArray(c.args) ? c.args.filter((a): a is string => typeof a === 'string') : [],
      env: Array.isArray(c.env) ? (c.env as EnvVar[]) : [],
      state: 'creating',
      restartCount: 0,
      backoffSeconds: 0,
      backoffStep: 0,
      logs: [],
      port: c.ports?.[0]?.containerPort,
      probeDelaySeconds: init ? 0 : readinessDelay(c),
      probed: true,
    };
  };

  const begin = (pod: KObject) => {
    const spec = (pod.spec ?? { containers: [] }) as PodSpec;
    const sim: PodSim = {
      uid: pod.metadata.uid ?? '',
      ns: pod.metadata.namespace ?? '',
      name: pod.metadata.name ?? '',
      restartPolicy: spec.restartPolicy ?? 'Always',
      jobOwned: controllerRef(pod)?.kind === 'Job',
      init: (spec.initContainers ?? []).map((c) => simOf(c, true)),
      containers: (spec.containers ?? []).map((c) => simOf(c, false)),
      podIP: allocIp(),
      hostIP: hostIPOf(rt, spec.nodeName),
      startTime: nowTime(),
      gaveUp: false,
      deleting: false,
      timers: new Set(),
    };
    sims.set(sim.uid, sim);
    byName.set(`${sim.ns}/${sim.name}`, sim.uid);
    write(sim);
    advance(sim);
  };

  /** A pod marked for deletion: the kubelet stops it and confirms, unless finalizers hold it. */
  const terminate = (pod: KObject, sim: PodSim | undefined) => {
    if (sim) {
      if (sim.deleting) return;
      sim.deleting = true;
      dispose(sim);
      for (const c of sim.containers)
        if (c.state === 'running') event(sim, 'Normal', 'Killing', `Stopping container ${c.name}`, c);
    }
    const grace = pod.metadata.deletionGracePeriodSeconds ?? 30;
    const uid = pod.metadata.uid;
    const ns = pod.metadata.namespace ?? '';
    const name = pod.metadata.name ?? '';
    rt.after(Math.min(rt.scaled(grace), rt.options.readyDelayMs), () => {
      const cur = rt.get('Pod', ns, name);
      if (cur && cur.metadata.uid === uid && !cur.metadata.finalizers?.length) rt.remove('Pod', ns, name);
    });
  };

  rt.on('Pod', (ev) => {
    const p = ev.object;
    if (ev.type === 'DELETED') {
      const sim = sims.get(p.metadata.uid ?? '');
      if (sim) {
        dispose(sim);
        sims.delete(sim.uid);
        if (byName.get(`${sim.ns}/${sim.name}`) === sim.uid) byName.delete(`${sim.ns}/${sim.name}`);
      }
      return;
    }
    if (!sims.has(p.metadata.uid ?? '') || p.metadata.deletionTimestamp)
      rt.enqueue('Pod', p.metadata.namespace ?? '', p.metadata.name ?? '');
  });

  rt.reconciler('Pod', (ns, name) => {
    const pod = rt.get('Pod', ns, name);
    if (!pod) return;
    const sim = sims.get(pod.metadata.uid ?? '');
    if (pod.metadata.deletionTimestamp) return terminate(pod, sim);
    if (sim) return;
    const phase = (pod.status as { phase?: string } | undefined)?.phase;
    // A finished pod (from before the controllers started) stays as it is.
    if (phase === 'Succeeded' || phase === 'Failed') return;
    // Only the kubelet of the node the scheduler bound the pod to runs it.
    if (!(pod.spec as PodSpec | undefined)?.nodeName) return;
    begin(pod);
  });

  return {
    podLog(namespace, pod, container) {
      const sim = sims.get(byName.get(`${namespace}/${pod}`) ?? '');
      if (!sim) return undefined;
      const c = container
        ? [...sim.init, ...sim.containers].find((x) => x.name === container)
        : sim.containers[0];
      if (!c || c.logs.length === 0) return undefined;
      return c.logs.join('\n') + '\n';
    },
  };
}

function isReady(c: CSim): boolean {
  return c.state === 'running' && (c.mode === 'ok' || c.mode === 'hang') && c.probed;
}

interface EnvVar {
  name?: string;
  value?: string;
  valueFrom?: {
    secretKeyRef?: { name?: string; key?: string };
    configMapKeyRef?: { name?: string; key?: string };
    fieldRef?: { fieldPath?: string };
  };
}

/** `$(VAR)` replaced from `values` (`$$(` stays a literal `$(`; an unknown variable stays as written). */
function expandVars(text: string, values: Map<string, string>): string {
  return text.replace(/\$\$\(|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)/g, (m, name?: string) =>
    name === undefined ? '$(' : (values.get(name) ?? m),
  );
}

/** The downward API's metadata fields: name, namespace, labels['k'], annotations['k']. */
function podField(pod: KObject | undefined, path: string): string | undefined {
  const m = /^metadata\.(labels|annotations)\['([^']+)'\]$/.exec(path);
  if (m) return (pod?.metadata[m[1] as 'labels' | 'annotations'] ?? {})[m[2] as string];
  if (path === 'metadata.name') return pod?.metadata.name;
  if (path === 'metadata.namespace') return pod?.metadata.namespace;
  return undefined;
}

/**
 * The container's args as log lines, `$(VAR)` replaced by the value of env VAR as the kubelet does
 * (expandVars). Values, Secret and ConfigMap keys (read from the store when the container starts)
 * and the pod's own metadata (fieldRef).
 */
function expandArgs(rt: Runtime, pod: KObject | undefined, c: CSim): string[] {
  if (c.args.length === 0) return [];
  const ns = pod?.metadata.namespace ?? '';
  const values = new Map<string, string>();
  for (const e of c.env) {
    if (!e.name) continue;
    // An env value may name the variables defined before it, as the kubelet expands them.
    if (e.value !== undefined) values.set(e.name, expandVars(e.value, values));
    const field = e.valueFrom?.fieldRef?.fieldPath;
    const fieldValue = field ? podField(pod, field) : undefined;
    if (fieldValue !== undefined) values.set(e.name, fieldValue);
    const ref = e.valueFrom?.secretKeyRef ?? e.valueFrom?.configMapKeyRef;
    if (!ref?.name || !ref.key) continue;
    const secret = e.valueFrom?.secretKeyRef !== undefined;
    const type = rt.store.findTypeByKind('v1', secret ? 'Secret' : 'ConfigMap');
    const o = type ? rt.store.get(type, ns, ref.name) : undefined;
    const data = (o?.data ?? {}) as Record<string, string>;
    const raw = data[ref.key] ?? ((o?.stringData ?? {}) as Record<string, string>)[ref.key];
    if (raw === undefined) continue;
    values.set(e.name, secret && data[ref.key] !== undefined ? Buffer.from(raw, 'base64').toString() : raw);
  }
  return c.args.map((a) => expandVars(a, values)).flatMap((a) => a.split('\n'));
}

function readinessDelay(c: Container): number {
  const probe = c.readinessProbe as { initialDelaySeconds?: number } | undefined;
  return typeof probe?.initialDelaySeconds === 'number' ? probe.initialDelaySeconds : 0;
}

/** The InternalIP of the node a pod runs on. */
function hostIPOf(rt: Runtime, node: string | undefined): string {
  const n = node ? rt.get('Node', '', node) : undefined;
  const addresses = (n?.status as { addresses?: { type: string; address: string }[] } | undefined)?.addresses;
  return addresses?.find((a) => a.type === 'InternalIP')?.address ?? HOST_IP;
}

function pullError(image: string): string {
  const ref = image.includes('/') ? image : `docker.io/library/${image}`;
  return `rpc error: code = NotFound desc = failed to pull and unpack image "${ref}": failed to resolve reference "${ref}": ${ref}: not found`;
}

/**
 * What the node reports as status.containerStatuses[].imageID: `<repo>@sha256:…`. A digest reference
 * pulls exactly that digest (`x/y:tag@sha256:d` → `x/y@sha256:d`); a tag pulls whatever the registry
 * serves for it now (`resolve`), else a digest made up from the reference.
 */
export function imageID(image: string, resolve?: (image: string) => string | undefined): string {
  let name = image;
  let digest: string | undefined;
  const at = name.indexOf('@');
  if (at >= 0) {
    digest = name.slice(at + 1);
    name = name.slice(0, at);
  }
  const colon = name.lastIndexOf(':');
  if (colon > name.lastIndexOf('/')) name = name.slice(0, colon); // a tag, not a registry port
  const full = name.includes('/') ? name : `docker.io/library/${name}`;
  if (digest === undefined) {
    const resolved = resolve?.(image);
    digest =
      resolved !== undefined && /^sha256:[a-f0-9]{64}$/.test(resolved)
        ? resolved
        : `sha256:${createHash('sha256').update(image).digest('hex')}`;
  }
  return `${full}@${digest}`;
}

function containerState(sim: PodSim, c: CSim): Record<string, unknown> {
  switch (c.state) {
    case 'creating':
      return { waiting: { reason: 'ContainerCreating' } };
    case 'pullError':
      return { waiting: { reason: 'ErrImagePull', message: pullError(c.image) } };
    case 'pullBackOff':
      return {
        waiting: {
          reason: 'ImagePullBackOff',
          message: `Back-off pulling image "${c.image}": ErrImagePull: ${pullError(c.image)}`,
        },
      };
    case 'running':
      return { running: { startedAt: c.startedAt } };
    case 'crashBackOff':
      return {
        waiting: {
          reason: 'CrashLoopBackOff',
          message: `back-off ${fmtSeconds(c.backoffSeconds)} restarting failed container=${c.name} pod=${sim.name}_${sim.ns}(${sim.uid})`,
        },
      };
    case 'completed':
      return {
        terminated: {
          exitCode: 0,
          reason: 'Completed',
          startedAt: c.startedAt,
          finishedAt: c.finishedAt ?? nowTime(),
          containerID: c.containerID,
        },
      };
    case 'failed':
      return { terminated: c.lastTerminated };
  }
}

function fmtSeconds(s: number): string {
  return s >= 60 ? `${Math.floor(s / 60)}m${s % 60}s` : `${s}s`;
}

function renderStatus(sim: PodSim, pod: KObject): Record<string, unknown> {
  const prev = (pod.status ?? {}) as {
    conditions?: Condition[];
    containerStatuses?: { name: string; state?: unknown }[];
  };
  const cs = sim.containers;
  const incompleteInit = sim.init.filter((c) => c.state !== 'completed').map((c) => c.name);
  let phase: string;
  if (sim.gaveUp) phase = 'Failed';
  else if (incompleteInit.length) phase = 'Pending';
  else if (cs.length && cs.every((c) => c.state === 'completed')) phase = 'Succeeded';
  else if (cs.length && cs.every((c) => c.state === 'completed' || c.state === 'failed')) phase = 'Failed';
  else if (cs.some((c) => c.startedAt === undefined)) phase = 'Pending';
  else phase = 'Running';

  const ready = cs.every((c) => isReady(c));
  const notReady = cs.filter((c) => !isReady(c)).map((c) => c.name);
  const now = nowTime();
  let conds = prev.conditions ?? [];
  const opt = { probeTime: true };
  conds = setCondition(conds, { type: 'PodReadyToStartContainers', status: 'True' }, now, opt);
  conds = setCondition(
    conds,
    incompleteInit.length
      ? {
          type: 'Initialized',
          status: 'False',
          reason: 'ContainersNotInitialized',
          message: `containers with incomplete status: [${incompleteInit.join(' ')}]`,
        }
      : { type: 'Initialized', status: 'True' },
    now,
    opt,
  );
  const readyCond: Condition =
    phase === 'Succeeded'
      ? { type: 'Ready', status: 'False', reason: 'PodCompleted' }
      : phase === 'Failed'
        ? { type: 'Ready', status: 'False', reason: 'PodFailed' }
        : ready
          ? { type: 'Ready', status: 'True' }
          : {
              type: 'Ready',
              status: 'False',
              reason: 'ContainersNotReady',
              message: `containers with unready status: [${notReady.join(' ')}]`,
            };
  conds = setCondition(conds, readyCond, now, opt);
  conds = setCondition(conds, { ...readyCond, type: 'ContainersReady' }, now, opt);
  conds = setCondition(conds, { type: 'PodScheduled', status: 'True' }, now, opt);

  const prevStates = new Map((prev.containerStatuses ?? []).map((s) => [s.name, s.state]));
  const containerStatuses = cs.map((c) => {
    // App containers wait for the init containers, as PodInitializing.
    let state = incompleteInit.length ? { waiting: { reason: 'PodInitializing' } } : containerState(sim, c);
    // Keep the first finishedAt: re-rendering must not move it.
    if (c.state === 'completed' && prevStates.has(c.name)) {
      const old = prevStates.get(c.name) as { terminated?: unknown } | undefined;
      if (old?.terminated) state = old as Record<string, unknown>;
    }
    return {
      name: c.name,
      state,
      lastState: c.lastTerminated ? { terminated: c.lastTerminated } : {},
      ready: isReady(c),
      restartCount: c.restartCount,
      image: c.image,
      imageID: c.containerID ? (c.imageID ?? '') : '',
      ...(c.containerID ? { containerID: c.containerID } : {}),
      started: c.state === 'running',
    };
  });
  const status: Record<string, unknown> = {
    phase,
    conditions: conds,
    hostIP: sim.hostIP,
    hostIPs: [{ ip: sim.hostIP }],
    podIP: sim.podIP,
    podIPs: [{ ip: sim.podIP }],
    startTime: sim.startTime,
  };
  if (sim.init.length) {
    status.initContainerStatuses = sim.init.map((c) => ({
      name: c.name,
      state: containerState(sim, c),
      lastState: c.lastTerminated ? { terminated: c.lastTerminated } : {},
      ready: c.state === 'completed',
      restartCount: c.restartCount,
      image: c.image,
      imageID: c.containerID ? (c.imageID ?? '') : '',
      ...(c.containerID ? { containerID: c.containerID } : {}),
      started: c.state === 'running',
    }));
  }
  status.containerStatuses = containerStatuses;
  status.qosClass = qosClass((pod.spec ?? { containers: [] }) as PodSpec);
  return status;
}
