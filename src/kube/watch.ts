// List-then-watch: keeps a live picture of one kind's objects and reports when a predicate over them
// holds. The waiter (wait.ts), namespace deletion and Job recreation build on it through
// KubeClient.observe.
import { ApiException, Watch } from '@kubernetes/client-node';
import type { KubeClient } from './client.js';
import { describeApiError, isRetryableKubeError, KubeApiError, statusOf } from './errors.js';
import type { KubeStatus, LiveObject } from './types.js';

export interface ObserveOptions {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  timeoutMs: number;
  /** Re-evaluate the predicate at least this often even without events (time-based rules). */
  tickMs?: number;
  /** Stops observing (resolving false unless already satisfied), e.g. when a sibling watch settled. */
  signal?: AbortSignal;
}

/**
 * List-then-watch a kind until `done(objects)` returns true or the timeout passes; returns whether
 * `done` was satisfied. Reconnects when the server closes the stream, re-lists on 410 Gone. `done`
 * is also called every `tickMs` so time-based rules (grace periods) fire without events.
 */
export async function observe<T extends LiveObject = LiveObject>(
  client: KubeClient,
  apiVersion: string,
  kind: string,
  opts: ObserveOptions,
  done: (objects: Map<string, T>) => boolean,
): Promise<boolean> {
  const path = await client.discovery.pathFor(apiVersion, kind, opts.namespace);
  const deadline = Date.now() + opts.timeoutMs;
  const objects = new Map<string, T>();
  const query = { labelSelector: opts.labelSelector, fieldSelector: opts.fieldSelector };

  return new Promise<boolean>((resolvePromise, reject) => {
    let finished = false;
    let controller: AbortController | undefined;
    let rv: string | undefined;
    let tick: ReturnType<typeof setInterval> | undefined;
    const timer = setTimeout(() => finish(false), Math.max(0, opts.timeoutMs));
    const finish = (ok: boolean, err?: unknown): void => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      if (tick) clearInterval(tick);
      controller?.abort();
      if (err) reject(err);
      else resolvePromise(ok);
    };
    const check = (): void => {
      if (finished) return;
      try {
        if (done(objects)) finish(true);
      } catch (e) {
        finish(false, e);
      }
    };
    if (opts.tickMs) tick = setInterval(check, opts.tickMs);
    if (opts.signal?.aborted) return finish(false);
    opts.signal?.addEventListener('abort', () => finish(false), { once: true });

    const relist = async (): Promise<void> => {
      const list = await client.list<T>(apiVersion, kind, opts);
      objects.clear();
      for (const o of list.items) objects.set(o.metadata.name, o);
      rv = list.metadata.resourceVersion;
    };
    const loop = async (): Promise<void> => {
      let needList = true;
      let failures = 0;
      while (!finished && Date.now() < deadline) {
        try {
          if (needList) {
            await relist();
            needList = false;
            check();
            if (finished) return;
          }
          const gone = await watchOnce<T>(
            client,
            path,
            { ...query, resourceVersion: rv, allowWatchBookmarks: true },
            deadline,
            (c) => {
              controller = c;
              // finish() may have run while this watch was being set up (another watcher settled,
              // the caller aborted): close it now, or its open request would hold the process.
              if (finished) c.abort();
            },
            (type, obj) => {
              if (type === 'BOOKMARK') {
                rv = obj.metadata.resourceVersion ?? rv;
                return;
              }
              rv = obj.metadata.resourceVersion ?? rv;
              if (type === 'DELETED') objects.delete(obj.metadata.name);
              else objects.set(obj.metadata.name, obj);
              check();
            },
          );
          failures = 0;
          if (gone) needList = true;
        } catch (e) {
          if (finished) return;
          if (statusOf(e) === 410) {
            needList = true;
            continue;
          }
          failures++;
          if (!isRetryableKubeError(e) && statusOf(e) !== undefined) return finish(false, e);
          if (failures > 8) return finish(false, e);
          client.logger.debug(`watch ${path} interrupted: ${describeApiError(e)}; reconnecting`);
          needList = true;
          await new Promise((r) => setTimeout(r, Math.min(2000, 100 * 2 ** failures)));
        }
      }
    };
    loop().catch((e) => finish(false, e));
  });
}

/** One watch connection; resolves true when the server says the resourceVersion is too old (410). */
function watchOnce<T extends LiveObject>(
  client: KubeClient,
  path: string,
  query: Record<string, string | number | boolean | undefined>,
  deadline: number,
  onController: (c: AbortController) => void,
  onEvent: (type: string, obj: T) => void,
): Promise<boolean> {
  return new Promise<boolean>((res, rej) => {
    let gone = false;
    const timeoutSeconds = Math.max(1, Math.ceil((deadline - Date.now()) / 1000));
    new Watch(client.kc)
      .watch(
        path,
        { ...query, timeoutSeconds },
        (type: string, obj: unknown) => {
          if (type === 'ERROR') {
            const st = obj as KubeStatus;
            if (st.code === 410) gone = true;
            return;
          }
          onEvent(type, obj as T);
        },
        (err: unknown) => {
          if (err && !gone && !(err instanceof Error && err.name === 'AbortError'))
            rej(watchError(err, path));
          else res(gone);
        },
      )
      .then(onController, rej);
  });
}

/**
 * client-node reports a refused watch as a bare Error('Forbidden') with a statusCode, the Status
 * body dropped: make it a KubeApiError that says which watch was refused.
 */
function watchError(err: unknown, path: string): unknown {
  const code = statusOf(err);
  if (code === undefined || err instanceof ApiException) return err;
  const reason = err instanceof Error ? err.message : String(err);
  const status: KubeStatus = {
    kind: 'Status',
    status: 'Failure',
    code,
    reason,
    message: `the API server refused to watch ${path}`,
  };
  return new KubeApiError(code, `GET ${path}?watch=true: HTTP ${code}: ${reason}`, status, {}, 'GET', path);
}
