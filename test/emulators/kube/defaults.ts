// API defaulting as the real v1.32 API server applies it when it decodes a write (create, update,
// patch; for apply, after the merge): the SetDefaults_* functions of k8s.io/kubernetes
// pkg/apis/{core,apps,batch,networking}/v1 for the built-in kinds our clients use, plus what the
// admission plugins every cluster runs add to pods (ServiceAccount, Priority,
// DefaultTolerationSeconds). Service IP and node-port allocation (the REST storage's job) is the
// server's; this module only fills the plain defaults.
import { defaultLimitRange } from './limitrange.js';
import { isMap } from './patch.js';
import type { KObject, ResourceType } from './store.js';

type JsonMap = Record<string, unknown>;

function mapAt(parent: JsonMap, key: string): JsonMap {
  const v = parent[key];
  if (isMap(v)) return v;
  const m: JsonMap = {};
  parent[key] = m;
  return m;
}

function maps(v: unknown): JsonMap[] {
  return Array.isArray(v) ? v.filter(isMap) : [];
}

/** SetDefaults_Container's image pull policy: Always for `:latest` or no tag, else IfNotPresent. */
export function defaultPullPolicy(image: string): string {
  if (image.includes('@')) return 'IfNotPresent';
  const lastSegment = image.slice(image.lastIndexOf('/') + 1);
  const colon = lastSegment.lastIndexOf(':');
  if (colon < 0) return 'Always';
  return lastSegment.slice(colon + 1) === 'latest' ? 'Always' : 'IfNotPresent';
}

function defaultProbe(p: unknown): void {
  if (!isMap(p)) return;
  p.timeoutSeconds ??= 1;
  p.periodSeconds ??= 10;
  p.successThreshold ??= 1;
  p.failureThreshold ??= 3;
  if (isMap(p.httpGet)) {
    p.httpGet.path ??= '/';
    p.httpGet.scheme ??= 'HTTP';
  }
}

function defaultHandler(h: unknown): void {
  if (isMap(h) && isMap(h.httpGet)) {
    h.httpGet.path ??= '/';
    h.httpGet.scheme ??= 'HTTP';
  }
}

function defaultContainer(c: JsonMap): void {
  if (c.imagePullPolicy === undefined && typeof c.image === 'string')
    c.imagePullPolicy = defaultPullPolicy(c.image);
  c.terminationMessagePath ??= '/dev/termination-log';
  c.terminationMessagePolicy ??= 'File';
  c.resources ??= {};
  for (const p of maps(c.ports)) p.protocol ??= 'TCP';
  defaultProbe(c.livenessProbe);
  defaultProbe(c.readinessProbe);
  defaultProbe(c.startupProbe);
  if (isMap(c.lifecycle)) {
    defaultHandler(c.lifecycle.postStart);
    defaultHandler(c.lifecycle.preStop);
  }
  for (const e of maps(c.env)) {
    const fieldRef = isMap(e.valueFrom) ? e.valueFrom.fieldRef : undefined;
    if (isMap(fieldRef)) fieldRef.apiVersion ??= 'v1';
  }
}

function defaultVolume(v: JsonMap): void {
  for (const k of ['configMap', 'secret', 'downwardAPI', 'projected']) {
    if (isMap(v[k])) v[k].defaultMode ??= 420;
  }
  const sources = Object.keys(v).filter((k) => k !== 'name');
  if (sources.length === 0) v.emptyDir = {};
}

/** SetDefaults_PodSpec (and the container, volume, probe defaults under it). */
export function defaultPodSpec(spec: JsonMap): void {
  spec.restartPolicy ??= 'Always';
  spec.terminationGracePeriodSeconds ??= 30;
  spec.dnsPolicy ??= 'ClusterFirst';
  spec.securityContext ??= {};
  spec.schedulerName ??= 'default-scheduler';
  for (const list of ['initContainers', 'containers', 'ephemeralContainers'])
    for (const c of maps(spec[list])) defaultContainer(c);
  for (const v of maps(spec.volumes)) defaultVolume(v);
  // The deprecated alias the API server keeps in step with serviceAccountName.
  if (typeof spec.serviceAccountName === 'string' && spec.serviceAccountName)
    spec.serviceAccount ??= spec.serviceAccountName;
}

function defaultTemplate(parent: JsonMap): void {
  if (!isMap(parent.template)) return;
  defaultPodSpec(mapAt(parent.template, 'spec'));
}

/**
 * SetDefaults_Pod: a container that states a limit but no request for a resource requests its
 * limit (pods only, not templates).
 */
