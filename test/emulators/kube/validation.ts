// Object validation the real API server does before storing, with its exact messages: names
// (DNS-1123 subdomain, DNS-1123 label for namespaces, DNS-1035 label for services), labels, and the
// CRD naming rule. Only what a client of ours can plausibly get wrong; schemas are not validated.
import { validateNetworkPolicy } from './networkpolicy.js';
import { isMap, jsonEqual } from './patch.js';
import { fromLabelSelectorObject, matchesLabels } from './selectors.js';
import { goStringMap, immutableFieldErrors } from './immutable.js';
import type { FieldError } from './status.js';
import type { KObject, ResourceType } from './store.js';

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const QUALIFIED_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;

const SUBDOMAIN_MSG =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const LABEL_MSG =
  "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
const DNS1035_MSG =
  "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')";

function nameRule(t: ResourceType): { re: RegExp; max: number; msg: string } {
  if (!t.group && t.kind === 'Namespace') return { re: DNS1123_LABEL, max: 63, msg: LABEL_MSG };
  if (!t.group && t.kind === 'Service') return { re: DNS1035_LABEL, max: 63, msg: DNS1035_MSG };
  return { re: DNS1123_SUBDOMAIN, max: 253, msg: SUBDOMAIN_MSG };
}

export function validateName(t: ResourceType, name: string | undefined, generateName?: string): FieldError[] {
  if (!name) {
    if (generateName) return [];
    return [
      {
        type: 'FieldValueRequired',
        field: 'metadata.name',
        body: 'Required value: name or generateName is required',
      },
    ];
  }
  const rule = nameRule(t);
  const errs: FieldError[] = [];
  if (name.length > rule.max) {
    errs.push({
      type: 'FieldValueInvalid',
      field: 'metadata.name',
      body: `Invalid value: "${name}": must be no more than ${rule.max} characters`,
    });
  }
  if (!rule.re.test(name)) {
    errs.push({
      type: 'FieldValueInvalid',
      field: 'metadata.name',
      body: `Invalid value: "${name}": ${rule.msg}`,
    });
  }
  return errs;
}

function validateLabels(labels: unknown): FieldError[] {
  if (labels === undefined || labels === null) return [];
  if (typeof labels !== 'object') return [];
  const errs: FieldError[] = [];
  for (const [k, v] of Object.entries(labels as Record<string, unknown>)) {
    const [prefix, name] = k.includes('/')
      ? [k.slice(0, k.indexOf('/')), k.slice(k.indexOf('/') + 1)]
      : ['', k];
    if ((prefix && !DNS1123_SUBDOMAIN.test(prefix)) || !QUALIFIED_NAME.test(name) || name.length > 63) {
      errs.push({
        type: 'FieldValueInvalid',
        field: 'metadata.labels',
        body: `Invalid value: "${k}": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')`,
      });
    }
    if (typeof v !== 'string') continue;
    if (v.length > 63) {
      errs.push({
        type: 'FieldValueInvalid',
        field: `metadata.labels`,
        body: `Invalid value: "${v}": must be no more than 63 characters`,
      });
    } else if (!LABEL_VALUE.test(v)) {
      errs.push({
        type: 'FieldValueInvalid',
        field: 'metadata.labels',
        body: `Invalid value: "${v}": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')`,
      });
    }
  }
  return errs;
}

