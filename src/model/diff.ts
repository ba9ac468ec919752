// What `plan` shows a reviewer: the rendered manifests of a stage as they are (its current revision)
// against the candidate, object by object, as a unified diff; and drift: live objects that differ from
// what the stage's revision applied (someone ran `kubectl edit`). Secret values are never shown: a
// changed value reads `<secret, changed>`.
import { dump } from 'js-yaml';
import type { KubeObject } from './kube-object.js';
import { formatObjectId, objectId, objectKey } from './object-id.js';

export interface ObjectChange {
  /** `Deployment/web` (or `Kind/namespace/name` form of formatObjectId). */
  object: string;
  action: 'added' | 'removed' | 'changed';
  /** Unified diff lines (without the ---/+++ header), `+`/`-`/` ` prefixed. */
  diff: string[];
}

export interface ManifestDiff {
  changes: ObjectChange[];
  unchanged: number;
}

/** Object-by-object diff of two renders (matched by apiVersion group, kind, namespace and name). */
export function diffManifests(before: readonly KubeObject[], after: readonly KubeObject[]): ManifestDiff {
  const old = new Map(before.map((o) => [objectKey(objectId(o)), o]));
  const changes: ObjectChange[] = [];
  let unchanged = 0;
  const seen = new Set<string>();
  for (const o of after) {
    const key = objectKey(objectId(o));
    seen.add(key);
    const prev = old.get(key);
    const [a, b] = redactPair(prev, o);
    const diff = lineDiff(prev ? yamlLines(a) : [], yamlLines(b));
    if (!prev) changes.push({ object: formatObjectId(objectId(o)), action: 'added', diff });
    else if (diff.some((l) => l.startsWith('+') || l.startsWith('-')))
      changes.push({ object: formatObjectId(objectId(o)), action: 'changed', diff });
    else unchanged++;
  }
  for (const [key, o] of old) {
    if (seen.has(key)) continue;
    const [a] = redactPair(o, undefined);
    changes.push({
      object: formatObjectId(objectId(o)),
      action: 'removed',
      diff: lineDiff(yamlLines(a), []),
    });
  }
  return { changes, unchanged };
}

/** The object as a reviewer reads it: no server fields, keys in their order. */
export function yamlLines(o: unknown): string[] {
  if (o === undefined) return [];
  // Through JSON first: what the API server would hold (no undefined fields, dates as strings).
  return dump(JSON.parse(JSON.stringify(o)), { lineWidth: -1, noRefs: true })
    .trimEnd()
    .split('\n');
}

const SECRET = '<secret>';
const SECRET_CHANGED = '<secret, changed>';

/** Both sides with Secret values replaced; the new side says which values changed. */
function redactPair(a: KubeObject | undefined, b: KubeObject | undefined): [unknown, unknown] {
  const strip = (o: KubeObject | undefined) => (o ? withoutServerFields(o) : undefined);
  if (!isSecret(a) && !isSecret(b)) return [strip(a), strip(b)];
  const av = a !== undefined && isSecret(a) ? secretData(a) : new Map<string, string>();
  const bv = b !== undefined && isSecret(b) ? secretData(b) : new Map<string, string>();
  const redact = (
    o: KubeObject | undefined,
    other: Map<string, string>,
    mine: Map<string, string>,
    isNew: boolean,
  ) => {
    if (!o) return undefined;
    const copy = structuredClone(withoutServerFields(o)) as Record<string, unknown>;
    for (const field of ['data', 'stringData']) {
      const values = copy[field] as Record<string, unknown> | undefined;
      if (!values || typeof values !== 'object') continue;
      for (const k of Object.keys(values)) {
        const changed = isNew && other.size + mine.size > 0 && other.get(k) !== mine.get(k) && other.has(k);
        values[k] = changed ? SECRET_CHANGED : SECRET;
      }
    }
    return copy;
  };
  return [redact(a, bv, av, false), redact(b, av, bv, true)];
}

function isSecret(o: KubeObject | undefined): boolean {
  return o !== undefined && o.kind === 'Secret' && o.apiVersion === 'v1';
}

/** A Secret's values by key, decoded (stringData wins over data, as the API server merges them). */
export function secretData(object: object): Map<string, string> {
  const o = object as { data?: unknown; stringData?: unknown };
  const out = new Map<string, string>();
  for (const [k, v] of Object.entries((o.data ?? {}) as Record<string, unknown>))
    if (typeof v === 'string') out.set(k, Buffer.from(v, 'base64').toString('utf8'));
  for (const [k, v] of Object.entries((o.stringData ?? {}) as Record<string, unknown>))
    if (typeof v === 'string') out.set(k, v);
  return out;
}