export function defaultRequestsFromLimits(spec: JsonMap): void {
  for (const c of [...maps(spec.containers), ...maps(spec.initContainers)]) {
    const res = isMap(c.resources) ? c.resources : undefined;
    if (!res || !isMap(res.limits) || Object.keys(res.limits).length === 0) continue;
    const requests = mapAt(res, 'requests');
    for (const [k, v] of Object.entries(res.limits)) requests[k] ??= v;
  }
}

/** Defaults of the Pod itself plus the admission plugins every cluster runs. */
function defaultPod(o: KObject): void {
  const spec = mapAt(o as unknown as JsonMap, 'spec');
  defaultRequestsFromLimits(spec);
  // ServiceAccount admission.
  if (!spec.serviceAccountName) spec.serviceAccountName = 'default';
  defaultPodSpec(spec);
  spec.enableServiceLinks ??= true;
  // Priority admission.
  spec.priority ??= 0;
  spec.preemptionPolicy ??= 'PreemptLowerPriority';
  // DefaultTolerationSeconds admission.
  const tolerations = maps(spec.tolerations);
  const add = (key: string) => {
    if (tolerations.some((t) => t.key === key && t.effect === 'NoExecute')) return;
    tolerations.push({ key, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 });
  };
  add('node.kubernetes.io/not-ready');
  add('node.kubernetes.io/unreachable');
  spec.tolerations = tolerations;
}

/**
 * Fills the defaults of `o` (of type `t`) in place, as the API server's decoder does. Idempotent:
 * a defaulted object defaults to itself, so re-applies and no-op updates stay no-ops.
 */
export function applyDefaults(t: Pick<ResourceType, 'group' | 'kind'>, o: KObject): void {
  const root = o as unknown as JsonMap;
  const key = `${t.group}/${t.kind}`;
  switch (key) {
    case '/Pod':
      defaultPod(o);
      return;
    case '/Secret': {
      root.type ??= 'Opaque';
      // stringData is write-only: the API server merges it into data (base64) and never stores it.
      const stringData = root.stringData;
      if (stringData && typeof stringData === 'object' && !Array.isArray(stringData)) {
        const data = mapAt(root, 'data');
        for (const [k, v] of Object.entries(stringData as JsonMap))
          data[k] = Buffer.from(String(v), 'utf8').toString('base64');
      }
      delete root.stringData;
      return;
    }
    case '/PersistentVolumeClaim':
      mapAt(root, 'spec').volumeMode ??= 'Filesystem';
      return;
    case '/LimitRange':
      defaultLimitRange(o);
      return;
    case '/PodTemplate':
      defaultTemplate(root);
      return;
    case '/ReplicationController': {
      const spec = mapAt(root, 'spec');
      spec.replicas ??= 1;
      defaultTemplate(spec);
      return;
    }
    case 'apps/Deployment': {
      const spec = mapAt(root, 'spec');
      spec.replicas ??= 1;
      const strategy = mapAt(spec, 'strategy');
      strategy.type ??= 'RollingUpdate';
      if (strategy.type === 'RollingUpdate') {
        const ru = mapAt(strategy, 'rollingUpdate');
        ru.maxUnavailable ??= '25%';
        ru.maxSurge ??= '25%';
      }
      spec.revisionHistoryLimit ??= 10;
      spec.progressDeadlineSeconds ??= 600;
      defaultTemplate(spec);
      return;
    }
    case 'apps/ReplicaSet': {
      const spec = mapAt(root, 'spec');
      spec.replicas ??= 1;
      defaultTemplate(spec);
      return;
    }
    case 'apps/StatefulSet': {
      const spec = mapAt(root, 'spec');
      spec.replicas ??= 1;
      spec.podManagementPolicy ??= 'OrderedReady';
      const strategy = mapAt(spec, 'updateStrategy');
      strategy.type ??= 'RollingUpdate';
      if (strategy.type === 'RollingUpdate') mapAt(strategy, 'rollingUpdate').partition ??= 0;
      spec.revisionHistoryLimit ??= 10;
      const retention = mapAt(spec, 'persistentVolumeClaimRetentionPolicy');
      retention.whenDeleted ??= 'Retain';
      retention.whenScaled ??= 'Retain';
      for (const pvc of maps(spec.volumeClaimTemplates)) {
        const pvcSpec = mapAt(pvc, 'spec');
        pvcSpec.volumeMode ??= 'Filesystem';
        pvc.apiVersion ??= 'v1';
        pvc.kind ??= 'PersistentVolumeClaim';
      }
      defaultTemplate(spec);
      return;
    }
    case 'apps/DaemonSet': {
      const spec = mapAt(root, 'spec');
      const strategy = mapAt(spec, 'updateStrategy');
      strategy.type ??= 'RollingUpdate';
      if (strategy.type === 'RollingUpdate') {
        const ru = mapAt(strategy, 'rollingUpdate');
        ru.maxUnavailable ??= 1;
        ru.maxSurge ??= 0;
      }
      spec.revisionHistoryLimit ??= 10;
      defaultTemplate(spec);
      return;
    }
    case 'batch/Job': {
      const spec = mapAt(root, 'spec');
      if (spec.completions === undefined && spec.parallelism === undefined) spec.completions = 1;
      spec.parallelism ??= 1;
      spec.backoffLimit ??= 6;
      spec.completionMode ??= 'NonIndexed';
      spec.suspend ??= false;
      spec.podReplacementPolicy ??= 'TerminatingOrFailed';
      defaultTemplate(spec);
      return;
    }
    case 'batch/CronJob': {
      const spec = mapAt(root, 'spec');
      spec.concurrencyPolicy ??= 'Allow';
      spec.suspend ??= false;
      spec.successfulJobsHistoryLimit ??= 3;
      spec.failedJobsHistoryLimit ??= 1;
      if (isMap(spec.jobTemplate)) defaultTemplate(mapAt(spec.jobTemplate, 'spec'));
      return;
    }
    case 'networking.k8s.io/NetworkPolicy': {
      const spec = mapAt(root, 'spec');
      if (spec.policyTypes === undefined) {
        spec.policyTypes = Array.isArray(spec.egress) ? ['Ingress', 'Egress'] : ['Ingress'];
      }
      return;
    }
  }
}

