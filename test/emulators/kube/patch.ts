// Pure patch functions of the Kubernetes API emulator: JSON merge patch (RFC 7386), JSON patch
// (RFC 6902) and a faithful subset of strategic merge patch for the built-in kinds. The HTTP layer
// maps PatchError to a 4xx Status. The list schema below (which list is keyed by what) is shared
// with server-side apply (ssa.ts), because the real server derives both from the same Go struct tags.
import type { KObject } from './store.js';

/** A patch that cannot be applied; the message goes into the 400/422 Status. */
export class PatchError extends Error {
  override readonly name = 'PatchError';
}

type JsonMap = Record<string, unknown>;

export function isMap(v: unknown): v is JsonMap {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function cloneJson<T>(v: T): T {
  return v === undefined ? v : structuredClone(v);
}

/** Structural JSON equality (object key order is irrelevant, as in JSON). */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) {
    return Array.isArray(b) && a.length === b.length && a.every((x, i) => jsonEqual(x, b[i]));
  }
  if (isMap(a)) {
    if (!isMap(b)) return false;
    const ka = Object.keys(a);
    if (ka.length !== Object.keys(b).length) return false;
    return ka.every((k) => Object.hasOwn(b, k) && jsonEqual(a[k], b[k]));
  }
  return false;
}

// ---------------------------------------------------------------------------------------------
// RFC 7386 JSON merge patch

