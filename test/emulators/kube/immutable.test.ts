// Immutable fields and Ingress validation over real HTTP: the 422 a real API server answers, for
// PUT, every PATCH type and server-side apply alike.
import { EMULATOR_TOKEN, startKubeEmulator, type KubeEmulator } from './index.js';

let emu: KubeEmulator;
beforeAll(async () => {
  emu = await startKubeEmulator();
});
afterAll(async () => {
  await emu.close();
});

type Body = Record<string, unknown> & { message?: string; spec?: Record<string, unknown> };

async function api(method: string, path: string, body?: unknown, contentType = 'application/json') {
  const res = await fetch(emu.httpUrl + path, {
    method,
    headers: { authorization: `Bearer ${EMULATOR_TOKEN}`, 'content-type': contentType },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Body };
}

const deploy = (app: string) => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web', namespace: 'default' },
  spec: {
    selector: { matchLabels: { app } },
    template: { metadata: { labels: { app } }, spec: { containers: [{ name: 'web', image: 'nginx:1.27' }] } },
  },
});

const DEPLOY = '/apis/apps/v1/namespaces/default/deployments';
const SELECTOR_IMMUTABLE =
  'Deployment.apps "web" is invalid: spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{"app":"web2"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is immutable';

describe('immutable fields', () => {
  beforeAll(async () => {
    expect((await api('POST', DEPLOY, deploy('web'))).status).toBe(201);
  });

  test('a Deployment selector cannot change: PUT, merge/strategic/JSON patch and apply all get 422', async () => {
    const live = (await api('GET', `${DEPLOY}/web`)).body;
    const put = await api('PUT', `${DEPLOY}/web`, { ...deploy('web2'), metadata: live.metadata });
    expect(put.status).toBe(422);
    expect(put.body).toMatchObject({
      reason: 'Invalid',
      code: 422,
      message: SELECTOR_IMMUTABLE,
      details: { name: 'web', group: 'apps', kind: 'Deployment', causes: [{ field: 'spec.selector' }] },
    });
    const patch = { spec: deploy('web2').spec };
    for (const type of ['application/merge-patch+json', 'application/strategic-merge-patch+json']) {
      const r = await api('PATCH', `${DEPLOY}/web`, patch, type);
      expect({ type, status: r.status, message: r.body.message }).toEqual({
        type,
        status: 422,
        message: SELECTOR_IMMUTABLE,
      });
    }
    const json = await api(
      'PATCH',
      `${DEPLOY}/web`,
      [
        { op: 'replace', path: '/spec/selector/matchLabels/app', value: 'web2' },
        { op: 'replace', path: '/spec/template/metadata/labels/app', value: 'web2' },
      ],
      'application/json-patch+json',
    );
    expect(json.body.message).toBe(SELECTOR_IMMUTABLE);
    const apply = await api(
      'PATCH',
      `${DEPLOY}/web?fieldManager=ci&force=true`,
      deploy('web2'),
      'application/apply-patch+yaml',
    );
    expect(apply.status).toBe(422);
    expect(apply.body.message).toBe(SELECTOR_IMMUTABLE);
    // The image is not immutable.
    const ok = await api(
      'PATCH',
      `${DEPLOY}/web`,
      { spec: { template: { spec: { containers: [{ name: 'web', image: 'nginx:1.28' }] } } } },
      'application/strategic-merge-patch+json',
    );
    expect(ok.status).toBe(200);
  });

  test('a Service keeps its cluster IP', async () => {
    const svc = {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'web' },
      spec: { selector: { app: 'web' }, ports: [{ port: 80 }] },
    };
    const created = await api('POST', '/api/v1/namespaces/default/services', svc);
    const ip = created.body.spec?.clusterIP as string;
    const r = await api(
      'PATCH',
      '/api/v1/namespaces/default/services/web',
      { spec: { clusterIP: '10.96.200.200' } },
      'application/merge-patch+json',
    );
    expect(r.status).toBe(422);
    expect(r.body.message).toBe(
      'Service "web" is invalid: spec.clusterIPs[0]: Invalid value: []string{"10.96.200.200"}: may not change once set',
    );
    const same = await api(
      'PATCH',
      '/api/v1/namespaces/default/services/web',
      { spec: { clusterIP: ip, ports: [{ port: 8080 }] } },
      'application/merge-patch+json',
    );
    expect(same.status).toBe(200);
  });

  test('a PVC spec is fixed except growing resources.requests of a bound claim', async () => {
    const pvc = (storage: string, modes = ['ReadWriteOnce']) => ({
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: { name: 'data' },
      spec: { accessModes: modes, resources: { requests: { storage } }, storageClassName: 'manual' },
    });
    expect((await api('POST', '/api/v1/namespaces/default/persistentvolumeclaims', pvc('1Gi'))).status).toBe(
      201,
    );
    const path = '/api/v1/namespaces/default/persistentvolumeclaims/data';
    const modes = await api('PATCH', path, pvc('1Gi', ['ReadWriteMany']), 'application/merge-patch+json');
    expect(modes.status).toBe(422);
    expect(modes.body.message).toBe(
      'PersistentVolumeClaim "data" is invalid: spec: Forbidden: spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims',
    );
    // Not bound yet: even the size is fixed.
    expect((await api('PATCH', path, pvc('2Gi'), 'application/merge-patch+json')).status).toBe(422);
    const bound = await api(
      'PATCH',
      `${path}/status`,
      { status: { phase: 'Bound' } },
      'application/merge-patch+json',
    );
    expect(bound.status).toBe(200);
    const grown = await api('PATCH', path, pvc('2Gi'), 'application/merge-patch+json');
    expect(grown.body.message).toBeUndefined();
    const shrink = await api('PATCH', path, pvc('1Gi'), 'application/merge-patch+json');
    expect(shrink.body.message).toBe(
      'PersistentVolumeClaim "data" is invalid: spec.resources.requests.storage: Forbidden: field can not be less than previous value',
    );
  });

  test('a Pod changes only images, deadlines, added tolerations', async () => {
    const pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'solo' },
      spec: { containers: [{ name: 'app', image: 'nginx:1.27', ports: [{ containerPort: 80 }] }] },
    };
    expect((await api('POST', '/api/v1/namespaces/default/pods', pod)).status).toBe(201);
    const path = '/api/v1/namespaces/default/pods/solo';
    const image = await api(
      'PATCH',
      path,
      { spec: { containers: [{ name: 'app', image: 'nginx:1.28' }], activeDeadlineSeconds: 600 } },
      'application/strategic-merge-patch+json',
    );
    expect(image.status).toBe(200);
    const port = await api(
      'PATCH',
      path,
      { spec: { containers: [{ name: 'app', ports: [{ containerPort: 8080 }] }] } },
      'application/strategic-merge-patch+json',
    );
    expect(port.status).toBe(422);
    expect(port.body.message).toBe(
      'Pod "solo" is invalid: spec: Forbidden: pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)',
    );
  });
});