const SERVER_METADATA = [
  'uid',
  'resourceVersion',
  'generation',
  'creationTimestamp',
  'managedFields',
  'selfLink',
  'deletionTimestamp',
  'deletionGracePeriodSeconds',
];

function withoutServerFields(o: KubeObject): KubeObject {
  const copy = { ...o, metadata: { ...o.metadata } } as KubeObject & { status?: unknown };
  delete copy.status;
  const md = copy.metadata as Record<string, unknown>;
  for (const k of SERVER_METADATA) delete md[k];
  return copy;
}

/**
 * A unified diff of two line lists with `context` lines around each change; hunks separated by a
 * `@@ -a,n +b,m @@` line as diff(1) writes them. LCS by dynamic programming, bounded: past a size a
 * whole-object replacement is shown instead (rendered objects are small).
 */
export function lineDiff(a: readonly string[], b: readonly string[], context = 3): string[] {
  const ops = editScript(a, b);
  if (!ops.some((op) => op.type !== ' ')) return [];
  // Each change with `context` lines either side; ranges that touch are one hunk.
  const ranges: [number, number][] = [];
  ops.forEach((op, i) => {
    if (op.type === ' ') return;
    const from = Math.max(0, i - context);
    const to = Math.min(ops.length, i + context + 1);
    const last = ranges[ranges.length - 1];
    if (last && from <= last[1]) last[1] = Math.max(last[1], to);
    else ranges.push([from, to]);
  });
  const out: string[] = [];
  for (const [from, to] of ranges) {
    const hunk = ops.slice(from, to);
    const aLen = hunk.filter((o) => o.type !== '+').length;
    const bLen = hunk.filter((o) => o.type !== '-').length;
    const aStart = hunk.find((o) => o.a !== undefined)?.a ?? precedingA(ops, from);
    const bStart = hunk.find((o) => o.b !== undefined)?.b ?? precedingB(ops, from);
    out.push(`@@ -${aLen ? aStart + 1 : aStart},${aLen} +${bLen ? bStart + 1 : bStart},${bLen} @@`);
    for (const op of hunk) out.push(`${op.type}${op.line}`);
  }
  return out;
}

/** Lines of the old side before op `i` (where an all-added hunk starts). */
function precedingA(ops: Op[], i: number): number {
  return ops.slice(0, i).filter((o) => o.type !== '+').length;
}

function precedingB(ops: Op[], i: number): number {
  return ops.slice(0, i).filter((o) => o.type !== '-').length;
}

interface Op {
  type: ' ' | '+' | '-';
  line: string;
  a?: number;
  b?: number;
}

const MAX_CELLS = 4_000_000;

