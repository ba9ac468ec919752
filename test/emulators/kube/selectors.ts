// Label and field selectors as the API server parses them from `labelSelector` / `fieldSelector`
// query parameters. Parse errors become 400 BadRequest with the real wording.
import { badRequest } from './status.js';
import type { KObject, ResourceType } from './store.js';

type Requirement =
  | { op: 'exists' | 'notexists'; key: string }
  | { op: 'in' | 'notin'; key: string; values: string[] }
  | { op: 'gt' | 'lt'; key: string; value: number };

export type LabelSelector = Requirement[];

const LABEL_KEY =
  /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;

/** Splits on commas that are not inside parentheses (`a in (x,y),b`). */
function splitTop(s: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of s) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      parts.push(cur);
      cur = '';
    } else cur += ch;
  }
  parts.push(cur);
  return parts.map((p) => p.trim()).filter((p) => p !== '');
}

function checkKey(key: string, whole: string): string {
  if (!LABEL_KEY.test(key)) {
    throw badRequest(`unable to parse requirement: invalid label key "${key}" in selector "${whole}"`);
  }
  return key;
}

export function parseLabelSelector(raw: string | null | undefined): LabelSelector | undefined {
  if (raw === null || raw === undefined || raw.trim() === '') return undefined;
  const reqs: Requirement[] = [];
  for (const part of splitTop(raw)) {
    let m: RegExpMatchArray | null;
    if ((m = part.match(/^!\s*([^\s=!<>(),]+)$/))) reqs.push({ op: 'notexists', key: checkKey(m[1], raw) });
    else if ((m = part.match(/^([^\s=!<>(),]+)\s+(in|notin)\s*\(([^)]*)\)$/))) {
      const values = m[3]
        .split(',')
        .map((v) => v.trim())
        .filter((v) => v !== '');
      reqs.push({ op: m[2] as 'in' | 'notin', key: checkKey(m[1], raw), values });
    } else if ((m = part.match(/^([^\s=!<>(),]+)\s*(==|=|!=)\s*([^\s=!<>(),]*)$/))) {
      const key = checkKey(m[1], raw);
      reqs.push({ op: m[2] === '!=' ? 'notin' : 'in', key, values: [m[3]] });
    } else if ((m = part.match(/^([^\s=!<>(),]+)\s*([<>])\s*(-?\d+)$/))) {
      reqs.push({ op: m[2] === '>' ? 'gt' : 'lt', key: checkKey(m[1], raw), value: Number(m[3]) });
    } else if ((m = part.match(/^([^\s=!<>(),]+)$/))) reqs.push({ op: 'exists', key: checkKey(m[1], raw) });
    else
      throw badRequest(
        `unable to parse requirement: found '${part}', expected: in, notin, =, ==, !=, gt, lt`,
      );
  }
  return reqs;
}

export function matchesLabels(
  sel: LabelSelector | undefined,
  labels: Record<string, string> | undefined,
): boolean {
  if (!sel) return true;
  const l = labels ?? {};
  return sel.every((r) => {
    const has = Object.hasOwn(l, r.key);
    switch (r.op) {
      case 'exists':
        return has;
      case 'notexists':
        return !has;
      case 'in':
        return has && r.values.includes(l[r.key]);
      case 'notin':
        return !has || !r.values.includes(l[r.key]);
      case 'gt':
        return has && Number(l[r.key]) > r.value;
      case 'lt':
        return has && Number(l[r.key]) < r.value;
    }
  });
}

