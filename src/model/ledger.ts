// The revision ledger of a stage, kept the way Helm keeps releases: one Secret per revision in the
// stage's namespace, named `kubestage.v1.<stage>.v<n>`, of type `kubestage.dev/revision.v1`, whose
// `data.revision` is base64(gzip(JSON of the whole revision)). Labels carry what selectors need
// (stage, number, result, kind); short annotations carry a summary, so that listing the history and
// `kubectl get secret -o yaml` never need to decompress anything.
//
// The (de)compression lives here, not in kube/: gzip is an in-memory transform as pure as the
// sha256 that labels.ts already computes, and keeping the whole Secret format in one codec (as
// records.ts does for namespace annotations) lets one unit test prove that what is written reads
// back, and lets a caller check a revision's size before any request is made.
import { gunzipSync, gzipSync } from 'node:zlib';
import { checkKubeObject, objectRef, type KubeObject } from './kube-object.js';
import { dateOf, imagesOf, positiveInt } from './records.js';
import {
  ANNOTATION_ACTOR,
  ANNOTATION_APPROVERS,
  ANNOTATION_COMMIT,
  ANNOTATION_DEPLOYMENT_ID,
  ANNOTATION_FINISHED_AT,
  ANNOTATION_FROM,
  ANNOTATION_IMAGES,
  ANNOTATION_MESSAGE,
  ANNOTATION_REF,
  ANNOTATION_RESTORES,
  ANNOTATION_RUN_URL,
  ANNOTATION_STARTED_AT,
  ANNOTATION_URL,
  LABEL_INSTANCE,
  LABEL_MANAGED_BY,
  LABEL_RESULT,
  LABEL_REVISION,
  LABEL_REVISION_KIND,
  LABEL_STAGE,
  MANAGED_BY,
  REVISION_SECRET_TYPE,
} from './labels.js';

export const REVISION_KINDS = ['deploy', 'promote', 'rollback'] as const;
export type RevisionKind = (typeof REVISION_KINDS)[number];
export const REVISION_RESULTS = ['deploying', 'succeeded', 'failed', 'rolled-back', 'superseded'] as const;
export type RevisionResult = (typeof REVISION_RESULTS)[number];

export interface RevisionImage {
  /** The image name as the manifests write it. */
  name: string;
  /** The pinned reference deployed: `repo@sha256:…`. */
  ref: string;
}

export interface RevisionApprover {
  user: string;
  environment: string;
  comment?: string;
}

export interface Revision {
  stage: string;
  number: number;
  kind: RevisionKind;
  /** promote: the stage promoted from. */
  from?: string;
  /** rollback: the revision re-applied. */
  restores?: number;
  /** The git commit SHA and the ref it came from. */
  commit?: string;
  ref?: string;
  images: RevisionImage[];
  actor: string;
  approvers: RevisionApprover[];
  /** An approval bypass allowed by explicit input. */
  bypass?: { reason: string };
  freezeOverride?: { reason: string; window: string };
  runUrl?: string;
  deploymentId?: number;
  url?: string;
  result: RevisionResult;
  message?: string;
  /** The smoke report (opaque JSON here). */
  smoke?: unknown;
  startedAt: Date;
  finishedAt?: Date;
  /** The rendered objects exactly as applied. */
  manifests: KubeObject[];
}

/** What the labels and annotations of a revision Secret tell without decompressing it. */
export interface RevisionSummary {
  /** The Secret's name. */
  name: string;
  stage: string;
  number: number;
  kind?: RevisionKind;
  result?: RevisionResult;
  from?: string;
  restores?: number;
  commit?: string;
  ref?: string;
  /** Image name → pinned reference. */
  images?: Record<string, string>;
  actor?: string;
  approvers?: string[];
  startedAt?: Date;
  finishedAt?: Date;
  runUrl?: string;
  url?: string;
  deploymentId?: number;
  message?: string;
}

/** A revision Secret as the API server returns it (or as encodeRevision builds it). */
export interface RevisionSecret {
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    [k: string]: unknown;
  };
  type?: string;
  data?: Record<string, string>;
  [k: string]: unknown;
}

