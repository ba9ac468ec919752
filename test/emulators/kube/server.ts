// The HTTP layer of the Kubernetes API emulator: routing, verbs, watch streams, validation,
// deletion (finalizers, owner-reference cascade, namespace termination) and CRD registration, on
// top of the in-memory Store. Real kubectl and real @kubernetes/client-node talk to it, so every
// answer is shaped as a v1.32 API server shapes it (Status errors, list metadata, watch events).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { parse as parseYaml } from 'yaml';
import {
  apiGroup,
  apiGroupList,
  apiResourceList,
  apiVersions,
  openapiV3GroupVersion,
  openapiV3Root,
  VERSION_INFO,
} from './discovery.js';
import { admitClaim } from './admission.js';
import { applyLimitRangeDefaults, limitRangeDenial } from './limitrange.js';
import { quotaDenial } from './quota.js';
import { randomSuffix } from './controllers/runtime.js';
import { namespacePolicy, violations, violationText, warningHeader, warnings } from './podsecurity.js';
import { Authenticator } from './auth.js';
import { CA_CERT } from './tls.js';
import { forbiddenError, type Faults } from './faults.js';
import { isReviewType } from './builtins.js';
import { reviewAnswer } from './reviews.js';
import { applyDefaults, carryJobSelector, generateJobSelector } from './defaults.js';
import {
  jsonEqual,
  jsonPatch,
  mergePatch,
  PatchError,
  strategicMergePatch,
  supportsStrategicMerge,
  type JsonPatchOp,
} from './patch.js';
import {
  formatLabelSelector,
  fromLabelSelectorObject,
  matchesFields,
  matchesLabels,
  parseFieldSelector,
  parseLabelSelector,
  pinnedName,
  type FieldSelector,
  type LabelSelector,
} from './selectors.js';
import { decodeAccessReviewSpec, decodeProtobufObject, PROTOBUF_CONTENT_TYPE } from './protobuf.js';
import { serverSideApply, trackUpdate, type FieldConflict } from './ssa.js';
import {
  alreadyExists,
  ApiError,
  badRequest,
  conflict,
  expired,
  failure,
  forbidden,
  internalError,
  invalid,
  methodNotAllowed,
  namespaceNotFound,
  notFound,
  resourceNotFound,
  serviceUnavailable,
  STALE_OBJECT,
  success,
  tooManyRequests,
  unsupportedMediaType,
  type Status,
} from './status.js';
import {
  apiVersionOf,
  clone,
  StoreError,
  typeKey,
  type KObject,
  type ResourceType,
  type Store,
  type StoreEvent,
} from './store.js';
import { renderTable, wantsTable, type PrinterColumn } from './tables.js';
import { secretDecodeError, validateObject, validateUpdate } from './validation.js';

export interface RequestRecord {
  method: string;
  /** URL path without the query string. */
  path: string;
  /** The query string (with its leading "?"), or "". */
  query: string;
  status: number;
}

export interface ServerOptions {
  latencyMs?: number;
  namespaceDeletionDelayMs?: number;
}

export interface PodLogSource {
  podLog(namespace: string, pod: string, container?: string): string | undefined;
}

type Query = URLSearchParams;

interface Route {
  type: ResourceType;
  namespace?: string;
  name?: string;
  sub?: string;
}

interface WriteCtx {
  manager: string;
  dryRun: boolean;
  now: string;
}

type PropagationPolicy = 'Foreground' | 'Background' | 'Orphan';

const MAX_REQUEST_LOG = 200_000;
const BOOKMARK_INTERVAL_MS = 5_000;