function validateCrd(o: KObject): FieldError[] {
  const spec = (o.spec ?? {}) as {
    group?: string;
    names?: { plural?: string; kind?: string };
    scope?: string;
    versions?: unknown[];
  };
  const errs: FieldError[] = [];
  if (!spec.group) errs.push({ type: 'FieldValueRequired', field: 'spec.group', body: 'Required value' });
  if (!spec.names?.plural)
    errs.push({ type: 'FieldValueRequired', field: 'spec.names.plural', body: 'Required value' });
  if (!spec.names?.kind)
    errs.push({ type: 'FieldValueRequired', field: 'spec.names.kind', body: 'Required value' });
  if (spec.scope !== 'Namespaced' && spec.scope !== 'Cluster') {
    errs.push({
      type: 'FieldValueNotSupported',
      field: 'spec.scope',
      body: `Unsupported value: "${spec.scope ?? ''}": supported values: "Cluster", "Namespaced"`,
    });
  }
  if (!Array.isArray(spec.versions) || spec.versions.length === 0) {
    errs.push({
      type: 'FieldValueInvalid',
      field: 'spec.versions',
      body: 'Invalid value: "null": must have exactly one version marked as storage version',
    });
  }
  if (spec.group && spec.names?.plural && o.metadata.name !== `${spec.names.plural}.${spec.group}`) {
    errs.push({
      type: 'FieldValueInvalid',
      field: 'metadata.name',
      body: `Invalid value: "${o.metadata.name}": must be spec.names.plural+"."+spec.group`,
    });
  }
  return errs;
}

const POD_SPEC_AT: Record<string, string[]> = {
  '/Pod': ['spec'],
  'apps/Deployment': ['spec', 'template', 'spec'],
  'apps/ReplicaSet': ['spec', 'template', 'spec'],
  'apps/StatefulSet': ['spec', 'template', 'spec'],
  'apps/DaemonSet': ['spec', 'template', 'spec'],
  'batch/Job': ['spec', 'template', 'spec'],
  'batch/CronJob': ['spec', 'jobTemplate', 'spec', 'template', 'spec'],
};

function validateContainers(path: string[], podSpec: unknown): FieldError[] {
  const errs: FieldError[] = [];
  if (!isMap(podSpec)) return errs;
  for (const list of ['initContainers', 'containers']) {
    const cs = podSpec[list];
    if (!Array.isArray(cs)) continue;
    cs.forEach((c, i) => {
      if (!isMap(c)) return;
      const at = `${path.join('.')}.${list}[${i}]`;
      if (typeof c.name !== 'string' || c.name === '')
        errs.push({ type: 'FieldValueRequired', field: `${at}.name`, body: 'Required value' });
      if (typeof c.image !== 'string' || c.image.trim() === '')
        errs.push({ type: 'FieldValueRequired', field: `${at}.image`, body: 'Required value' });
    });
  }
  if (path.length > 1 && (!Array.isArray(podSpec.containers) || podSpec.containers.length === 0))
    errs.push({ type: 'FieldValueRequired', field: `${path.join('.')}.containers`, body: 'Required value' });
  return errs;
}

function validateWorkload(t: ResourceType, o: KObject): FieldError[] {
  const key = `${t.group}/${t.kind}`;
  const errs: FieldError[] = [];
  const spec = isMap(o.spec) ? o.spec : {};
  if (t.group === 'apps') {
    if (spec.replicas !== undefined && typeof spec.replicas === 'number' && spec.replicas < 0) {
      errs.push({
        type: 'FieldValueInvalid',
        field: 'spec.replicas',
        body: `Invalid value: ${spec.replicas}: must be greater than or equal to 0`,
      });
    }
    const sel = spec.selector;
    const tmplLabels =
      isMap(spec.template) && isMap(spec.template.metadata) ? spec.template.metadata.labels : undefined;
    if (!isMap(sel)) {
      errs.push({ type: 'FieldValueRequired', field: 'spec.selector', body: 'Required value' });
    } else {
      const empty =
        (!isMap(sel.matchLabels) || Object.keys(sel.matchLabels).length === 0) &&
        (!Array.isArray(sel.matchExpressions) || sel.matchExpressions.length === 0);
      if (empty) {
        errs.push({
          type: 'FieldValueInvalid',
          field: 'spec.selector',
          body: `Invalid value: v1.LabelSelector{MatchLabels:map[string]string(nil), MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: empty selector is invalid for ${t.kind.toLowerCase()}`,
        });
      } else if (
        !matchesLabels(
          fromLabelSelectorObject(sel),
          isMap(tmplLabels) ? (tmplLabels as Record<string, string>) : {},
        )
      ) {
        errs.push({
          type: 'FieldValueInvalid',
          field: 'spec.template.metadata.labels',
          body: `Invalid value: ${goStringMap(tmplLabels)}: \`selector\` does not match template \`labels\``,
        });
      }
    }
  }
  const at = POD_SPEC_AT[key];
  if (at) {
    let podSpec: unknown = o;
    for (const k of at) podSpec = isMap(podSpec) ? podSpec[k] : undefined;
    errs.push(...validateContainers(at, podSpec));
  }
  return errs;
}

