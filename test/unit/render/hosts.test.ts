import type { KubeObject } from '../../../src/model/kube-object.js';
import { rewriteHosts } from '../../../src/render/hosts.js';

const HOST = 'pr-7.preview.example.com';

function ingress(spec: Record<string, unknown>): KubeObject {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: { name: 'web', namespace: 'pr-7' },
    spec,
  };
}
function route(apiVersion: string, spec: Record<string, unknown>, kind = 'HTTPRoute'): KubeObject {
  return { apiVersion, kind, metadata: { name: 'web' }, spec };
}
const backend = { service: { name: 'web', port: { number: 80 } } };
const path = { path: '/', pathType: 'Prefix', backend };

describe('rewriteHosts', () => {
  it.each<[string, KubeObject, unknown, string[] | undefined]>([
    [
      'Ingress rules and TLS hosts',
      ingress({
        tls: [{ hosts: ['shop.example.com', 'www.example.com'], secretName: 'tls' }],
        rules: [
          { host: 'shop.example.com', http: { paths: [path] } },
          { host: 'api.example.com', http: { paths: [path] } },
        ],
      }),
      {
        // Each distinct host keeps its own preview host; the first keeps the preview host itself.
        tls: [{ hosts: [HOST, `www-${HOST}`], secretName: 'tls' }],
        rules: [
          { host: HOST, http: { paths: [path] } },
          { host: `api-${HOST}`, http: { paths: [path] } },
        ],
      },
      ['shop.example.com', 'api.example.com', 'www.example.com'],
    ],
    [
      'an Ingress rule without host (catch-all)',
      ingress({ rules: [{ http: { paths: [path] } }] }),
      { rules: [{ host: HOST, http: { paths: [path] } }] },
      ['*'],
    ],
    [
      'an Ingress with only a defaultBackend',
      ingress({ defaultBackend: backend }),
      { defaultBackend: backend },
      undefined,
    ],
    [
      'HTTPRoute v1 hostnames',
      route('gateway.networking.k8s.io/v1', { hostnames: ['a.example.com', 'b.example.com'], rules: [] }),
      { hostnames: [HOST, `b-${HOST}`], rules: [] },
      ['a.example.com', 'b.example.com'],
    ],
    [
      'HTTPRoute v1beta1 without hostnames',
      route('gateway.networking.k8s.io/v1beta1', { parentRefs: [{ name: 'gw' }] }),
      { parentRefs: [{ name: 'gw' }], hostnames: [HOST] },
      ['*'],
    ],
    [
      'an Ingress already on the preview host',
      ingress({ rules: [{ host: HOST }] }),
      { rules: [{ host: HOST }] },
      undefined,
    ],
    [
      'a CRD that happens to be called Ingress',
      {
        apiVersion: 'example.com/v1',
        kind: 'Ingress',
        metadata: { name: 'x' },
        spec: { rules: [{ host: 'a' }] },
      },
      { rules: [{ host: 'a' }] },
      undefined,
    ],
  ])('%s', (_what, input, expectedSpec, from) => {
    const before = structuredClone(input);
    const result = rewriteHosts([input], HOST);
    expect(result.objects[0].spec).toEqual(expectedSpec);
    expect(input).toEqual(before); // pure
    expect(result.changes).toEqual(
      from === undefined ? [] : [{ object: expect.any(String), from, to: expect.arrayContaining([HOST]) }],
    );
  });

  it('names the object in each change and leaves other objects as they are', () => {
    const cm: KubeObject = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'c' },
      data: { host: 'shop.example.com' },
    };
    const r = route('gateway.networking.k8s.io/v1', { hostnames: ['x.example.com'] });
    const result = rewriteHosts([cm, r], HOST);
    expect(result.objects[0]).toEqual(cm);
    expect(result.changes).toEqual([
      { object: 'HTTPRoute.gateway.networking.k8s.io/web', from: ['x.example.com'], to: [HOST] },
    ]);
  });

  it('does not share nested structure with the input', () => {
    const input = ingress({ rules: [{ host: 'a.example.com', http: { paths: [path] } }] });
    const out = rewriteHosts([input], HOST).objects[0];
    (out.spec as { rules: { http: { paths: unknown[] } }[] }).rules[0].http.paths.push('x');
    expect((input.spec as { rules: { http: { paths: unknown[] } }[] }).rules[0].http.paths).toHaveLength(1);
  });

  it('says what routes to the preview, with TLS where the Ingress has it; nothing when no Ingress or route', () => {
    const withTls = ingress({
      tls: [{ hosts: ['shop.example.com'], secretName: 'tls' }],
      rules: [
        { host: 'shop.example.com', http: { paths: [path] } },
        { host: 'admin.example.com', http: { paths: [path] } },
      ],
    });
    expect(rewriteHosts([withTls], HOST).routes).toEqual([
      { host: HOST, original: 'shop.example.com', tls: true, via: 'Ingress/web', path: '/' },
      { host: `admin-${HOST}`, original: 'admin.example.com', tls: false, via: 'Ingress/web', path: '/' },
    ]);
    const lb: KubeObject = {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'web' },
      spec: { type: 'LoadBalancer' },
    };
    expect(rewriteHosts([lb, ingress({ defaultBackend: backend })], HOST).routes).toEqual([]);
  });

  it("rewrites a Gateway's listener hostnames so the app's own routes still attach to it", () => {
    const gateway: KubeObject = {
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'Gateway',
      metadata: { name: 'gw' },
      spec: {
        gatewayClassName: 'istio',
        listeners: [
          { name: 'https', hostname: 'shop.example.com', port: 443, protocol: 'HTTPS' },
          { name: 'any', port: 80, protocol: 'HTTP' },
        ],
      },
    };
    const r = route('gateway.networking.k8s.io/v1', {
      hostnames: ['shop.example.com'],
      parentRefs: [{ name: 'gw' }],
    });
    const result = rewriteHosts([gateway, r], HOST);
    expect(
      (result.objects[0].spec as { listeners: { hostname: string }[] }).listeners.map((l) => l.hostname),
    ).toEqual([HOST, HOST]);
    expect((result.objects[1].spec as { hostnames: string[] }).hostnames).toEqual([HOST]);
  });

  it('refuses two hosts that would become one preview host, naming both', () => {
    const two = ingress({
      rules: [
        { host: 'shop.example.com', http: { paths: [path] } },
        { host: 'api.example.com', http: { paths: [path] } },
        { host: 'api.example.org', http: { paths: [path] } },
      ],
    });
    expect(() => rewriteHosts([two], HOST)).toThrow(
      /both "api\.example\.com" and "api\.example\.org"; in the preview both would become api-pr-7\.preview\.example\.com/,
    );
  });

  it('names the first routed path of a host that serves nothing at its root', () => {
    const api = ingress({
      rules: [
        {
          host: 'api.example.com',
          http: {
            paths: [
              { ...path, path: '/api' },
              { ...path, path: '/v2' },
            ],
          },
        },
      ],
    });
    expect(rewriteHosts([api], HOST).routes.map((r) => [r.host, r.path])).toEqual([[HOST, '/api']]);
  });

  it("does not claim a URL for a route that its app's own Gateway does not listen for", () => {
    // gateway-api's http-routing example: one listener without a hostname, routes for other hosts.
    const gateway: KubeObject = {
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'Gateway',
      metadata: { name: 'example-gateway' },
      spec: { gatewayClassName: 'x', listeners: [{ name: 'http', protocol: 'HTTP', port: 80 }] },
    };
    const byHost = (name: string, hostnames: string[]): KubeObject =>
      route(
        'gateway.networking.k8s.io/v1',
        { hostnames, parentRefs: [{ name: 'example-gateway' }] },
        'HTTPRoute',
      );
    const routes = [
      { ...byHost('root', []), metadata: { name: 'root' } },
      { ...byHost('foo', ['foo.example.com']), metadata: { name: 'foo' } },
    ];
    const result = rewriteHosts([gateway, ...routes], HOST);
    // The listener now listens for the preview host only: the route for foo's host would not attach.
    expect(result.routes.map((r) => r.host)).toEqual([HOST]);
    // A route on a shared Gateway outside the render is taken to attach.
    const shared = route('gateway.networking.k8s.io/v1', {
      hostnames: ['foo.example.com'],
      parentRefs: [{ name: 'shared', namespace: 'infra' }],
    });
    expect(rewriteHosts([shared], HOST).routes.map((r) => r.host)).toEqual([HOST]);
  });

  it("expands an app Gateway's catch-all listener to every preview host its routes use, so each still attaches (over HTTP when the listener is HTTP)", () => {
    // gateway-api's http-routing example: one HTTP listener without a hostname; routes for no host,
    // example.com and foo.example.com.
    const gateway: KubeObject = {
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'Gateway',
      metadata: { name: 'example-gateway' },
      spec: { gatewayClassName: 'x', listeners: [{ name: 'http', protocol: 'HTTP', port: 80 }] },
    };
    const r = (name: string, hostnames?: string[]): KubeObject => ({
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'HTTPRoute',
      metadata: { name },
      spec: { parentRefs: [{ name: 'example-gateway' }], ...(hostnames ? { hostnames } : {}) },
    });
    const result = rewriteHosts(
      [gateway, r('bar-route'), r('example-route', ['example.com']), r('foo-route', ['foo.example.com'])],
      HOST,
    );
    const listeners = (result.objects[0]!.spec as { listeners: { name: string; hostname: string }[] })
      .listeners;
    expect(listeners.map((l) => [l.name, l.hostname])).toEqual([
      ['http', HOST],
      ['http-2', `foo-${HOST}`],
    ]);
    expect(result.routes.map((x) => [x.host, x.tls])).toEqual([
      [HOST, false],
      [`foo-${HOST}`, false],
    ]);
  });
});