export function nowRfc3339(): string {
  return new Date().toISOString().replace(/\.\d+Z$/, 'Z');
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function isMap(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function objKey(ns: string | undefined, name: string): string {
  return `${ns ?? ''}/${name}`;
}

function isNamespaceType(t: ResourceType): boolean {
  return t.group === '' && t.plural === 'namespaces';
}

function isCrdType(t: ResourceType): boolean {
  return t.group === 'apiextensions.k8s.io' && t.plural === 'customresourcedefinitions';
}

function hasStatusSubresource(t: ResourceType): boolean {
  return (t.subresources ?? []).includes('status');
}

/** Manager name when the client sent no fieldManager: the User-Agent up to its first "/". */
function managerFromUserAgent(ua: string | undefined): string {
  const s = (ua ?? '').split('/')[0].trim();
  return s || 'unknown';
}

/** Where one object's dependents are indexed: its owner uid → dependents. */
interface Ref {
  type: ResourceType;
  namespace?: string;
  name: string;
}

export class KubeApiServer {
  readonly requests: RequestRecord[] = [];
  private readonly ownerIndex = new Map<string, Map<string, Ref>>(); // owner uid → depKey → dependent
  private readonly ownersOf = new Map<string, string[]>(); // depKey → owner uids
  private readonly byUid = new Map<string, Ref>();
  private readonly terminating = new Set<string>();
  private readonly sweepTimers = new Map<string, NodeJS.Timeout>();
  private readonly finalizeTimers = new Map<string, NodeJS.Timeout>();
  private readonly foregroundPending = new Set<string>(); // owner uids being deleted in foreground
  private readonly watches = new Set<ServerResponse>();

  /** Watch streams open right now (a client that forgets to close one keeps its process alive). */
  get openWatches(): number {
    return this.watches.size;
  }
  /** Responses whose answer the `dropReply` fault swallows after the request was served. */
  private readonly dropReplies = new WeakSet<ServerResponse>();
  private readonly unsubscribe: () => void;
  private clusterIpSeq = 10;
  private closed = false;
  /** Changes with every CRD change, so that kubectl re-reads the OpenAPI documents. */
  private openapiHash = 1;
  serverAddress = '127.0.0.1:0';
  /** Who may call: bearer tokens the server accepts (the kubeconfig's is added at start). */
  readonly auth = new Authenticator();
  /** Who made each request in flight (for the reviews that answer about the caller). */
  private readonly users = new WeakMap<IncomingMessage, string>();
  podLogs: PodLogSource | undefined;

  constructor(
    readonly store: Store,
    readonly faults: Faults,
    readonly options: ServerOptions,
  ) {
    this.unsubscribe = store.subscribe((ev) => this.onStoreEvent(ev));
  }

  close(): void {
    this.closed = true;
    this.unsubscribe();
    for (const t of this.sweepTimers.values()) clearTimeout(t);
    for (const t of this.finalizeTimers.values()) clearTimeout(t);
    for (const w of this.watches) w.end();
    this.watches.clear();
  }

  // -------------------------------------------------------------------------------------------
  // HTTP entry point

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://emulator');
    const method = (req.method ?? 'GET').toUpperCase();
    const record: RequestRecord = { method, path: url.pathname, query: url.search, status: 0 };
    if (this.requests.length >= MAX_REQUEST_LOG) this.requests.splice(0, MAX_REQUEST_LOG / 2);
    this.requests.push(record);
    res.on('close', () => {
      if (record.status === 0 && res.headersSent) record.status = res.statusCode;
    });
    try {
      const body = await readBody(req);
      this.users.set(req, this.auth.authenticate(req, method, url.pathname, url.search));
      const delay = (this.options.latencyMs ?? 0) + this.faults.delay();
      if (delay > 0) await sleep(delay);
      const fault = this.faults.decide(method, url.pathname, url.search);
      if (fault === 'drop') {
        req.socket.destroy();
        return;
      }
      if (fault === 403) throw forbiddenError(method, url.pathname, url.search);
      if (fault === 429) throw tooManyRequests(this.faults.retryAfterSeconds);
      if (fault === 500) throw internalError('injected fault');
      if (fault === 503) throw serviceUnavailable();
      if (fault === 'dropReply') this.dropReplies.add(res);
      await this.route(req, res, method, url, body, record);
    } catch (e) {
      const err = toApiError(e);
      if (res.headersSent) {
        res.end();
        return;
      }
      this.send(res, record, err.status.code, err.status, err.headers);
    }
  }

  private send(
    res: ServerResponse,
    record: RequestRecord,
    code: number,
    body: unknown,
    headers: Record<string, string> = {},
    contentType = 'application/json',
  ): void {
    if (this.dropReplies.delete(res)) {
      // Served, but the answer is lost on the way back.
      res.socket?.destroy();
      return;
    }
    record.status = code;
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    res.writeHead(code, { 'Content-Type': contentType, 'Cache-Control': 'no-cache, private', ...headers });
    res.end(text);
  }

  private async route(
    req: IncomingMessage,
    res: ServerResponse,
    method: string,
    url: URL,
    body: Buffer,
    record: RequestRecord,
  ): Promise<void> {
    const segs = url.pathname
      .split('/')
      .filter((s) => s !== '')
      .map(decodeURIComponent);
    const q = url.searchParams;
    const ok = (code: number, b: unknown, ct?: string) => this.send(res, record, code, b, {}, ct);
    const types = this.store.allTypes();

    // Non-resource paths.
    if (segs.length === 0)
      return ok(200, { paths: ['/api', '/api/v1', '/apis', '/healthz', '/openapi/v3', '/version'] });
    if (segs[0] === 'version' && segs.length === 1) return ok(200, VERSION_INFO);
    if (['healthz', 'livez', 'readyz'].includes(segs[0])) return ok(200, 'ok', 'text/plain; charset=utf-8');
    if (segs[0] === 'openapi') {
      if (segs[1] === 'v3' && segs.length === 2)
        return ok(200, openapiV3Root(types, String(this.openapiHash)));
      if (segs[1] === 'v3') {
        const doc = openapiV3GroupVersion(types, segs.slice(2).join('/'));
        if (doc) return ok(200, doc);
      }
      throw resourceNotFound();
    }

    let group: string;
    let version: string;
    let rest: string[];
    if (segs[0] === 'api') {
      if (segs.length === 1) return ok(200, apiVersions(this.serverAddress));
      group = '';
      version = segs[1];
      rest = segs.slice(2);
    } else if (segs[0] === 'apis') {
      if (segs.length === 1) return ok(200, apiGroupList(types));
      if (segs.length === 2) {
        const g = apiGroup(types, segs[1]);
        if (!g) throw resourceNotFound();
        return ok(200, g);
      }
      group = segs[1];
      version = segs[2];
      rest = segs.slice(3);
    } else throw resourceNotFound();

    if (rest.length === 0) {
      const list = apiResourceList(types, group, version);
      if (!list) throw resourceNotFound();
      return ok(200, list);
    }

    const route = this.resolve(group, version, rest);
    if (!route) throw resourceNotFound();
    await this.dispatch(req, res, method, route, q, body, record);
  }

  /** URL path after /api/v1 or /apis/g/v → type, namespace, name, subresource. */
  private resolve(group: string, version: string, rest: string[]): Route | undefined {
    if (rest[0] === 'namespaces' && rest.length >= 3) {
      const t = this.store.findType(group, version, rest[2]);
      if (t && t.namespaced && rest.length <= 5)
        return { type: t, namespace: rest[1], name: rest[3], sub: rest[4] };
      // /api/v1/namespaces/<name>/status|finalize: subresources of the namespace itself.
      if (group === '' && rest.length === 3) {
        const ns = this.store.findType('', version, 'namespaces');
        if (ns && (rest[2] === 'status' || rest[2] === 'finalize'))
          return { type: ns, name: rest[1], sub: rest[2] };
      }
      return undefined;
    }
    const t = this.store.findType(group, version, rest[0]);
    if (!t || rest.length > 3) return undefined;
    return { type: t, name: rest[1], sub: rest[2] };
  }

  private async dispatch(
    req: IncomingMessage,
    res: ServerResponse,
    method: string,
    r: Route,
    q: Query,
    body: Buffer,
    record: RequestRecord,
  ): Promise<void> {
    const { type: t, namespace: ns, name, sub } = r;
    // Objects are stored at the preferred version; answers name the version that was asked for.
    const send = (code: number, b: unknown) =>
      this.send(
        res,
        record,
        code,
        isMap(b) && b.kind === t.kind ? { ...b, apiVersion: apiVersionOf(t) } : b,
        // Pod Security warnings on writes of pods and workloads, as `kubectl` prints them.
        method !== 'GET' && method !== 'DELETE' && isMap(b) && b.kind === t.kind
          ? this.podSecurityWarnings(t, b as KObject)
          : {},
      );
    if (sub && !(t.subresources ?? []).includes(sub)) throw resourceNotFound();
    if (!sub && !(t.verbs ?? []).includes(verbOf(method, name, q))) throw methodNotAllowed();
    const ctx = this.writeCtx(req, q);
    const contentType = (req.headers['content-type'] ?? 'application/json')
      .split(';')[0]
      .trim()
      .toLowerCase();

    if (method === 'GET' || method === 'HEAD') {
      if (name === undefined) {
        const labels = parseLabelSelector(q.get('labelSelector'));
        const fields = parseFieldSelector(q.get('fieldSelector'), t);
        if (q.get('watch') === '1' || q.get('watch') === 'true') {
          return this.watch(req, res, record, t, ns, labels, fields, q);
        }
        const list = this.list(t, ns, labels, fields, q);
        return send(
          200,
          wantsTable(req.headers.accept)
            ? renderTable(t, list.items as KObject[], list.metadata, q, this.crdColumns(t))
            : list,
        );
      }
      if (sub === 'log') return this.podLog(res, record, t, ns, name, q);
      const live = this.mustGet(t, ns, name);
      if (sub === 'scale') return send(200, scaleOf(t, live));
      return send(
        200,
        wantsTable(req.headers.accept)
          ? renderTable(t, [live], { resourceVersion: live.metadata.resourceVersion }, q, this.crdColumns(t))
          : live,
      );
    }

    if (isReviewType(t)) {
      if (method !== 'POST' || name !== undefined) throw methodNotAllowed();
      let spec: unknown;
      try {
        if (contentType === PROTOBUF_CONTENT_TYPE) spec = decodeAccessReviewSpec(body);
        else spec = (parseObject(body, contentType) as unknown as Record<string, unknown>).spec;
      } catch {
        spec = {};
      }
      return send(201, reviewAnswer(t, isMap(spec) ? spec : {}, this.users.get(req) ?? '', this.auth));
    }

    if (method === 'POST') {
      if (name !== undefined) throw methodNotAllowed();
      if (t.namespaced && ns === undefined) throw methodNotAllowed();
      const obj = parseObject(body, contentType);
      return send(201, this.create(t, ns, obj, ctx));
    }

    if (method === 'PUT') {
      if (name === undefined) throw methodNotAllowed();
      const obj = parseObject(body, contentType);
      if (sub === 'scale') return send(200, this.writeScale(t, ns, name, obj, ctx));
      if (sub === 'finalize') return send(200, this.finalizeNamespace(t, name, obj, ctx));
      return send(200, this.update(t, ns, name, obj, ctx, sub));
    }

    if (method === 'PATCH') {
      if (name === undefined) throw methodNotAllowed();
      const { code, object } = this.patch(t, ns, name, contentType, body, q, ctx, sub);
      return send(code, object);
    }

    if (method === 'DELETE') {
      const opts = parseDeleteOptions(body, q);
      if (name === undefined) {
        if (!t.verbs?.includes('deletecollection')) throw methodNotAllowed();
        if (t.namespaced && ns === undefined) throw methodNotAllowed();
        const labels = parseLabelSelector(q.get('labelSelector'));
        const fields = parseFieldSelector(q.get('fieldSelector'), t);
        const items = this.store
          .list(t, ns)
          .filter((o) => matchesLabels(labels, o.metadata.labels) && matchesFields(fields, o));
        for (const o of items) {
          try {
            this.delete(t, o.metadata.namespace, o.metadata.name!, opts.policy, ctx.dryRun);
          } catch (e) {
            if (!(e instanceof ApiError && e.code === 404)) throw e;
          }
        }
        return send(200, success());
      }
      if (sub) throw methodNotAllowed();
      const { object, deleted } = this.delete(t, ns, name, opts.policy, ctx.dryRun, opts.preconditions);
      return send(deleted || !opts.orphanDependentsFalse ? 200 : 202, object);
    }
    throw methodNotAllowed();
  }

  private writeCtx(req: IncomingMessage, q: Query): WriteCtx {
    const dryRun = q.getAll('dryRun');
    for (const d of dryRun) {
      if (d !== 'All') throw badRequest(`Invalid dry run value: "${d}": supported values: "All"`);
    }
    const fv = q.get('fieldValidation');
    if (fv !== null && !['Strict', 'Warn', 'Ignore', ''].includes(fv)) {
      throw badRequest(`fieldValidation parameter "${fv}" is invalid: must be one of Ignore, Warn, Strict`);
    }
    return {
      manager: q.get('fieldManager') || managerFromUserAgent(req.headers['user-agent']),
      dryRun: dryRun.length > 0,
      now: nowRfc3339(),
    };
  }

  // -------------------------------------------------------------------------------------------
  // Reads

  /** The additionalPrinterColumns of a custom resource's served version, from its CRD. */
  private crdColumns(t: ResourceType): PrinterColumn[] | undefined {
    if (!t.custom) return undefined;
    const crdType = this.store.findType('apiextensions.k8s.io', 'v1', 'customresourcedefinitions');
    const crd = crdType && this.store.get(crdType, undefined, `${t.plural}.${t.group}`);
    const versions = crd && isMap(crd.spec) && Array.isArray(crd.spec.versions) ? crd.spec.versions : [];
    const v = versions.find((x) => isMap(x) && x.name === t.version);
    const cols = isMap(v) && Array.isArray(v.additionalPrinterColumns) ? v.additionalPrinterColumns : [];
    return cols.filter(
      (c): c is PrinterColumn => isMap(c) && typeof c.name === 'string' && typeof c.jsonPath === 'string',
    );
  }

  private mustGet(t: ResourceType, ns: string | undefined, name: string): KObject {
    const o = this.store.get(t, ns, name);
    if (!o) throw notFound(t, name);
    return o;
  }

  list(
    t: ResourceType,
    ns: string | undefined,
    labels: LabelSelector | undefined,
    fields: FieldSelector | undefined,
    q: Query,
  ): { kind: string; apiVersion: string; metadata: Record<string, unknown>; items: unknown[] } {
    const rv = this.store.resourceVersion;
    const pinned = pinnedName(fields);
    let items: KObject[];
    if (pinned !== undefined && (ns !== undefined || !t.namespaced)) {
      const o = this.store.get(t, ns, pinned);
      items = o ? [o] : [];
    } else items = this.store.list(t, ns);
    items = items.filter((o) => matchesLabels(labels, o.metadata.labels) && matchesFields(fields, o));

    const metadata: Record<string, unknown> = { resourceVersion: rv };
    const cont = q.get('continue');
    if (cont) {
      const after = decodeContinue(cont);
      items = items.filter(
        (o) => objKey(o.metadata.namespace, o.metadata.name!).localeCompare(after.key) > 0,
      );
      metadata.resourceVersion = after.rv;
    }
    const limit = Number(q.get('limit') ?? '0');
    if (Number.isFinite(limit) && limit > 0 && items.length > limit) {
      const last = items[limit - 1];
      metadata.continue = encodeContinue(
        objKey(last.metadata.namespace, last.metadata.name!),
        String(metadata.resourceVersion),
      );
      metadata.remainingItemCount = items.length - limit;
      items = items.slice(0, limit);
    }
    // Typed lists of built-in kinds carry no kind/apiVersion per item; custom resources do.
    const shaped = t.custom
      ? items
      : items.map((o) => {
          const { kind: _k, apiVersion: _a, ...rest } = o;
          return rest;
        });
    return { kind: `${t.kind}List`, apiVersion: apiVersionOf(t), metadata, items: shaped };
  }

  private podLog(
    res: ServerResponse,
    record: RequestRecord,
    t: ResourceType,
    ns: string | undefined,
    name: string,
    q: Query,
  ): void {
    const pod = this.mustGet(t, ns, name);
    const names = (list: string) =>
      (((pod.spec as Record<string, unknown> | undefined)?.[list] ?? []) as { name?: string }[]).map(
        (c) => c.name ?? '',
      );
    const containers = names('containers');
    const initContainers = names('initContainers');
    const container = q.get('container') ?? undefined;
    if (!container && containers.length > 1) {
      throw badRequest(
        `a container name must be specified for pod ${name}, choose one of: [${containers.join(' ')}]` +
          (initContainers.length ? ` or one of the init containers: [${initContainers.join(' ')}]` : ''),
      );
    }
    if (
      container &&
      containers.length &&
      !containers.includes(container) &&
      !initContainers.includes(container)
    ) {
      throw badRequest(`container ${container} is not valid for pod ${name}`);
    }
    let text = this.podLogs?.podLog(ns ?? '', name, container ?? containers[0]);
    if (text === undefined) {
      throw badRequest(
        `container "${container ?? containers[0] ?? ''}" in pod "${name}" is waiting to start: ContainerCreating`,
      );
    }
    const tail = q.get('tailLines');
    if (tail !== null && Number(tail) >= 0) {
      const lines = text.split('\n');
      const trailing = lines.length && lines[lines.length - 1] === '' ? lines.pop() : undefined;
      text =
        lines.slice(Math.max(0, lines.length - Number(tail))).join('\n') +
        (trailing !== undefined ? '\n' : '');
      if (Number(tail) === 0) text = '';
    }
    const limitBytes = q.get('limitBytes');
    if (limitBytes !== null && Number(limitBytes) > 0)
      text = Buffer.from(text).subarray(0, Number(limitBytes)).toString();
    this.send(res, record, 200, text, {}, 'text/plain');
  }

  // -------------------------------------------------------------------------------------------
  // Watch

  private watch(
    req: IncomingMessage,
    res: ServerResponse,
    record: RequestRecord,
    t: ResourceType,
    ns: string | undefined,
    labels: LabelSelector | undefined,
    fields: FieldSelector | undefined,
    q: Query,
  ): void {
    const rvParam = q.get('resourceVersion') ?? '';
    if (rvParam !== '' && !/^\d+$/.test(rvParam)) throw badRequest(`invalid resource version: ${rvParam}`);
    const sendInitial = q.get('sendInitialEvents') === 'true';
    const bookmarks = q.get('allowWatchBookmarks') === 'true';
    const table = wantsTable(req.headers.accept);
    const crdColumns = table ? this.crdColumns(t) : undefined;
    const matches = (o: KObject) =>
      (ns === undefined || !t.namespaced || o.metadata.namespace === ns) &&
      matchesLabels(labels, o.metadata.labels) &&
      matchesFields(fields, o);

    let backlog: StoreEvent[] = [];
    const fromScratch = rvParam === '' || rvParam === '0' || sendInitial;
    if (!fromScratch) {
      try {
        backlog = this.store.eventsSince(Number(rvParam));
      } catch (e) {
        if (!(e instanceof StoreError && e.reason === 'Gone')) throw e;
        record.status = 200;
        res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private' });
        res.end(JSON.stringify({ type: 'ERROR', object: expired(e.message) }) + '\n');
        return;
      }
    }

    record.status = 200;
    res.writeHead(200, {
      'Content-Type': 'application/json',
      'Cache-Control': 'no-cache, private',
      'Transfer-Encoding': 'chunked',
    });
    res.flushHeaders();
    const write = (type: string, o: unknown) => {
      if (res.writableEnded || res.destroyed) return;
      const asked = isMap(o) && o.kind === t.kind ? { ...o, apiVersion: apiVersionOf(t) } : o;
      const object =
        table && isMap(o) && type !== 'BOOKMARK' && type !== 'ERROR'
          ? renderTable(t, [asked as KObject], {}, q, crdColumns)
          : asked;
      res.write(JSON.stringify({ type, object }) + '\n');
    };
    // Keys the client currently believes match, to turn "left the selector" into DELETED as the
    // real watch cache does.
    const visible = new Set<string>();
    const current = this.store.list(t, ns);
    if (fromScratch) {
      for (const o of current) {
        if (!matches(o)) continue;
        visible.add(objKey(o.metadata.namespace, o.metadata.name!));
        write('ADDED', o);
      }
      if (sendInitial && bookmarks) {
        write('BOOKMARK', {
          kind: t.kind,
          apiVersion: apiVersionOf(t),
          metadata: {
            resourceVersion: this.store.resourceVersion,
            annotations: { 'k8s.io/initial-events-end': 'true' },
          },
        });
      }
    } else {
      for (const o of current) if (matches(o)) visible.add(objKey(o.metadata.namespace, o.metadata.name!));
    }

    const key = typeKey(t);
    const deliver = (ev: StoreEvent) => {
      if (typeKey(ev.type_) !== key) return;
      const o = ev.object;
      if (ns !== undefined && t.namespaced && o.metadata.namespace !== ns) return;
      const k = objKey(o.metadata.namespace, o.metadata.name!);
      const m = matches(o);
      if (ev.type === 'DELETED') {
        if (m || visible.has(k)) write('DELETED', o);
        visible.delete(k);
        return;
      }
      if (m) {
        // An object that newly matches (entered the selector) is ADDED for this client.
        write(ev.type === 'ADDED' || !visible.has(k) ? 'ADDED' : 'MODIFIED', o);
        visible.add(k);
      } else if (visible.has(k)) {
        write('DELETED', o);
        visible.delete(k);
      }
    };
    for (const ev of backlog) deliver(ev);
    const unsub = this.store.subscribe(deliver);
    this.watches.add(res);

    const timers: NodeJS.Timeout[] = [];
    const timeoutSeconds = Number(q.get('timeoutSeconds') ?? '0');
    if (timeoutSeconds > 0) timers.push(setTimeout(() => res.end(), timeoutSeconds * 1000));
    if (bookmarks) {
      timers.push(
        setInterval(
          () =>
            write('BOOKMARK', {
              kind: t.kind,
              apiVersion: apiVersionOf(t),
              metadata: { resourceVersion: this.store.resourceVersion },
            }),
          BOOKMARK_INTERVAL_MS,
        ),
      );
    }
    const done = () => {
      unsub();
      for (const tm of timers) clearTimeout(tm);
      this.watches.delete(res);
    };
    res.on('close', done);
    req.on('close', done);
  }

  // -------------------------------------------------------------------------------------------
  // Writes

  private checkBodyType(t: ResourceType, o: KObject): void {
    const want = apiVersionOf(t);
    if (o.apiVersion && o.apiVersion !== want) {
      throw badRequest(
        `the API version in the data (${o.apiVersion}) does not match the expected API version (${want})`,
      );
    }
    if (o.kind && o.kind !== t.kind) {
      throw badRequest(`the kind in the data (${o.kind}) does not match the expected kind (${t.kind})`);
    }
  }

  private checkBodyNamespace(t: ResourceType, ns: string | undefined, o: KObject): void {
    if (!t.namespaced) return;
    if (o.metadata.namespace && o.metadata.namespace !== ns) {
      throw badRequest(
        'the namespace of the provided object does not match the namespace sent on the request',
      );
    }
    o.metadata.namespace = ns;
  }

  /** NamespaceLifecycle admission: the namespace must exist and not be terminating. */
  private admitNamespace(t: ResourceType, ns: string | undefined, name: string): void {
    if (!t.namespaced || ns === undefined) return;
    const nsType = this.store.findType('', 'v1', 'namespaces')!;
    const nsObj = this.store.get(nsType, undefined, ns);
    if (!nsObj) throw namespaceNotFound(ns);
    if (nsObj.metadata.deletionTimestamp) {
      throw forbidden(
        t,
        name,
        `unable to create new content in namespace ${ns} because it is being terminated`,
        [
          {
            reason: 'NamespaceTerminating',
            message: `namespace ${ns} is being terminated`,
            field: 'metadata.namespace',
          },
        ],
      );
    }
  }

  /** Pod Security admission in enforce mode: a pod that violates the namespace's level is refused. */
  private admitPodSecurity(t: ResourceType, o: KObject): void {
    if (t.group !== '' || t.kind !== 'Pod' || !o.metadata.namespace) return;
    const nsType = this.store.findType('', 'v1', 'namespaces')!;
    const policy = namespacePolicy(this.store.get(nsType, undefined, o.metadata.namespace)).enforce;
    const found = policy && isMap(o.spec) ? violations(o.spec, policy) : [];
    if (policy && found.length)
      throw forbidden(t, o.metadata.name ?? o.metadata.generateName ?? '', violationText(policy, found));
  }

  /**
   * LimitRanger (defaults into a new pod, then min/max of pods and claims) and ResourceQuota on a
   * create, after defaulting as in the real server. The name in a refusal is the one the object
   * gets (generated from generateName before validating admission runs).
   */
  private admitResources(t: ResourceType, o: KObject): void {
    if (!t.namespaced || !o.metadata.namespace) return;
    if (t.group === '' && t.kind === 'Pod') applyLimitRangeDefaults(this.store, o);
    const why =
      (t.group === '' ? limitRangeDenial(this.store, t.kind, o) : undefined) ?? quotaDenial(this.store, t, o);
    if (why) throw forbidden(t, o.metadata.name ?? `${o.metadata.generateName ?? ''}${randomSuffix()}`, why);
  }

  private podSecurityWarnings(t: ResourceType, o: KObject): Record<string, string> {
    if (!o.metadata.namespace || !t.namespaced) return {};
    const nsType = this.store.findType('', 'v1', 'namespaces')!;
    const found = warnings(
      t.kind,
      o,
      namespacePolicy(this.store.get(nsType, undefined, o.metadata.namespace)),
    );
    return found.length ? { Warning: found.map(warningHeader).join(', ') } : {};
  }

  private validate(t: ResourceType, o: KObject): void {
    // The decoder refuses what cannot become the typed object before validation sees it.
    const undecodable = secretDecodeError(t, o);
    if (undecodable)
      throw badRequest(`${t.kind} in version "v1" cannot be handled as a ${t.kind}: ${undecodable}`);
    const errs = validateObject(t, o);
    if (errs.length) throw invalid(t, o.metadata.name ?? '', errs);
  }

  /** Server-set fields and defaults on a new object, as the real strategies' PrepareForCreate do. */
  private prepareNew(t: ResourceType, o: KObject): KObject {
    for (const k of [
      'uid',
      'resourceVersion',
      'creationTimestamp',
      'deletionTimestamp',
      'deletionGracePeriodSeconds',
      'generation',
      'selfLink',
    ]) {
      delete o.metadata[k];
    }
    if (hasStatusSubresource(t) && !isCrdType(t)) delete o.status;
    // SetDefaults_PersistentVolume(Claim): a new volume or claim starts Pending.
    if (!t.group && (t.kind === 'PersistentVolumeClaim' || t.kind === 'PersistentVolume'))
      o.status = { phase: 'Pending' };
    if (isNamespaceType(t)) {
      o.metadata.labels = { ...(o.metadata.labels ?? {}), 'kubernetes.io/metadata.name': o.metadata.name! };
      o.spec = { ...(isMap(o.spec) ? o.spec : {}), finalizers: ['kubernetes'] };
      o.status = { phase: 'Active' };
    }
    if (isCrdType(t)) o.status = crdStatus(o);
    if (!t.group && t.kind === 'Service') this.defaultService(o);
    if (!t.group && t.kind === 'PersistentVolumeClaim') {
      const classes = this.store.findType('storage.k8s.io', 'v1', 'storageclasses');
      admitClaim(o, classes ? this.store.list(classes) : []);
    }
    applyDefaults(t, o);
    if (t.group === 'batch' && t.kind === 'Job') {
      // The uid exists before PrepareForCreate in the real server; the store keeps this one.
      o.metadata.uid = crypto.randomUUID();
      generateJobSelector(o, o.metadata.uid);
    }
    return o;
  }

  /**
   * Service defaults and allocations (the service REST storage): type, session affinity, cluster
   * IP(s) and IP families, traffic policies, port protocol and target port, node ports for
   * NodePort/LoadBalancer. On update, values allocated before and omitted now are kept, as the
   * real storage's patchAllocatedValues does.
   */
  private defaultService(o: KObject, live?: KObject): void {
    const spec = isMap(o.spec) ? o.spec : (o.spec = {});
    const before = live && isMap(live.spec) ? live.spec : undefined;
    spec.type ??= 'ClusterIP';
    const type = spec.type;
    spec.sessionAffinity ??= 'None';
    const needsIp = type !== 'ExternalName';
    const needsNodePort = type === 'NodePort' || type === 'LoadBalancer';
    if (before && needsIp && (spec.clusterIP === undefined || spec.clusterIP === '')) {
      if (before.clusterIP !== undefined) spec.clusterIP = before.clusterIP;
      if (spec.clusterIPs === undefined && before.clusterIPs !== undefined)
        spec.clusterIPs = before.clusterIPs;
      if (spec.ipFamilies === undefined && before.ipFamilies !== undefined)
        spec.ipFamilies = before.ipFamilies;
    }
    if (needsIp) {
      if (spec.clusterIP === undefined || spec.clusterIP === '') {
        const n = this.clusterIpSeq++;
        spec.clusterIP = `10.96.${(n >> 8) & 255}.${n & 255}`;
      }
      spec.clusterIPs ??= [spec.clusterIP];
      spec.ipFamilies ??= ['IPv4'];
      spec.ipFamilyPolicy ??= 'SingleStack';
      spec.internalTrafficPolicy ??= 'Cluster';
    }
    if (needsNodePort) {
      spec.externalTrafficPolicy ??= 'Cluster';
      if (type === 'LoadBalancer') spec.allocateLoadBalancerNodePorts ??= true;
    }
    const oldPorts = (before && Array.isArray(before.ports) ? before.ports : []).filter(isMap);
    if (Array.isArray(spec.ports)) {
      for (const p of spec.ports) {
        if (!isMap(p)) continue;
        p.protocol ??= 'TCP';
        p.targetPort ??= p.port;
        if (needsNodePort && (p.nodePort === undefined || p.nodePort === 0)) {
          const prev = oldPorts.find(
            (x) =>
              x.port === p.port && (x.protocol ?? 'TCP') === p.protocol && typeof x.nodePort === 'number',
          );
          p.nodePort = prev ? prev.nodePort : this.allocateNodePort(o);
        }
      }
    }
    o.status ??= { loadBalancer: {} };
  }

  /** A free port of the default node-port range 30000-32767. */
  private allocateNodePort(o: KObject): number {
    const used = new Set<number>();
    const svcType = this.store.findType('', 'v1', 'services');
    const all = svcType ? this.store.list(svcType) : [];
    for (const svc of [...all, o]) {
      const ports = isMap(svc.spec) && Array.isArray(svc.spec.ports) ? svc.spec.ports : [];
      for (const p of ports) if (isMap(p) && typeof p.nodePort === 'number') used.add(p.nodePort);
    }
    for (;;) {
      const n = 30000 + Math.floor(Math.random() * 2768);
      if (!used.has(n)) return n;
    }
  }

  create(t: ResourceType, ns: string | undefined, input: KObject, ctx: WriteCtx): KObject {
    this.checkBodyType(t, input);
    const o = clone(input);
    this.checkBodyNamespace(t, ns, o);
    this.admitNamespace(t, ns, o.metadata.name ?? '');
    this.validate(t, o);
    this.admitPodSecurity(t, o);
    if (o.metadata.resourceVersion) {
      throw badRequest('resourceVersion should not be set on objects to be created');
    }
    delete o.metadata.managedFields;
    this.prepareNew(t, o);
    this.admitResources(t, o);
    const tracked = trackUpdate(undefined, o, {
      manager: ctx.manager,
      operation: 'Update',
      apiVersion: apiVersionOf(t),
      now: ctx.now,
    });
    return this.commitCreate(t, tracked, ctx);
  }

  /**
   * What the controllers put in every new namespace within milliseconds: the `default`
   * ServiceAccount (serviceaccount controller) and the `kube-root-ca.crt` ConfigMap (root CA
   * publisher), both written by kube-controller-manager.
   */
  private populateNamespace(ns: string): void {
    const ctx: WriteCtx = { manager: 'kube-controller-manager', dryRun: false, now: nowRfc3339() };
    const sa = this.store.findType('', 'v1', 'serviceaccounts');
    const cm = this.store.findType('', 'v1', 'configmaps');
    const make = (t: ResourceType | undefined, o: KObject) => {
      if (!t || this.store.get(t, ns, o.metadata.name!)) return;
      try {
        this.create(t, ns, o, ctx);
      } catch {
        // The namespace went away meanwhile: nothing to populate.
      }
    };
    make(sa, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'default', namespace: ns } });
    make(cm, {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: {
        name: 'kube-root-ca.crt',
        namespace: ns,
        annotations: {
          'kubernetes.io/description':
            'Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters.',
        },
      },
      data: { 'ca.crt': CA_CERT },
    });
  }

  private commitCreate(t: ResourceType, o: KObject, ctx: WriteCtx): KObject {
    if (ctx.dryRun) {
      if (o.metadata.name && this.store.get(t, o.metadata.namespace, o.metadata.name))
        throw alreadyExists(t, o.metadata.name);
      const out = clone(o);
      out.apiVersion = apiVersionOf(t);
      out.kind = t.kind;
      out.metadata.uid = o.metadata.uid ?? crypto.randomUUID();
      out.metadata.creationTimestamp = ctx.now;
      out.metadata.generation = 1;
      return out;
    }
    let created: KObject;
    try {
      created = this.store.create(t, o);
    } catch (e) {
      if (e instanceof StoreError && e.reason === 'AlreadyExists')
        throw alreadyExists(t, o.metadata.name ?? '');
      throw e;
    }
    if (isCrdType(t)) this.registerCrd(created);
    if (isNamespaceType(t)) this.populateNamespace(created.metadata.name!);
    return created;
  }

  update(
    t: ResourceType,
    ns: string | undefined,
    name: string,
    input: KObject,
    ctx: WriteCtx,
    sub?: string,
  ): KObject {
    if (!isMap(input) || !isMap(input.metadata)) throw badRequest('Object has no metadata');
    this.checkBodyType(t, input);
    const o = clone(input);
    if (o.metadata.name && o.metadata.name !== name) {
      throw badRequest(
        `the name of the object (${o.metadata.name}) does not match the name on the URL (${name})`,
      );
    }
    o.metadata.name = name;
    this.checkBodyNamespace(t, ns, o);
    const live = this.mustGet(t, ns, name);
    if (o.metadata.resourceVersion && o.metadata.resourceVersion !== live.metadata.resourceVersion) {
      throw conflict(t, name, STALE_OBJECT);
    }
    return this.commitUpdate(t, live, o, ctx, sub);
  }

  /**
   * Stores `next` as the new state of `live`: subresource rules, managed fields, validation,
   * then finalizer-driven removal when the last finalizer of a deleting object went away.
   */
  private commitUpdate(
    t: ResourceType,
    live: KObject,
    next: KObject,
    ctx: WriteCtx,
    sub?: string,
    tracked = false,
  ): KObject {
    let o = next;
    if (sub === 'status') {
      o = clone(live);
      o.status = next.status;
      if (isNamespaceType(t) && live.metadata.deletionTimestamp && isMap(o.status))
        o.status.phase = 'Terminating';
    } else if (hasStatusSubresource(t) && !isCrdType(t)) {
      if (live.status === undefined) delete o.status;
      else o.status = live.status;
    }
    if (isNamespaceType(t) && sub !== 'finalize') o.spec = live.spec;
    if (isCrdType(t)) o.status = crdStatus(o);
    // Immutable or server-owned metadata.
    o.metadata.deletionTimestamp = live.metadata.deletionTimestamp;
    if (live.metadata.deletionTimestamp === undefined) delete o.metadata.deletionTimestamp;
    if (live.metadata.deletionGracePeriodSeconds !== undefined)
      o.metadata.deletionGracePeriodSeconds = live.metadata.deletionGracePeriodSeconds;
    if (
      live.metadata.deletionTimestamp &&
      (o.metadata.finalizers ?? []).some((f) => !(live.metadata.finalizers ?? []).includes(f))
    ) {
      throw invalid(t, live.metadata.name!, [
        {
          type: 'FieldValueForbidden',
          field: 'metadata.finalizers',
          body: 'Forbidden: no new finalizers can be added if the object is being deleted',
        },
      ]);
    }
    if (o.metadata.resourceVersion === undefined) o.metadata.resourceVersion = live.metadata.resourceVersion;
    if (isNamespaceType(t)) {
      o.metadata.labels = {
        ...(o.metadata.labels ?? {}),
        'kubernetes.io/metadata.name': live.metadata.name!,
      };
    }
    if (sub === undefined) {
      // The decoder defaults every write; for apply this runs after the merge, so the applier
      // does not own the defaults (its managed fields are already computed).
      if (!t.group && t.kind === 'Service') this.defaultService(o, live);
      if (t.group === 'batch' && t.kind === 'Job') carryJobSelector(live, o);
      applyDefaults(t, o);
    }
    this.validate(t, o);
    if (sub === undefined) {
      const errs = validateUpdate(t, live, o);
      if (errs.length) throw invalid(t, live.metadata.name!, errs);
    }
    if (!tracked) {
      o = trackUpdate(
        live,
        { ...o, metadata: { ...o.metadata, managedFields: live.metadata.managedFields } },
        {
          manager: ctx.manager,
          operation: 'Update',
          apiVersion: apiVersionOf(t),
          now: ctx.now,
          ...(sub === 'status' || sub === 'scale' ? { subresource: sub } : {}),
        },
      );
    }
    // A write whose only change is the managed-fields timestamps is a no-op (real servers since
    // 1.23): same resourceVersion, no watch event, nothing stored.
    if (onlyManagedTimesDiffer(live, o)) return clone(live);
    if (ctx.dryRun) return o;
    let stored: KObject;
    try {
      stored = this.store.update(t, o);
    } catch (e) {
      if (e instanceof StoreError && e.reason === 'Conflict')
        throw conflict(t, live.metadata.name!, STALE_OBJECT);
      if (e instanceof StoreError && e.reason === 'NotFound') throw notFound(t, live.metadata.name!);
      throw e;
    }
    if (isCrdType(t)) this.registerCrd(stored);
    if (stored.metadata.deletionTimestamp && this.readyToRemove(t, stored)) {
      this.removeNow(t, stored);
    }
    return stored;
  }

  private readyToRemove(t: ResourceType, o: KObject): boolean {
    if ((o.metadata.finalizers ?? []).length > 0) return false;
    if (isNamespaceType(t))
      return ((isMap(o.spec) ? (o.spec.finalizers as unknown[] | undefined) : undefined) ?? []).length === 0;
    return true;
  }

  patch(
    t: ResourceType,
    ns: string | undefined,
    name: string,
    contentType: string,
    body: Buffer,
    q: Query,
    ctx: WriteCtx,
    sub?: string,
  ): { code: number; object: KObject } {
    if (contentType === 'application/apply-patch+yaml' || contentType === 'application/apply-patch+cbor') {
      return this.apply(t, ns, name, body, q, ctx, sub);
    }
    const patchDoc = parseJson(body);
    const live = this.mustGet(t, ns, name);
    const target: KObject = sub === 'scale' ? scaleOf(t, live) : live;
    let patched: KObject;
    try {
      if (contentType === 'application/merge-patch+json') patched = mergePatch(target, patchDoc) as KObject;
      else if (contentType === 'application/json-patch+json') {
        if (!Array.isArray(patchDoc))
          throw badRequest('json: cannot unmarshal object into Go value of type jsonpatch.Patch');
        patched = jsonPatch(target, patchDoc as JsonPatchOp[]) as KObject;
      } else if (contentType === 'application/strategic-merge-patch+json') {
        if (!supportsStrategicMerge(t) || sub === 'scale') {
          throw new ApiError(
            failure(
              415,
              'UnsupportedMediaType',
              `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml`,
            ),
          );
        }
        if (!isMap(patchDoc)) throw badRequest('strategic merge patch must be a JSON object');
        patched = strategicMergePatch(target, patchDoc, t);
      } else throw unsupportedMediaType(contentType);
    } catch (e) {
      if (e instanceof PatchError) {
        throw new ApiError(failure(422, 'Invalid', e.message));
      }
      throw e;
    }
    if (!isMap(patched) || !isMap(patched.metadata))
      throw badRequest('the patch removed the object metadata');
    if (sub === 'scale') return { code: 200, object: this.scaleTo(t, live, patched, ctx) };
    if (patched.metadata.name !== name)
      throw badRequest(
        `the name of the object (${String(patched.metadata.name)}) does not match the name on the URL (${name})`,
      );
    if (t.namespaced && patched.metadata.namespace !== ns) {
      throw badRequest(
        'the namespace of the provided object does not match the namespace sent on the request',
      );
    }
    if (patched.metadata.uid !== undefined && patched.metadata.uid !== live.metadata.uid) {
      throw conflict(
        t,
        name,
        `Precondition failed: UID in precondition: ${String(patched.metadata.uid)}, UID in object meta: ${live.metadata.uid}`,
      );
    }
    if (patched.metadata.resourceVersion !== live.metadata.resourceVersion)
      throw conflict(t, name, STALE_OBJECT);
    return { code: 200, object: this.commitUpdate(t, live, patched, ctx, sub) };
  }

  private apply(
    t: ResourceType,
    ns: string | undefined,
    name: string,
    body: Buffer,
    q: Query,
    ctx: WriteCtx,
    sub?: string,
  ): { code: number; object: KObject } {
    const fieldManager = q.get('fieldManager');
    if (!fieldManager) throw badRequest('fieldManager is required for apply requests');
    const force = q.get('force') === 'true' || q.get('force') === '1';
    const applied = parseApplyBody(body);
    if (!applied.apiVersion || !applied.kind)
      throw badRequest('apiVersion and kind must be set in an apply configuration');
    this.checkBodyType(t, applied);
    if (applied.metadata.name !== undefined && applied.metadata.name !== name) {
      throw badRequest(
        `the name of the object (${String(applied.metadata.name)}) does not match the name on the URL (${name})`,
      );
    }
    applied.metadata.name = name;
    this.checkBodyNamespace(t, ns, applied);
    const opts = { manager: fieldManager, force, apiVersion: apiVersionOf(t), now: ctx.now };
    const live = this.store.get(t, ns, name);
    let result: { object: KObject; conflicts: FieldConflict[] };
    try {
      if (!live) {
        if (sub) throw notFound(t, name);
        this.admitNamespace(t, ns, name);
        this.validate(t, applied);
        this.admitPodSecurity(t, applied);
        result = serverSideApply(undefined, applied, opts);
        const prepared = this.prepareNew(t, result.object);
        this.admitResources(t, prepared);
        return { code: 201, object: this.commitCreate(t, prepared, ctx) };
      }
      const input: KObject = sub === 'status' ? { ...clone(live), status: applied.status } : applied;
      result = serverSideApply(live, input, opts);
    } catch (e) {
      if (e instanceof PatchError) throw new ApiError(failure(422, 'Invalid', e.message));
      throw e;
    }
    if (result.conflicts.length) throw applyConflict(result.conflicts, live);
    const next = result.object;
    next.metadata.resourceVersion = live.metadata.resourceVersion;
    if (sub === 'status') {
      const withStatus = clone(live);
      withStatus.status = applied.status;
      withStatus.metadata.managedFields = next.metadata.managedFields;
      return { code: 200, object: this.commitUpdate(t, live, withStatus, ctx, 'status', true) };
    }
    return { code: 200, object: this.commitUpdate(t, live, next, ctx, undefined, true) };
  }

  private writeScale(
    t: ResourceType,
    ns: string | undefined,
    name: string,
    input: KObject,
    ctx: WriteCtx,
  ): KObject {
    const live = this.mustGet(t, ns, name);
    if (input.metadata?.resourceVersion && input.metadata.resourceVersion !== live.metadata.resourceVersion) {
      throw conflict(t, name, STALE_OBJECT);
    }
    return this.scaleTo(t, live, input, ctx);
  }

  private scaleTo(t: ResourceType, live: KObject, scale: KObject, ctx: WriteCtx): KObject {
    const replicas = isMap(scale.spec) ? scale.spec.replicas : undefined;
    if (typeof replicas !== 'number' || !Number.isInteger(replicas) || replicas < 0) {
      throw invalid({ group: 'autoscaling', kind: 'Scale' }, live.metadata.name!, [
        {
          type: 'FieldValueInvalid',
          field: 'spec.replicas',
          body: `Invalid value: ${String(replicas)}: must be greater than or equal to 0`,
        },
      ]);
    }
    const next = clone(live);
    next.spec = { ...(isMap(next.spec) ? next.spec : {}), replicas };
    const stored = this.commitUpdate(t, live, next, ctx, 'scale');
    return scaleOf(t, stored);
  }

  private finalizeNamespace(t: ResourceType, name: string, input: KObject, ctx: WriteCtx): KObject {
    const live = this.mustGet(t, undefined, name);
    const next = clone(live);
    next.spec = {
      ...(isMap(next.spec) ? next.spec : {}),
      finalizers: (isMap(input.spec) ? input.spec.finalizers : undefined) ?? [],
    };
    return this.commitUpdate(t, live, next, ctx, 'finalize');
  }

  // -------------------------------------------------------------------------------------------
  // Deletion

  delete(
    t: ResourceType,
    ns: string | undefined,
    name: string,
    policy: PropagationPolicy | undefined,
    dryRun: boolean,
    pre?: { uid?: string; resourceVersion?: string },
  ): { object: KObject; deleted: boolean } {
    const live = this.mustGet(t, ns, name);
    if (pre?.uid && pre.uid !== live.metadata.uid) {
      throw conflict(
        t,
        name,
        `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${live.metadata.uid}`,
      );
    }
    if (pre?.resourceVersion && pre.resourceVersion !== live.metadata.resourceVersion) {
      throw conflict(
        t,
        name,
        `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${live.metadata.resourceVersion}`,
      );
    }
    if (dryRun) return { object: live, deleted: false };
    if (isNamespaceType(t)) return { object: this.deleteNamespace(t, live), deleted: false };

    const uid = live.metadata.uid!;
    if (policy === 'Orphan') this.orphanDependents(uid);
    const finalizers = [...(live.metadata.finalizers ?? [])];
    if (
      policy === 'Foreground' &&
      this.dependentsOf(uid).length > 0 &&
      !finalizers.includes('foregroundDeletion')
    ) {
      finalizers.push('foregroundDeletion');
    }
    if (finalizers.length > 0) {
      let object = live;
      if (!live.metadata.deletionTimestamp || finalizers.length !== (live.metadata.finalizers ?? []).length) {
        const next = clone(live);
        next.metadata.deletionTimestamp ??= nowRfc3339();
        next.metadata.deletionGracePeriodSeconds ??= 0;
        next.metadata.finalizers = finalizers;
        object = this.store.update(t, next);
      }
      if (finalizers.includes('foregroundDeletion')) {
        this.foregroundPending.add(uid);
        this.later(() => this.collectDependents(uid, 'Foreground'));
      }
      return { object, deleted: false };
    }
    const gone = this.removeNow(t, live, policy === 'Orphan');
    return { object: gone, deleted: true };
  }

  /** Removes an object from the store and starts what its removal implies. */
  private removeNow(t: ResourceType, o: KObject, orphan = false): KObject {
    const gone = this.store.remove(t, o.metadata.namespace, o.metadata.name!) ?? o;
    const uid = o.metadata.uid!;
    if (isCrdType(t)) this.unregisterCrd(gone);
    if (!orphan) this.later(() => this.collectDependents(uid, 'Background'));
    if (isNamespaceType(t)) this.terminating.delete(o.metadata.name!);
    return gone;
  }

  private later(fn: () => void): void {
    setImmediate(() => {
      if (this.closed) return;
      try {
        fn();
      } catch {
        // Garbage collection is best effort, as in the real controller: it retries on the next event.
      }
    });
  }

  private dependentsOf(uid: string): Ref[] {
    return [...(this.ownerIndex.get(uid)?.values() ?? [])];
  }

  private orphanDependents(uid: string): void {
    for (const d of this.dependentsOf(uid)) {
      const o = this.store.get(d.type, d.namespace, d.name);
      if (!o) continue;
      o.metadata.ownerReferences = (o.metadata.ownerReferences ?? []).filter((r) => r.uid !== uid);
      if (o.metadata.ownerReferences.length === 0) delete o.metadata.ownerReferences;
      this.store.update(d.type, o);
    }
  }

  /** The garbage collector: deletes dependents whose owners are all gone (or going, in foreground). */
  private collectDependents(ownerUid: string, mode: 'Background' | 'Foreground'): void {
    for (const d of this.dependentsOf(ownerUid)) {
      const o = this.store.get(d.type, d.namespace, d.name);
      if (!o || o.metadata.deletionTimestamp) continue;
      const owners = (o.metadata.ownerReferences ?? []).map((r) => r.uid);
      const alive = owners.filter(
        (u) => u !== ownerUid && this.byUid.has(u) && !this.foregroundPending.has(u),
      );
      if (alive.length > 0) continue;
      try {
        this.delete(d.type, d.namespace, d.name, mode, false);
      } catch (e) {
        if (!(e instanceof ApiError && e.code === 404)) throw e;
      }
    }
    if (mode === 'Foreground') this.maybeFinishForeground(ownerUid);
  }

  private maybeFinishForeground(ownerUid: string): void {
    if (!this.foregroundPending.has(ownerUid) || this.dependentsOf(ownerUid).length > 0) return;
    const ref = this.byUid.get(ownerUid);
    this.foregroundPending.delete(ownerUid);
    if (!ref) return;
    const o = this.store.get(ref.type, ref.namespace, ref.name);
    if (!o) return;
    o.metadata.finalizers = (o.metadata.finalizers ?? []).filter((f) => f !== 'foregroundDeletion');
    if (o.metadata.finalizers.length === 0) {
      delete o.metadata.finalizers;
      this.removeNow(ref.type, this.store.update(ref.type, o));
    } else this.store.update(ref.type, o);
  }

  private onStoreEvent(ev: StoreEvent): void {
    const o = ev.object;
    const uid = o.metadata.uid;
    const depKey = `${typeKey(ev.type_)}|${objKey(o.metadata.namespace, o.metadata.name!)}`;
    const previous = this.ownersOf.get(depKey) ?? [];
    for (const u of previous) this.ownerIndex.get(u)?.delete(depKey);
    this.ownersOf.delete(depKey);
    if (ev.type === 'DELETED') {
      if (uid) this.byUid.delete(uid);
      for (const u of previous) {
        if (this.ownerIndex.get(u)?.size === 0) this.ownerIndex.delete(u);
        if (this.foregroundPending.has(u)) this.later(() => this.maybeFinishForeground(u));
      }
    } else {
      const ref: Ref = { type: ev.type_, namespace: o.metadata.namespace, name: o.metadata.name! };
      if (uid) this.byUid.set(uid, ref);
      const owners = (o.metadata.ownerReferences ?? [])
        .map((r) => r.uid)
        .filter((u): u is string => typeof u === 'string');
      if (owners.length) {
        this.ownersOf.set(depKey, owners);
        for (const u of owners) {
          let m = this.ownerIndex.get(u);
          if (!m) this.ownerIndex.set(u, (m = new Map()));
          m.set(depKey, ref);
        }
      }
    }
    const ns = o.metadata.namespace;
    if (ns !== undefined && ev.type_.namespaced && this.terminating.has(ns)) this.scheduleSweep(ns);
  }

  // -------------------------------------------------------------------------------------------
  // Namespace lifecycle

  private deleteNamespace(t: ResourceType, live: KObject): KObject {
    let object = live;
    const specFinalizers =
      (isMap(live.spec) ? (live.spec.finalizers as unknown[] | undefined) : undefined) ?? [];
    if (live.metadata.deletionTimestamp && specFinalizers.length > 0) {
      // The real namespace registry: a DELETE of a namespace already Terminating is refused until
      // the namespace controller has emptied it (pkg/registry/core/namespace/storage).
      throw conflict(
        t,
        live.metadata.name!,
        'The system is ensuring all content is removed from this namespace.  Upon completion, this namespace will automatically be purged by the system.',
      );
    }
    if (!live.metadata.deletionTimestamp) {
      const next = clone(live);
      next.metadata.deletionTimestamp = nowRfc3339();
      next.metadata.deletionGracePeriodSeconds = 0;
      next.status = { ...(isMap(next.status) ? next.status : {}), phase: 'Terminating' };
      object = this.store.update(t, next);
    }
    this.terminating.add(live.metadata.name!);
    this.scheduleSweep(live.metadata.name!);
    return object;
  }

  private scheduleSweep(ns: string): void {
    if (this.sweepTimers.has(ns) || this.closed) return;
    this.sweepTimers.set(
      ns,
      setTimeout(() => {
        this.sweepTimers.delete(ns);
        try {
          this.sweepNamespace(ns);
        } catch {
          // Retried on the next change in the namespace, like the real namespace controller.
        }
      }, 0),
    );
  }

  /** The namespace controller: delete the content, report what remains, then finalize. */
  private sweepNamespace(ns: string): void {
    const nsType = this.store.findType('', 'v1', 'namespaces')!;
    const nsObj = this.store.get(nsType, undefined, ns);
    if (!nsObj || !nsObj.metadata.deletionTimestamp) {
      this.terminating.delete(ns);
      return;
    }
    for (const { type, object } of this.store.listNamespace(ns)) {
      if (object.metadata.deletionTimestamp) continue;
      try {
        this.delete(type, ns, object.metadata.name!, 'Background', false);
      } catch (e) {
        if (!(e instanceof ApiError && e.code === 404)) throw e;
      }
    }
    const remaining = this.store.listNamespace(ns);
    this.writeNamespaceConditions(nsType, nsObj, remaining);
    if (remaining.length > 0) {
      const timer = this.finalizeTimers.get(ns);
      if (timer) clearTimeout(timer);
      this.finalizeTimers.delete(ns);
      return;
    }
    if (this.finalizeTimers.has(ns)) return;
    this.finalizeTimers.set(
      ns,
      setTimeout(() => {
        this.finalizeTimers.delete(ns);
        if (this.closed) return;
        if (this.store.listNamespace(ns).length > 0) return this.scheduleSweep(ns);
        const cur = this.store.get(nsType, undefined, ns);
        if (!cur || !cur.metadata.deletionTimestamp) return;
        const spec = isMap(cur.spec) ? cur.spec : {};
        cur.spec = {
          ...spec,
          finalizers: ((spec.finalizers as string[] | undefined) ?? []).filter((f) => f !== 'kubernetes'),
        };
        const stored = this.store.update(nsType, cur);
        if (this.readyToRemove(nsType, stored)) this.removeNow(nsType, stored);
      }, this.options.namespaceDeletionDelayMs ?? 50),
    );
  }

  private writeNamespaceConditions(
    nsType: ResourceType,
    nsObj: KObject,
    remaining: { type: ResourceType; object: KObject }[],
  ): void {
    const counts = new Map<string, number>();
    const finalizers = new Map<string, number>();
    for (const { type, object } of remaining) {
      const gr = type.group ? `${type.plural}.${type.group}` : type.plural;
      counts.set(gr, (counts.get(gr) ?? 0) + 1);
      for (const f of object.metadata.finalizers ?? []) finalizers.set(f, (finalizers.get(f) ?? 0) + 1);
    }
    const content = [...counts]
      .sort()
      .map(([gr, n]) => `${gr} has ${n} resource instances`)
      .join(', ');
    const fins = [...finalizers]
      .sort()
      .map(([f, n]) => `${f} in ${n} resource instances`)
      .join(', ');
    const wanted = [
      {
        type: 'NamespaceDeletionDiscoveryFailure',
        status: 'False',
        reason: 'ResourcesDiscovered',
        message: 'All resources successfully discovered',
      },
      {
        type: 'NamespaceDeletionGroupVersionParsingFailure',
        status: 'False',
        reason: 'ParsedGroupVersions',
        message: 'All legacy kube types successfully parsed',
      },
      {
        type: 'NamespaceDeletionContentFailure',
        status: 'False',
        reason: 'ContentDeleted',
        message: 'All content successfully deleted, may be waiting on finalization',
      },
      counts.size
        ? {
            type: 'NamespaceContentRemaining',
            status: 'True',
            reason: 'SomeResourcesRemain',
            message: `Some resources are remaining: ${content}`,
          }
        : {
            type: 'NamespaceContentRemaining',
            status: 'False',
            reason: 'ContentRemoved',
            message: 'All content successfully removed',
          },
      finalizers.size
        ? {
            type: 'NamespaceFinalizersRemaining',
            status: 'True',
            reason: 'SomeFinalizersRemain',
            message: `Some content in the namespace has finalizers remaining: ${fins}`,
          }
        : {
            type: 'NamespaceFinalizersRemaining',
            status: 'False',
            reason: 'ContentHasNoFinalizers',
            message: 'All content-preserving finalizers finished',
          },
    ];
    const status = isMap(nsObj.status) ? nsObj.status : {};
    const old = (Array.isArray(status.conditions) ? status.conditions : []) as Record<string, unknown>[];
    const now = nowRfc3339();
    const conditions = wanted.map((w) => {
      const prev = old.find((c) => c.type === w.type);
      const same = prev && prev.status === w.status && prev.reason === w.reason && prev.message === w.message;
      return same
        ? prev
        : { ...w, lastTransitionTime: prev && prev.status === w.status ? prev.lastTransitionTime : now };
    });
    if (JSON.stringify(conditions) === JSON.stringify(old)) return;
    const next = clone(nsObj);
    next.status = { ...status, phase: 'Terminating', conditions };
    this.store.update(nsType, next);
  }

  // -------------------------------------------------------------------------------------------
  // CustomResourceDefinitions

  private registerCrd(crd: KObject): void {
    const t = crdResourceType(crd);
    if (!t) return;
    const existing = this.store.findTypeByKind(apiVersionOf(t), t.kind);
    const sameKey = this.store.allTypes().find((x) => typeKey(x) === typeKey(t));
    if ((existing && !existing.custom) || (sameKey && !sameKey.custom)) return; // never shadow a built-in
    this.store.registerType(t);
    this.openapiHash++;
  }

  private unregisterCrd(crd: KObject): void {
    const t = crdResourceType(crd);
    if (!t) return;
    const registered = this.store.allTypes().find((x) => typeKey(x) === typeKey(t));
    if (!registered || !registered.custom) return;
    for (const o of this.store.list(registered))
      this.store.remove(registered, o.metadata.namespace, o.metadata.name!);
    this.store.unregisterType(t.group, t.plural);
    this.openapiHash++;
  }

  /** Creates an object as the system would (used for the initial namespaces). */
  seed(t: ResourceType, o: KObject): KObject {
    return this.create(t, o.metadata.namespace, o, {
      manager: 'kube-apiserver',
      dryRun: false,
      now: nowRfc3339(),
    });
  }
}

