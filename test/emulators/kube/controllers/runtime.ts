// The shared machinery of the simulated controllers: an informer-style cache fed by store events,
// a coalescing work queue, tracked timers, conflict-tolerant writes and an event recorder.
//
// Store listeners run synchronously inside store.create/update/remove, so listeners here only
// update the cache and enqueue keys; all writes happen later from the queue (setImmediate), never
// re-entrantly. Reconcilers read the cache (no cloning of whole namespaces) and write through the
// store, which keeps 300 quickly created objects cheap.
import { randomBytes } from 'node:crypto';
import { defaultRequestsFromLimits } from '../defaults.js';
import { applyLimitRangeDefaults, limitRangeDenial } from '../limitrange.js';
import { namespacePolicy, violations, violationText } from '../podsecurity.js';
import { quotaDenial } from '../quota.js';
import { Store, StoreError, clone, type KObject, type ResourceType, type StoreEvent } from '../store.js';

export interface ControllerOptions {
  /** How long a pod takes to become Ready, in ms. */
  readyDelayMs: number;
  /** Images that never pull → ErrImagePull, then ImagePullBackOff. */
  failImagePattern: RegExp;
  /** Images whose container starts and then crashes → CrashLoopBackOff. */
  crashImagePattern: RegExp;
  /**
   * Images whose container runs and never exits: a Job's pod that hangs (a migration waiting on a
   * lock). A long-running server behaves as usual.
   */
  hangImagePattern: RegExp;
  /** Multiplies real-world durations (progress deadlines, back-offs). */
  timeScale: number;
  /**
   * The digest (`sha256:…`) a registry serves for a tagged image, read when the kubelet starts the
   * container (as a real node pulls then); undefined falls back to a deterministic made-up digest.
   */
  imageDigests?: (image: string) => string | undefined;
}

export const DEFAULT_CONTROLLER_OPTIONS: ControllerOptions = {
  readyDelayMs: 100,
  failImagePattern: /does-not-exist|nonexistent|invalid-registry/,
  crashImagePattern: /crash/,
  hangImagePattern: /\bhang\b/,
  timeScale: 1,
};

export const NODE_NAME = 'emulator-node';
export const HOST_IP = '172.18.0.2';

/** apiVersion of every kind the controllers read or write. */
const API_VERSIONS: Record<string, string> = {
  Namespace: 'v1',
  Node: 'v1',
  PersistentVolume: 'v1',
  StorageClass: 'storage.k8s.io/v1',
  Pod: 'v1',
  Service: 'v1',
  Endpoints: 'v1',
  Event: 'v1',
  PersistentVolumeClaim: 'v1',
  Deployment: 'apps/v1',
  ReplicaSet: 'apps/v1',
  StatefulSet: 'apps/v1',
  DaemonSet: 'apps/v1',
  Job: 'batch/v1',
};

/** Kinds kept in the cache (Events are written, never read back in bulk). */
const CACHED = new Set([
  'Namespace',
  'Node',
  'PersistentVolumeClaim',
  'StorageClass',
  'Pod',
  'Service',
  'Endpoints',
  'Deployment',
  'ReplicaSet',
  'StatefulSet',
  'DaemonSet',
  'Job',
]);

export type Reconciler = (namespace: string, name: string) => void;
export type EventHandler = (ev: StoreEvent, previous: KObject | undefined) => void;

/** RFC 3339 with second precision, as the API server serialises metav1.Time. */
export function nowTime(): string {
  return new Date().toISOString().replace(/\.\d+Z$/, 'Z');
}

/** Characters Kubernetes uses for generated names (rand.SafeEncodeString): no vowels, no 0/1/3. */
export const SAFE_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

export function randomSuffix(n = 5): string {
  const bytes = randomBytes(n);
  let s = '';
  for (const b of bytes) s += SAFE_ALPHABET[b % SAFE_ALPHABET.length];
  return s;
}

interface InvolvedObject {
  kind: string;
  namespace?: string;
  name: string;
  uid?: string;
  apiVersion: string;
  resourceVersion?: string;
  fieldPath?: string;
}

