// The revision ledger of a stage, in the cluster (model/ledger.ts is the codec; this is the I/O):
// one Secret per revision in the stage's namespace, the current revision on the namespace, and
// Events on the namespace that `kubectl describe ns <stage>` lists.
import { randomBytes } from 'node:crypto';
import { HttpMethod } from '@kubernetes/client-node';
import {
  ANNOTATION_REVISION,
  ANNOTATION_RESULT,
  ANNOTATION_RUN_URL,
  EVENT_COMPONENT,
  LABEL_MANAGED_BY,
  LABEL_STAGE,
  MANAGED_BY,
} from '../model/labels.js';
import {
  decodeRevision,
  encodeRevision,
  nextRevisionNumber,
  revisionSecretName,
  sortSummaries,
  summaryOf,
  toPrune,
  type Revision,
  type RevisionImage,
  type RevisionResult,
  type RevisionSecret,
  type RevisionSummary,
} from '../model/ledger.js';
import { encodeRecord } from '../model/records.js';
import type { KubeClient } from './client.js';
import { describeApiError, statusOf } from './errors.js';
import { permissionHint } from './permissions.js';
import type { LiveObject } from './types.js';

/** How often a write that lost a race (409) is tried again. */
const RACE_ATTEMPTS = 5;

function secretsPath(namespace: string, name?: string): string {
  return `/api/v1/namespaces/${encodeURIComponent(namespace)}/secrets${name ? `/${encodeURIComponent(name)}` : ''}`;
}

function ledgerSelector(stage: string): string {
  return `${LABEL_MANAGED_BY}=${MANAGED_BY},${LABEL_STAGE}=${stage}`;
}

function accessError(verb: string, what: string, namespace: string, e: unknown): Error {
  return new Error(
    `could not ${verb} ${what} in namespace "${namespace}": ${describeApiError(e)}` +
      (statusOf(e) === 403
        ? `; ${permissionHint(`get, list, create, update and delete on secrets in namespace "${namespace}"`)}`
        : ''),
    { cause: e },
  );
}

/** The stage's revisions (summaries from labels and annotations only), oldest first. */
export async function listRevisions(
  kube: KubeClient,
  namespace: string,
  stage: string,
): Promise<RevisionSummary[]> {
  let items: RevisionSecret[];
  try {
    items = (
      await kube.list<RevisionSecret>('v1', 'Secret', { namespace, labelSelector: ledgerSelector(stage) })
    ).items;
  } catch (e) {
    throw accessError('list', `the revisions of stage "${stage}"`, namespace, e);
  }
  const out: RevisionSummary[] = [];
  for (const s of items) {
    try {
      out.push(summaryOf({ ...s, metadata: { ...s.metadata, namespace } }));
    } catch (e) {
      // Carries our labels but not a revision's: say so, and let the rest of the history stand.
      kube.logger.warning((e as Error).message);
    }
  }
  return sortSummaries(out);
}

/** One whole revision; a missing one is an error that lists the revisions there are. */
export async function readRevision(
  kube: KubeClient,
  namespace: string,
  stage: string,
  n: number,
): Promise<Revision> {
  const name = revisionSecretName(stage, n);
  let secret: RevisionSecret | undefined;
  try {
    secret = await kube.get<RevisionSecret>('v1', 'Secret', name, namespace);
  } catch (e) {
    throw accessError('read', `revision ${n} of stage "${stage}" (Secret ${name})`, namespace, e);
  }
  if (!secret) {
    const there = await listRevisions(kube, namespace, stage);
    throw new Error(
      `stage "${stage}" has no revision ${n} (no Secret ${name} in namespace "${namespace}"); ` +
        (there.length
          ? `its revisions are ${there.map((s) => `${s.number}${s.result ? ` (${s.result})` : ''}`).join(', ')}`
          : 'it has no recorded revisions yet') +
        '. Older revisions are pruned beyond the configured history',
    );
  }
  return decodeRevision({ ...secret, metadata: { ...secret.metadata, namespace } });
}

/**
 * Records a new revision under the next free number. Two runs that pick the same number race on the
 * create: the loser (409 AlreadyExists) lists again and takes the next one. Returns the revision as
 * recorded, with its number.
 */