// ---------------------------------------------------------------------------------------------
// Helpers

/** The API verb of a request on a resource (not a subresource). */
function verbOf(method: string, name: string | undefined, q: Query): string {
  switch (method) {
    case 'GET':
    case 'HEAD':
      if (q.get('watch') === '1' || q.get('watch') === 'true') return 'watch';
      return name === undefined ? 'list' : 'get';
    case 'POST':
      return 'create';
    case 'PUT':
      return 'update';
    case 'PATCH':
      return 'patch';
    case 'DELETE':
      return name === undefined ? 'deletecollection' : 'delete';
    default:
      return method.toLowerCase();
  }
}

function withoutManagedTimes(o: KObject): unknown {
  const { uid: _u, creationTimestamp: _c, generation: _g, resourceVersion: _r, ...meta } = o.metadata;
  return {
    ...o,
    apiVersion: undefined,
    kind: undefined,
    metadata: {
      ...meta,
      managedFields: (o.metadata.managedFields ?? []).map((m) => ({ ...m, time: undefined })),
    },
  };
}

/** True when `next` equals `live` except for managedFields[].time (and nothing else changed). */
function onlyManagedTimesDiffer(live: KObject, next: KObject): boolean {
  const a = JSON.parse(JSON.stringify(withoutManagedTimes(live))) as unknown;
  const b = JSON.parse(JSON.stringify(withoutManagedTimes(next))) as unknown;
  return jsonEqual(a, b);
}