export class Runtime {
  readonly errors: string[] = [];
  private stopped = false;
  private unsubscribe?: () => void;
  private readonly cache = new Map<string, Map<string, Map<string, KObject>>>(); // kind → ns → name → object
  private readonly reconcilers = new Map<string, Reconciler>();
  private readonly handlers = new Map<string, EventHandler[]>();
  private readonly pending = new Map<string, { kind: string; ns: string; name: string }>();
  private flushHandle?: NodeJS.Immediate;
  private readonly timers = new Set<NodeJS.Timeout>();
  /** involved uid → aggregation key → Event name, so repeats bump `count` like the kubelet's recorder. */
  private readonly eventNames = new Map<string, Map<string, string>>();
  private eventSeq = 0;
  /** client-go's EventCorrelator: distinct messages of one (object, reason, type, source), with when. */
  private readonly similar = new Map<string, { messages: Set<string>; since: number }>();

  constructor(
    readonly store: Store,
    readonly options: ControllerOptions,
  ) {}

  start(): void {
    this.unsubscribe = this.store.subscribe((ev) => this.onStoreEvent(ev));
    // Objects that exist before the controllers start are synced as if just added.
    for (const kind of CACHED) {
      const t = this.type(kind);
      if (!t) continue;
      for (const o of this.store.list(t)) {
        this.put(kind, o);
        this.dispatch(
          { type: 'ADDED', type_: t, object: o, rv: Number(o.metadata.resourceVersion) },
          undefined,
        );
      }
    }
  }

  stop(): void {
    this.stopped = true;
    this.unsubscribe?.();
    for (const h of this.timers) clearTimeout(h);
    this.timers.clear();
    if (this.flushHandle) clearImmediate(this.flushHandle);
    this.flushHandle = undefined;
    this.pending.clear();
  }

  get isStopped(): boolean {
    return this.stopped;
  }

  /** Live timers (for tests: stop() must leave none). */
  get timerCount(): number {
    return this.timers.size + (this.flushHandle ? 1 : 0);
  }

  reconciler(kind: string, fn: Reconciler): void {
    this.reconcilers.set(kind, fn);
  }

  on(kind: string, fn: EventHandler): void {
    const list = this.handlers.get(kind) ?? [];
    list.push(fn);
    this.handlers.set(kind, list);
  }

  enqueue(kind: string, ns: string, name: string): void {
    if (this.stopped) return;
    this.pending.set(`${kind}\u0000${ns}\u0000${name}`, { kind, ns, name });
    if (!this.flushHandle) this.flushHandle = setImmediate(() => this.flush());
  }

  /** Enqueues the controller owner of `o` (the object whose controller ownerReference points at it). */
  enqueueOwner(o: KObject): void {
    const ref = controllerRef(o);
    if (ref) this.enqueue(ref.kind, o.metadata.namespace ?? '', ref.name);
  }

  /** A tracked timer: cleared by stop(); the callback's errors are recorded, not thrown. */
  after(ms: number, fn: () => void): NodeJS.Timeout {
    const h = setTimeout(
      () => {
        this.timers.delete(h);
        if (this.stopped) return;
        this.guard('timer', fn);
      },
      Math.max(0, Math.round(ms)),
    );
    this.timers.add(h);
    return h;
  }

  cancel(h: NodeJS.Timeout | undefined): void {
    if (!h) return;
    clearTimeout(h);
    this.timers.delete(h);
  }

  /** Real-world seconds scaled by options.timeScale, in ms. */
  scaled(seconds: number): number {
    return seconds * 1000 * this.options.timeScale;
  }

  type(kind: string): ResourceType | undefined {
    const apiVersion = API_VERSIONS[kind];
    return apiVersion ? this.store.findTypeByKind(apiVersion, kind) : undefined;
  }

  get(kind: string, ns: string, name: string): KObject | undefined {
    return this.cache.get(kind)?.get(ns)?.get(name);
  }

  /** Cached objects of a kind in a namespace (read-only: never mutate them). */
  list(kind: string, ns: string): KObject[] {
    const m = this.cache.get(kind)?.get(ns);
    return m ? [...m.values()] : [];
  }

  /** Cached objects of a kind in every namespace (read-only). */
  listAll(kind: string): KObject[] {
    const out: KObject[] = [];
    for (const byName of this.cache.get(kind)?.values() ?? []) out.push(...byName.values());
    return out;
  }

  /** Cached objects of `kind` in `ns` whose controller ownerReference has `uid`. */
  owned(kind: string, ns: string, uid: string | undefined): KObject[] {
    if (!uid) return [];
    return this.list(kind, ns).filter((o) =>
      o.metadata.ownerReferences?.some((r) => r.uid === uid && r.controller),
    );
  }

  /** True when the namespace is going away: no new objects may be created in it. */
  namespaceTerminating(ns: string): boolean {
    const n = this.get('Namespace', '', ns);
    if (!n) return false;
    const status = n.status as { phase?: string } | undefined;
    return status?.phase === 'Terminating' || Boolean(n.metadata.deletionTimestamp);
  }

