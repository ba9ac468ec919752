// Contract: the real kubectl works against the target cluster (the Kubernetes API emulator unless
// KUBESTAGE_TEST_KUBECONFIG points at a real one) for every command our users and CI logs rely on.
import { join } from 'node:path';
import { kubeTarget, repoRoot, streamKubectl, type KubeTarget } from '../support/kube-target.js';

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

describe('kubectl against the target cluster', () => {
  let target: KubeTarget;

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
    const pw = await target.kubectl(['-n', ns, 'get', 'secret', 'creds', '-o', 'jsonpath={.data.pw}']);
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

    const cm = await target.kubectl([
      '-n',
      ns,
      'get',
      'configmap',
      'settings',
      '-o',
      'jsonpath={.data.greeting}',
    ]);
    expect(cm.stdout).toBe('bonjour');
    const deploy = await target.kubectl([
      '-n',
      ns,
      'get',
      'deployment',
      'web',
      '-o',
      'jsonpath={.spec.replicas}',
    ]);
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
    const replicas = await target.kubectl([
      '-n',
      ns,
      'get',
      'deployment',
      'web',
      '-o',
      'jsonpath={.spec.replicas}',
    ]);
    expect(replicas.stdout).toBe('3');
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