function toApiError(e: unknown): ApiError {
  if (e instanceof ApiError) return e;
  if (e instanceof StoreError) {
    const code = e.reason === 'NotFound' ? 404 : e.reason === 'Gone' ? 410 : 409;
    return new ApiError(failure(code, e.reason === 'Gone' ? 'Expired' : e.reason, e.message));
  }
  if (e instanceof PatchError) return new ApiError(failure(422, 'Invalid', e.message));
  return internalError(e instanceof Error ? e.message : String(e));
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch (e) {
    throw badRequest(`couldn't get version/kind; json parse error: ${(e as Error).message}`);
  }
}

function parseObject(body: Buffer, contentType: string): KObject {
  let v: unknown;
  if (contentType === PROTOBUF_CONTENT_TYPE) {
    try {
      return decodeProtobufObject(body);
    } catch (e) {
      if (e instanceof ApiError) throw e;
      throw badRequest(`unable to decode protobuf body: ${(e as Error).message}`);
    }
  }
  if (contentType.includes('yaml')) {
    try {
      v = parseYaml(body.toString('utf8'));
    } catch (e) {
      throw badRequest(`error converting YAML to JSON: ${(e as Error).message}`);
    }
  } else v = parseJson(body);
  if (!isMap(v)) throw badRequest("Object 'Kind' is missing in the request body");
  if (!isMap(v.metadata)) v.metadata = {};
  return v as KObject;
}