/** RFC 7386: maps merge recursively, null deletes a key, anything else (lists too) replaces. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isMap(patch)) return cloneJson(patch);
  const result: JsonMap = isMap(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete result[k];
    else result[k] = mergePatch(result[k], v);
  }
  return result;
}

// ---------------------------------------------------------------------------------------------
// RFC 6902 JSON patch

export interface JsonPatchOp {
  op: 'add' | 'remove' | 'replace' | 'move' | 'copy' | 'test';
  path: string;
  value?: unknown;
  from?: string;
}

/** RFC 6901: "" is the whole document; "~1" is "/" and "~0" is "~" (decoded in that order). */
function parsePointer(pointer: unknown): string[] {
  if (typeof pointer !== 'string') throw new PatchError(`invalid JSON pointer: ${JSON.stringify(pointer)}`);
  if (pointer === '') return [];
  if (!pointer.startsWith('/'))
    throw new PatchError(`invalid JSON pointer "${pointer}": must start with "/"`);
  return pointer
    .slice(1)
    .split('/')
    .map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function arrayIndex(arr: unknown[], token: string, pointer: string, allowEnd: boolean): number {
  if (allowEnd && token === '-') return arr.length;
  // RFC 6901 forbids leading zeros and signs.
  if (!/^(0|[1-9][0-9]*)$/.test(token))
    throw new PatchError(`invalid array index "${token}" in "${pointer}"`);
  const i = Number(token);
  if (i > arr.length || (!allowEnd && i === arr.length)) {
    throw new PatchError(`array index ${i} out of bounds in "${pointer}"`);
  }
  return i;
}

interface Located {
  parent: JsonMap | unknown[];
  token: string;
}

/** Walk to the parent container of the pointer's last token. */
function locate(doc: unknown, tokens: string[], pointer: string): Located {
  let cur: unknown = doc;
  for (const t of tokens.slice(0, -1)) {
    if (Array.isArray(cur)) cur = cur[arrayIndex(cur, t, pointer, false)];
    else if (isMap(cur) && Object.hasOwn(cur, t)) cur = cur[t];
    else throw new PatchError(`path "${pointer}" does not exist`);
  }
  if (!Array.isArray(cur) && !isMap(cur)) throw new PatchError(`path "${pointer}" does not exist`);
  return { parent: cur, token: tokens[tokens.length - 1] };
}

function getAt(doc: unknown, pointer: string): unknown {
  const tokens = parsePointer(pointer);
  if (tokens.length === 0) return doc;
  const { parent, token } = locate(doc, tokens, pointer);
  if (Array.isArray(parent)) return parent[arrayIndex(parent, token, pointer, false)];
  if (!Object.hasOwn(parent, token)) throw new PatchError(`path "${pointer}" does not exist`);
  return parent[token];
}

/** Returns the new document (the root may be replaced). */
function addAt(doc: unknown, pointer: string, value: unknown): unknown {
  const tokens = parsePointer(pointer);
  if (tokens.length === 0) return value;
  const { parent, token } = locate(doc, tokens, pointer);
  if (Array.isArray(parent)) parent.splice(arrayIndex(parent, token, pointer, true), 0, value);
  else parent[token] = value;
  return doc;
}

function removeAt(doc: unknown, pointer: string): unknown {
  const tokens = parsePointer(pointer);
  if (tokens.length === 0) return undefined;
  const { parent, token } = locate(doc, tokens, pointer);
  if (Array.isArray(parent)) parent.splice(arrayIndex(parent, token, pointer, false), 1);
  else if (!Object.hasOwn(parent, token))
    throw new PatchError(`unable to remove nonexistent key "${pointer}"`);
  else delete parent[token];
  return doc;
}

/** RFC 6902; the target is not modified. Any failing operation (incl. `test`) aborts the whole patch. */
export function jsonPatch(target: unknown, ops: JsonPatchOp[]): unknown {
  if (!Array.isArray(ops)) throw new PatchError('a JSON patch must be an array of operations');
  let doc = cloneJson(target);
  for (const op of ops) {
    if (!isMap(op)) throw new PatchError('each JSON patch operation must be an object');
    const needsValue = op.op === 'add' || op.op === 'replace' || op.op === 'test';
    if (needsValue && !Object.hasOwn(op, 'value'))
      throw new PatchError(`operation "${op.op}" requires "value"`);
    switch (op.op) {
      case 'add':
        doc = addAt(doc, op.path, cloneJson(op.value));
        break;
      case 'remove':
        doc = removeAt(doc, op.path);
        break;
      case 'replace':
        getAt(doc, op.path); // the target location must exist
        doc = addAt(removeAt(doc, op.path), op.path, cloneJson(op.value));
        break;
      case 'move': {
        if (op.from === undefined) throw new PatchError('operation "move" requires "from"');
        if (typeof op.path === 'string' && op.path.startsWith(`${op.from}/`)) {
          throw new PatchError(`cannot move "${op.from}" into its own child "${op.path}"`);
        }
        const v = getAt(doc, op.from);
        doc = addAt(removeAt(doc, op.from), op.path, v);
        break;
      }
      case 'copy': {
        if (op.from === undefined) throw new PatchError('operation "copy" requires "from"');
        doc = addAt(doc, op.path, cloneJson(getAt(doc, op.from)));
        break;
      }
      case 'test':
        if (!jsonEqual(getAt(doc, op.path), op.value)) {
          throw new PatchError(`testing value ${op.path} failed: value does not match`);
        }
        break;
      default:
        throw new PatchError(`unknown JSON patch operation ${JSON.stringify((op as { op: unknown }).op)}`);
    }
  }
  return doc;
}

// ---------------------------------------------------------------------------------------------
// List schema of the built-in kinds (patchStrategy/patchMergeKey and listType/listMapKey tags)

/**
 * How a list is merged. `map`: items identified by `patchKey` for strategic merge and by `keys` for
 * server-side apply (some SSA keys have a server-side default, e.g. protocol TCP). `set`: a list of
 * primitives merged as a set. `atomic`: replaced as a whole.
 */
export type ListStrategy =
  | { type: 'map'; patchKey: string; keys: { name: string; default?: unknown }[] }
  | { type: 'set' }
  | { type: 'atomic' };

const ATOMIC: ListStrategy = { type: 'atomic' };
const SET: ListStrategy = { type: 'set' };
function keyed(patchKey: string, ...extra: { name: string; default?: unknown }[]): ListStrategy {
  return { type: 'map', patchKey, keys: [{ name: patchKey }, ...extra] };
}

/** API groups served by the API server itself; everything else is a custom resource. */
const BUILTIN_GROUPS = new Set([
  '',
  'apps',
  'batch',
  'autoscaling',
  'policy',
  'networking.k8s.io',
  'rbac.authorization.k8s.io',
  'storage.k8s.io',
  'scheduling.k8s.io',
  'coordination.k8s.io',
  'discovery.k8s.io',
  'events.k8s.io',
  'node.k8s.io',
  'certificates.k8s.io',
  'admissionregistration.k8s.io',
  'apiextensions.k8s.io',
  'apiregistration.k8s.io',
  'flowcontrol.apiserver.k8s.io',
  'authentication.k8s.io',
  'authorization.k8s.io',
]);

/**
 * Strategic merge needs Go struct tags, which custom resources lack: a real server answers
 * 415 UnsupportedMediaType for a strategic merge patch on a custom resource.
 */
export function supportsStrategicMerge(kind: { group: string; kind: string }): boolean {
  return BUILTIN_GROUPS.has(kind.group);
}

/** Where the PodSpec sits in each workload kind (field names, no list indices). */
const POD_SPEC_PATHS: Record<string, string[]> = {
  Pod: ['spec'],
  PodTemplate: ['template', 'spec'],
  ReplicationController: ['spec', 'template', 'spec'],
  Deployment: ['spec', 'template', 'spec'],
  ReplicaSet: ['spec', 'template', 'spec'],
  StatefulSet: ['spec', 'template', 'spec'],
  DaemonSet: ['spec', 'template', 'spec'],
  Job: ['spec', 'template', 'spec'],
  CronJob: ['spec', 'jobTemplate', 'spec', 'template', 'spec'],
};

const CONTAINER_LISTS = new Set(['containers', 'initContainers', 'ephemeralContainers']);

/** Lists inside a PodSpec, by their path relative to it. */
function podSpecList(rel: string[]): ListStrategy | undefined {
  if (rel.length === 1) {
    const f = rel[0];
    if (CONTAINER_LISTS.has(f)) return keyed('name');
    if (f === 'volumes' || f === 'imagePullSecrets' || f === 'resourceClaims' || f === 'schedulingGates') {
      return keyed('name');
    }
    if (f === 'hostAliases') return keyed('ip');
    if (f === 'topologySpreadConstraints') return keyed('topologyKey', { name: 'whenUnsatisfiable' });
    return undefined; // tolerations, readinessGates, ...: atomic
  }
  if (rel.length === 2 && CONTAINER_LISTS.has(rel[0])) {
    switch (rel[1]) {
      case 'ports':
        return keyed('containerPort', { name: 'protocol', default: 'TCP' });
      case 'env':
        return keyed('name');
      case 'volumeMounts':
        return keyed('mountPath');
      case 'volumeDevices':
        return keyed('devicePath');
      case 'resizePolicy':
        return ATOMIC;
    }
  }
  return undefined;
}

function startsWith(path: string[], prefix: string[]): boolean {
  return prefix.length <= path.length && prefix.every((p, i) => path[i] === p);
}

/**
 * The merge strategy of the list at `path` (field names from the object root, list indices
 * omitted) in an object of the given kind. Lists not listed here are atomic, as untagged lists
 * are on a real server (and all lists of custom resources without list-type schema markers).
 */
export function listStrategyAt(kind: { group: string; kind: string }, path: string[]): ListStrategy {
  const last = path[path.length - 1];
  const parent = path[path.length - 2];
  // ObjectMeta, at the root and in templates (spec.template.metadata).
  if (parent === 'metadata') {
    if (last === 'finalizers') return SET;
    if (last === 'ownerReferences') return keyed('uid');
    if (last === 'managedFields') return ATOMIC;
  }
  if (!supportsStrategicMerge(kind)) return ATOMIC;
  const podSpec = POD_SPEC_PATHS[kind.kind];
  if (podSpec && startsWith(path, podSpec)) {
    const s = podSpecList(path.slice(podSpec.length));
    if (s) return s;
  }
  if (path.length === 2 && path[0] === 'status' && last === 'conditions') return keyed('type');
  if (kind.group === '' && kind.kind === 'Service' && path.join('.') === 'spec.ports') {
    return keyed('port', { name: 'protocol', default: 'TCP' });
  }
  return ATOMIC;
}

// ---------------------------------------------------------------------------------------------
// Strategic merge patch

const DIRECTIVE = '$patch';
const RETAIN_KEYS = '$retainKeys';
const DELETE_FROM_PRIMITIVE = '$deleteFromPrimitiveList/';
const SET_ELEMENT_ORDER = '$setElementOrder/';

/** Removes `$patch` and the other directive keys from a value that is stored as-is. */
function stripDirectives(v: unknown): unknown {
  if (Array.isArray(v)) {
    return v
      .filter((x) => !(isMap(x) && typeof x[DIRECTIVE] === 'string' && Object.keys(x).length === 1))
      .map(stripDirectives);
  }
  if (!isMap(v)) return v;
  const out: JsonMap = {};
  for (const [k, x] of Object.entries(v)) {
    if (k.startsWith('$')) continue;
    out[k] = stripDirectives(x);
  }
  return out;
}

class Smp {
  constructor(private readonly kind: { group: string; kind: string }) {}

  /** Merges a patch map into an original map; `undefined` means "delete this map". */
  mergeMap(original: JsonMap, patch: JsonMap, path: string[]): JsonMap | undefined {
    const directive = patch[DIRECTIVE];
    if (directive !== undefined) {
      if (directive === 'delete') return undefined;
      if (directive === 'replace') return stripDirectives(patch) as JsonMap;
      if (directive !== 'merge') throw new PatchError(`unknown patch type: ${JSON.stringify(directive)}`);
    }
    const result: JsonMap = { ...original };

    const retain = patch[RETAIN_KEYS];
    if (retain !== undefined) {
      if (!Array.isArray(retain) || !retain.every((k) => typeof k === 'string')) {
        throw new PatchError(`${RETAIN_KEYS} must be a list of strings`);
      }
      // $retainKeys lists every field the map keeps; the others are cleared (used for unions such
      // as a Deployment strategy, where switching type must drop the other member).
      for (const k of Object.keys(patch)) {
        if (!k.startsWith('$') && !retain.includes(k)) {
          throw new PatchError(`field ${k} is set in the patch but missing from ${RETAIN_KEYS}`);
        }
      }
      for (const k of Object.keys(result)) if (!retain.includes(k)) delete result[k];
    }

    const orders = new Map<string, unknown[]>();
    for (const [k, v] of Object.entries(patch)) {
      if (k === DIRECTIVE || k === RETAIN_KEYS) continue;
      if (k.startsWith(DELETE_FROM_PRIMITIVE)) {
        const field = k.slice(DELETE_FROM_PRIMITIVE.length);
        if (!Array.isArray(v)) throw new PatchError(`${k} must be a list`);
        const cur = result[field];
        if (Array.isArray(cur)) result[field] = cur.filter((x) => !v.some((d) => jsonEqual(d, x)));
        continue;
      }
      if (k.startsWith(SET_ELEMENT_ORDER)) {
        if (!Array.isArray(v)) throw new PatchError(`${k} must be a list`);
        orders.set(k.slice(SET_ELEMENT_ORDER.length), v);
        continue;
      }
      if (k.startsWith('$')) throw new PatchError(`unknown patch directive ${k}`);
      const sub = [...path, k];
      if (v === null) {
        delete result[k];
      } else if (isMap(v)) {
        const merged = this.mergeMap(isMap(result[k]) ? (result[k] as JsonMap) : {}, v, sub);
        if (merged === undefined) delete result[k];
        else result[k] = merged;
      } else if (Array.isArray(v)) {
        result[k] = this.mergeList(Array.isArray(result[k]) ? (result[k] as unknown[]) : [], v, sub);
      } else {
        result[k] = v;
      }
    }
    for (const [field, order] of orders) {
      const cur = result[field];
      if (Array.isArray(cur)) result[field] = this.reorder(cur, order, [...path, field]);
    }
    return result;
  }

  mergeList(original: unknown[], patch: unknown[], path: string[]): unknown[] {
    const strategy = listStrategyAt(this.kind, path);
    // A `{$patch: replace}` element replaces the list with the other elements, whatever the strategy.
    const replace = patch.some((x) => isMap(x) && x[DIRECTIVE] === 'replace' && Object.keys(x).length === 1);
    if (replace || strategy.type === 'atomic') return stripDirectives(patch) as unknown[];
    if (strategy.type === 'set') {
      const out = [...original];
      for (const x of patch) if (!out.some((o) => jsonEqual(o, x))) out.push(x);
      return out;
    }
    const key = strategy.patchKey;
    let out = [...original];
    for (const item of patch) {
      if (!isMap(item)) throw new PatchError(`list ${path.join('.')} must contain maps`);
      if (item[DIRECTIVE] === 'merge' && Object.keys(item).length === 1) continue;
      if (!Object.hasOwn(item, key)) {
        throw new PatchError(`map: ${JSON.stringify(item)} does not contain declared merge key: ${key}`);
      }
      const matches = (o: unknown): boolean => isMap(o) && jsonEqual(o[key], item[key]);
      if (item[DIRECTIVE] === 'delete') {
        out = out.filter((o) => !matches(o));
        continue;
      }
      const i = out.findIndex(matches);
      const merged = this.mergeMap(i >= 0 ? (out[i] as JsonMap) : {}, item, path);
      if (i >= 0) {
        if (merged === undefined) out.splice(i, 1);
        else out[i] = merged;
      } else if (merged !== undefined) {
        out.push(merged);
      }
    }
    return out;
  }

  /**
   * `$setElementOrder/<field>`: the client's intended order. Items it names come first in that
   * order; items only the server knows keep their relative order after them.
   */
  reorder(list: unknown[], order: unknown[], path: string[]): unknown[] {
    const strategy = listStrategyAt(this.kind, path);
    const idOf = (x: unknown): unknown => (strategy.type === 'map' && isMap(x) ? x[strategy.patchKey] : x);
    const orderIds = order.map((o) => (strategy.type === 'map' && isMap(o) ? o[strategy.patchKey] : o));
    const rank = (x: unknown): number => {
      const i = orderIds.findIndex((id) => jsonEqual(id, idOf(x)));
      return i < 0 ? orderIds.length : i;
    };
    return list
      .map((x, i) => ({ x, i, r: rank(x) }))
      .sort((a, b) => a.r - b.r || a.i - b.i)
      .map((e) => e.x);
  }
}

/**
 * Strategic merge patch (kubectl's default patch type) for built-in kinds: maps merge, null
 * deletes, lists merge by their merge key or are replaced, per the list schema above.
 */
export function strategicMergePatch(
  target: KObject,
  patch: Record<string, unknown>,
  kind: { group: string; kind: string },
): KObject {
  if (!isMap(patch)) throw new PatchError('a strategic merge patch must be a JSON object');
  const merged = new Smp(kind).mergeMap(cloneJson(target) as unknown as JsonMap, cloneJson(patch), []);
  if (merged === undefined) throw new PatchError('a strategic merge patch cannot delete the whole object');
  return merged as KObject;
}