export async function writeRevision(
  kube: KubeClient,
  namespace: string,
  rev: Omit<Revision, 'number'> & { number?: number },
  labels: Record<string, string>,
): Promise<Revision> {
  let lastError: unknown;
  for (let attempt = 1; attempt <= RACE_ATTEMPTS; attempt++) {
    const number = nextRevisionNumber(await listRevisions(kube, namespace, rev.stage));
    const recorded: Revision = { ...rev, number };
    const secret = encodeRevision(recorded, labels);
    try {
      await kube.request(HttpMethod.POST, secretsPath(namespace), {
        body: secret,
        query: { fieldManager: kube.fieldManager },
      });
      return recorded;
    } catch (e) {
      if (statusOf(e) !== 409)
        throw accessError('record', `revision ${number} of stage "${rev.stage}"`, namespace, e);
      lastError = e;
      kube.logger.debug(
        `revision ${number} of stage "${rev.stage}" was taken by another run; trying the next number`,
      );
    }
  }
  throw new Error(
    `could not record a revision of stage "${rev.stage}" in namespace "${namespace}": another run took the number ` +
      `${RACE_ATTEMPTS} times in a row (${describeApiError(lastError)}). Runs of this stage should be serialised ` +
      '(a `concurrency:` group per stage in the workflow)',
    { cause: lastError },
  );
}

export interface RevisionOutcome {
  result: RevisionResult;
  /** The images as run (digests observed once the rollout is done). */
  images?: RevisionImage[];
  message?: string;
  smoke?: unknown;
  finishedAt: Date;
  url?: string;
  deploymentId?: number;
}

/**
 * Records how a revision ended: its data, labels and summary annotations, as one update conditional on
 * the resourceVersion read; a concurrent change (409 Conflict) is read again and the outcome re-applied.
 */
