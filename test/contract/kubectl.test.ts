// Contract: the real kubectl works against the target cluster (the Kubernetes API emulator unless
// KUBESTAGE_TEST_KUBECONFIG points at a real one) for every command our users and CI logs rely on.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ADMIN_CLIENT_CERT,
  ADMIN_CLIENT_KEY,
  CA_CERT,
  ROGUE_CLIENT_CERT,
  ROGUE_CLIENT_KEY,
} from '../emulators/kube/index.js';
import { kubeTarget, repoRoot, runKubectl, streamKubectl, type KubeTarget } from '../support/kube-target.js';

const boutique = join(repoRoot, '..', 'shared', 'fixtures', 'online-boutique');

function manifests(ns: string, replicas: number, greeting: string): string {
  return `apiVersion: v1
kind: Namespace
metadata:
  name: ${ns}
  labels:
    app.kubernetes.io/managed-by: kubestage
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  namespace: ${ns}
data:
  greeting: ${greeting}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: ${ns}
  labels:
    app: web
spec:
  replicas: ${replicas}
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
      - name: web
        image: nginx:1.27
        ports:
        - containerPort: 80
---
apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: ${ns}
spec:
  selector:
    app: web
  ports:
  - port: 80
    targetPort: 80
`;
}

/** What kubectl prints on a 401: during discovery, or later when discovery was cached. */
const UNAUTHORIZED =
  /error: You must be logged in to the server \((Unauthorized|the server has asked for the client to provide credentials)\)/;

