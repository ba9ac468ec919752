// An app that brings its own Gateway API Gateway and routes: ready only once the Gateway is
// programmed and its routes accepted — a URL is not posted for traffic nothing would carry.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pullRequestEvent } from '../support/action.js';
import { REPO, SHA_A, startBed, type Bed } from '../support/bed.js';
import { makeWorkspace } from '../support/workspace.js';

let bed: Bed;
beforeEach(async () => {
  bed = await startBed();
  // The cluster has the Gateway API installed (CRDs) and one GatewayClass, "shared".
  const crd = (kind: string, plural: string, scope: 'Namespaced' | 'Cluster') => ({
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${plural}.gateway.networking.k8s.io` },
    spec: {
      group: 'gateway.networking.k8s.io',
      names: { kind, listKind: `${kind}List`, plural, singular: kind.toLowerCase() },
      scope,
      versions: [
        {
          name: 'v1',
          served: true,
          storage: true,
          schema: { openAPIV3Schema: { type: 'object' } },
          subresources: { status: {} },
        },
      ],
    },
  });
  const dir = makeWorkspace({});
  const file = join(dir, 'gateway-api.json');
  writeFileSync(
    file,
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'List',
      items: [
        crd('GatewayClass', 'gatewayclasses', 'Cluster'),
        crd('Gateway', 'gateways', 'Namespaced'),
        crd('HTTPRoute', 'httproutes', 'Namespaced'),
      ],
    }),
  );
  await kubectl(['apply', '--validate=false', '-f', file]);
  writeFileSync(
    file,
    JSON.stringify({
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'GatewayClass',
      metadata: { name: 'shared' },
      spec: { controllerName: 'example.net/gateway-controller' },
    }),
  );
  await kubectl(['apply', '--validate=false', '-f', file]);
});
afterEach(async () => {
  await bed.close();
});

/** Real kubectl against the emulator (asynchronously: the emulator answers from this process). */
async function kubectl(args: string[]): Promise<string> {
  const { stdout } = await promisify(execFile)('kubectl', args, {
    env: { ...process.env, KUBECONFIG: bed.kube.kubeconfigPath },
    encoding: 'utf8',
  });
  return stdout;
}

function app(
  gatewayClass: string,
  listener = '{ name: http, protocol: HTTP, port: 80, hostname: shop.example.com }',
  routes = ROUTE,
): string {
  return makeWorkspace({
    'k8s/kustomization.yaml': 'resources:\n  - app.yaml\n',
    'k8s/app.yaml': `apiVersion: apps/v1
kind: Deployment
metadata: { name: web }
spec:
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web } }
    spec:
      containers: [{ name: web, image: example/web:1.0 }]
---
apiVersion: v1
kind: Service
metadata: { name: web }
spec:
  selector: { app: web }
  ports: [{ port: 80 }]
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: { name: gw }
spec:
  gatewayClassName: ${gatewayClass}
  listeners:
    - ${listener}
${routes}`,
  });
}

const ROUTE = `---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: web }
spec:
  parentRefs: [{ name: gw }]
  hostnames: [shop.example.com]
  rules: [{ backendRefs: [{ name: web, port: 80 }] }]
`;

async function preview(number: number, ws: string, waitTimeout = '20') {
  bed.github.state.addPull({ repo: REPO, number, headSha: SHA_A, headRef: `feature/${number}` });
  return bed.run({
    payload: pullRequestEvent({
      action: 'opened',
      repo: REPO,
      number,
      headSha: SHA_A,
      headRef: `feature/${number}`,
    }),
    workspace: ws,
    inputs: { manifests: 'k8s', 'wait-timeout': waitTimeout },
  });
}

test("an app's own Gateway of an installed class: programmed, route accepted, then ready at the preview host", async () => {
  const { result } = await preview(80, app('shared'));
  expect(result.failure).toBeUndefined();
  // The app's Gateway listens over plain HTTP: the URL says http, not a TLS nothing terminates.
  expect(result.outputs.url).toBe('http://pr-80.preview.example.com');
  expect(
    await kubectl(['-n', 'pr-80', 'get', 'gateway', 'gw', '-o', 'jsonpath={.spec.listeners[0].hostname}']),
  ).toBe('pr-80.preview.example.com');
  expect(
    await kubectl([
      '-n',
      'pr-80',
      'get',
      'httproute',
      'web',
      '-o',
      'jsonpath={.status.parents[0].conditions[0].status}',
    ]),
  ).toBe('True');
});

test('a Gateway of a class no controller owns is never called ready, and no URL is claimed', async () => {
  const { result } = await preview(81, app('not-installed'), '3');
  expect(result.ok).toBe(false);
  expect(result.failure).toContain('waiting for a controller of GatewayClass "not-installed" to program it');
  const [comment] = bed.markerComments(81);
  expect(comment!.body).toContain('Preview failed');
  const [deployment] = bed.github.state.deployments(REPO);
  expect(bed.github.state.deploymentStatuses(REPO, deployment!.id).map((s) => s.state)).toEqual(['failure']);
});

test("a catch-all listener serving routes for several hosts (gateway-api's http-routing shape): every route attaches", async () => {
  const routes = ['shop.example.com', 'api.example.com']
    .map(
      (h, i) => `---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: r${i} }
spec:
  parentRefs: [{ name: gw }]
  hostnames: [${h}]
  rules: [{ backendRefs: [{ name: web, port: 80 }] }]
`,
    )
    .join('');
  const { result } = await preview(82, app('shared', '{ name: http, protocol: HTTP, port: 80 }', routes));
  expect(result.failure).toBeUndefined();
  expect(result.outputs.url).toBe('http://pr-82.preview.example.com');
  expect(result.summary).toContain('http://api-pr-82.preview.example.com');
  const listeners = await kubectl([
    '-n',
    'pr-82',
    'get',
    'gateway',
    'gw',
    '-o',
    'jsonpath={.spec.listeners[*].hostname}',
  ]);
  expect(listeners).toBe('pr-82.preview.example.com api-pr-82.preview.example.com');
});
