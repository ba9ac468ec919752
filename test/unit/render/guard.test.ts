import type { KubeObject } from '../../../src/model/kube-object.js';
import { parseAllow } from '../../../src/render/allow.js';
import { isInternalUrl } from '../../../src/render/traffic.js';
import {
  builtinScope,
  combineScopes,
  GuardError,
  guardManifests,
  type GuardOptions,
  isClusterAdminBinding,
  scopeFromList,
} from '../../../src/render/guard.js';

const NS = 'pr-7';

/** namespace null = none (cluster-scoped kinds, or the mistake of leaving it out). */
function obj(
  apiVersion: string,
  kind: string,
  name: string,
  namespace: string | null = NS,
  rest = {},
): KubeObject {
  return { apiVersion, kind, metadata: { name, ...(namespace !== null ? { namespace } : {}) }, ...rest };
}
function binding(
  kind: 'RoleBinding' | 'ClusterRoleBinding',
  role: string,
  subjects: unknown[] = [],
  roleKind = 'ClusterRole',
) {
  return obj('rbac.authorization.k8s.io/v1', kind, 'b', kind === 'RoleBinding' ? NS : null, {
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: roleKind, name: role },
    subjects,
  });
}

function violations(
  objects: KubeObject[],
  scope = builtinScope,
  opts: GuardOptions = {},
): { object: string; reason: string }[] {
  try {
    guardManifests(objects, NS, scope, opts);
    return [];
  } catch (e) {
    if (!(e instanceof GuardError)) throw e;
    return e.violations;
  }
}

describe('builtinScope', () => {
  it.each([
    ['v1', 'ConfigMap', true],
    ['apps/v1', 'Deployment', true],
    ['networking.k8s.io/v1', 'Ingress', true],
    ['rbac.authorization.k8s.io/v1', 'RoleBinding', true],
    ['v1', 'Namespace', false],
    ['v1', 'Node', false],
    ['v1', 'PersistentVolume', false],
    ['storage.k8s.io/v1', 'StorageClass', false],
    ['rbac.authorization.k8s.io/v1', 'ClusterRole', false],
    ['rbac.authorization.k8s.io/v1', 'ClusterRoleBinding', false],
    ['apiextensions.k8s.io/v1', 'CustomResourceDefinition', false],
    ['admissionregistration.k8s.io/v1', 'ValidatingWebhookConfiguration', false],
    ['admissionregistration.k8s.io/v1', 'MutatingWebhookConfiguration', false],
    ['scheduling.k8s.io/v1', 'PriorityClass', false],
    ['networking.k8s.io/v1', 'IngressClass', false],
    ['apiregistration.k8s.io/v1', 'APIService', false],
    ['storage.k8s.io/v1', 'CSIDriver', false],
    ['node.k8s.io/v1', 'RuntimeClass', false],
    ['gateway.networking.k8s.io/v1', 'HTTPRoute', undefined],
    ['apps/v1', 'Namespace', undefined],
  ])('%s %s → %s', (apiVersion, kind, namespaced) => expect(builtinScope(apiVersion, kind)).toBe(namespaced));

  it('combines with a discovery list, first answer wins', () => {
    const scope = combineScopes(
      scopeFromList([{ group: 'gateway.networking.k8s.io', kind: 'HTTPRoute', namespaced: true }]),
      builtinScope,
    );
    expect(scope('gateway.networking.k8s.io/v1beta1', 'HTTPRoute')).toBe(true);
    expect(scope('v1', 'Namespace')).toBe(false);
    expect(scope('example.com/v1', 'Widget')).toBeUndefined();
  });
});