export async function finishRevision(
  kube: KubeClient,
  namespace: string,
  stage: string,
  n: number,
  outcome: RevisionOutcome,
): Promise<Revision> {
  const name = revisionSecretName(stage, n);
  let lastError: unknown;
  for (let attempt = 1; attempt <= RACE_ATTEMPTS; attempt++) {
    const live = await kube.get<RevisionSecret & LiveObject>('v1', 'Secret', name, namespace);
    if (!live) {
      throw new Error(
        `cannot record the outcome of revision ${n} of stage "${stage}": its Secret ${name} is gone from namespace "${namespace}" ` +
          '(deleted by hand, or pruned by a run with a smaller history)',
      );
    }
    const rev = decodeRevision({ ...live, metadata: { ...live.metadata, namespace } });
    const finished: Revision = { ...rev, ...definedOnly(outcome) };
    const encoded = encodeRevision(finished, live.metadata.labels ?? {});
    const body = {
      ...live,
      metadata: {
        ...live.metadata,
        // Our labels are re-derived; other annotations (someone's note) are kept.
        labels: encoded.metadata.labels,
        annotations: { ...(live.metadata.annotations ?? {}), ...encoded.metadata.annotations },
      },
      data: encoded.data,
    };
    delete (body.metadata as { managedFields?: unknown }).managedFields;
    try {
      await kube.request(HttpMethod.PUT, secretsPath(namespace, name), {
        body,
        query: { fieldManager: kube.fieldManager },
      });
      return finished;
    } catch (e) {
      if (statusOf(e) !== 409) throw accessError('update', `revision ${n} of stage "${stage}"`, namespace, e);
      lastError = e;
      kube.logger.debug(`revision ${n} of stage "${stage}" changed while we updated it; reading it again`);
    }
  }
  throw new Error(
    `could not record the outcome of revision ${n} of stage "${stage}": it kept changing under us (${describeApiError(lastError)})`,
    { cause: lastError },
  );
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/**
 * Deletes the revisions beyond `keep` (never `current` nor the newest succeeded one); returns the
 * names of the Secrets deleted.
 */
export async function pruneRevisions(
  kube: KubeClient,
  namespace: string,
  stage: string,
  keep: number,
  current?: number,
): Promise<string[]> {
  const doomed = toPrune(await listRevisions(kube, namespace, stage), keep, current);
  const deleted: string[] = [];
  for (const s of doomed) {
    try {
      if (await kube.delete('v1', 'Secret', s.name, namespace)) deleted.push(s.name);
    } catch (e) {
      throw accessError('delete', `old revision ${s.number} of stage "${stage}"`, namespace, e);
    }
  }
  return deleted;
}

export interface CurrentRevision {
  revision: number;
  result: RevisionResult;
  commit?: string;
  /** Image name → pinned reference. */
  images?: Record<string, string>;
  url?: string;
  runUrl?: string;
  actor?: string;
  deploymentId?: number;
  updatedAt?: Date;
}

/**
 * Marks `revision` as the stage's current one on its namespace (kubestage.dev/revision, plus the
 * record's commit, images, URL, run and updated-at), so `kubectl describe ns <stage>` shows it.
 */
export async function setCurrentRevision(
  kube: KubeClient,
  namespace: string,
  current: CurrentRevision,
): Promise<void> {
  const annotations = {
    [ANNOTATION_REVISION]: String(current.revision),
    [ANNOTATION_RESULT]: current.result,
    ...encodeRecord({
      headSha: current.commit,
      images: current.images,
      url: current.url,
      runUrl: current.runUrl,
      actor: current.actor,
      deploymentId: current.deploymentId,
      updatedAt: current.updatedAt ?? new Date(),
    }),
  };
  try {
    await kube.request(HttpMethod.PATCH, `/api/v1/namespaces/${encodeURIComponent(namespace)}`, {
      body: { metadata: { annotations } },
      contentType: 'application/merge-patch+json',
      query: { fieldManager: kube.fieldManager },
    });
  } catch (e) {
    if (statusOf(e) === 404)
      throw new Error(
        `cannot mark revision ${current.revision} current: namespace "${namespace}" does not exist`,
        {
          cause: e,
        },
      );
    throw new Error(
      `could not mark revision ${current.revision} current on namespace "${namespace}": ${describeApiError(e)}` +
        (statusOf(e) === 403 ? `; ${permissionHint('patch on namespaces (cluster scope)')}` : ''),
      { cause: e },
    );
  }
}

export interface StageEvent {
  /** CamelCase, e.g. Deployed, Promoted, RolledBack, PromotionRefused. */
  reason: string;
  message: string;
  type: 'Normal' | 'Warning';
  /** What was done (defaults to the reason). */
  action?: string;
  runUrl?: string;
}

export interface RecordedEvent {
  name: string;
  namespace: string;
}

/** Kubernetes' limit on an Event's message (NoteLengthLimit). */
const EVENT_MESSAGE_MAX = 1024;

/** RFC 3339 with seconds (Time) and with microseconds (MicroTime), as the API server writes them. */
function rfc3339(d: Date): string {
  return d.toISOString().replace(/\.\d+Z$/, 'Z');
}
export function microTime(d: Date): string {
  return d.toISOString().replace(/Z$/, '000Z');
}

/**
 * An Event about the stage's Namespace, created in that namespace, so that `kubectl get events -n
 * <stage>` and `kubectl events -n <stage> --for namespace/<stage>` list it next to the workloads'
 * own events.
 *
 * Not in `default`, where client-go files Events about cluster-scoped objects: that would need
 * rights outside the stage's namespace, and no kubectl command would show it better — `kubectl
 * describe namespace` prints no Events section at all (kubectl's NamespaceDescriber never lists
 * them); it shows the current revision from the namespace's annotations (setCurrentRevision).
 * The API server accepts an Event in the stage namespace only when involvedObject.namespace says
 * that namespace (legacyValidateEvent), so it does.
 */
export async function recordEvent(
  kube: KubeClient,
  namespace: string,
  event: StageEvent,
  now: Date = new Date(),
  /** The namespace as just read or written (saves reading it for its uid). */
  known?: LiveObject,
): Promise<RecordedEvent> {
  const ns = known ?? (await kube.get<LiveObject>('v1', 'Namespace', namespace));
  if (!ns) throw new Error(`cannot record event ${event.reason}: namespace "${namespace}" does not exist`);
  // client-go's naming: <involved object>.<time in hex>; random bytes keep two runs apart.
  const name = `${namespace}.${now.getTime().toString(16)}${randomBytes(4).toString('hex')}`;
  const message = event.runUrl ? `${event.message} (${event.runUrl})` : event.message;
  try {
    await kube.request(HttpMethod.POST, `/api/v1/namespaces/${encodeURIComponent(namespace)}/events`, {
      body: {
        apiVersion: 'v1',
        kind: 'Event',
        metadata: {
          name,
          namespace,
          labels: { [LABEL_MANAGED_BY]: MANAGED_BY },
          ...(event.runUrl ? { annotations: { [ANNOTATION_RUN_URL]: event.runUrl } } : {}),
        },
        involvedObject: {
          apiVersion: 'v1',
          kind: 'Namespace',
          name: namespace,
          namespace,
          uid: ns.metadata.uid,
          resourceVersion: ns.metadata.resourceVersion,
        },
        reason: event.reason,
        message: message.length > EVENT_MESSAGE_MAX ? `${message.slice(0, EVENT_MESSAGE_MAX - 1)}…` : message,
        type: event.type,
        action: event.action ?? event.reason,
        source: { component: EVENT_COMPONENT },
        reportingComponent: EVENT_COMPONENT,
        reportingInstance: EVENT_COMPONENT,
        firstTimestamp: rfc3339(now),
        lastTimestamp: rfc3339(now),
        eventTime: microTime(now),
        count: 1,
      },
      query: { fieldManager: kube.fieldManager },
    });
  } catch (e) {
    throw accessError('create', `event ${event.reason}`, namespace, e);
  }
  return { name, namespace };
}
