// In-memory object store of the Kubernetes API emulator: the "etcd" of the test bed.
// The HTTP layer (server.ts) and the simulated controllers (controllers.ts) both work on it.
// It knows nothing of HTTP; API semantics (validation, deletion with finalizers, namespace
// lifecycle) live in the layers above it.
import { randomUUID } from 'node:crypto';

export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  deletionGracePeriodSeconds?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  finalizers?: string[];
  ownerReferences?: OwnerReference[];
  managedFields?: ManagedFieldsEntry[];
  [key: string]: unknown;
}

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

export interface ManagedFieldsEntry {
  manager: string;
  operation: 'Apply' | 'Update';
  apiVersion: string;
  time?: string;
  fieldsType: 'FieldsV1';
  fieldsV1: Record<string, unknown>;
  subresource?: string;
}

export interface KObject {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  [key: string]: unknown;
}

/** One served resource: a built-in kind or one registered by a CRD. */
export interface ResourceType {
  group: string; // '' for the core group
  version: string;
  kind: string;
  plural: string;
  singular: string;
  namespaced: boolean;
  shortNames?: string[];
  categories?: string[];
  /** Subresources served, e.g. ['status', 'scale', 'log']. */
  subresources?: string[];
  verbs?: string[];
  /** Further versions served from the same storage (autoscaling/v1 beside v2); `version` is preferred. */
  alsoServed?: string[];
  /** True for kinds registered through a CustomResourceDefinition. */
  custom?: boolean;
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface StoreEvent {
  type: WatchEventType;
  type_: ResourceType;
  object: KObject;
  /** Global resourceVersion of this change, as a number. */
  rv: number;
}

/**
 * Stored objects are never changed in place (a write stores a new copy), so events carry the stored
 * object itself: listeners must treat it as read-only and copy it before changing anything.
 */
export type StoreListener = (ev: StoreEvent) => void;

export function apiVersionOf(t: Pick<ResourceType, 'group' | 'version'>): string {
  return t.group ? `${t.group}/${t.version}` : t.version;
}

export function typeKey(t: Pick<ResourceType, 'group' | 'plural'>): string {
  return `${t.group}/${t.plural}`;
}

function objectKey(namespace: string | undefined, name: string): string {
  return `${namespace ?? ''}/${name}`;
}

/** Stored objects are plain JSON; a JSON round trip copies them about twice as fast as structuredClone. */
export function clone<T>(v: T): T {
  return v === undefined ? v : (JSON.parse(JSON.stringify(v)) as T);
}

/** Thrown by the store; the HTTP layer turns `reason` into a Kubernetes Status. */
export class StoreError extends Error {
  constructor(
    readonly reason: 'NotFound' | 'AlreadyExists' | 'Conflict' | 'Gone',
    message: string,
  ) {
    super(message);
  }
}

/** How many past events are kept so that a watch can resume from an older resourceVersion. */
const HISTORY_LIMIT = 20000;

export class Store {
  private rv = 1;
  private readonly types = new Map<string, ResourceType>(); // typeKey → type (preferred version)
  private readonly data = new Map<string, Map<string, KObject>>(); // typeKey → objectKey → object
  private readonly listeners = new Set<StoreListener>();
  private readonly history: StoreEvent[] = [];
  private readonly historyLimit: number;

  /** `historyLimit`: how many past events a watch can resume from (tests lower it to provoke 410). */
  constructor(opts: { historyLimit?: number } = {}) {
    this.historyLimit = opts.historyLimit ?? HISTORY_LIMIT;
  }

  /** The current global resourceVersion (as list responses report it). */
  get resourceVersion(): string {
    return String(this.rv);
  }

  /** The oldest resourceVersion a watch can still resume from. */
  get oldestResourceVersion(): number {
    return this.history.length ? this.history[0].rv - 1 : this.rv;
  }

  registerType(t: ResourceType): void {
    this.types.set(typeKey(t), t);
    if (!this.data.has(typeKey(t))) this.data.set(typeKey(t), new Map());
  }

