// Server-side apply and managed-fields tracking of the Kubernetes API emulator, following the
// semantics of the real API server (k8s.io/apimachinery fieldmanager + structured-merge-diff):
// field sets in FieldsV1 form, one managedFields entry per (manager, operation, subresource),
// conflicts on changed fields owned by others, force to take ownership, and pruning of fields an
// applier stopped applying. Pure functions: the HTTP layer does I/O, preconditions and Status.
import type { KObject, ManagedFieldsEntry } from './store.js';
import { PatchError, isMap, jsonEqual, listStrategyAt, type ListStrategy } from './patch.js';

export interface FieldConflict {
  manager: string;
  /** Path as the real server prints it: `.spec.replicas`, `.spec.template.spec.containers[name="web"].image`. */
  field: string;
}

type JsonMap = Record<string, unknown>;
type Kind = { group: string; kind: string };
/** A field path as FieldsV1 path elements: `f:spec`, `k:{"name":"web"}`, `v:"a"`. */
type Path = string[];

/** Set by the server, never owned by a manager (the stripped set of the real fieldmanager). */
const SERVER_META = new Set([
  'name',
  'namespace',
  'uid',
  'resourceVersion',
  'generation',
  'creationTimestamp',
  'selfLink',
  'managedFields',
  'deletionTimestamp',
  'deletionGracePeriodSeconds',
  'clusterName',
]);

/**
 * Non-pointer Go structs: they exist (empty) even in a zero-value object, so an Update never
 * "adds" them and the real server writes no `.` member for them in an Update entry.
 */
const ALWAYS_PRESENT = new Set(['metadata', 'spec', 'status', 'template', 'jobTemplate']);

const MISSING = Symbol('missing');

function kindOf(obj: { apiVersion?: unknown; kind?: unknown }): Kind {
  const apiVersion = typeof obj.apiVersion === 'string' ? obj.apiVersion : '';
  const slash = apiVersion.indexOf('/');
  return {
    group: slash < 0 ? '' : apiVersion.slice(0, slash),
    kind: typeof obj.kind === 'string' ? obj.kind : '',
  };
}

/** Field names of a path (list item elements dropped), as the list schema addresses lists. */
function namesOf(path: Path): string[] {
  return path.filter((e) => e.startsWith('f:')).map((e) => e.slice(2));
}

// ---------------------------------------------------------------------------------------------
// Path sets

class PathSet {
  private readonly m = new Map<string, Path>();

  private static key(p: Path): string {
    return JSON.stringify(p);
  }

  static fromFieldsV1(tree: unknown): PathSet {
    const set = new PathSet();
    const walk = (node: unknown, path: Path): void => {
      if (!isMap(node)) return;
      for (const [k, child] of Object.entries(node)) {
        if (k === '.') set.add(path);
        else if (isMap(child) && Object.keys(child).length === 0) set.add([...path, k]);
        else walk(child, [...path, k]);
      }
    };
    walk(tree, []);
    return set;
  }

  add(p: Path): void {
    this.m.set(PathSet.key(p), p);
  }

  has(p: Path): boolean {
    return this.m.has(PathSet.key(p));
  }

  delete(p: Path): void {
    this.m.delete(PathSet.key(p));
  }

  get size(): number {
    return this.m.size;
  }

  paths(): Path[] {
    return [...this.m.values()];
  }

  /** Whether the set holds `p` or anything below it. */
  touches(p: Path): boolean {
    const prefix = PathSet.key(p).slice(0, -1); // '["f:a","f:b"' matches itself and descendants
    for (const k of this.m.keys()) if (k === `${prefix}]` || k.startsWith(`${prefix},`)) return true;
    return false;
  }

  union(o: PathSet): PathSet {
    const out = new PathSet();
    for (const p of this.paths()) out.add(p);
    for (const p of o.paths()) out.add(p);
    return out;
  }

  minus(o: PathSet): PathSet {
    const out = new PathSet();
    for (const p of this.paths()) if (!o.has(p)) out.add(p);
    return out;
  }

  filter(pred: (p: Path) => boolean): PathSet {
    const out = new PathSet();
    for (const p of this.paths()) if (pred(p)) out.add(p);
    return out;
  }