/** The most a Secret may hold (the sum of its decoded data values): the API server's MaxSecretSize. */
export const MAX_SECRET_BYTES = 1024 * 1024;
/** The data key holding the compressed revision. */
export const REVISION_DATA_KEY = 'revision';
/** Annotation messages are cut to this length; the full message is in the compressed data. */
const MESSAGE_ANNOTATION_MAX = 300;

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** `kubestage.v1.<stage>.v<n>`: a valid DNS subdomain for any stage name that is a DNS label. */
export function revisionSecretName(stage: string, n: number): string {
  checkStage(stage);
  checkNumber(n, `revision number of stage "${stage}"`);
  return `kubestage.v1.${stage}.v${n}`;
}

function checkStage(stage: string): void {
  if (stage.length > 63 || !DNS1123_LABEL.test(stage)) {
    throw new Error(
      `stage name "${stage}" is not a DNS label (lower-case letters, digits and '-', starting and ending with a letter or digit, at most 63 characters); ` +
        'rename the environment in .github/kubestage.yml',
    );
  }
}

function checkNumber(n: number, what: string): void {
  if (!Number.isSafeInteger(n) || n < 1) throw new Error(`${what} must be a whole number ≥ 1, not ${n}`);
}

/**
 * The Secret that records `rev`: our labels (the instance label dropped, so that the app's prune and
 * cleanup counts never see the ledger) plus the revision's own; summary annotations; and
 * `data.revision` = base64(gzip(JSON)). Throws, naming the size and the largest objects, when the
 * compressed revision would not fit in a Secret.
 */
export function encodeRevision(rev: Revision, labels: Record<string, string>): KubeObject {
  const name = revisionSecretName(rev.stage, rev.number);
  const compressed = gzipSync(Buffer.from(JSON.stringify(rev), 'utf8'));
  if (compressed.length > MAX_SECRET_BYTES) throw new Error(tooLargeMessage(rev, compressed.length));
  const ownLabels = { ...labels };
  delete ownLabels[LABEL_INSTANCE];
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: {
      name,
      labels: {
        ...ownLabels,
        [LABEL_MANAGED_BY]: MANAGED_BY,
        [LABEL_STAGE]: rev.stage,
        [LABEL_REVISION]: String(rev.number),
        [LABEL_REVISION_KIND]: rev.kind,
        [LABEL_RESULT]: rev.result,
      },
      annotations: summaryAnnotations(rev),
    },
    type: REVISION_SECRET_TYPE,
    data: { [REVISION_DATA_KEY]: compressed.toString('base64') },
  };
}

function tooLargeMessage(rev: Revision, bytes: number): string {
  const sizes = rev.manifests
    .map((o) => ({ ref: objectRef(o), bytes: Buffer.byteLength(JSON.stringify(o)) }))
    .sort((a, b) => b.bytes - a.bytes)
    .slice(0, 3)
    .map((s) => `${s.ref} (${kib(s.bytes)})`);
  return (
    `revision ${rev.number} of stage "${rev.stage}" is ${kib(bytes)} gzip'd (${bytes} bytes), more than the ` +
    `${MAX_SECRET_BYTES} bytes (1 MiB) a Kubernetes Secret may hold, so it cannot be recorded (nor rolled back to later). ` +
    `Its ${rev.manifests.length} rendered objects are too large` +
    (sizes.length ? `; the largest: ${sizes.join(', ')}` : '') +
    '. Move large embedded files out of the manifests (e.g. mount them from an image or a volume) ' +
    'instead of generating ConfigMaps or Secrets from them'
  );
}

function kib(bytes: number): string {
  return bytes >= 1024 * 1024
    ? `${(bytes / 1024 / 1024).toFixed(2)} MiB`
    : `${(bytes / 1024).toFixed(1)} KiB`;
}