  unregisterType(group: string, plural: string): void {
    const key = typeKey({ group, plural });
    this.types.delete(key);
    this.data.delete(key);
  }

  allTypes(): ResourceType[] {
    return [...this.types.values()];
  }

  /** Type by URL parts (the version must be one the type serves). */
  findType(group: string, version: string, plural: string): ResourceType | undefined {
    const t = this.types.get(typeKey({ group, plural }));
    return t && servedAs(t, version);
  }

  /** Type by apiVersion + kind as written in a manifest. */
  findTypeByKind(apiVersion: string, kind: string): ResourceType | undefined {
    for (const t of this.types.values()) {
      if (t.kind !== kind) continue;
      for (const v of servedVersions(t))
        if (apiVersionOf({ group: t.group, version: v }) === apiVersion) return servedAs(t, v);
    }
    return undefined;
  }

  /** The object as the version of `t` names it (one storage, several served versions). */
  get(t: ResourceType, namespace: string | undefined, name: string): KObject | undefined {
    const o = this.bucket(t).get(objectKey(t.namespaced ? namespace : undefined, name));
    return o && asVersion(t, clone(o));
  }

  /** Objects of a type, in one namespace or (namespace undefined) across all, sorted by namespace/name. */
  list(t: ResourceType, namespace?: string): KObject[] {
    const out: KObject[] = [];
    for (const o of this.bucket(t).values()) {
      if (namespace === undefined || !t.namespaced || o.metadata.namespace === namespace)
        out.push(asVersion(t, clone(o)));
    }
    return out.sort((a, b) =>
      objectKey(a.metadata.namespace, a.metadata.name!).localeCompare(
        objectKey(b.metadata.namespace, b.metadata.name!),
      ),
    );
  }

  /** Every object in a namespace, of every namespaced type. */
  listNamespace(namespace: string): { type: ResourceType; object: KObject }[] {
    const out: { type: ResourceType; object: KObject }[] = [];
    for (const t of this.types.values()) {
      if (!t.namespaced) continue;
      for (const o of this.list(t, namespace)) out.push({ type: t, object: o });
    }
    return out;
  }

  /**
   * Stores a new object: fills uid, resourceVersion, creationTimestamp, generation (1), and a name
   * from generateName. Fails with AlreadyExists.
   */
  create(t: ResourceType, obj: KObject): KObject {
    const o = clone(obj);
    o.apiVersion = apiVersionOf(this.types.get(typeKey(t)) ?? t); // stored at the preferred version
    o.kind = t.kind;
    if (!t.namespaced) delete o.metadata.namespace;
    if (!o.metadata.name && o.metadata.generateName) {
      o.metadata.name = `${o.metadata.generateName}${randomUUID().replace(/-/g, '').slice(0, 5)}`;
    }
    const name = o.metadata.name!;
    const key = objectKey(o.metadata.namespace, name);
    if (this.bucket(t).has(key)) {
      throw new StoreError(
        'AlreadyExists',
        `${t.plural}${t.group ? '.' + t.group : ''} "${name}" already exists`,
      );
    }
    // A uid the API layer chose already (a Job's generated selector names it) is kept.
    o.metadata.uid ??= randomUUID();
    o.metadata.creationTimestamp = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    o.metadata.generation = 1;
    o.metadata.resourceVersion = String(++this.rv);
    this.bucket(t).set(key, o);
    this.emit({ type: 'ADDED', type_: t, object: o, rv: this.rv });
    return clone(o);
  }

