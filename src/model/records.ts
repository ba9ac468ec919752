// What a namespace records about the preview (or stage) in it, read and written in ONE place, so that
// `status`, `sweep` and `promote` read back exactly what `preview` wrote. The record lives in the
// namespace's annotations (DESIGN: Kubernetes contract); labels carry only what selectors need.
import {
  ANNOTATION_ACTOR,
  ANNOTATION_COMMENT_ID,
  ANNOTATION_DEPLOYMENT_ID,
  ANNOTATION_EXPIRES_AT,
  ANNOTATION_HEAD_SHA,
  ANNOTATION_HEAD_TIME,
  ANNOTATION_IMAGES,
  ANNOTATION_PR,
  ANNOTATION_RUN_URL,
  ANNOTATION_STATE,
  ANNOTATION_UPDATED_AT,
  ANNOTATION_URL,
  LABEL_ENVIRONMENT,
  LABEL_PR,
  LABEL_REPO,
} from './labels.js';

export const RECORDED_STATES = ['deploying', 'ready', 'failed', 'cancelled'] as const;
export type RecordedState = (typeof RECORDED_STATES)[number];

export interface NamespaceRecord {
  /** `kubestage.dev/repo` label value. */
  repoLabel?: string;
  /** `preview` or a stage name. */
  environment?: string;
  pr?: number;
  headSha?: string;
  /** When headSha became the PR's head (the event's time). */
  headTime?: Date;
  /** Image name as in the manifests → the reference deployed. */
  images?: Record<string, string>;
  /** Where the preview answers; absent when nothing routes to it. */
  url?: string;
  updatedAt?: Date;
  expiresAt?: Date;
  runUrl?: string;
  commentId?: number;
  deploymentId?: number;
  state?: RecordedState;
  actor?: string;
}

/** The annotations that hold a record; fields that are undefined are left out. */
export function encodeRecord(r: NamespaceRecord): Record<string, string> {
  const out: Record<string, string> = {};
  const put = (key: string, v: string | undefined): void => {
    if (v !== undefined && v !== '') out[key] = v;
  };
  put(ANNOTATION_PR, r.pr?.toString());
  put(ANNOTATION_HEAD_SHA, r.headSha);
  put(ANNOTATION_HEAD_TIME, r.headTime?.toISOString());
  if (r.images) put(ANNOTATION_IMAGES, JSON.stringify(sortedRecord(r.images)));
  put(ANNOTATION_URL, r.url);
  put(ANNOTATION_UPDATED_AT, r.updatedAt?.toISOString());
  put(ANNOTATION_EXPIRES_AT, r.expiresAt?.toISOString());
  put(ANNOTATION_RUN_URL, r.runUrl);
  put(ANNOTATION_COMMENT_ID, r.commentId?.toString());
  put(ANNOTATION_DEPLOYMENT_ID, r.deploymentId?.toString());
  put(ANNOTATION_STATE, r.state);
  put(ANNOTATION_ACTOR, r.actor);
  return out;
}

/**
 * Reads a record back from a namespace's labels and annotations. Values that do not parse (a hand
 * edit, an older kubestage) are left out rather than guessed.
 */
export function decodeRecord(metadata: {
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}): NamespaceRecord {
  const a = metadata.annotations ?? {};
  const l = metadata.labels ?? {};
  const r: NamespaceRecord = {};
  const set = <K extends keyof NamespaceRecord>(key: K, v: NamespaceRecord[K] | undefined): void => {
    if (v !== undefined) r[key] = v;
  };
  set('repoLabel', l[LABEL_REPO]);
  set('environment', l[LABEL_ENVIRONMENT]);
  set('pr', positiveInt(a[ANNOTATION_PR] ?? l[LABEL_PR]));
  set('headSha', a[ANNOTATION_HEAD_SHA] || undefined);
  set('headTime', dateOf(a[ANNOTATION_HEAD_TIME]));
  set('images', imagesOf(a[ANNOTATION_IMAGES]));
  set('url', a[ANNOTATION_URL] || undefined);
  set('updatedAt', dateOf(a[ANNOTATION_UPDATED_AT]));
  set('expiresAt', dateOf(a[ANNOTATION_EXPIRES_AT]));
  set('runUrl', a[ANNOTATION_RUN_URL] || undefined);
  set('commentId', positiveInt(a[ANNOTATION_COMMENT_ID]));
  set('deploymentId', positiveInt(a[ANNOTATION_DEPLOYMENT_ID]));
  const state = a[ANNOTATION_STATE];
  set(
    'state',
    (RECORDED_STATES as readonly string[]).includes(state ?? '') ? (state as RecordedState) : undefined,
  );
  set('actor', a[ANNOTATION_ACTOR] || undefined);
  return r;
}

// Annotation value decoders, shared by every codec of this folder (records, the ledger): a value that
// does not parse is undefined, never guessed.
export function positiveInt(v: string | undefined): number | undefined {
  if (!v || !/^\d+$/.test(v)) return undefined;
  const n = Number(v);
  return Number.isSafeInteger(n) && n > 0 ? n : undefined;
}

export function dateOf(v: string | undefined): Date | undefined {
  if (!v) return undefined;
  const d = new Date(v);
  return Number.isNaN(d.getTime()) ? undefined : d;
}

/** A JSON object of strings (image name → reference). */
export function imagesOf(v: string | undefined): Record<string, string> | undefined {
  if (!v) return undefined;
  try {
    const parsed: unknown = JSON.parse(v);
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) return undefined;
    const entries = Object.entries(parsed as Record<string, unknown>).filter(
      (e): e is [string, string] => typeof e[1] === 'string',
    );
    return Object.fromEntries(entries);
  } catch {
    return undefined;
  }
}

function sortedRecord(r: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(r).sort(([a], [b]) => a.localeCompare(b)));
}

/** A run's claim on a namespace: its commit, when that commit became the head, and whether GitHub confirmed it. */
export interface Claim {
  headSha: string;
  headTime?: Date;
  /** GitHub said (at the start of the run) that this commit is the PR's head, or is ahead of it. */
  confirmedHead: boolean;
}

/**
 * Whether a run may take the namespace over from the commit it records. A run never replaces a
 * newer commit with an older one: GitHub's word decides when the run has it; otherwise the times the
 * events carried (a re-run of an old build carries its old time); with neither, the run goes ahead
 * (nothing tells the commits apart) and says so.
 */
export function mayClaim(
  recorded: Pick<NamespaceRecord, 'headSha' | 'headTime'>,
  ours: Claim,
): 'yes' | 'no' | 'unknown' {
  if (!recorded.headSha || recorded.headSha === ours.headSha) return 'yes';
  if (ours.confirmedHead) return 'yes';
  if (recorded.headTime && ours.headTime)
    return ours.headTime.getTime() >= recorded.headTime.getTime() ? 'yes' : 'no';
  return 'unknown';
}