function parseApplyBody(body: Buffer): KObject {
  const text = body.toString('utf8');
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    try {
      v = parseYaml(text);
    } catch (e) {
      throw badRequest(`error decoding YAML: ${(e as Error).message}`);
    }
  }
  if (!isMap(v)) throw badRequest('error decoding YAML: the apply configuration must be an object');
  if (!isMap(v.metadata)) v.metadata = {};
  return v as KObject;
}

function parseDeleteOptions(
  body: Buffer,
  q: Query,
): {
  policy?: PropagationPolicy;
  preconditions?: { uid?: string; resourceVersion?: string };
  orphanDependentsFalse: boolean;
} {
  let opts: Record<string, unknown> = {};
  if (body.length > 0) {
    const v = parseJson(body);
    if (isMap(v)) opts = v;
  }
  let policy = (q.get('propagationPolicy') ?? opts.propagationPolicy) as string | undefined;
  const orphan = q.get('orphanDependents') ?? opts.orphanDependents;
  if (!policy && (orphan === true || orphan === 'true')) policy = 'Orphan';
  if (policy !== undefined && !['Foreground', 'Background', 'Orphan'].includes(policy)) {
    throw badRequest(
      `DeleteOptions.propagationPolicy: Unsupported value: "${policy}": supported values: "Foreground", "Background", "Orphan"`,
    );
  }
  const pre = isMap(opts.preconditions)
    ? (opts.preconditions as { uid?: string; resourceVersion?: string })
    : undefined;
  return {
    policy: policy as PropagationPolicy | undefined,
    preconditions: pre,
    orphanDependentsFalse: orphan === false || orphan === 'false',
  };
}