  /**
   * Replaces a stored object. If `obj.metadata.resourceVersion` is set it must match (else
   * Conflict). Keeps uid/creationTimestamp; bumps generation when anything outside metadata and
   * status changed. Returns the stored object; a no-op update keeps the resourceVersion and emits
   * nothing, as the real API server does.
   */
  update(t: ResourceType, obj: KObject): KObject {
    const ns = t.namespaced ? obj.metadata.namespace : undefined;
    const name = obj.metadata.name!;
    const key = objectKey(ns, name);
    const cur = this.bucket(t).get(key);
    if (!cur)
      throw new StoreError('NotFound', `${t.plural}${t.group ? '.' + t.group : ''} "${name}" not found`);
    if (obj.metadata.resourceVersion && obj.metadata.resourceVersion !== cur.metadata.resourceVersion) {
      throw new StoreError(
        'Conflict',
        `Operation cannot be fulfilled on ${t.plural}${t.group ? '.' + t.group : ''} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
      );
    }
    const o = clone(obj);
    o.apiVersion = apiVersionOf(this.types.get(typeKey(t)) ?? t); // stored at the preferred version
    o.kind = t.kind;
    if (!t.namespaced) delete o.metadata.namespace;
    o.metadata.uid = cur.metadata.uid;
    o.metadata.creationTimestamp = cur.metadata.creationTimestamp;
    o.metadata.generation = cur.metadata.generation;
    o.metadata.resourceVersion = cur.metadata.resourceVersion;
    if (JSON.stringify(o) === JSON.stringify(cur)) return clone(cur);
    if (specChanged(cur, o)) o.metadata.generation = (cur.metadata.generation ?? 1) + 1;
    o.metadata.resourceVersion = String(++this.rv);
    this.bucket(t).set(key, o);
    this.emit({ type: 'MODIFIED', type_: t, object: o, rv: this.rv });
    return clone(o);
  }

  /** Removes an object for good (finalizers and graceful deletion are the caller's business). */
  remove(t: ResourceType, namespace: string | undefined, name: string): KObject | undefined {
    const key = objectKey(t.namespaced ? namespace : undefined, name);
    const cur = this.bucket(t).get(key);
    if (!cur) return undefined;
    this.bucket(t).delete(key);
    const gone = clone(cur);
    gone.metadata.resourceVersion = String(++this.rv);
    this.emit({ type: 'DELETED', type_: t, object: gone, rv: this.rv });
    return clone(gone);
  }

  /** Every change from now on. Returns the unsubscribe function. */
  subscribe(listener: StoreListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Past changes after `sinceRv` (exclusive), oldest first. Throws Gone when `sinceRv` is older
   * than the kept history (the watch must re-list, as with a real API server's 410).
   */
  eventsSince(sinceRv: number): StoreEvent[] {
    if (sinceRv < this.oldestResourceVersion) {
      throw new StoreError('Gone', `too old resource version: ${sinceRv} (${this.oldestResourceVersion})`);
    }
    return this.history.filter((e) => e.rv > sinceRv);
  }

  private bucket(t: ResourceType): Map<string, KObject> {
    let b = this.data.get(typeKey(t));
    if (!b) {
      b = new Map();
      this.data.set(typeKey(t), b);
    }
    return b;
  }

  private emit(ev: StoreEvent): void {
    this.history.push(ev);
    if (this.history.length > this.historyLimit)
      this.history.splice(0, this.history.length - this.historyLimit);
    for (const l of [...this.listeners]) {
      try {
        l(ev);
      } catch {
        // A broken listener (a closed watch) must not break writes.
      }
    }
  }
}

/** The versions a type is served as, preferred first. */
export function servedVersions(t: ResourceType): string[] {
  return [t.version, ...(t.alsoServed ?? [])];
}

/** `t` as served at `version` (itself for the preferred one); undefined when not served. */
function servedAs(t: ResourceType, version: string): ResourceType | undefined {
  if (t.version === version) return t;
  return t.alsoServed?.includes(version) ? { ...t, version, alsoServed: undefined } : undefined;
}

/** Conversion between served versions is only the apiVersion (no schema conversion is modelled). */
function asVersion(t: ResourceType, o: KObject): KObject {
  o.apiVersion = apiVersionOf(t);
  return o;
}

function specChanged(a: KObject, b: KObject): boolean {
  const strip = (o: KObject) => {
    const { metadata: _m, status: _s, ...rest } = o;
    return JSON.stringify(rest);
  };
  return strip(a) !== strip(b);
}