function summaryAnnotations(rev: Revision): Record<string, string> {
  const out: Record<string, string> = {};
  const put = (key: string, v: string | undefined): void => {
    if (v !== undefined && v !== '') out[key] = v;
  };
  put(ANNOTATION_COMMIT, rev.commit);
  put(ANNOTATION_REF, rev.ref);
  if (rev.images.length)
    put(
      ANNOTATION_IMAGES,
      JSON.stringify(
        Object.fromEntries(
          [...rev.images].sort((a, b) => a.name.localeCompare(b.name)).map((i) => [i.name, i.ref]),
        ),
      ),
    );
  put(ANNOTATION_ACTOR, rev.actor);
  put(ANNOTATION_APPROVERS, [...new Set(rev.approvers.map((a) => a.user))].join(','));
  put(ANNOTATION_FROM, rev.from);
  put(ANNOTATION_RESTORES, rev.restores?.toString());
  put(ANNOTATION_STARTED_AT, rev.startedAt.toISOString());
  put(ANNOTATION_FINISHED_AT, rev.finishedAt?.toISOString());
  put(ANNOTATION_RUN_URL, rev.runUrl);
  put(ANNOTATION_URL, rev.url);
  put(ANNOTATION_DEPLOYMENT_ID, rev.deploymentId?.toString());
  put(ANNOTATION_MESSAGE, oneLine(rev.message));
  return out;
}

function oneLine(message: string | undefined): string | undefined {
  if (message === undefined) return undefined;
  const line = message.replace(/\s+/g, ' ').trim();
  return line.length > MESSAGE_ANNOTATION_MAX ? `${line.slice(0, MESSAGE_ANNOTATION_MAX - 1)}…` : line;
}

/** `Secret "kubestage.v1.production.v3" in namespace "production"`: how messages name a revision Secret. */
function secretRef(secret: RevisionSecret): string {
  const ns = secret.metadata.namespace;
  return `Secret "${secret.metadata.name}"${ns ? ` in namespace "${ns}"` : ''}`;
}

function corrupt(secret: RevisionSecret, what: string): Error {
  const ns = secret.metadata.namespace;
  return new Error(
    `${secretRef(secret)} is not a readable kubestage revision: ${what}. It was edited by hand or damaged; ` +
      `roll back to another revision, or delete it (kubectl${ns ? ` -n ${ns}` : ''} delete secret ${secret.metadata.name}) to drop it from the history`,
  );
}

/** The whole revision a Secret records; an Error naming the Secret and what is wrong when it cannot be read. */
export function decodeRevision(secret: RevisionSecret): Revision {
  if (secret.type !== REVISION_SECRET_TYPE) {
    throw corrupt(secret, `its type is "${secret.type ?? '<unset>'}", not "${REVISION_SECRET_TYPE}"`);
  }
  const encoded = secret.data?.[REVISION_DATA_KEY];
  if (encoded === undefined || encoded === '') throw corrupt(secret, `it has no data.${REVISION_DATA_KEY}`);
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(encoded) || encoded.length % 4 !== 0) {
    throw corrupt(secret, `data.${REVISION_DATA_KEY} is not base64`);
  }
  let json: string;
  try {
    json = gunzipSync(Buffer.from(encoded, 'base64')).toString('utf8');
  } catch (e) {
    throw corrupt(secret, `data.${REVISION_DATA_KEY} is not gzip'd data (${(e as Error).message})`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch (e) {
    throw corrupt(secret, `data.${REVISION_DATA_KEY} is not JSON (${(e as Error).message})`);
  }
  const problem = revisionProblem(parsed);
  if (typeof problem === 'string') throw corrupt(secret, `data.${REVISION_DATA_KEY} ${problem}`);
  const rev = problem.revision;
  const labelled = secret.metadata.labels?.[LABEL_REVISION];
  if (labelled !== undefined && labelled !== String(rev.number)) {
    throw corrupt(
      secret,
      `its ${LABEL_REVISION} label says ${labelled} but its data is revision ${rev.number}`,
    );
  }
  return rev;
}

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function optionalString(o: Json, key: string): string | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw new Error(`has a ${key} that is not a string`);
  return v;
}

function dateAt(o: Json, key: string): Date | undefined {
  const v = optionalString(o, key);
  if (v === undefined) return undefined;
  const d = new Date(v);
  if (Number.isNaN(d.getTime())) throw new Error(`has a ${key} that is not a time ("${v}")`);
  return d;
}