function encodeContinue(key: string, rv: string): string {
  return Buffer.from(JSON.stringify({ v: 'meta.k8s.io/v1', rv, start: key })).toString('base64url');
}

function decodeContinue(token: string): { key: string; rv: string } {
  try {
    const v = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as {
      rv?: unknown;
      start?: unknown;
    };
    if (typeof v.start === 'string' && typeof v.rv === 'string') return { key: v.start, rv: v.rv };
  } catch {
    // fall through
  }
  throw badRequest(
    'continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)',
  );
}

function scaleOf(t: ResourceType, o: KObject): KObject {
  const spec = isMap(o.spec) ? o.spec : {};
  const status = isMap(o.status) ? o.status : {};
  return {
    kind: 'Scale',
    apiVersion: 'autoscaling/v1',
    metadata: {
      name: o.metadata.name,
      namespace: o.metadata.namespace,
      uid: o.metadata.uid,
      resourceVersion: o.metadata.resourceVersion,
      creationTimestamp: o.metadata.creationTimestamp,
    },
    spec: { replicas: typeof spec.replicas === 'number' ? spec.replicas : t.custom ? 0 : 1 },
    status: {
      replicas: typeof status.replicas === 'number' ? status.replicas : 0,
      selector: formatLabelSelector(fromLabelSelectorObject(spec.selector)),
    },
  };
}