describe('Ingress validation', () => {
  const ingress = (host: string, path: Record<string, unknown>) => ({
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: { name: 'web' },
    spec: {
      rules: [
        {
          host,
          http: {
            paths: [{ path: '/', backend: { service: { name: 'web', port: { number: 80 } } }, ...path }],
          },
        },
      ],
    },
  });
  const create = (body: unknown) =>
    api('POST', '/apis/networking.k8s.io/v1/namespaces/default/ingresses', body);

  test('pathType is required', async () => {
    const r = await create(ingress('shop.example.com', {}));
    expect(r.status).toBe(422);
    expect(r.body.message).toBe(
      'Ingress.networking.k8s.io "web" is invalid: spec.rules[0].http.paths[0].pathType: Required value: pathType must be specified',
    );
  });

  test('hosts are lowercase DNS-1123 subdomains, with an optional leading *.', async () => {
    const upper = await create(ingress('Foo.example.com', { pathType: 'Prefix' }));
    expect(upper.body.message).toBe(
      `Ingress.networking.k8s.io "web" is invalid: spec.rules[0].host: Invalid value: "Foo.example.com": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')`,
    );
    const wild = await create(ingress('*.pr-7.example.com', { pathType: 'Prefix' }));
    expect(wild.status).toBe(201);
    const bad = await create({ ...ingress('shop.*.com', { pathType: 'Prefix' }), metadata: { name: 'w2' } });
    expect(bad.body.message).toContain(
      'spec.rules[0].host: Invalid value: "shop.*.com": a wildcard DNS-1123 subdomain',
    );
    const relative = await create({
      ...ingress('a.example.com', { pathType: 'Prefix', path: 'api' }),
      metadata: { name: 'w3' },
    });
    expect(relative.body.message).toContain(
      'spec.rules[0].http.paths[0].path: Invalid value: "api": must be an absolute path',
    );
  });
});
