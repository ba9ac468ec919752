// Fields the API server refuses to change after creation, with its exact messages
// (ValidateDeploymentUpdate & co., ValidateServiceUpdate, ValidatePersistentVolumeClaimUpdate,
// ValidatePodUpdate of k8s.io/kubernetes pkg/apis/*/validation). Real Forbidden messages for PVC and
// Pod specs end with a Go cmp diff of the two specs; the emulator stops before the diff.
import { quantity } from './controllers/util.js';
import { isMap, jsonEqual } from './patch.js';
import type { FieldError } from './status.js';
import type { KObject, ResourceType } from './store.js';

type JsonMap = Record<string, unknown>;

/** Go's %#v of a map[string]string, as the real messages print it. */
export function goStringMap(m: unknown): string {
  if (!isMap(m)) return 'map[string]string(nil)';
  const entries = Object.keys(m)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${JSON.stringify(String(m[k]))}`);
  return `map[string]string{${entries.join(', ')}}`;
}

function goStrings(v: unknown): string {
  if (!Array.isArray(v)) return '[]string(nil)';
  return `[]string{${v.map((x) => JSON.stringify(String(x))).join(', ')}}`;
}

/** Go's %#v of a *metav1.LabelSelector as validation prints it: `v1.LabelSelector{…}`. */
export function goLabelSelector(sel: unknown): string {
  const s = isMap(sel) ? sel : {};
  const exprs = Array.isArray(s.matchExpressions) ? s.matchExpressions.filter(isMap) : undefined;
  const req = (e: JsonMap) =>
    `v1.LabelSelectorRequirement{Key:${JSON.stringify(String(e.key ?? ''))}, Operator:${JSON.stringify(String(e.operator ?? ''))}, Values:${goStrings(e.values)}}`;
  const expressions = exprs
    ? `[]v1.LabelSelectorRequirement{${exprs.map(req).join(', ')}}`
    : '[]v1.LabelSelectorRequirement(nil)';
  return `v1.LabelSelector{MatchLabels:${goStringMap(s.matchLabels)}, MatchExpressions:${expressions}}`;
}

const SELECTOR_FIXED = new Set(['apps/Deployment', 'apps/ReplicaSet', 'apps/DaemonSet']);

const POD_UPDATABLE =
  'pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)';

const PVC_UPDATABLE =
  'spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims';

function specOf(o: KObject): JsonMap {
  return isMap(o.spec) ? o.spec : {};
}

/** Everything an update of `live` into `next` may not change (empty: allowed). */
export function immutableFieldErrors(t: ResourceType, live: KObject, next: KObject): FieldError[] {
  const before = specOf(live);
  const after = specOf(next);
  const key = `${t.group}/${t.kind}`;
  if (SELECTOR_FIXED.has(key) && !jsonEqual(before.selector, after.selector)) {
    return [
      {
        type: 'FieldValueInvalid',
        field: 'spec.selector',
        body: `Invalid value: ${goLabelSelector(after.selector)}: field is immutable`,
      },
    ];
  }
  if (key === '/Service') return serviceErrors(before, after);
  if (key === '/PersistentVolumeClaim') return claimErrors(live, before, after);
  if (key === '/Pod') return podErrors(before, after);
  return [];
}

/** validateUpgradeDowngradeClusterIPs: the primary cluster IP never changes once allocated. */
function serviceErrors(before: JsonMap, after: JsonMap): FieldError[] {
  if (before.type === 'ExternalName' || after.type === 'ExternalName') return [];
  const oldIps = Array.isArray(before.clusterIPs) ? (before.clusterIPs as unknown[]) : [];
  let newIps = Array.isArray(after.clusterIPs) ? (after.clusterIPs as unknown[]) : [];
  // The storage keeps clusterIPs[0] in step with a changed clusterIP when clusterIPs was left alone.
  if (
    after.clusterIP !== before.clusterIP &&
    jsonEqual(newIps, oldIps) &&
    typeof after.clusterIP === 'string'
  )
    newIps = [after.clusterIP, ...newIps.slice(1)];
  if (before.clusterIP === 'None' && after.clusterIP === 'None') return [];
  const invalid = (body: string): FieldError => ({
    type: 'FieldValueInvalid',
    field: 'spec.clusterIPs[0]',
    body: `Invalid value: ${goStrings(newIps)}: ${body}`,
  });
  if (oldIps.length > 0 && newIps.length === 0) return [invalid('primary clusterIP can not be unset')];
  if (oldIps.length > 0 && newIps[0] !== oldIps[0]) return [invalid('may not change once set')];
  return [];
}

function claimErrors(live: KObject, before: JsonMap, after: JsonMap): FieldError[] {
  const bound = isMap(live.status) && live.status.phase === 'Bound';
  const requests = (s: JsonMap) =>
    isMap(s.resources) && isMap(s.resources.requests) ? s.resources.requests : undefined;
  const oldClone: JsonMap = structuredClone(before);
  const newClone: JsonMap = structuredClone(after);
  // The binder sets volumeName once; a default class may be filled in later (retroactive default).
  if (!oldClone.volumeName) oldClone.volumeName = newClone.volumeName;
  if (oldClone.storageClassName === undefined) oldClone.storageClassName = newClone.storageClassName;
  if (bound) {
    oldClone.volumeAttributesClassName = newClone.volumeAttributesClassName;
    const r = requests(newClone);
    if (r) r.storage = requests(before)?.storage;
  }
  const errs: FieldError[] = [];
  if (!jsonEqual(stripUndefined(oldClone), stripUndefined(newClone)))
    errs.push({ type: 'FieldValueForbidden', field: 'spec', body: `Forbidden: ${PVC_UPDATABLE}` });
  if (quantity(requests(after)?.storage) < quantity(requests(before)?.storage)) {
    errs.push({
      type: 'FieldValueForbidden',
      field: 'spec.resources.requests.storage',
      body: 'Forbidden: field can not be less than previous value',
    });
  }
  return errs;
}

function podErrors(before: JsonMap, after: JsonMap): FieldError[] {
  // ValidatePodUpdate: copy what may change from the new spec onto the old one, then compare.
  const munged: JsonMap = structuredClone(before);
  for (const list of ['containers', 'initContainers']) {
    const olds = Array.isArray(munged[list]) ? (munged[list] as unknown[]) : [];
    const news = Array.isArray(after[list]) ? (after[list] as unknown[]) : [];
    if (olds.length !== news.length) continue;
    olds.forEach((c, i) => {
      const n = news[i];
      if (isMap(c) && isMap(n)) c.image = n.image;
    });
  }
  munged.activeDeadlineSeconds = after.activeDeadlineSeconds;
  const oldTolerations = Array.isArray(before.tolerations) ? before.tolerations : [];
  const newTolerations = Array.isArray(after.tolerations) ? after.tolerations : [];
  if (oldTolerations.every((o) => newTolerations.some((n) => jsonEqual(n, o))))
    munged.tolerations = after.tolerations;
  const grace = before.terminationGracePeriodSeconds;
  if (typeof grace === 'number' && grace < 0 && after.terminationGracePeriodSeconds === 1)
    munged.terminationGracePeriodSeconds = 1;
  if (jsonEqual(stripUndefined(munged), stripUndefined(after))) return [];
  return [{ type: 'FieldValueForbidden', field: 'spec', body: `Forbidden: ${POD_UPDATABLE}` }];
}

function stripUndefined(v: JsonMap): unknown {
  return JSON.parse(JSON.stringify(v)) as unknown;
}