const JOB_UID_LABEL = 'batch.kubernetes.io/controller-uid';
const JOB_NAME_LABEL = 'batch.kubernetes.io/job-name';
const LEGACY_JOB_UID_LABEL = 'controller-uid';
const LEGACY_JOB_NAME_LABEL = 'job-name';
const JOB_GENERATED_LABELS = [JOB_UID_LABEL, JOB_NAME_LABEL, LEGACY_JOB_UID_LABEL, LEGACY_JOB_NAME_LABEL];

/**
 * The job strategy's PrepareForCreate (generateSelector) for a Job without a selector: select on
 * the Job's uid and label the pod template with its uid and name, the new (≥1.27) and the legacy
 * keys. A Job that brings its own selector is left as it is; manualSelector stays unset.
 */
export function generateJobSelector(o: KObject, uid: string): void {
  const root = o as unknown as JsonMap;
  const spec = mapAt(root, 'spec');
  if (spec.selector !== undefined || spec.manualSelector === true) return;
  const name = o.metadata.name ?? '';
  const labels = mapAt(mapAt(mapAt(spec, 'template'), 'metadata'), 'labels');
  labels[JOB_UID_LABEL] ??= uid;
  labels[JOB_NAME_LABEL] ??= name;
  labels[LEGACY_JOB_UID_LABEL] ??= uid;
  labels[LEGACY_JOB_NAME_LABEL] ??= name;
  spec.selector = { matchLabels: { [JOB_UID_LABEL]: uid } };
}

/**
 * An update of a Job whose body omits the generated selector (a re-apply or replace of the same
 * manifest): keeps the live generated selector and template labels, so that the write does not
 * read as a change of those immutable fields.
 */
export function carryJobSelector(live: KObject, next: KObject): void {
  const before = (live as unknown as JsonMap).spec;
  const spec = (next as unknown as JsonMap).spec;
  if (!isMap(before) || !isMap(spec) || spec.selector !== undefined || before.manualSelector === true) return;
  const sel = before.selector;
  if (!isMap(sel) || !isMap(sel.matchLabels) || sel.matchLabels[JOB_UID_LABEL] !== live.metadata.uid) return;
  spec.selector = structuredClone(sel);
  const liveTemplate = before.template;
  const liveLabels =
    isMap(liveTemplate) && isMap(liveTemplate.metadata) && isMap(liveTemplate.metadata.labels)
      ? liveTemplate.metadata.labels
      : {};
  if (!isMap(spec.template)) return;
  const labels = mapAt(mapAt(spec.template, 'metadata'), 'labels');
  for (const k of JOB_GENERATED_LABELS) if (liveLabels[k] !== undefined) labels[k] ??= liveLabels[k];
}