describe('guardManifests', () => {
  it('accepts namespaced objects in the preview namespace, incl. a RoleBinding to its own Role for a local ServiceAccount', () => {
    const ok = [
      obj('apps/v1', 'Deployment', 'web'),
      obj('v1', 'Service', 'web'),
      obj('rbac.authorization.k8s.io/v1', 'Role', 'web'),
      binding('RoleBinding', 'web', [{ kind: 'ServiceAccount', name: 'web', namespace: NS }], 'Role'),
    ];
    expect(() => guardManifests(ok, NS, builtinScope)).not.toThrow();
  });

  it.each<[string, KubeObject, RegExp]>([
    [
      'a Namespace',
      obj('v1', 'Namespace', NS, null),
      /is a Namespace \(kustomize renames every Namespace object to the preview namespace.*\): kubestage creates and owns/,
    ],
    ['a ClusterRole', obj('rbac.authorization.k8s.io/v1', 'ClusterRole', 'r', null), /is cluster-scoped/],
    [
      'a CRD',
      obj('apiextensions.k8s.io/v1', 'CustomResourceDefinition', 'w.example.com', null),
      /cluster-scoped/,
    ],
    [
      'an object in another namespace',
      obj('v1', 'ConfigMap', 'c', 'prod'),
      /is in namespace "prod", not the preview namespace "pr-7"/,
    ],
    ['an object with no namespace', obj('v1', 'ConfigMap', 'c', null), /has no metadata.namespace/],
    [
      'an unknown kind',
      obj('example.com/v1', 'Widget', 'w'),
      /kind Widget \(apiVersion example.com\/v1\) is not known to the cluster — is its CRD installed\?/,
    ],
    [
      'a RoleBinding to cluster-admin',
      binding('RoleBinding', 'cluster-admin'),
      /binds the ClusterRole cluster-admin/,
    ],
    [
      'a RoleBinding to admin',
      binding('RoleBinding', 'admin', [{ kind: 'ServiceAccount', name: 'web', namespace: NS }]),
      /roleRef is ClusterRole "admin": it lets its holders grant anything in the namespace to anyone, so a preview may never bind it/,
    ],
    [
      'a RoleBinding to edit',
      binding('RoleBinding', 'edit', [{ kind: 'ServiceAccount', name: 'web', namespace: NS }]),
      /roleRef is ClusterRole "edit": its rules are set by the cluster's admins.* define a Role in the preview and bind that; or allow it with `allow: cluster-role:edit`/,
    ],
    [
      'a RoleBinding to any ClusterRole not allowed',
      binding('RoleBinding', 'secret-reader', [], 'ClusterRole'),
      /roleRef is ClusterRole "secret-reader".*`allow: cluster-role:secret-reader`/,
    ],
    [
      'a RoleBinding granting a ServiceAccount of kube-system',
      binding(
        'RoleBinding',
        'web',
        [{ kind: 'ServiceAccount', name: 'x', namespace: 'kube-system' }],
        'Role',
      ),
      /subjects\[0\] grants rights to ServiceAccount "kube-system\/x" from another namespace/,
    ],
    [
      'a RoleBinding with a ServiceAccount without namespace',
      binding('RoleBinding', 'web', [{ kind: 'ServiceAccount', name: 'y' }], 'Role'),
      /subjects\[0\] is ServiceAccount "y" without a namespace/,
    ],
    [
      'a RoleBinding granting every authenticated user',
      binding('RoleBinding', 'web', [{ kind: 'Group', name: 'system:authenticated' }], 'Role'),
      /subjects\[0\] is Group "system:authenticated": a Kubernetes system identity/,
    ],
    [
      'a RoleBinding granting every ServiceAccount of the cluster',
      binding('RoleBinding', 'web', [{ kind: 'Group', name: 'system:serviceaccounts' }], 'Role'),
      /subjects\[0\] is Group "system:serviceaccounts"/,
    ],
    [
      'a RoleBinding granting anonymous',
      binding('RoleBinding', 'web', [{ kind: 'User', name: 'system:anonymous' }], 'Role'),
      /subjects\[0\] is User "system:anonymous"/,
    ],
    [
      'a RoleBinding granting a User',
      binding('RoleBinding', 'web', [{ kind: 'User', name: 'alice@example.com' }], 'Role'),
      /subjects\[0\] is User "alice@example.com": grants rights in the preview to an identity outside it.*`allow: users-and-groups`/,
    ],
  ])('refuses %s', (_what, o, reason) => {
    const v = violations([obj('v1', 'Service', 'fine'), o]);
    expect(v).toHaveLength(1);
    expect(v[0].reason).toMatch(reason);
  });

  it('reports both reasons of a ClusterRoleBinding to cluster-admin', () => {
    const crb = binding('ClusterRoleBinding', 'cluster-admin', [
      { kind: 'ServiceAccount', name: 'default', namespace: NS },
    ]);
    expect(violations([crb]).map((v) => v.object)).toEqual(['ClusterRoleBinding/b', 'ClusterRoleBinding/b']);
    expect(violations([crb]).map((v) => v.reason)).toEqual([
      expect.stringMatching(/cluster-scoped/),
      expect.stringMatching(/cluster-admin/),
    ]);
  });

  it('lists every violation, one per line, with what is allowed and how to fix', () => {
    const objects = [
      obj('v1', 'Namespace', NS, null),
      obj('apps/v1', 'Deployment', 'web'),
      obj('v1', 'Secret', 's', 'default'),
      obj('gateway.networking.k8s.io/v1', 'HTTPRoute', 'r'),
    ];
    let error: unknown;
    try {
      guardManifests(objects, NS, builtinScope);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(GuardError);
    const message = (error as GuardError).message;
    expect(message).toMatch(
      /^Refusing to deploy the preview to namespace "pr-7": 3 objects would reach outside it/,
    );
    const lines = message.split('\n').filter((l) => l.startsWith('  - '));
    expect(lines).toEqual([
      expect.stringMatching(/^ {2}- Namespace\/pr-7: is a Namespace/),
      expect.stringMatching(/^ {2}- Secret\/s: is in namespace "default"/),
      expect.stringMatching(
        /^ {2}- HTTPRoute.gateway.networking.k8s.io\/r: kind HTTPRoute .* is its CRD installed\?/,
      ),
    ]);
    expect(message).toMatch(/A preview may contain only namespaced objects .* To fix:/s);
  });
});

describe('traffic that escapes the preview', () => {
  const HOST = 'pr-7.preview.example.com';
  const svc = (spec: object) =>
    obj('v1', 'Service', 'web', NS, { spec: { selector: { app: 'web' }, ...spec } });
  const ingress = (spec: object, annotations: Record<string, string> = {}) => ({
    ...obj('networking.k8s.io/v1', 'Ingress', 'web', NS, { spec }),
    metadata: { name: 'web', namespace: NS, annotations },
  });
  const rule = {
    host: HOST,
    http: {
      paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'web', port: { number: 80 } } } }],
    },
  };
  const gw = (listeners: object[]) =>
    obj('gateway.networking.k8s.io/v1', 'Gateway', 'gw', NS, { spec: { gatewayClassName: 'x', listeners } });
  const scope = combineScopes(
    scopeFromList(
      ['Gateway', 'TLSRoute', 'TCPRoute', 'HTTPRoute'].map((kind) => ({
        group: 'gateway.networking.k8s.io',
        kind,
        namespaced: true,
      })),
    ),
    builtinScope,
  );

  it.each<[string, KubeObject, string, RegExp]>([
    [
      'a NodePort Service',
      svc({ type: 'NodePort' }),
      'node-port',
      /^spec.type is "NodePort": opens the Service on a port of every node.*use a ClusterIP Service.*; or allow it with `allow: node-port`$/,
    ],
    [
      'a LoadBalancer Service',
      svc({ type: 'LoadBalancer' }),
      'load-balancer',
      /^spec.type is "LoadBalancer": gives the preview an external address/,
    ],
    [
      'an ExternalName Service',
      svc({ type: 'ExternalName', externalName: 'kubernetes.default.svc' }),
      'external-name',
      /^spec.type is "ExternalName" \(spec.externalName "kubernetes.default.svc"\)/,
    ],
    [
      'externalIPs',
      svc({ externalIPs: ['10.0.0.1'] }),
      'external-ips',
      /^spec.externalIPs is "10.0.0.1": takes the traffic for those addresses/,
    ],
    [
      'hand-written Endpoints',
      obj('v1', 'Endpoints', 'api', NS, {
        subsets: [{ addresses: [{ ip: '169.254.169.254' }], ports: [{ port: 80 }] }],
      }),
      'endpoints',
      /^subsets\[\]\.addresses is "169.254.169.254": a hand-written Endpoints sends a Service's traffic wherever it says.*the cloud metadata service/,
    ],
    [
      'a hand-written EndpointSlice',
      obj('discovery.k8s.io/v1', 'EndpointSlice', 'api-1', NS, {
        addressType: 'IPv4',
        endpoints: [{ addresses: ['10.96.0.1'] }],
      }),
      'endpoints',
      /^endpoints\[\]\.addresses is "10.96.0.1": a hand-written EndpointSlice/,
    ],
    [
      'an Ingress with only a defaultBackend',
      ingress({ defaultBackend: { service: { name: 'web', port: { number: 80 } } } }),
      'catch-all-ingress',
      /^spec.defaultBackend is "web" with no spec.rules: a catch-all/,
    ],
    [
      'a server-snippet',
      ingress(
        { rules: [rule] },
        { 'nginx.ingress.kubernetes.io/server-snippet': 'location /x { proxy_pass http://10.0.0.1; }' },
      ),
      'snippet-annotations',
      /^metadata.annotations\["nginx.ingress.kubernetes.io\/server-snippet"\] is set: raw NGINX configuration would run inside the shared ingress controller/,
    ],
    [
      'a configuration-snippet',
      ingress({ rules: [rule] }, { 'nginx.ingress.kubernetes.io/configuration-snippet': 'x' }),
      'snippet-annotations',
      /configuration-snippet/,
    ],
    [
      'an auth-snippet',
      ingress({ rules: [rule] }, { 'nginx.ingress.kubernetes.io/auth-snippet': 'x' }),
      'snippet-annotations',
      /auth-snippet/,
    ],
    [
      'a stream-snippet',
      ingress({ rules: [rule] }, { 'nginx.ingress.kubernetes.io/stream-snippet': 'x' }),
      'snippet-annotations',
      /stream-snippet/,
    ],
    [
      'an auth-url into kube-system',
      ingress(
        { rules: [rule] },
        { 'nginx.ingress.kubernetes.io/auth-url': 'http://oauth.kube-system.svc.cluster.local/auth' },
      ),
      'internal-urls',
      /^metadata.annotations\["nginx.ingress.kubernetes.io\/auth-url"\] is "http:\/\/oauth.kube-system.svc.cluster.local\/auth": the shared ingress controller would send requests to an address inside the cluster/,
    ],
    [
      'a mirror-target at the metadata service',
      ingress(
        { rules: [rule] },
        { 'nginx.ingress.kubernetes.io/mirror-target': 'http://169.254.169.254$request_uri' },
      ),
      'internal-urls',
      /mirror-target/,
    ],
    [
      'a Gateway listener without a hostname',
      gw([{ name: 'http', port: 80, protocol: 'HTTP' }]),
      'gateway-listeners',
      /^spec.listeners\[0\] \("http"\) has no hostname: it would take every host.*set its hostname to "pr-7.preview.example.com"/,
    ],
    [
      'a Gateway listener for another host',
      gw([{ name: 'https', port: 443, protocol: 'HTTPS', hostname: 'shop.example.com' }]),
      'gateway-listeners',
      /^spec.listeners\[0\].hostname is "shop.example.com": traffic for a host that is not the preview's.*claim only the preview host "pr-7.preview.example.com"/,
    ],
    [
      'a TLSRoute for another host',
      obj('gateway.networking.k8s.io/v1alpha2', 'TLSRoute', 't', NS, {
        spec: { hostnames: ['shop.example.com'] },
      }),
      'gateway-listeners',
      /^spec.hostnames is "shop.example.com": a TLSRoute may claim only the preview host/,
    ],
    [
      'a Gateway TCP listener',
      gw([{ name: 'db', port: 5432, protocol: 'TCP' }]),
      'gateway-listeners',
      /^spec.listeners\[0\] \("db"\) has protocol TCP on port 5432: it takes a whole port/,
    ],
    [
      'a Gateway with addresses of its own',
      obj('gateway.networking.k8s.io/v1', 'Gateway', 'gw', NS, {
        spec: {
          gatewayClassName: 'x',
          addresses: [{ type: 'IPAddress', value: '10.0.0.10' }],
          listeners: [{ name: 'h', port: 80, protocol: 'HTTP', hostname: HOST }],
        },
      }),
      'gateway-listeners',
      /^spec.addresses is "10.0.0.10": the Gateway would claim addresses of its own/,
    ],
    [
      'an auth-url at a Service of another namespace by its short name',
      ingress(
        { rules: [rule] },
        { 'nginx.ingress.kubernetes.io/auth-url': 'http://vault.vault:8200/v1/sys' },
      ),
      'internal-urls',
      /auth-url"\] is "http:\/\/vault.vault:8200\/v1\/sys": the shared ingress controller would send requests to an address inside the cluster/,
    ],
    [
      'a TCPRoute',
      obj('gateway.networking.k8s.io/v1alpha2', 'TCPRoute', 't', NS, {
        spec: { parentRefs: [{ name: 'shared', namespace: 'infra' }] },
      }),
      'gateway-listeners',
      /takes a whole port of the Gateway/,
    ],
  ])('refuses %s, unless allowed', (_what, o, allowValue, reason) => {
    const refused = violations([o], scope, { host: HOST });
    expect(refused).toHaveLength(1);
    expect(refused[0].reason).toMatch(reason);
    expect(refused[0].reason).toContain(`or allow it with \`allow: ${allowValue}\``);
    expect(violations([o], scope, { host: HOST, allow: parseAllow(allowValue) })).toEqual([]);
  });

  it('lets ordinary traffic through: ClusterIP and headless Services, Ingress rules, a listener for the preview host, auth at a Service of the preview', () => {
    const objects = [
      svc({}),
      svc({ type: 'ClusterIP', clusterIP: 'None' }),
      ingress(
        { rules: [rule], tls: [{ hosts: [HOST], secretName: 'wild' }] },
        {
          'nginx.ingress.kubernetes.io/rewrite-target': '/',
          'nginx.ingress.kubernetes.io/auth-url': `http://oauth2-proxy.${NS}.svc.cluster.local/oauth2/auth`,
        },
      ),
      gw([{ name: 'https', port: 443, protocol: 'HTTPS', hostname: HOST }]),
    ];
    expect(violations(objects, scope, { host: HOST })).toEqual([]);
  });

  it('accepts listeners for every host of the preview (an app with several hosts), not only the first', () => {
    const listeners = [
      { name: 'shop', port: 443, protocol: 'HTTPS', hostname: HOST },
      { name: 'api', port: 443, protocol: 'HTTPS', hostname: `api-${HOST}` },
    ];
    expect(violations([gw(listeners)], scope, { host: HOST, hosts: [HOST, `api-${HOST}`] })).toEqual([]);
    expect(violations([gw(listeners)], scope, { host: HOST, hosts: [HOST] })).toHaveLength(1);
  });

  it('refuses every Gateway listener of a preview without a host', () => {
    const v = violations([gw([{ name: 'h', port: 80, protocol: 'HTTP', hostname: HOST }])], scope, {
      host: '',
    });
    expect(v[0].reason).toMatch(/a preview without a host \(the `domain` input is empty\) may claim none/);
  });
});