  /**
   * Pod Security admission for a pod a controller is about to create: the API server's 403
   * message (`pods "web-7d9f8-" is forbidden: violates PodSecurity …`), or undefined if allowed.
   * `name` is what the request names (a generateName prefix for ReplicaSets, DaemonSets, Jobs).
   */
  podSecurityDenial(pod: KObject, name: string): string | undefined {
    const policy = namespacePolicy(this.get('Namespace', '', pod.metadata.namespace ?? '')).enforce;
    const found = policy && pod.spec ? violations(pod.spec as Record<string, unknown>, policy) : [];
    return policy && found.length
      ? `pods "${name}" is forbidden: ${violationText(policy, found)}`
      : undefined;
  }

  /**
   * The API server's admission of a pod a controller is about to create, in the real plugin order:
   * LimitRanger (fills defaults into `pod`, then checks min/max), Pod Security, ResourceQuota.
   * Returns the 403 message (`pods "web-7d9f8-x2k4q" is forbidden: exceeded quota: …`) or
   * undefined. `requestName` is what the request names (a generateName prefix for ReplicaSets,
   * DaemonSets, Jobs), which Pod Security reports; LimitRanger and quota run after the name is
   * generated and report the pod's name.
   */
  admissionDenial(pod: KObject, requestName: string): string | undefined {
    const podType = this.type('Pod');
    if (!podType) return undefined;
    if (pod.spec && typeof pod.spec === 'object')
      defaultRequestsFromLimits(pod.spec as Record<string, unknown>);
    applyLimitRangeDefaults(this.store, pod);
    const limits = limitRangeDenial(this.store, 'Pod', pod);
    if (limits) return `pods "${pod.metadata.name}" is forbidden: ${limits}`;
    const security = this.podSecurityDenial(pod, requestName);
    if (security) return security;
    const quota = quotaDenial(this.store, podType, pod);
    return quota ? `pods "${pod.metadata.name}" is forbidden: ${quota}` : undefined;
  }

  /** Creates unless the namespace is terminating; an object that already exists is not an error. */
  create(kind: string, obj: KObject): KObject | undefined {
    const t = this.type(kind);
    if (!t) return undefined;
    const ns = obj.metadata.namespace;
    if (ns && this.namespaceTerminating(ns)) return undefined;
    try {
      return this.store.create(t, obj);
    } catch (e) {
      if (e instanceof StoreError && e.reason === 'AlreadyExists') return undefined;
      throw e;
    }
  }

  /**
   * Read-modify-write with retry on Conflict (someone wrote in between). `fn` edits a fresh copy;
   * returning false skips the write. Returns the stored object, or undefined if it is gone.
   */
  mutate(kind: string, ns: string, name: string, fn: (o: KObject) => boolean | void): KObject | undefined {
    const t = this.type(kind);
    if (!t) return undefined;
    for (let attempt = 0; attempt < 10; attempt++) {
      const cur = this.store.get(t, ns, name);
      if (!cur) return undefined;
      if (fn(cur) === false) return cur;
      try {
        return this.store.update(t, cur);
      } catch (e) {
        if (e instanceof StoreError && e.reason === 'Conflict') continue;
        if (e instanceof StoreError && e.reason === 'NotFound') return undefined;
        throw e;
      }
    }
    throw new Error(`${kind} ${ns}/${name}: still conflicting after 10 attempts`);
  }

  /** Removes an object; one already gone (garbage-collected by the HTTP layer) is fine. */
  remove(kind: string, ns: string, name: string): void {
    const t = this.type(kind);
    if (t) this.store.remove(t, ns, name);
  }