function editScript(a: readonly string[], b: readonly string[]): Op[] {
  // Common prefix and suffix first: most object diffs are a few lines in a long object.
  let pre = 0;
  while (pre < a.length && pre < b.length && a[pre] === b[pre]) pre++;
  let suf = 0;
  while (suf < a.length - pre && suf < b.length - pre && a[a.length - 1 - suf] === b[b.length - 1 - suf])
    suf++;
  const ops: Op[] = [];
  for (let i = 0; i < pre; i++) ops.push({ type: ' ', line: a[i], a: i, b: i });
  const am = a.slice(pre, a.length - suf);
  const bm = b.slice(pre, b.length - suf);
  const n = am.length;
  const m = bm.length;
  if (n * m > MAX_CELLS) {
    am.forEach((line, i) => ops.push({ type: '-', line, a: pre + i }));
    bm.forEach((line, j) => ops.push({ type: '+', line, b: pre + j }));
  } else {
    // lcs[i][j]: LCS length of am[i..] and bm[j..].
    const lcs: Uint32Array[] = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
    for (let i = n - 1; i >= 0; i--)
      for (let j = m - 1; j >= 0; j--)
        lcs[i][j] = am[i] === bm[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
    let i = 0;
    let j = 0;
    while (i < n || j < m) {
      if (i < n && j < m && am[i] === bm[j]) {
        ops.push({ type: ' ', line: am[i], a: pre + i, b: pre + j });
        i++;
        j++;
      } else if (i < n && (j === m || lcs[i + 1][j] >= lcs[i][j + 1])) {
        // Removed lines before added ones, as diff(1) shows a change.
        ops.push({ type: '-', line: am[i], a: pre + i });
        i++;
      } else {
        ops.push({ type: '+', line: bm[j], b: pre + j });
        j++;
      }
    }
  }
  for (let k = 0; k < suf; k++)
    ops.push({ type: ' ', line: a[a.length - suf + k], a: a.length - suf + k, b: b.length - suf + k });
  return ops;
}

export interface Drift {
  object: string;
  /** `spec.template.spec.containers[0].image: "a@sha256:1" → "a@sha256:2"`, `missing`, Secret keys by name only. */
  fields: string[];
}

/**
 * Where live objects differ from what a revision applied: every field the revision set must hold the
 * same value live (fields the server or controllers add are not drift). Quantities compare by value
 * (`1000m` = `1`); a Deployment's replicas are skipped when an HPA in the revision scales it; Secret
 * values are compared but never shown.
 */
export function findDrift(
  recorded: readonly KubeObject[],
  live: (o: KubeObject) => Record<string, unknown> | undefined,
): Drift[] {
  const scaled = new Set(
    recorded
      .filter((o) => o.kind === 'HorizontalPodAutoscaler')
      .map((o) => {
        const ref = (o.spec as { scaleTargetRef?: { kind?: string; name?: string } } | undefined)
          ?.scaleTargetRef;
        return `${ref?.kind}/${ref?.name}`;
      }),
  );
  const out: Drift[] = [];
  for (const o of recorded) {
    const object = formatObjectId(objectId(o));
    const l = live(o);
    if (!l) {
      out.push({ object, fields: ['deleted from the cluster'] });
      continue;
    }
    const fields: string[] = [];
    if (isSecret(o)) {
      const want = secretData(o);
      const have = secretData(l);
      for (const [k, v] of want) if (have.get(k) !== v) fields.push(`data.${k} (value changed)`);
    } else {
      const skip = scaled.has(`${o.kind}/${o.metadata.name}`)
        ? new Set(['spec.replicas'])
        : new Set<string>();
      const { metadata, ...rest } = o as KubeObject & Record<string, unknown>;
      compareSubset(
        { labels: metadata.labels ?? {}, annotations: metadata.annotations ?? {} },
        pickMeta(l),
        'metadata',
        fields,
        skip,
      );
      for (const [k, v] of Object.entries(rest)) {
        if (k === 'apiVersion' || k === 'kind' || k === 'status') continue;
        compareSubset(v, l[k], k, fields, skip);
      }
    }
    if (fields.length) out.push({ object, fields });
  }
  return out;
}

function pickMeta(l: Record<string, unknown>): Record<string, unknown> {
  const md = (l.metadata ?? {}) as Record<string, unknown>;
  return { labels: md.labels ?? {}, annotations: md.annotations ?? {} };
}

function compareSubset(want: unknown, have: unknown, path: string, out: string[], skip: Set<string>): void {
  if (skip.has(path) || out.length >= 20) return;
  if (Array.isArray(want)) {
    if (!Array.isArray(have) || have.length !== want.length) {
      out.push(`${path}: ${short(want)} → ${short(have)}`);
      return;
    }
    want.forEach((w, i) => compareSubset(w, have[i], `${path}[${i}]`, out, skip));
    return;
  }
  if (want !== null && typeof want === 'object') {
    if (have === null || typeof have !== 'object' || Array.isArray(have)) {
      out.push(`${path}: ${short(want)} → ${short(have)}`);
      return;
    }
    for (const [k, v] of Object.entries(want as Record<string, unknown>))
      compareSubset(v, (have as Record<string, unknown>)[k], `${path}.${k}`, out, skip);
    return;
  }
  if (want === have) return;
  if (/\.resources\.(limits|requests)\.[^.]+$/.test(path) && sameQuantity(want, have)) return;
  if (want !== undefined && have !== undefined && String(want) === String(have) && /Port|port/.test(path))
    return;
  out.push(`${path}: ${short(want)} → ${short(have)}`);
}

function short(v: unknown): string {
  if (v === undefined) return '(unset)';
  const s = JSON.stringify(v);
  return s.length > 80 ? `${s.slice(0, 77)}…` : s;
}

const SUFFIX: Record<string, number> = {
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  '': 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

/** Kubernetes quantities compared by value: `0.5` = `500m`, `1Gi` = `1024Mi`. */
export function sameQuantity(a: unknown, b: unknown): boolean {
  const qa = quantity(a);
  const qb = quantity(b);
  return qa !== undefined && qb !== undefined && Math.abs(qa - qb) <= Math.abs(qa) * 1e-9;
}

function quantity(v: unknown): number | undefined {
  if (typeof v === 'number') return v;
  if (typeof v !== 'string') return undefined;
  const m = /^([+-]?[0-9.]+(?:[eE][+-]?[0-9]+)?)(n|u|m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$/.exec(v.trim());
  if (!m) return undefined;
  return Number(m[1]) * (SUFFIX[m[2] ?? ''] ?? NaN);
}
