// An object's identity as a value (cli-utils' ObjMetadata): group, kind, namespace, name. Messages
// print it with formatObjectId; code compares and keys by the fields, never by re-parsing a string.
import { apiGroup, isBuiltinGroup } from './kube-object.js';

export interface ObjectId {
  /** API group, '' for the core group. */
  group: string;
  kind: string;
  /** Absent for cluster-scoped objects (and for rendered objects that do not name one). */
  namespace?: string;
  name: string;
}

/** The identity of a rendered or live object whose apiVersion and kind are known. */
export function objectId(o: {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
}): ObjectId {
  const id: ObjectId = { group: apiGroup(o.apiVersion), kind: o.kind, name: o.metadata.name };
  if (o.metadata.namespace) id.namespace = o.metadata.namespace;
  return id;
}

/**
 * `Deployment/web`, `HTTPRoute.gateway.networking.k8s.io/web`: how every message names an object
 * (built-in groups bare, others with the group, as objectRef does for rendered objects).
 */
export function formatObjectId(id: ObjectId): string {
  return `${formatKind(id)}/${id.name}`;
}

/** `Deployment`, `HTTPRoute.gateway.networking.k8s.io`: the kind part of formatObjectId. */
export function formatKind(id: Pick<ObjectId, 'group' | 'kind'>): string {
  return isBuiltinGroup(id.group) ? id.kind : `${id.kind}.${id.group}`;
}

/** A stable key for maps and sets: group, kind, namespace and name. */
export function objectKey(id: ObjectId): string {
  return `${id.group}|${id.kind}|${id.namespace ?? ''}|${id.name}`;
}

export function sameObject(a: ObjectId, b: ObjectId): boolean {
  return objectKey(a) === objectKey(b);
}

/**
 * `a, b, c and 247 more`: a list of objects for one line of a message, at most `max` named, so a
 * failure of hundreds of objects stays a readable line (the log and summary tables have them all).
 */
export function listSome(items: readonly string[], max = 10): string {
  if (items.length <= max) return items.join(', ');
  return `${items.slice(0, max).join(', ')} and ${items.length - max} more`;
}