describe('isInternalUrl', () => {
  it.each<[string, boolean]>([
    ['http://10.0.0.1/auth', true],
    ['http://169.254.169.254/latest', true],
    ['http://[::1]/', true],
    ['http://localhost:8080/', true],
    ['http://oauth/', true],
    ['http://oauth.kube-system.svc/', true],
    ['http://oauth.kube-system.svc.cluster.local/', true],
    ['http://metadata.google.internal/', true],
    // <service>.<namespace>, resolved through the cluster's DNS search path.
    ['http://kubernetes.default/', true],
    ['http://vault.vault:8200/v1/sys', true],
    [`http://oauth2-proxy.${NS}/oauth2/auth`, false],
    ['not a url', true],
    [`http://oauth.${NS}.svc.cluster.local/auth`, false],
    ['https://auth.example.com/oauth2/auth', false],
  ])('%s → %s', (url, internal) => expect(isInternalUrl(url, NS)).toBe(internal));
});

describe('guardManifests with allow', () => {
  const sa = { kind: 'ServiceAccount', name: 'web', namespace: NS };
  it('lets a ClusterRole the team names be bound, and Users and Groups when allowed', () => {
    const objects = [
      binding('RoleBinding', 'view', [sa, { kind: 'User', name: 'alice' }, { kind: 'Group', name: 'devs' }]),
    ];
    expect(violations(objects).map((v) => v.reason)).toHaveLength(3);
    expect(
      violations(objects, builtinScope, { allow: parseAllow('cluster-role:view\nusers-and-groups') }),
    ).toEqual([]);
  });

  it('never lets system identities, other namespaces or cluster-admin through, whatever is allowed', () => {
    const allow = parseAllow('cluster-role:view, users-and-groups');
    const objects = [
      binding('RoleBinding', 'cluster-admin', [sa]),
      binding('RoleBinding', 'view', [
        { kind: 'Group', name: 'system:unauthenticated' },
        { kind: 'ServiceAccount', name: 'x', namespace: 'prod' },
      ]),
    ];
    expect(violations(objects, builtinScope, { allow }).map((v) => v.reason)).toEqual([
      expect.stringMatching(/cluster-admin/),
      expect.stringMatching(/system:unauthenticated/),
      expect.stringMatching(/"prod\/x" from another namespace/),
    ]);
  });
});

describe('isClusterAdminBinding', () => {
  it.each<[string, KubeObject, boolean]>([
    ['ClusterRoleBinding → cluster-admin', binding('ClusterRoleBinding', 'cluster-admin'), true],
    ['RoleBinding → cluster-admin', binding('RoleBinding', 'cluster-admin'), true],
    ['RoleBinding → admin', binding('RoleBinding', 'admin'), false],
    ['RoleBinding → Role named cluster-admin', binding('RoleBinding', 'cluster-admin', [], 'Role'), false],
    ['a ConfigMap', obj('v1', 'ConfigMap', 'cluster-admin'), false],
  ])('%s → %s', (_what, o, expected) => expect(isClusterAdminBinding(o)).toBe(expected));
});