const WILDCARD_MSG =
  "a wildcard DNS-1123 subdomain must start with '*.', followed by a valid DNS subdomain, which must consist of lower case alphanumeric characters, '-' or '.' and end with an alphanumeric character (e.g. '*.example.com', regex used for validation is '\\*\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const PATH_TYPES = ['Exact', 'ImplementationSpecific', 'Prefix'];

/** A host of an Ingress rule or TLS entry: a lowercase DNS-1123 subdomain, optionally `*.`-prefixed. */
function validateHost(field: string, host: string): FieldError[] {
  if (/^\d+\.\d+\.\d+\.\d+$/.test(host) || host.includes(':'))
    return [
      {
        type: 'FieldValueInvalid',
        field,
        body: `Invalid value: "${host}": must be a DNS name, not an IP address`,
      },
    ];
  if (host.includes('*')) {
    if (host.startsWith('*.') && DNS1123_SUBDOMAIN.test(host.slice(2))) return [];
    return [{ type: 'FieldValueInvalid', field, body: `Invalid value: "${host}": ${WILDCARD_MSG}` }];
  }
  if (DNS1123_SUBDOMAIN.test(host) && host.length <= 253) return [];
  return [{ type: 'FieldValueInvalid', field, body: `Invalid value: "${host}": ${SUBDOMAIN_MSG}` }];
}

/** ValidateIngressSpec, the parts a manifest plausibly gets wrong: hosts, pathType, paths. */
function validateIngress(o: KObject): FieldError[] {
  const spec = isMap(o.spec) ? o.spec : {};
  const errs: FieldError[] = [];
  const rules = Array.isArray(spec.rules) ? spec.rules : [];
  rules.forEach((rule, i) => {
    if (!isMap(rule)) return;
    const at = `spec.rules[${i}]`;
    if (typeof rule.host === 'string' && rule.host !== '')
      errs.push(...validateHost(`${at}.host`, rule.host));
    const paths = isMap(rule.http) && Array.isArray(rule.http.paths) ? rule.http.paths : [];
    paths.forEach((p, j) => {
      if (!isMap(p)) return;
      const pat = `${at}.http.paths[${j}]`;
      if (p.pathType === undefined || p.pathType === null) {
        errs.push({
          type: 'FieldValueRequired',
          field: `${pat}.pathType`,
          body: 'Required value: pathType must be specified',
        });
      } else if (!PATH_TYPES.includes(String(p.pathType))) {
        errs.push({
          type: 'FieldValueNotSupported',
          field: `${pat}.pathType`,
          body: `Unsupported value: "${String(p.pathType)}": supported values: ${PATH_TYPES.map((x) => `"${x}"`).join(', ')}`,
        });
      } else if (p.pathType !== 'ImplementationSpecific' && !String(p.path ?? '').startsWith('/')) {
        errs.push({
          type: 'FieldValueInvalid',
          field: `${pat}.path`,
          body: `Invalid value: "${String(p.path ?? '')}": must be an absolute path`,
        });
      }
    });
  });
  const tls = Array.isArray(spec.tls) ? spec.tls : [];
  tls.forEach((entry, i) => {
    const hosts = isMap(entry) && Array.isArray(entry.hosts) ? entry.hosts : [];
    hosts.forEach((h, j) => {
      if (typeof h === 'string') errs.push(...validateHost(`spec.tls[${i}].hosts[${j}]`, h));
    });
  });
  return errs;
}

/** core.MaxSecretSize: the most the decoded values of a Secret's data may add up to. */
export const MAX_SECRET_SIZE = 1024 * 1024;
const CONFIG_MAP_KEY = /^[-._a-zA-Z0-9]+$/;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * Why the decoder would refuse a Secret's `data` (its values are []byte, sent as standard base64),
 * in Go's words (`illegal base64 data at input byte 4`), or undefined when every value decodes.
 */