/** A `matchLabels` / `matchExpressions` object (as in Deployment.spec.selector) → requirements. */
export function fromLabelSelectorObject(sel: unknown): LabelSelector {
  const out: Requirement[] = [];
  if (typeof sel !== 'object' || sel === null) return out;
  const s = sel as {
    matchLabels?: Record<string, string>;
    matchExpressions?: { key: string; operator: string; values?: string[] }[];
  };
  for (const [k, v] of Object.entries(s.matchLabels ?? {})) out.push({ op: 'in', key: k, values: [v] });
  for (const e of s.matchExpressions ?? []) {
    const op = e.operator.toLowerCase();
    if (op === 'in' || op === 'notin') out.push({ op, key: e.key, values: e.values ?? [] });
    else if (op === 'exists') out.push({ op: 'exists', key: e.key });
    else if (op === 'doesnotexist') out.push({ op: 'notexists', key: e.key });
  }
  return out;
}

/** Renders requirements in the string form the real server puts in Scale.status.selector. */
export function formatLabelSelector(sel: LabelSelector): string {
  return sel
    .map((r) => {
      switch (r.op) {
        case 'exists':
          return r.key;
        case 'notexists':
          return `!${r.key}`;
        case 'in':
          return r.values.length === 1 ? `${r.key}=${r.values[0]}` : `${r.key} in (${r.values.join(',')})`;
        case 'notin':
          return r.values.length === 1
            ? `${r.key}!=${r.values[0]}`
            : `${r.key} notin (${r.values.join(',')})`;
        case 'gt':
          return `${r.key}>${r.value}`;
        case 'lt':
          return `${r.key}<${r.value}`;
      }
    })
    .join(',');
}

export interface FieldRequirement {
  field: string;
  value: string;
  negate: boolean;
}

export type FieldSelector = FieldRequirement[];

/** Fields beyond metadata.name/namespace that the real server lets you select on, per kind. */
const EXTRA_FIELDS: Record<string, string[]> = {
  '/Pod': [
    'spec.nodeName',
    'spec.restartPolicy',
    'spec.schedulerName',
    'spec.serviceAccountName',
    'spec.hostNetwork',
    'status.phase',
    'status.podIP',
    'status.nominatedNodeName',
  ],
  '/Event': [
    'involvedObject.kind',
    'involvedObject.namespace',
    'involvedObject.name',
    'involvedObject.uid',
    'involvedObject.apiVersion',
    'involvedObject.resourceVersion',
    'involvedObject.fieldPath',
    'reason',
    'reportingComponent',
    'source',
    'type',
  ],
  '/Secret': ['type'],
  '/Namespace': ['status.phase'],
  'apps/ReplicaSet': ['status.replicas'],
  'batch/Job': ['status.successful'],
};

export function parseFieldSelector(
  raw: string | null | undefined,
  t: ResourceType,
): FieldSelector | undefined {
  if (raw === null || raw === undefined || raw.trim() === '') return undefined;
  const allowed = new Set([
    'metadata.name',
    'metadata.namespace',
    ...(EXTRA_FIELDS[`${t.group}/${t.kind}`] ?? []),
  ]);
  const out: FieldRequirement[] = [];
  for (const part of raw
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '')) {
    const m = part.match(/^([^=!]+?)\s*(==|=|!=)\s*(.*)$/);
    if (!m) throw badRequest(`invalid selector: '${raw}'; can't understand '${part}'`);
    if (!allowed.has(m[1])) {
      throw badRequest(`field label not supported: ${m[1]}`);
    }
    out.push({ field: m[1], value: m[3], negate: m[2] === '!=' });
  }
  return out;
}

function fieldValue(o: KObject, path: string): string {
  let cur: unknown = o;
  for (const p of path.split('.')) {
    if (typeof cur !== 'object' || cur === null) return '';
    cur = (cur as Record<string, unknown>)[p];
  }
  if (cur === undefined || cur === null) return '';
  return String(cur);
}

export function matchesFields(sel: FieldSelector | undefined, o: KObject): boolean {
  if (!sel) return true;
  return sel.every((r) => (fieldValue(o, r.field) === r.value) !== r.negate);
}

/** The single name a field selector pins down (`metadata.name=x`), for a fast path. */
export function pinnedName(sel: FieldSelector | undefined): string | undefined {
  return sel?.find((r) => r.field === 'metadata.name' && !r.negate)?.value;
}