  /** FieldsV1: a member with children gets `.: {}`; children sorted as the real server does. */
  toFieldsV1(): JsonMap {
    interface Node {
      member: boolean;
      children: Map<string, Node>;
    }
    const root: Node = { member: false, children: new Map() };
    for (const p of this.paths()) {
      let n = root;
      for (const e of p) {
        let c = n.children.get(e);
        if (!c) n.children.set(e, (c = { member: false, children: new Map() }));
        n = c;
      }
      n.member = true;
    }
    const encode = (n: Node): JsonMap => {
      const out: JsonMap = {};
      if (n.member && n.children.size) out['.'] = {};
      for (const k of [...n.children.keys()].sort()) out[k] = encode(n.children.get(k) as Node);
      return out;
    };
    return encode(root);
  }
}

// ---------------------------------------------------------------------------------------------
// Walking objects by path

/** The path element of a list item: `k:{...}` for keyed lists (key fields sorted), `v:` for sets. */
function itemElement(item: unknown, strategy: ListStrategy, names: string[]): string {
  if (strategy.type === 'set') return `v:${JSON.stringify(item)}`;
  if (strategy.type !== 'map') throw new Error('atomic lists have no item elements');
  if (!isMap(item)) throw new PatchError(`.${names.join('.')}: list items must be objects`);
  const key: JsonMap = {};
  for (const k of [...strategy.keys].sort((a, b) => a.name.localeCompare(b.name))) {
    const v = item[k.name] ?? k.default;
    if (v === undefined) {
      throw new PatchError(
        `.${names.join('.')}: associative list with keys has an element that omits key field "${k.name}"`,
      );
    }
    key[k.name] = v;
  }
  return `k:${JSON.stringify(key)}`;
}

function valueAt(kind: Kind, obj: unknown, path: Path): unknown {
  let cur: unknown = obj;
  for (let i = 0; i < path.length; i++) {
    const e = path[i];
    if (e.startsWith('f:')) {
      if (!isMap(cur) || !Object.hasOwn(cur, e.slice(2))) return MISSING;
      cur = cur[e.slice(2)];
    } else {
      if (!Array.isArray(cur)) return MISSING;
      const names = namesOf(path.slice(0, i));
      const strategy = listStrategyAt(kind, names);
      if (strategy.type === 'atomic') return MISSING;
      const found = cur.find((x) => safeElement(x, strategy, names) === e);
      if (found === undefined) return MISSING;
      cur = found;
    }
  }
  return cur;
}

function safeElement(x: unknown, strategy: ListStrategy, names: string[]): string | undefined {
  try {
    return itemElement(x, strategy, names);
  } catch {
    return undefined; // a malformed live item cannot be addressed; it is simply not matched
  }
}

/** Removes the value at `path` from `obj` (in place); a no-op when it is already gone. */
function removeAt(kind: Kind, obj: JsonMap, path: Path): void {
  const parent = valueAt(kind, obj, path.slice(0, -1));
  const last = path[path.length - 1];
  if (last.startsWith('f:')) {
    if (isMap(parent)) delete parent[last.slice(2)];
  } else if (Array.isArray(parent)) {
    const names = namesOf(path.slice(0, -1));
    const strategy = listStrategyAt(kind, names);
    const i = parent.findIndex((x) => safeElement(x, strategy, names) === last);
    if (i >= 0) parent.splice(i, 1);
  }
}

/** Printable path, as in the real server's conflict messages. */
function pathString(p: Path): string {
  return p
    .map((e) => {
      const body = e.slice(2);
      if (e.startsWith('f:')) return `.${body}`;
      if (e.startsWith('v:')) return `[=${body}]`;
      const key = JSON.parse(body) as JsonMap;
      return `[${Object.entries(key)
        .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
        .join(',')}]`;
    })
    .join('');
}

// ---------------------------------------------------------------------------------------------
// Field sets of objects

/**
 * `leaves`: the set an applier owns (structured-merge-diff ToFieldSet): scalars, atomic lists,
 * empty maps, list items and set values, but not maps that merely contain owned fields.
 * `all`: additionally every non-struct map, which is what an Update "adds" when it creates a map.
 */