export function secretDecodeError(t: Pick<ResourceType, 'group' | 'kind'>, o: KObject): string | undefined {
  if (t.group !== '' || t.kind !== 'Secret' || !isMap(o.data)) return undefined;
  for (const raw of Object.values(o.data)) {
    if (raw === null) continue;
    if (typeof raw !== 'string')
      return 'json: cannot unmarshal into Go struct field Secret.data of type []uint8';
    // Go's decoder skips \r and \n: kustomize's secretGenerator wraps long values every 70 characters.
    const v = raw.replace(/[\r\n]/g, '');
    const bad = v.search(/[^A-Za-z0-9+/=]/);
    if (bad >= 0) return `illegal base64 data at input byte ${bad}`;
    if (v.length % 4 !== 0 || !BASE64.test(v))
      return `illegal base64 data at input byte ${v.length - (v.length % 4 || 4)}`;
  }
  return undefined;
}

/** ValidateSecret: data keys are config keys, and the decoded values add up to at most 1 MiB. */
function validateSecret(o: KObject): FieldError[] {
  const errs: FieldError[] = [];
  let total = 0;
  for (const field of ['data', 'stringData'] as const) {
    const m = o[field];
    if (!isMap(m)) continue;
    for (const [k, v] of Object.entries(m)) {
      if (!CONFIG_MAP_KEY.test(k) || k.length > 253) {
        errs.push({
          type: 'FieldValueInvalid',
          field: `${field}[${k}]`,
          body: `Invalid value: "${k}": a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')`,
        });
      }
      if (typeof v === 'string')
        total += field === 'data' ? Buffer.from(v, 'base64').length : Buffer.byteLength(v, 'utf8');
    }
  }
  if (total > MAX_SECRET_SIZE) {
    errs.push({
      type: 'FieldValueTooLong',
      field: 'data',
      body: `Too long: must have at most ${MAX_SECRET_SIZE} bytes`,
    });
  }
  return errs;
}

/**
 * legacyValidateEvent (pkg/apis/core/validation/events.go), which every core/v1 Event passes: an Event
 * about a cluster-scoped object (involvedObject without a namespace, e.g. a Namespace or a Node) lives
 * in `default` (or, with an eventTime, kube-system); otherwise in the involved object's namespace. An
 * Event with an eventTime needs reportingComponent, reportingInstance, action and reason.
 */
function validateEvent(o: KObject): FieldError[] {
  const errs: FieldError[] = [];
  const involved = isMap(o.involvedObject) ? o.involvedObject : {};
  const involvedNs = typeof involved.namespace === 'string' ? involved.namespace : '';
  const ns = o.metadata.namespace ?? '';
  const mismatch: FieldError = {
    type: 'FieldValueInvalid',
    field: 'involvedObject.namespace',
    body: `Invalid value: "${involvedNs}": does not match event.namespace`,
  };
  const str = (k: string) => (typeof o[k] === 'string' ? (o[k] as string) : '');
  if (!o.eventTime) {
    if (involvedNs === '' ? ns !== '' && ns !== 'default' : ns !== involvedNs) errs.push(mismatch);
    return errs;
  }
  if (involvedNs === '' && ns !== 'default' && ns !== 'kube-system') errs.push(mismatch);
  const required = (field: string) =>
    errs.push({ type: 'FieldValueRequired', field, body: 'Required value' });
  const tooLong = (field: string, max: number) =>
    errs.push({
      type: 'FieldValueInvalid',
      field,
      body: `Invalid value: "": can have at most ${max} characters`,
    });
  if (!str('reportingComponent')) required('reportingController');
  if (!str('reportingInstance')) required('reportingInstance');
  else if (str('reportingInstance').length > 128) tooLong('reportingInstance', 128);
  if (!str('action')) required('action');
  else if (str('action').length > 128) tooLong('action', 128);
  if (!str('reason')) required('reason');
  else if (str('reason').length > 128) tooLong('reason', 128);
  if (str('message').length > 1024) tooLong('message', 1024);
  return errs;
}