function applyConflict(conflicts: FieldConflict[], live: KObject): ApiError {
  const describe = (manager: string): string => {
    const entry = (live.metadata.managedFields ?? []).find((m) => m.manager === manager);
    let s = JSON.stringify(manager);
    if (entry?.subresource) s += ` with subresource ${JSON.stringify(entry.subresource)}`;
    if (entry && entry.operation === 'Update') s += ` using ${entry.apiVersion}`;
    return s;
  };
  let message: string;
  if (conflicts.length === 1) {
    message = `Apply failed with 1 conflict: conflict with ${describe(conflicts[0].manager)}: ${conflicts[0].field}`;
  } else {
    const byManager = new Map<string, string[]>();
    for (const c of conflicts) byManager.set(c.manager, [...(byManager.get(c.manager) ?? []), c.field]);
    const lines: string[] = [];
    for (const m of [...byManager.keys()].sort()) {
      lines.push(`conflicts with ${describe(m)}:`);
      for (const f of byManager.get(m)!) lines.push(`- ${f}`);
    }
    message = `Apply failed with ${conflicts.length} conflicts: ${lines.join('\n')}`;
  }
  const s: Status = failure(409, 'Conflict', message, {
    causes: conflicts.map((c) => ({
      reason: 'FieldManagerConflict',
      message: `conflict with ${describe(c.manager)}`,
      field: c.field,
    })),
  });
  return new ApiError(s);
}