function collect(kind: Kind, obj: unknown, mode: 'leaves' | 'all'): PathSet {
  const out = new PathSet();
  const value = (v: unknown, path: Path, names: string[]): void => {
    if (isMap(v)) {
      if (Object.keys(v).length === 0) out.add(path);
      else {
        if (mode === 'all' && !ALWAYS_PRESENT.has(names[names.length - 1])) out.add(path);
        fields(v, path, names);
      }
    } else if (Array.isArray(v)) {
      const strategy = listStrategyAt(kind, names);
      if (strategy.type === 'atomic' || v.length === 0) {
        out.add(path);
        return;
      }
      for (const item of v) {
        const ip = [...path, itemElement(item, strategy, names)];
        out.add(ip);
        if (strategy.type === 'map' && isMap(item)) fields(item, ip, names);
      }
    } else {
      out.add(path);
    }
  };
  const fields = (m: JsonMap, path: Path, names: string[]): void => {
    for (const [k, v] of Object.entries(m)) {
      if (path.length === 0 && (k === 'apiVersion' || k === 'kind')) continue;
      if (path.length === 1 && path[0] === 'f:metadata' && SERVER_META.has(k)) continue;
      value(v, [...path, `f:${k}`], [...names, k]);
    }
  };
  if (isMap(obj)) fields(obj, [], []);
  return out;
}

function parseFieldPath(path: string | undefined): string[] {
  if (!path) return [];
  return path.replace(/^\./, '').split('.').filter(Boolean);
}

function under(prefix: string[]): (p: Path) => boolean {
  return (p) => prefix.every((name, i) => p[i] === `f:${name}`);
}

/**
 * The FieldsV1 field set an applier of `obj` would own. `path` (e.g. "spec" or ".status")
 * restricts it to that subtree; the kind for the list schema comes from obj's apiVersion/kind.
 */
export function fieldSetOf(obj: unknown, path?: string): Record<string, unknown> {
  const kind = isMap(obj) ? kindOf(obj) : { group: '', kind: '' };
  return collect(kind, obj, 'leaves')
    .filter(under(parseFieldPath(path)))
    .toFieldsV1();
}

// ---------------------------------------------------------------------------------------------
// Managed fields

interface Manager {
  manager: string;
  operation: 'Apply' | 'Update';
  apiVersion: string;
  time?: string;
  subresource?: string;
  set: PathSet;
}

function decode(obj: KObject | undefined): Manager[] {
  return (obj?.metadata.managedFields ?? []).map((e) => ({
    manager: e.manager,
    operation: e.operation,
    apiVersion: e.apiVersion,
    time: e.time,
    subresource: e.subresource || undefined,
    set: PathSet.fromFieldsV1(e.fieldsV1),
  }));
}

function sameIdentity(
  m: Manager,
  manager: string,
  operation: string,
  subresource: string | undefined,
): boolean {
  return m.manager === manager && m.operation === operation && (m.subresource ?? '') === (subresource ?? '');
}

function seconds(time: string | undefined): number {
  const t = time ? Date.parse(time) : NaN;
  return Number.isNaN(t) ? 0 : Math.floor(t / 1000);
}

/** Empty sets are dropped; order as the real server sorts: Apply before Update, then time, manager. */
function encode(managers: Manager[]): ManagedFieldsEntry[] {
  return managers
    .filter((m) => m.set.size > 0)
    .sort(
      (p, q) =>
        p.operation.localeCompare(q.operation) ||
        seconds(p.time) - seconds(q.time) ||
        p.manager.localeCompare(q.manager) ||
        p.apiVersion.localeCompare(q.apiVersion) ||
        (p.subresource ?? '').localeCompare(q.subresource ?? ''),
    )
    .map((m) => {
      const e: ManagedFieldsEntry = {
        manager: m.manager,
        operation: m.operation,
        apiVersion: m.apiVersion,
        time: m.time,
        fieldsType: 'FieldsV1',
        fieldsV1: m.set.toFieldsV1(),
      };
      if (m.time === undefined) delete e.time;
      if (m.subresource) e.subresource = m.subresource;
      return e;
    });
}

/** An applied value at a leaf "changes" the live object if absent there or (for values) different. */
function changes(kind: Kind, live: unknown, applied: unknown, p: Path): boolean {
  const before = valueAt(kind, live, p);
  if (before === MISSING) return true;
  const after = valueAt(kind, applied, p);
  if (isMap(before) && isMap(after)) return false; // a map's presence, not its content
  const last = p[p.length - 1];
  if (!last.startsWith('f:')) return false; // list item / set value: presence only
  return !jsonEqual(before, after);
}