/** The revision a parsed JSON value describes, or what is wrong with it ("has no stage"). */
function revisionProblem(v: unknown): { revision: Revision } | string {
  try {
    return { revision: revisionOf(v) };
  } catch (e) {
    return (e as Error).message;
  }
}

function revisionOf(v: unknown): Revision {
  if (!isObject(v)) throw new Error('is not a JSON object');
  const stage = optionalString(v, 'stage');
  if (!stage) throw new Error('has no stage');
  const number = v.number;
  if (typeof number !== 'number' || !Number.isSafeInteger(number) || number < 1)
    throw new Error('has no revision number');
  const kind = v.kind;
  if (!(REVISION_KINDS as readonly unknown[]).includes(kind))
    throw new Error(`has kind ${JSON.stringify(kind)}, not one of ${REVISION_KINDS.join(', ')}`);
  const result = v.result;
  if (!(REVISION_RESULTS as readonly unknown[]).includes(result))
    throw new Error(`has result ${JSON.stringify(result)}, not one of ${REVISION_RESULTS.join(', ')}`);
  if (!Array.isArray(v.images)) throw new Error('has no images list');
  const images = v.images.map((i, n) => {
    if (!isObject(i) || typeof i.name !== 'string' || typeof i.ref !== 'string')
      throw new Error(`has images[${n}] without a name and ref`);
    return { name: i.name, ref: i.ref };
  });
  if (!Array.isArray(v.approvers)) throw new Error('has no approvers list');
  const approvers = v.approvers.map((a, n) => {
    if (!isObject(a) || typeof a.user !== 'string' || typeof a.environment !== 'string')
      throw new Error(`has approvers[${n}] without a user and environment`);
    const out: RevisionApprover = { user: a.user, environment: a.environment };
    const comment = optionalString(a, 'comment');
    if (comment !== undefined) out.comment = comment;
    return out;
  });
  if (!Array.isArray(v.manifests)) throw new Error('has no manifests list');
  const manifests = v.manifests.map((m, n) => {
    const checked = checkKubeObject(m);
    if ('problem' in checked) throw new Error(`has manifests[${n}] that ${checked.problem}`);
    return checked.object;
  });
  const startedAt = dateAt(v, 'startedAt');
  if (!startedAt) throw new Error('has no startedAt');
  const actor = optionalString(v, 'actor');
  if (actor === undefined) throw new Error('has no actor');
  const rev: Revision = {
    stage,
    number,
    kind: kind as RevisionKind,
    images,
    actor,
    approvers,
    result: result as RevisionResult,
    startedAt,
    manifests,
  };
  const set = <K extends keyof Revision>(key: K, value: Revision[K] | undefined): void => {
    if (value !== undefined) rev[key] = value;
  };
  set('from', optionalString(v, 'from'));
  if (v.restores !== undefined) {
    if (typeof v.restores !== 'number' || !Number.isSafeInteger(v.restores))
      throw new Error('has a restores that is not a revision number');
    rev.restores = v.restores;
  }
  set('commit', optionalString(v, 'commit'));
  set('ref', optionalString(v, 'ref'));
  if (v.bypass !== undefined) {
    if (!isObject(v.bypass) || typeof v.bypass.reason !== 'string')
      throw new Error('has a bypass without a reason');
    rev.bypass = { reason: v.bypass.reason };
  }
  if (v.freezeOverride !== undefined) {
    const f = v.freezeOverride;
    if (!isObject(f) || typeof f.reason !== 'string' || typeof f.window !== 'string')
      throw new Error('has a freezeOverride without a reason and window');
    rev.freezeOverride = { reason: f.reason, window: f.window };
  }
  set('runUrl', optionalString(v, 'runUrl'));
  if (v.deploymentId !== undefined) {
    if (typeof v.deploymentId !== 'number') throw new Error('has a deploymentId that is not a number');
    rev.deploymentId = v.deploymentId;
  }
  set('url', optionalString(v, 'url'));
  set('message', optionalString(v, 'message'));
  if (v.smoke !== undefined) rev.smoke = v.smoke;
  set('finishedAt', dateAt(v, 'finishedAt'));
  return rev;
}

/**
 * What a revision Secret's labels and annotations say, without decompressing it. Throws, naming the
 * Secret, when it has no stage or revision number label (not one of ours).
 */