  /**
   * Records a core/v1 Event as the component would; a repeat of the same reason and message for
   * the same object bumps count and lastTimestamp instead of adding another Event.
   */
  event(
    involved: KObject,
    type: 'Normal' | 'Warning',
    reason: string,
    message: string,
    component: string,
    fieldPath?: string,
  ): void {
    const ns = involved.metadata.namespace ?? 'default';
    const uid = involved.metadata.uid ?? '';
    // As client-go's EventCorrelator: past 10 distinct messages of the same object, reason, type and
    // source within 10 minutes, they are combined into one event whose count goes up.
    const group = `${uid}\u0000${reason}\u0000${type}\u0000${component}\u0000${fieldPath ?? ''}`;
    const seen = this.similar.get(group);
    const fresh =
      seen && Date.now() - seen.since < 600_000 ? seen : { messages: new Set<string>(), since: Date.now() };
    fresh.messages.add(message);
    this.similar.set(group, fresh);
    if (fresh.messages.size > 10) message = `(combined from similar events): ${message}`;
    const key =
      fresh.messages.size > 10
        ? `${reason}\u0000(combined)\u0000${fieldPath ?? ''}`
        : `${reason}\u0000${message}\u0000${fieldPath ?? ''}`;
    const now = nowTime();
    const byUid = this.eventNames.get(uid) ?? new Map<string, string>();
    const existing = byUid.get(key);
    if (existing) {
      const bumped = this.mutate('Event', ns, existing, (e) => {
        e.count = ((e.count as number | undefined) ?? 1) + 1;
        e.lastTimestamp = now;
        e.message = message;
      });
      if (bumped) return;
    }
    // Real names are `<object>.<UnixNano in hex>`; a sequence keeps them unique within one ms.
    const nano = BigInt(Date.now()) * 1_000_000n + BigInt(this.eventSeq++ % 1_000_000);
    const name = `${involved.metadata.name}.${nano.toString(16)}`;
    const ref: InvolvedObject = {
      kind: involved.kind,
      namespace: ns,
      name: involved.metadata.name ?? '',
      uid,
      apiVersion: involved.apiVersion,
      resourceVersion: involved.metadata.resourceVersion,
    };
    if (fieldPath) ref.fieldPath = fieldPath;
    const node = (involved.spec as { nodeName?: string } | undefined)?.nodeName;
    const host = component === 'kubelet' ? (node ?? NODE_NAME) : undefined;
    const created = this.create('Event', {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name, namespace: ns },
      involvedObject: ref,
      reason,
      message,
      source: host ? { component, host } : { component },
      firstTimestamp: now,
      lastTimestamp: now,
      count: 1,
      type,
      eventTime: null,
      reportingComponent: component === 'kubelet' ? 'kubelet' : component,
      reportingInstance: host ?? '',
    });
    if (created) {
      byUid.set(key, name);
      this.eventNames.set(uid, byUid);
    }
  }

  private put(kind: string, o: KObject): KObject | undefined {
    let byNs = this.cache.get(kind);
    if (!byNs) this.cache.set(kind, (byNs = new Map()));
    const ns = o.metadata.namespace ?? '';
    let byName = byNs.get(ns);
    if (!byName) byNs.set(ns, (byName = new Map()));
    const prev = byName.get(o.metadata.name ?? '');
    byName.set(o.metadata.name ?? '', o);
    return prev;
  }

  private drop(kind: string, o: KObject): KObject | undefined {
    const byName = this.cache.get(kind)?.get(o.metadata.namespace ?? '');
    const prev = byName?.get(o.metadata.name ?? '');
    byName?.delete(o.metadata.name ?? '');
    return prev;
  }

  private onStoreEvent(ev: StoreEvent): void {
    const kind = ev.type_.kind;
    if (!CACHED.has(kind) || this.stopped) return;
    // The event object is shared with other listeners: keep our own copy.
    const o = clone(ev.object);
    const previous = ev.type === 'DELETED' ? this.drop(kind, o) : this.put(kind, o);
    if (ev.type === 'DELETED' && o.metadata.uid) this.eventNames.delete(o.metadata.uid);
    this.dispatch({ ...ev, object: o }, previous);
  }

  private dispatch(ev: StoreEvent, previous: KObject | undefined): void {
    for (const h of this.handlers.get(ev.type_.kind) ?? [])
      this.guard(`${ev.type_.kind} handler`, () => h(ev, previous));
  }

  private flush(): void {
    this.flushHandle = undefined;
    const batch = [...this.pending.values()];
    this.pending.clear();
    for (const { kind, ns, name } of batch) {
      if (this.stopped) return;
      const fn = this.reconcilers.get(kind);
      if (fn) this.guard(`${kind} ${ns}/${name}`, () => fn(ns, name));
    }
  }

  private guard(what: string, fn: () => void): void {
    try {
      fn();
    } catch (e) {
      // A failing reconcile must not take the emulator down; tests read `errors`.
      this.errors.push(`${what}: ${e instanceof Error ? e.message : String(e)}`);
      if (this.errors.length > 100) this.errors.shift();
    }
  }
}

export function controllerRef(o: KObject): { kind: string; name: string; uid: string } | undefined {
  return o.metadata.ownerReferences?.find((r) => r.controller);
}