describe('kubectl against the target cluster', () => {
  let target: KubeTarget;

  /** `kubectl -n NS get KIND NAME -o jsonpath={PATH}` against the target. */
  function jsonpath(ns: string, object: string, path: string) {
    return target.kubectl(['-n', ns, 'get', ...object.split(' '), '-o', `jsonpath={${path}}`]);
  }

  beforeAll(async () => {
    target = await kubeTarget();
  });
  afterAll(async () => {
    await target.cleanup();
  });

  it('lists the namespaces every cluster has', async () => {
    const r = await target.kubectl(['get', 'namespaces']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^NAME\s+STATUS\s+AGE/);
    expect(r.stdout).toMatch(/^default\s+Active\s+/m);
    expect(r.stdout).toMatch(/^kube-system\s+Active\s+/m);
  });

  it('a wrong token or a client certificate the cluster CA did not sign is Unauthorized (401)', async () => {
    const wrong = await target.kubectl(['get', 'namespaces', '--token=not-a-valid-token']);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(UNAUTHORIZED);
    if (target.real) return; // the rogue certificate below is the emulator's
    const dir = mkdtempSync(join(tmpdir(), 'kubestage-certs-'));
    const b64 = (pem: string) => Buffer.from(pem).toString('base64');
    // A kubeconfig whose user has a client certificate and no token.
    const asUser = (user: string, cert: string, key: string) => {
      const path = join(dir, `${user}.kubeconfig`);
      writeFileSync(
        path,
        [
          'apiVersion: v1',
          'kind: Config',
          `clusters: [{name: c, cluster: {server: "${target.emulator!.url}", certificate-authority-data: ${b64(CA_CERT)}}}]`,
          `users: [{name: u, user: {client-certificate-data: ${b64(cert)}, client-key-data: ${b64(key)}}}]`,
          'contexts: [{name: c, context: {cluster: c, user: u}}]',
          'current-context: c',
        ].join('\n'),
      );
      return runKubectl(path, join(dir, `${user}-cache`), ['get', 'namespaces']);
    };
    const rogue = await asUser('rogue', ROGUE_CLIENT_CERT, ROGUE_CLIENT_KEY);
    expect(rogue.stderr).toMatch(UNAUTHORIZED);
    const admin = await asUser('admin', ADMIN_CLIENT_CERT, ADMIN_CLIENT_KEY);
    expect(admin.stderr).toBe('');
    expect(admin.stdout).toMatch(/^default\s+Active/m);
  });

  it('api-resources lists the built-in kinds of a v1.32 server with their short names and scope', async () => {
    const r = await target.kubectl(['api-resources', '--no-headers']);
    expect(r.code).toBe(0);
    const rows = r.stdout.split('\n').map((l) => l.trim().split(/\s+/));
    const row = (name: string, group: string) =>
      rows.find((c) => c[0] === name && c.includes(group))?.join(' ');
    expect(row('storageclasses', 'storage.k8s.io/v1')).toBe(
      'storageclasses sc storage.k8s.io/v1 false StorageClass',
    );
    expect(row('persistentvolumes', 'v1')).toBe('persistentvolumes pv v1 false PersistentVolume');
    expect(row('horizontalpodautoscalers', 'autoscaling/v2')).toBe(
      'horizontalpodautoscalers hpa autoscaling/v2 true HorizontalPodAutoscaler',
    );
    expect(row('ingressclasses', 'networking.k8s.io/v1')).toBe(
      'ingressclasses networking.k8s.io/v1 false IngressClass',
    );
    expect(row('tokenreviews', 'authentication.k8s.io/v1')).toBe(
      'tokenreviews authentication.k8s.io/v1 false TokenReview',
    );
    const sc = await target.kubectl(['get', 'sc', 'does-not-exist']);
    expect(sc.stderr).toContain('storageclasses.storage.k8s.io "does-not-exist" not found');
  });

  it('kubectl create namespace, configmap and secret (typed clients, protobuf bodies)', async () => {
    const ns = target.namespace('create');
    expect((await target.kubectl(['create', 'namespace', ns])).stdout).toContain(`namespace/${ns} created`);
    const cm = await target.kubectl(['-n', ns, 'create', 'configmap', 'cfg', '--from-literal=a=b']);
    expect(cm.stdout).toContain('configmap/cfg created');
    const secret = await target.kubectl([
      '-n',
      ns,
      'create',
      'secret',
      'generic',
      'creds',
      '--from-literal=pw=hunter2',
    ]);
    expect(secret.stdout).toContain('secret/creds created');
    const pw = await jsonpath(ns, 'secret creds', '.data.pw');
    expect(Buffer.from(pw.stdout, 'base64').toString()).toBe('hunter2');
    const label = await target.kubectl([
      'get',
      'namespace',
      ns,
      '-o',
      'jsonpath={.metadata.labels.kubernetes\\.io/metadata\\.name}',
    ]);
    expect(label.stdout).toBe(ns);
  });

  it('kubectl create deployment|service|job|cronjob|serviceaccount|ingress|pdb|role|rolebinding (protobuf bodies)', async () => {
    const ns = target.namespace('create-kinds');
    expect((await target.kubectl(['create', 'namespace', ns])).code).toBe(0);
    const create = async (args: string[], printed: string) => {
      const r = await target.kubectl(['-n', ns, 'create', ...args]);
      expect(r.stderr).toBe('');
      expect(r.stdout.trim()).toBe(`${printed} created`);
    };
    await create(
      ['deployment', 'web', '--image=nginx:1.27', '--replicas=2', '--port=8080'],
      'deployment.apps/web',
    );
    await create(['service', 'clusterip', 'web', '--tcp=80:8080'], 'service/web');
    await create(['job', 'j', '--image=busybox:1.36', '--', 'echo', 'hi'], 'job.batch/j');
    await create(
      ['cronjob', 'c', '--image=busybox:1.36', '--schedule=*/5 * * * *', '--', 'echo', 'hi'],
      'cronjob.batch/c',
    );
    await create(['serviceaccount', 'sa'], 'serviceaccount/sa');
    await create(
      ['ingress', 'web', '--rule=a.example.com/=web:80', '--class=nginx'],
      'ingress.networking.k8s.io/web',
    );
    await create(['pdb', 'p', '--selector=app=web', '--min-available=1'], 'poddisruptionbudget.policy/p');
    await create(['role', 'r', '--verb=get', '--resource=pods'], 'role.rbac.authorization.k8s.io/r');
    await create(
      ['rolebinding', 'rb', '--role=r', `--serviceaccount=${ns}:sa`],
      'rolebinding.rbac.authorization.k8s.io/rb',
    );
    const json = async (what: string) =>
      JSON.parse((await target.kubectl(['-n', ns, 'get', what, '-o', 'json'])).stdout) as {
        spec: Record<string, unknown>;
      } & Record<string, unknown>;

    const deploy = await json('deployment/web');
    expect(deploy.spec).toMatchObject({
      replicas: 2,
      selector: { matchLabels: { app: 'web' } },
      template: {
        metadata: { labels: { app: 'web' } },
        spec: { containers: [{ name: 'nginx', image: 'nginx:1.27', ports: [{ containerPort: 8080 }] }] },
      },
    });
    const svc = await json('service/web');
    expect(svc.spec).toMatchObject({
      type: 'ClusterIP',
      selector: { app: 'web' },
      ports: [{ name: '80-8080', port: 80, targetPort: 8080, protocol: 'TCP' }],
    });
    expect(svc.spec.clusterIP).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    const job = await json('job/j');
    expect(job.spec).toMatchObject({
      template: {
        spec: {
          restartPolicy: 'Never',
          containers: [{ name: 'j', image: 'busybox:1.36', command: ['echo', 'hi'] }],
        },
      },
    });
    const cron = await json('cronjob/c');
    expect(cron.spec).toMatchObject({
      schedule: '*/5 * * * *',
      jobTemplate: {
        metadata: { name: 'c' },
        spec: {
          template: {
            spec: { restartPolicy: 'OnFailure', containers: [{ name: 'c', command: ['echo', 'hi'] }] },
          },
        },
      },
    });
    const ing = await json('ingress/web');
    expect(ing.spec).toEqual({
      ingressClassName: 'nginx',
      rules: [
        {
          host: 'a.example.com',
          http: {
            paths: [
              { path: '/', pathType: 'Exact', backend: { service: { name: 'web', port: { number: 80 } } } },
            ],
          },
        },
      ],
    });
    const pdb = await json('pdb/p');
    expect(pdb.spec).toMatchObject({ minAvailable: 1, selector: { matchLabels: { app: 'web' } } });
    const role = await json('role/r');
    expect(role.rules).toEqual([{ verbs: ['get'], apiGroups: [''], resources: ['pods'] }]);
    const rb = await json('rolebinding/rb');
    expect(rb.roleRef).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'r' });
    expect(rb.subjects).toEqual([{ kind: 'ServiceAccount', name: 'sa', namespace: ns }]);
    expect((await json('serviceaccount/sa')).metadata).toMatchObject({ name: 'sa', namespace: ns });

    const rollout = await target.kubectl(['-n', ns, 'rollout', 'status', 'deployment/web', '--timeout=60s']);
    expect(rollout.stdout).toContain('deployment "web" successfully rolled out');
    const exposed = await target.kubectl([
      '-n',
      ns,
      'expose',
      'deployment',
      'web',
      '--name=web-exposed',
      '--port=80',
      '--target-port=8080',
    ]);
    expect(exposed.stdout.trim()).toBe('service/web-exposed exposed');
    const ports = await target.kubectl([
      '-n',
      ns,
      'get',
      'service',
      'web-exposed',
      '-o',
      'jsonpath={.spec.ports[0].port} {.spec.ports[0].targetPort}',
    ]);
    expect(ports.stdout).toBe('80 8080');
  });

  it('client-side apply creates, then re-apply of a change configures only what changed', async () => {
    const ns = target.namespace('csa');
    const first = await target.kubectl(['apply', '-f', '-'], { input: manifests(ns, 1, 'hello') });
    expect(first.stderr).toBe('');
    expect(first.stdout).toContain(`namespace/${ns} created`);
    expect(first.stdout).toContain('configmap/settings created');
    expect(first.stdout).toContain('deployment.apps/web created');
    expect(first.stdout).toContain('service/web created');

    const second = await target.kubectl(['apply', '-f', '-'], { input: manifests(ns, 2, 'bonjour') });
    expect(second.code).toBe(0);
    expect(second.stdout).toContain(`namespace/${ns} unchanged`);
    expect(second.stdout).toContain('configmap/settings configured');
    expect(second.stdout).toContain('deployment.apps/web configured');
    expect(second.stdout).toContain('service/web unchanged');

    const cm = await jsonpath(ns, 'configmap settings', '.data.greeting');
    expect(cm.stdout).toBe('bonjour');
    const deploy = await jsonpath(ns, 'deployment web', '.spec.replicas');
    expect(deploy.stdout).toBe('2');
  });

  it('server-side apply creates and records kubectl as the field manager; a changed field conflicts with another manager', async () => {
    const ns = target.namespace('ssa');
    const r = await target.kubectl(['apply', '--server-side', '-f', '-'], {
      input: manifests(ns, 1, 'hello'),
    });
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain('deployment.apps/web serverside-applied');
    const mf = await target.kubectl([
      '-n',
      ns,
      'get',
      'deployment',
      'web',
      '--show-managed-fields',
      '-o',
      'jsonpath={.metadata.managedFields[*].manager}',
    ]);
    expect(mf.stdout.split(' ')).toContain('kubectl');

    const other = await target.kubectl(
      ['apply', '--server-side', '--field-manager=someone-else', '-f', '-'],
      {
        input: manifests(ns, 3, 'hello'),
      },
    );
    expect(other.code).not.toBe(0);
    expect(other.stderr).toContain('Apply failed with 1 conflict: conflict with "kubectl": .spec.replicas');

    const forced = await target.kubectl(
      ['apply', '--server-side', '--force-conflicts', '--field-manager=someone-else', '-f', '-'],
      {
        input: manifests(ns, 3, 'hello'),
      },
    );
    expect(forced.code).toBe(0);
    const replicas = await jsonpath(ns, 'deployment web', '.spec.replicas');
    expect(replicas.stdout).toBe('3');
  });

  it('a no-op server-side re-apply more than a second later changes nothing (same resourceVersion)', async () => {
    const ns = target.namespace('noop');
    const first = await target.kubectl(['apply', '--server-side', '-f', '-'], {
      input: manifests(ns, 1, 'x'),
    });
    expect(first.code).toBe(0);
    // Let the controllers settle the deployment's status first.
    const wait = await target.kubectl([
      '-n',
      ns,
      'wait',
      '--for=condition=Available',
      'deployment/web',
      '--timeout=60s',
    ]);
    expect(wait.code).toBe(0);
    const before = await jsonpath(ns, 'deployment web', '.metadata.resourceVersion');
    await new Promise((r) => setTimeout(r, 1500));
    const again = await target.kubectl(['apply', '--server-side', '-f', '-'], {
      input: manifests(ns, 1, 'x'),
    });
    expect(again.code).toBe(0);
    const after = await jsonpath(ns, 'deployment web', '.metadata.resourceVersion');
    expect(after.stdout).toBe(before.stdout);
    const diff = await target.kubectl(['diff', '--server-side', '-f', '-'], { input: manifests(ns, 1, 'x') });
    expect(diff.stdout).toBe('');
    expect(diff.code).toBe(0);
  });

  it('fills API defaults on create, and a client-side re-apply stays unchanged', async () => {
    const ns = target.namespace('defaults');
    expect((await target.kubectl(['apply', '-f', '-'], { input: manifests(ns, 1, 'x') })).code).toBe(0);
    const get = async (kind: string, path: string) =>
      (await target.kubectl(['-n', ns, 'get', kind, 'web', '-o', `jsonpath=${path}`])).stdout;
    expect(await get('deployment', '{.spec.strategy.type} {.spec.strategy.rollingUpdate.maxSurge}')).toBe(
      'RollingUpdate 25%',
    );
    expect(await get('deployment', '{.spec.revisionHistoryLimit} {.spec.progressDeadlineSeconds}')).toBe(
      '10 600',
    );
    expect(
      await get(
        'deployment',
        '{.spec.template.spec.restartPolicy} {.spec.template.spec.dnsPolicy} {.spec.template.spec.schedulerName} {.spec.template.spec.terminationGracePeriodSeconds}',
      ),
    ).toBe('Always ClusterFirst default-scheduler 30');
    expect(
      await get(
        'deployment',
        '{.spec.template.spec.containers[0].imagePullPolicy} {.spec.template.spec.containers[0].terminationMessagePath} {.spec.template.spec.containers[0].ports[0].protocol}',
      ),
    ).toBe('IfNotPresent /dev/termination-log TCP');
    expect(
      await get(
        'service',
        '{.spec.type} {.spec.sessionAffinity} {.spec.ipFamilyPolicy} {.spec.internalTrafficPolicy} {.spec.ports[0].protocol}',
      ),
    ).toBe('ClusterIP None SingleStack Cluster TCP');
    expect(await get('service', '{.spec.clusterIP}')).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    const again = await target.kubectl(['apply', '-f', '-'], { input: manifests(ns, 1, 'x') });
    expect(again.stdout).toContain('deployment.apps/web unchanged');
    expect(again.stdout).toContain('service/web unchanged');
    const diff = await target.kubectl(['diff', '-f', '-'], { input: manifests(ns, 1, 'x') });
    expect(diff.stdout).toBe('');
    expect(diff.code).toBe(0);
  });

  it('a new namespace has its default ServiceAccount and root CA ConfigMap; nodes and auth can-i answer', async () => {
    const ns = target.namespace('nsdefaults');
    expect((await target.kubectl(['create', 'namespace', ns])).code).toBe(0);
    let sa = '';
    for (let i = 0; i < 50 && !sa.includes('default'); i++) {
      sa = (await target.kubectl(['-n', ns, 'get', 'serviceaccounts', '-o', 'name'])).stdout;
      if (!sa.includes('default')) await new Promise((r) => setTimeout(r, 100));
    }
    expect(sa).toContain('serviceaccount/default');
    const cm = await jsonpath(ns, 'configmap kube-root-ca.crt', '.data');
    expect(cm.stdout).toContain('BEGIN CERTIFICATE');
    const nodes = await target.kubectl(['get', 'nodes']);
    expect(nodes.code).toBe(0);
    expect(nodes.stdout).toMatch(/^NAME\s+STATUS\s+ROLES\s+AGE\s+VERSION/);
    expect(nodes.stdout).toMatch(/\sReady\s/);
    const can = await target.kubectl(['auth', 'can-i', 'create', 'deployments', '-n', ns]);
    expect(can.stdout.trim()).toBe('yes');
  });

  it('rejects a deployment whose selector does not match its template labels, as a real server does', async () => {
    const ns = target.namespace('invalid');
    expect((await target.kubectl(['create', 'namespace', ns])).code).toBe(0);
    const bad = manifests(ns, 1, 'x')
      .split('---\n')
      .find((d) => d.includes('kind: Deployment'))!
      .replace('      labels:\n        app: web\n    spec:', '      labels:\n        app: other\n    spec:');
    const r = await target.kubectl(['apply', '-f', '-'], { input: bad });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(
      'spec.template.metadata.labels: Invalid value: map[string]string{"app":"other"}: `selector` does not match template `labels`',
    );
  });

  it("refuses to change immutable fields (Deployment selector, Service clusterIP, Ingress without pathType) with the server's 422", async () => {
    const ns = target.namespace('immutable');
    expect((await target.kubectl(['apply', '-f', '-'], { input: manifests(ns, 1, 'x') })).code).toBe(0);
    const moved = manifests(ns, 1, 'x')
      .split('---\n')
      .find((d) => d.includes('kind: Deployment'))!
      .replaceAll('app: web', 'app: web2');
    for (const args of [['apply'], ['apply', '--server-side', '--force-conflicts']]) {
      const r = await target.kubectl([...args, '-f', '-'], { input: moved });
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain(
        'spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{"app":"web2"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is immutable',
      );
    }
    const ip = await target.kubectl([
      '-n',
      ns,
      'patch',
      'service',
      'web',
      '-p',
      '{"spec":{"clusterIP":"10.96.222.222"}}',
    ]);
    expect(ip.stderr).toContain(
      'The Service "web" is invalid: spec.clusterIPs[0]: Invalid value: []string{"10.96.222.222"}: may not change once set',
    );
    const ingress = `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: web
  namespace: ${ns}
spec:
  rules:
  - host: Shop.example.com
    http:
      paths:
      - path: /
        backend:
          service:
            name: web
            port:
              number: 80
`;
    const ing = await target.kubectl(['apply', '-f', '-'], { input: ingress });
    expect(ing.stderr).toContain('The Ingress "web" is invalid:');
    expect(ing.stderr).toContain(
      'spec.rules[0].host: Invalid value: "Shop.example.com": a lowercase RFC 1123 subdomain',
    );
    expect(ing.stderr).toContain(
      'spec.rules[0].http.paths[0].pathType: Required value: pathType must be specified',
    );
  });

  it('prints server-side columns for CronJobs and LoadBalancer services', async () => {
    const ns = target.namespace('tables');
    expect((await target.kubectl(['create', 'namespace', ns])).code).toBe(0);
    const cron = await target.kubectl(['-n', ns, 'apply', '-f', '-'], {
      input: `apiVersion: batch/v1
kind: CronJob
metadata:
  name: nightly
spec:
  schedule: "0 3 * * *"
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: Never
          containers:
          - name: job
            image: busybox:1.36
---
apiVersion: v1
kind: Service
metadata:
  name: lb
spec:
  type: LoadBalancer
  selector:
    app: none
  ports:
  - port: 80
`,
    });
    expect(cron.code).toBe(0);
    const table = await target.kubectl(['-n', ns, 'get', 'cronjobs']);
    expect(table.stdout).toMatch(/^NAME\s+SCHEDULE\s+TIMEZONE\s+SUSPEND\s+ACTIVE\s+LAST SCHEDULE\s+AGE/);
    expect(table.stdout).toMatch(/^nightly\s+0 3 \* \* \*\s+<none>\s+False\s+0\s+<none>\s+/m);
    const svc = await jsonpath(ns, 'service lb', '.spec.ports[0].nodePort');
    expect(Number(svc.stdout)).toBeGreaterThanOrEqual(30000);
    expect(Number(svc.stdout)).toBeLessThanOrEqual(32767);
  });

  it('waits for a deployment to become Available, follows its rollout, and prints it as a table', async () => {
    const ns = target.namespace('wait');
    expect(
      (await target.kubectl(['apply', '--server-side', '-f', '-'], { input: manifests(ns, 2, 'x') })).code,
    ).toBe(0);
    const wait = await target.kubectl([
      '-n',
      ns,
      'wait',
      '--for=condition=Available',
      'deployment/web',
      '--timeout=60s',
    ]);
    expect(wait.stderr).toBe('');
    expect(wait.stdout).toContain('deployment.apps/web condition met');
    const rollout = await target.kubectl(['-n', ns, 'rollout', 'status', 'deployment/web', '--timeout=60s']);
    expect(rollout.stdout).toContain('deployment "web" successfully rolled out');
    const get = await target.kubectl(['-n', ns, 'get', 'deployment', 'web']);
    expect(get.stdout).toMatch(/^NAME\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+AGE\s*\nweb\s+2\/2\s+2\s+2\s+/);
    const pods = await target.kubectl(['-n', ns, 'get', 'pods', '-l', 'app=web', '-o', 'name']);
    expect(pods.stdout.trim().split('\n')).toHaveLength(2);
  });

  it('get --watch streams changes as they happen', async () => {
    const ns = target.namespace('watch');
    await target.kubectl(['apply', '-f', '-'], {
      input: `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ${ns}\n`,
    });
    const watching = streamKubectl(target, ['-n', ns, 'get', 'configmaps', '--watch', '-o', 'name'], (out) =>
      out.includes('configmap/late-arrival'),
    );
    // Give the watch time to start before the change it must see.
    await new Promise((r) => setTimeout(r, 1500));
    const created = await target.kubectl(['-n', ns, 'apply', '-f', '-'], {
      input: 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: late-arrival\ndata:\n  a: b\n',
    });
    expect(created.code).toBe(0);
    const seen = await watching;
    expect(seen.matched).toBe(true);
  });

  it('delete removes the object and waits for it; a second get answers NotFound like a real server', async () => {
    const ns = target.namespace('del');
    await target.kubectl(['apply', '-f', '-'], { input: manifests(ns, 1, 'x') });
    const del = await target.kubectl(['-n', ns, 'delete', 'deployment', 'web', '--timeout=30s']);
    expect(del.stdout).toContain('deployment.apps "web" deleted');
    const get = await target.kubectl(['-n', ns, 'get', 'deployment', 'web']);
    expect(get.code).not.toBe(0);
    expect(get.stderr).toContain('Error from server (NotFound): deployments.apps "web" not found');
    const nsDel = await target.kubectl(['delete', 'namespace', ns, '--timeout=60s']);
    expect(nsDel.stdout).toContain(`namespace "${ns}" deleted`);
    const nsGet = await target.kubectl(['get', 'namespace', ns]);
    expect(nsGet.stderr).toContain(`namespaces "${ns}" not found`);
  });

  it('kustomize-rendered online-boutique applies and every deployment becomes Available', async () => {
    const ns = target.namespace('boutique');
    await target.kubectl(['apply', '-f', '-'], {
      input: `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ${ns}\n`,
    });
    const rendered = await target.kubectl(['kustomize', boutique]);
    expect(rendered.code).toBe(0);
    const apply = await target.kubectl(['apply', '-n', ns, '-f', '-'], {
      input: rendered.stdout,
      timeoutMs: 120_000,
    });
    expect(apply.stderr).toBe('');
    const created = apply.stdout.split('\n').filter((l) => /^deployment\.apps\/\S+ created$/.test(l));
    expect(created.length).toBeGreaterThanOrEqual(11);
    const wait = await target.kubectl(
      ['-n', ns, 'wait', '--for=condition=Available', 'deployment', '--all', '--timeout=180s'],
      {
        timeoutMs: 200_000,
      },
    );
    expect(wait.stderr).toBe('');
    expect(wait.stdout.split('\n').filter((l) => l.endsWith('condition met'))).toHaveLength(created.length);
  }, 240_000);
});
