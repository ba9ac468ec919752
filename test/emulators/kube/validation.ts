// Object validation the real API server does before storing, with its exact messages: names
// (DNS-1123 subdomain, DNS-1123 label for namespaces, DNS-1035 label for services), labels, and the
// CRD naming rule. Only what a client of ours can plausibly get wrong; schemas are not validated.
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

/** Everything wrong with an object about to be stored (empty: valid). */
export function validateObject(t: ResourceType, o: KObject): FieldError[] {
  const errs = [
    ...validateName(t, o.metadata.name, o.metadata.generateName),
    ...validateLabels(o.metadata.labels),
  ];
  if (t.group === 'apiextensions.k8s.io' && t.kind === 'CustomResourceDefinition')
    errs.push(...validateCrd(o));
  return errs;
}
