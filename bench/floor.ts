// The bench's floor: the least any client could do to get a render into a namespace with server-side
// apply. It sends one SSA PATCH per object (and one for the namespace when it is new), the same
// bodies kubestage sends in the same order, over the same HTTP library and keep-alive pool
// (client-node's fetch), at kubestage's parallelism, and nothing else: no discovery, no ownership
// or commit checks, no waiting between waves, no LIST to report what changed, no prune, no retries.
// (The order matters on the emulator too: Deployments sent early start their rollouts, whose
// controller work then shares the server with the remaining PATCHes.) kubestage's time over the floor's is the
// price of everything kubestage does besides applying.
import {
  HttpMethod,
  IsomorphicFetchHttpLibrary,
  PatchStrategy,
  RequestContext,
  type KubeConfig,
} from '@kubernetes/client-node';
import { APPLY_CONCURRENCY } from '../src/kube/apply.js';
import type { Discovery } from '../src/kube/discovery.js';
import { mapSettled } from '../src/kube/pool.js';
import type { KubeObject } from '../src/model/kube-object.js';
import { applySteps } from '../src/steps/release.js';

/** Sends the planned PATCHes; resolves to how many were sent. */
export type FloorRun = () => Promise<number>;

/**
 * Plans the floor's apply of `objects` (after `namespace`, when given). URL paths are worked out
 * here, before any timing, through kubestage's discovery: the run itself sends only PATCHes.
 */
export async function planFloor(
  kc: KubeConfig,
  discovery: Discovery,
  fieldManager: string,
  objects: KubeObject[],
  namespace?: KubeObject,
): Promise<FloorRun> {
  const server = (kc.getCurrentCluster()?.server ?? '').replace(/\/+$/, '');
  const plan = async (o: KubeObject) => ({
    path: await discovery.pathFor(o.apiVersion, o.kind, o.metadata.namespace, o.metadata.name),
    body: JSON.stringify(o),
  });
  const first = namespace ? await plan(namespace) : undefined;
  const rest = await Promise.all(applySteps(objects).flat().map(plan));
  const http = new IsomorphicFetchHttpLibrary();
  // Credentials and TLS as kubestage gets them (the kubeconfig's token and CA), keeping the first
  // TLS dispatcher so requests share keep-alive connections, as kubestage's client does.
  let dispatcher: ReturnType<RequestContext['getDispatcher']>;
  const patch = async ({ path, body }: { path: string; body: string }): Promise<void> => {
    const ctx = new RequestContext(
      `${server}${path}?fieldManager=${fieldManager}&force=true`,
      HttpMethod.PATCH,
    );
    ctx.setHeaderParam('Accept', 'application/json');
    ctx.setHeaderParam('Content-Type', PatchStrategy.ServerSideApply);
    ctx.setBody(body);
    await kc.applySecurityAuthentication(ctx);
    const fresh = ctx.getDispatcher();
    if (fresh !== undefined) {
      dispatcher ??= fresh;
      ctx.setDispatcher(dispatcher);
    }
    const res = await http.send(ctx).toPromise();
    const text = await res.body.text();
    if (res.httpStatusCode >= 300)
      throw new Error(`floor: PATCH ${path}: HTTP ${res.httpStatusCode}: ${text}`);
  };
  return async () => {
    if (first) await patch(first);
    const results = await mapSettled(rest, APPLY_CONCURRENCY, patch);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    return rest.length + (first ? 1 : 0);
  };
}