/** Everything wrong with an object about to be stored (empty: valid). */
export function validateObject(t: ResourceType, o: KObject): FieldError[] {
  const errs = [
    ...validateName(t, o.metadata.name, o.metadata.generateName),
    ...validateLabels(o.metadata.labels),
    ...validateWorkload(t, o),
  ];
  if (t.group === 'apiextensions.k8s.io' && t.kind === 'CustomResourceDefinition')
    errs.push(...validateCrd(o));
  if (t.group === 'networking.k8s.io' && t.kind === 'Ingress') errs.push(...validateIngress(o));
  if (t.group === 'networking.k8s.io' && t.kind === 'NetworkPolicy') errs.push(...validateNetworkPolicy(o));
  if (t.group === '' && t.kind === 'Secret') errs.push(...validateSecret(o));
  if (t.group === '' && t.kind === 'Event') errs.push(...validateEvent(o));
  return errs;
}

/** Go's %#v of a value as the real messages print it, approximated: `core.PodTemplateSpec{…}`. */
function goValue(goType: string, v: unknown): string {
  if (v === undefined || v === null) return goType.startsWith('*') ? '(nil)' : `${goType}{}`;
  if (typeof v !== 'object') return JSON.stringify(v);
  return `${goType}${JSON.stringify(v)}`;
}

/** Job spec fields validation.ValidateJobSpecUpdate keeps immutable, with the Go type it prints. */
const JOB_IMMUTABLE: [string, string][] = [
  ['selector', '&v1.LabelSelector'],
  ['template', 'core.PodTemplateSpec'],
  ['completions', '*int32'],
  ['completionMode', '*batch.CompletionMode'],
  ['podFailurePolicy', '&batch.PodFailurePolicy'],
  ['backoffLimitPerIndex', '*int32'],
  ['managedBy', '*string'],
];

/** StatefulSet spec fields an update may change (ValidateStatefulSetUpdate); the rest is fixed. */
const STATEFULSET_MUTABLE = [
  'replicas',
  'ordinals',
  'template',
  'updateStrategy',
  'persistentVolumeClaimRetentionPolicy',
  'minReadySeconds',
  'revisionHistoryLimit',
];

/**
 * What the real update validation refuses about changing `live` into `next` (main resource only):
 * a Job's template, selector, completions, … and a StatefulSet's spec outside the few mutable fields.
 * Real Kubernetes lets a suspended Job that never started change scheduling directives in its
 * template; not modelled.
 */
export function validateUpdate(t: ResourceType, live: KObject, next: KObject): FieldError[] {
  const before = isMap(live.spec) ? live.spec : {};
  const after = isMap(next.spec) ? next.spec : {};
  const fixed = immutableFieldErrors(t, live, next);
  if (fixed.length) return fixed;
  if (t.group === '' && t.kind === 'Secret' && live.type !== next.type) {
    // ValidateSecretUpdate: the type is fixed at creation.
    return [
      {
        type: 'FieldValueInvalid',
        field: 'type',
        body: `Invalid value: ${JSON.stringify(next.type ?? '')}: field is immutable`,
      },
    ];
  }
  if (t.group === 'batch' && t.kind === 'Job') {
    const errs: FieldError[] = [];
    for (const [field, goType] of JOB_IMMUTABLE) {
      if (jsonEqual(before[field], after[field])) continue;
      errs.push({
        type: 'FieldValueInvalid',
        field: `spec.${field}`,
        body: `Invalid value: ${goValue(goType, after[field])}: field is immutable`,
      });
    }
    return errs;
  }
  if (t.group === 'apps' && t.kind === 'StatefulSet') {
    const fixed = (s: Record<string, unknown>) =>
      Object.fromEntries(Object.entries(s).filter(([k]) => !STATEFULSET_MUTABLE.includes(k)));
    if (jsonEqual(fixed(before), fixed(after))) return [];
    return [
      {
        type: 'FieldValueForbidden',
        field: 'spec',
        body: "Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden",
      },
    ];
  }
  return [];
}