/** The paths whose value differs between two objects (added, removed or modified). */
function diff(kind: Kind, before: unknown, after: unknown, restrict: (p: Path) => boolean) {
  const b = collect(kind, before, 'all').filter(restrict);
  const a = collect(kind, after, 'all').filter(restrict);
  const added = a.minus(b);
  const removed = b.minus(a);
  const modified = a.filter((p) => {
    if (!b.has(p)) return false;
    const x = valueAt(kind, before, p);
    const y = valueAt(kind, after, p);
    if (isMap(x) && isMap(y)) return false;
    const last = p[p.length - 1];
    if (!last.startsWith('f:')) return false;
    if (Array.isArray(x) && Array.isArray(y) && listStrategyAt(kind, namesOf(p)).type !== 'atomic')
      return false;
    return !jsonEqual(x, y);
  });
  return { added, removed, modified };
}

// ---------------------------------------------------------------------------------------------
// Merge

function mergeValue(kind: Kind, live: unknown, applied: unknown, names: string[]): unknown {
  if (isMap(applied)) {
    const out: JsonMap = isMap(live) ? { ...live } : {};
    for (const [k, v] of Object.entries(applied)) {
      if (v === null) delete out[k];
      else out[k] = mergeValue(kind, out[k], v, [...names, k]);
    }
    return out;
  }
  if (Array.isArray(applied)) {
    const strategy = listStrategyAt(kind, names);
    if (strategy.type === 'atomic' || !Array.isArray(live)) return structuredClone(applied);
    const out = [...live];
    for (const item of applied) {
      const e = itemElement(item, strategy, names);
      const i = out.findIndex((x) => safeElement(x, strategy, names) === e);
      if (i < 0) out.push(structuredClone(item));
      else if (strategy.type === 'map') out[i] = mergeValue(kind, out[i], item, names);
    }
    return out;
  }
  return applied;
}

/** Rejects duplicate keys in the applied config, as the real server does. */
function checkDuplicates(kind: Kind, applied: unknown, names: string[] = []): void {
  if (isMap(applied)) {
    for (const [k, v] of Object.entries(applied)) checkDuplicates(kind, v, [...names, k]);
  } else if (Array.isArray(applied)) {
    const strategy = listStrategyAt(kind, names);
    if (strategy.type === 'atomic') return;
    const seen = new Set<string>();
    for (const item of applied) {
      const e = itemElement(item, strategy, names);
      if (seen.has(e)) throw new PatchError(`.${names.join('.')}: duplicate entries for key ${e.slice(2)}`);
      seen.add(e);
      if (isMap(item)) checkDuplicates(kind, item, names);
    }
  }
}

/** The applied config as it takes part in the merge: no status, no server-owned metadata. */
function applicable(applied: KObject): KObject {
  const out = structuredClone(applied);
  delete out.status;
  for (const k of SERVER_META) if (k !== 'name' && k !== 'namespace') delete out.metadata[k];
  return out;
}

// ---------------------------------------------------------------------------------------------
// Server-side apply

/**
 * Server-side apply of `applied` by `opts.manager`. On conflicts without force, the live object
 * is returned unchanged with the conflicts (the HTTP layer answers 409); with force, or without
 * conflicts, `conflicts` is empty. `live` undefined means create. Throws PatchError for an
 * invalid config (list item without its key, duplicate keys).
 */