interface CrdVersion {
  name: string;
  served?: boolean;
  storage?: boolean;
  subresources?: { status?: unknown; scale?: unknown };
}

function crdResourceType(crd: KObject): ResourceType | undefined {
  const spec = isMap(crd.spec) ? crd.spec : undefined;
  if (!spec) return undefined;
  const names = (isMap(spec.names) ? spec.names : {}) as {
    plural?: string;
    singular?: string;
    kind?: string;
    shortNames?: string[];
    categories?: string[];
  };
  const versions = (Array.isArray(spec.versions) ? spec.versions : []) as CrdVersion[];
  const served = versions.filter((v) => v.served !== false);
  const v = served.find((x) => x.storage) ?? served[0];
  if (!v || typeof spec.group !== 'string' || !names.plural || !names.kind) return undefined;
  const subs: string[] = [];
  if (v.subresources?.status !== undefined) subs.push('status');
  if (v.subresources?.scale !== undefined) subs.push('scale');
  return {
    group: spec.group,
    version: v.name,
    kind: names.kind,
    plural: names.plural,
    singular: names.singular ?? names.kind.toLowerCase(),
    namespaced: spec.scope !== 'Cluster',
    shortNames: names.shortNames,
    categories: names.categories,
    subresources: subs,
    verbs: ['delete', 'deletecollection', 'get', 'list', 'patch', 'create', 'update', 'watch'],
    custom: true,
  };
}

function crdStatus(crd: KObject): Record<string, unknown> {
  const spec = isMap(crd.spec) ? crd.spec : {};
  const names = isMap(spec.names) ? spec.names : {};
  const versions = (Array.isArray(spec.versions) ? spec.versions : []) as CrdVersion[];
  const storage = versions.find((v) => v.storage)?.name ?? versions[0]?.name;
  const prev = isMap(crd.status) ? crd.status : {};
  const stored = new Set<string>(Array.isArray(prev.storedVersions) ? (prev.storedVersions as string[]) : []);
  if (storage) stored.add(storage);
  const now = nowRfc3339();
  const kind = typeof names.kind === 'string' ? names.kind : '';
  return {
    acceptedNames: {
      ...names,
      singular: names.singular ?? kind.toLowerCase(),
      listKind: names.listKind ?? `${kind}List`,
    },
    conditions:
      Array.isArray(prev.conditions) && prev.conditions.length
        ? prev.conditions
        : [
            {
              type: 'NamesAccepted',
              status: 'True',
              reason: 'NoConflicts',
              message: 'no conflicts found',
              lastTransitionTime: now,
            },
            {
              type: 'Established',
              status: 'True',
              reason: 'InitialNamesAccepted',
              message: 'the initial names have been accepted',
              lastTransitionTime: now,
            },
          ],
    storedVersions: [...stored],
  };
}