export function summaryOf(secret: RevisionSecret): RevisionSummary {
  const l = secret.metadata.labels ?? {};
  const a = secret.metadata.annotations ?? {};
  const stage = l[LABEL_STAGE];
  const number = positiveInt(l[LABEL_REVISION]);
  if (!stage || number === undefined) {
    throw new Error(
      `${secretRef(secret)} is not a kubestage revision: its ${LABEL_STAGE} label is "${stage ?? '<unset>'}" and its ` +
        `${LABEL_REVISION} label "${l[LABEL_REVISION] ?? '<unset>'}" (expected a stage name and a revision number ≥ 1)`,
    );
  }
  const s: RevisionSummary = { name: secret.metadata.name, stage, number };
  const set = <K extends keyof RevisionSummary>(key: K, v: RevisionSummary[K] | undefined): void => {
    if (v !== undefined) s[key] = v;
  };
  const kind = l[LABEL_REVISION_KIND];
  set(
    'kind',
    (REVISION_KINDS as readonly string[]).includes(kind ?? '') ? (kind as RevisionKind) : undefined,
  );
  const result = l[LABEL_RESULT];
  set(
    'result',
    (REVISION_RESULTS as readonly string[]).includes(result ?? '') ? (result as RevisionResult) : undefined,
  );
  set('from', a[ANNOTATION_FROM] || undefined);
  set('restores', positiveInt(a[ANNOTATION_RESTORES]));
  set('commit', a[ANNOTATION_COMMIT] || undefined);
  set('ref', a[ANNOTATION_REF] || undefined);
  set('images', imagesOf(a[ANNOTATION_IMAGES]));
  set('actor', a[ANNOTATION_ACTOR] || undefined);
  set('approvers', a[ANNOTATION_APPROVERS] ? a[ANNOTATION_APPROVERS].split(',').filter(Boolean) : undefined);
  set('startedAt', dateOf(a[ANNOTATION_STARTED_AT]));
  set('finishedAt', dateOf(a[ANNOTATION_FINISHED_AT]));
  set('runUrl', a[ANNOTATION_RUN_URL] || undefined);
  set('url', a[ANNOTATION_URL] || undefined);
  set('deploymentId', positiveInt(a[ANNOTATION_DEPLOYMENT_ID]));
  set('message', a[ANNOTATION_MESSAGE] || undefined);
  return s;
}

/** Oldest first. */
export function sortSummaries(summaries: readonly RevisionSummary[]): RevisionSummary[] {
  return [...summaries].sort((a, b) => a.number - b.number);
}

/** The number the next revision gets: one more than the highest recorded (1 for an empty ledger). */
export function nextRevisionNumber(summaries: readonly Pick<RevisionSummary, 'number'>[]): number {
  return summaries.reduce((max, s) => Math.max(max, s.number), 0) + 1;
}

/**
 * What a rollback re-applies by default: the newest succeeded revision older than `current` (the
 * newest revision when the stage records no current one). undefined: nothing to roll back to.
 */
export function previousSucceeded(
  summaries: readonly RevisionSummary[],
  current?: number,
): RevisionSummary | undefined {
  const below = current ?? nextRevisionNumber(summaries) - 1;
  return sortSummaries(summaries)
    .reverse()
    .find((s) => s.number < below && s.result === 'succeeded');
}

/**
 * The revisions to delete so that `keep` remain, oldest first — never `current` nor the newest
 * succeeded revision (what a rollback would need), as Helm's --history-max never deletes the last
 * deployed release. Those two count towards `keep`.
 */
export function toPrune(
  summaries: readonly RevisionSummary[],
  keep: number,
  current?: number,
): RevisionSummary[] {
  checkNumber(keep, 'the number of revisions to keep (history)');
  const sorted = sortSummaries(summaries);
  const newestSucceeded = [...sorted].reverse().find((s) => s.result === 'succeeded')?.number;
  let excess = sorted.length - keep;
  const out: RevisionSummary[] = [];
  for (const s of sorted) {
    if (excess <= 0) break;
    if (s.number === current || s.number === newestSucceeded) continue;
    out.push(s);
    excess--;
  }
  return out;
}