export function serverSideApply(
  live: KObject | undefined,
  applied: KObject,
  opts: { manager: string; force: boolean; apiVersion: string; now: string },
): { object: KObject; conflicts: FieldConflict[] } {
  const kind = kindOf(applied);
  const config = applicable(applied);
  if (!isMap(config.metadata)) throw new PatchError('metadata must be an object');
  checkDuplicates(kind, config);
  const notStatus = (p: Path): boolean => p[0] !== 'f:status';
  const applySet = collect(kind, config, 'leaves').filter(notStatus);

  let managers = decode(live);
  if (live && managers.length === 0) {
    // An object that was never tracked: the real server attributes its current fields to
    // "before-first-apply" so that the first apply cannot silently take them over.
    const set = collect(kind, live, 'leaves').filter(notStatus);
    managers = [{ manager: 'before-first-apply', operation: 'Update', apiVersion: opts.apiVersion, set }];
  }
  const isSelf = (m: Manager): boolean => sameIdentity(m, opts.manager, 'Apply', undefined);

  // Conflicts: fields this apply changes that another manager owns.
  const conflicts: FieldConflict[] = [];
  const conflicting = new PathSet();
  if (live) {
    for (const p of applySet.paths()) {
      if (!changes(kind, live, config, p)) continue;
      for (const m of managers) {
        if (isSelf(m) || !m.set.has(p)) continue;
        conflicts.push({ manager: m.manager, field: pathString(p) });
        conflicting.add(p);
      }
    }
  }
  if (conflicts.length && !opts.force) return { object: structuredClone(live as KObject), conflicts };
  // Force: ownership of the conflicting fields moves to the applier.
  for (const m of managers) if (!isSelf(m)) m.set = m.set.minus(conflicting);

  const merged = (live ? mergeValue(kind, live, config, []) : config) as KObject;
  const object = structuredClone(merged);
  if (live) {
    // Keep what the server owns, whatever the applied config says.
    object.metadata = { ...object.metadata, ...pickServerMeta(live) };
    if (live.status !== undefined) object.status = structuredClone(live.status);
    else delete object.status;
  }

  // Prune: what this manager applied before but no longer does, unless someone else owns it.
  const previous = managers.find(isSelf)?.set ?? new PathSet();
  const others = managers.filter((m) => !isSelf(m));
  const dropped = previous.minus(applySet).paths();
  // Parents first: removing an item removes its fields; an item kept because another manager owns
  // something in it loses only this manager's fields, never its key fields (they identify it).
  dropped.sort((a, b) => a.length - b.length);
  for (const p of dropped) {
    if (others.some((m) => m.set.touches(p)) || isKeyField(p)) continue;
    removeAt(kind, object as unknown as JsonMap, p);
  }

  const self: Manager = {
    manager: opts.manager,
    operation: 'Apply',
    apiVersion: opts.apiVersion,
    time: opts.now,
    set: applySet,
  };
  object.metadata.managedFields = encode([...others, self]);
  // Forced conflicts are resolved, not reported: a non-empty list always means "409, nothing written".
  return { object, conflicts: [] };
}

function isKeyField(p: Path): boolean {
  const item = p[p.length - 2];
  const last = p[p.length - 1];
  if (!item?.startsWith('k:') || !last.startsWith('f:')) return false;
  return Object.hasOwn(JSON.parse(item.slice(2)) as JsonMap, last.slice(2));
}

function pickServerMeta(live: KObject): JsonMap {
  const out: JsonMap = {};
  for (const k of SERVER_META)
    if (k !== 'managedFields' && live.metadata[k] !== undefined) out[k] = live.metadata[k];
  return out;
}

// ---------------------------------------------------------------------------------------------
// Update tracking

/**
 * Ownership after a non-apply write (create, update, any patch) by `opts.manager`: the fields it
 * added or changed become its own and leave every other manager's set; removed fields leave all
 * sets. On create (no `before`) the writer owns every field. Without a subresource status is not
 * tracked (the main resource ignores it); with `status` only status is; other subresources
 * (scale) track what they changed. The managedFields of `after` are ignored in favour of
 * `before`'s, as the server does when a client echoes them back.
 */
export function trackUpdate(
  before: KObject | undefined,
  after: KObject,
  opts: { manager: string; operation: 'Update'; apiVersion: string; now: string; subresource?: string },
): KObject {
  const kind = kindOf(after);
  const restrict =
    opts.subresource === 'status' ? (p: Path) => p[0] === 'f:status' : (p: Path) => p[0] !== 'f:status';
  const { added, removed, modified } = diff(kind, before, after, restrict);
  const changed = added.union(modified);
  const touched = changed.union(removed);

  const managers = decode(before);
  let self = managers.find((m) => sameIdentity(m, opts.manager, opts.operation, opts.subresource));
  for (const m of managers) if (m !== self) m.set = m.set.minus(touched);
  if (!self && changed.size > 0) {
    self = { manager: opts.manager, operation: 'Update', apiVersion: opts.apiVersion, set: new PathSet() };
    if (opts.subresource) self.subresource = opts.subresource;
    managers.push(self);
  }
  if (self) {
    self.set = self.set.union(changed).minus(removed);
    if (touched.size > 0) {
      self.time = opts.now;
      self.apiVersion = opts.apiVersion;
    }
  }
  const object = structuredClone(after);
  object.metadata.managedFields = encode(managers);
  if (object.metadata.managedFields.length === 0) delete object.metadata.managedFields;
  return object;
}
