// The guard end to end: a pull request's manifests that would reach outside the preview are refused by the
// preview command before any write, naming the object (or file), the field and the reason — over the emulators.
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pullRequestEvent } from '../support/action.js';
import { REPO, startBed, type Bed } from '../support/bed.js';
import { appManifests, writeFiles } from '../support/workspace.js';

const SHA = 'c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3';
const SECRET = 'runner-only-secret-7d1e';

let bed: Bed;
let parent: string;
beforeEach(async () => {
  bed = await startBed();
  parent = mkdtempSync(join(tmpdir(), 'kubestage-guard-'));
  // Another checkout's file, next to the workspace, as on a self-hosted runner.
  writeFileSync(join(parent, 'secret.txt'), SECRET);
  mkdirSync(join(parent, 'elsewhere'));
  writeFileSync(
    join(parent, 'elsewhere', 'kustomization.yaml'),
    'configMapGenerator:\n  - {name: stolen, files: [../secret.txt]}\n',
  );
});
afterEach(async () => {
  await bed.close();
  rmSync(parent, { recursive: true, force: true });
  expect(bed.github.invalidRequests()).toEqual([]);
});

function workspace(files: Record<string, string>): string {
  const ws = join(parent, 'ws');
  writeFiles(ws, files);
  return ws;
}

/** Runs preview for PR `n` (opened: added to GitHub first) on `ws`, its manifests in k8s/. */
function preview(
  n: number,
  ws: string,
  inputs: Record<string, string> = {},
  action: 'opened' | 'synchronize' = 'opened',
) {
  const pull = { repo: REPO, number: n, headSha: SHA, headRef: `feature/${n}`, title: `PR ${n}` };
  if (action === 'opened') bed.github.state.addPull(pull);
  const payload = pullRequestEvent({ action, ...pull });
  return bed.run({ payload, workspace: ws, inputs: { manifests: 'k8s', ...inputs } });
}

/** Runs preview for PR `n` on `ws`; returns what a user sees, having checked only GETs reached the cluster. */
async function refused(n: number, ws: string, inputs: Record<string, string> = {}) {
  const before = bed.kube.requests.length;
  const { result, log } = await preview(n, ws, inputs);
  expect(result.ok).toBe(false);
  expect(bed.kube.requests.slice(before).filter((r) => r.method !== 'GET')).toEqual([]);
  expect(bed.object('v1', 'Namespace', undefined, `pr-${n}`)).toBeUndefined();
  const comment = bed.markerComments(n)[0]?.body ?? '';
  for (const text of [result.failure ?? '', result.summary, log.text(), comment])
    expect(text).not.toContain(SECRET);
  return { failure: result.failure ?? '', comment };
}

describe('files from outside the repository', () => {
  test('a configMapGenerator reading a file next to the workspace is refused, naming the file, field and reason', async () => {
    const ws = workspace({
      ...appManifests(),
      'k8s/kustomization.yaml':
        'resources: [app.yaml]\nconfigMapGenerator:\n  - {name: stolen, files: [../../secret.txt]}\n',
    });
    const { failure, comment } = await refused(41, ws);
    expect(failure).toContain('k8s/kustomization.yaml: configMapGenerator[0].files[0] is "../../secret.txt"');
    expect(failure).toMatch(/outside the repository/);
    expect(comment).toContain('configMapGenerator[0].files[0]');
  });

  test('a committed symlink to a file next to the workspace is refused, naming the link and its target', async () => {
    const ws = workspace({
      ...appManifests(),
      'k8s/kustomization.yaml':
        'resources: [app.yaml]\nconfigMapGenerator:\n  - {name: stolen, files: [token.txt]}\n',
    });
    symlinkSync('../../secret.txt', join(ws, 'k8s', 'token.txt'));
    const { failure } = await refused(42, ws);
    expect(failure).toMatch(
      /configMapGenerator\[0\]\.files\[0\] is "token\.txt": goes through a symlink to .*secret\.txt/,
    );
  });

  test('resources: ../.. and a base elsewhere on the runner are refused together', async () => {
    const ws = workspace({
      ...appManifests(),
      'k8s/kustomization.yaml': 'resources: [app.yaml, ../.., ../../elsewhere]\n',
    });
    const { failure } = await refused(43, ws);
    expect(failure).toContain('k8s/kustomization.yaml: resources[1] is "../.."');
    expect(failure).toContain('k8s/kustomization.yaml: resources[2] is "../../elsewhere"');
  });

  test('a plain-manifests directory that is a symlink to another checkout is refused', async () => {
    const ws = workspace({ 'README.md': '#' });
    writeFileSync(
      join(parent, 'elsewhere', 'cm.yaml'),
      'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n',
    );
    symlinkSync('../elsewhere', join(ws, 'k8s'));
    const { failure } = await refused(44, ws);
    expect(failure).toMatch(
      /the `manifests` input: manifests is "k8s": resolves through a symlink to .*elsewhere/,
    );
  });
});

describe('RBAC that grants outside identities', () => {
  test('a RoleBinding to edit for every authenticated user and a kube-system ServiceAccount is refused, every reason listed', async () => {
    const ws = workspace(
      appManifests({
        extra: `apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: { name: open-door }
roleRef: { apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: edit }
subjects:
  - { kind: Group, apiGroup: rbac.authorization.k8s.io, name: "system:authenticated" }
  - { kind: ServiceAccount, name: robot, namespace: kube-system }
`,
      }),
    );
    const { failure, comment } = await refused(45, ws);
    expect(failure).toContain('RoleBinding/open-door: roleRef is ClusterRole "edit"');
    expect(failure).toContain('`allow: cluster-role:edit`');
    expect(failure).toContain('RoleBinding/open-door: subjects[0] is Group "system:authenticated"');
    expect(failure).toContain(
      'RoleBinding/open-door: subjects[1] grants rights to ServiceAccount "kube-system/robot"',
    );
    expect(comment).toContain('open-door');
  });
});

describe('the allow input', () => {
  test('a RoleBinding to a ClusterRole is refused until the team allows that ClusterRole, then deployed', async () => {
    const ws = workspace(
      appManifests({
        extra: `apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: { name: web-view }
roleRef: { apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: view }
subjects: [{ kind: ServiceAccount, name: default, namespace: pr-46 }]
`,
      }),
    );
    const { failure } = await refused(46, ws);
    expect(failure).toContain('RoleBinding/web-view: roleRef is ClusterRole "view"');
    expect(failure).toContain('or allow it with `allow: cluster-role:view`');

    const { result } = await preview(46, ws, { allow: 'cluster-role:view' }, 'synchronize');
    expect(result.failure).toBeUndefined();
    expect(bed.object('rbac.authorization.k8s.io/v1', 'RoleBinding', 'pr-46', 'web-view')).toBeDefined();
  });
});

describe('traffic that escapes the preview', () => {
  test('a NodePort, an Endpoints to the metadata service and a server-snippet are refused together, each with its allow value', async () => {
    const ws = workspace(
      appManifests({
        extra: `apiVersion: v1
kind: Service
metadata: { name: web-node }
spec: { type: NodePort, selector: { app: web }, ports: [{ port: 80, targetPort: 8080 }] }
---
apiVersion: v1
kind: Service
metadata: { name: metadata }
spec: { ports: [{ port: 80 }] }
---
apiVersion: v1
kind: Endpoints
metadata: { name: metadata }
subsets: [{ addresses: [{ ip: 169.254.169.254 }], ports: [{ port: 80 }] }]
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: web
  annotations:
    nginx.ingress.kubernetes.io/server-snippet: "location /steal { proxy_pass http://10.0.0.1; }"
spec:
  rules:
    - host: shop.example.com
      http: { paths: [{ path: /, pathType: Prefix, backend: { service: { name: web, port: { number: 80 } } } }] }
`,
      }),
    );
    const { failure, comment } = await refused(47, ws);
    expect(failure).toContain('Service/web-node: spec.type is "NodePort"');
    expect(failure).toContain('or allow it with `allow: node-port`');
    expect(failure).toContain('Endpoints/metadata: subsets[].addresses is "169.254.169.254"');
    expect(failure).toContain('or allow it with `allow: endpoints`');
    expect(failure).toContain(
      'Ingress/web: metadata.annotations["nginx.ingress.kubernetes.io/server-snippet"] is set',
    );
    expect(failure).not.toContain('Service/metadata'); // a Service without a selector is harmless on its own
    expect(comment).toContain('web-node');
  });

  test('allow: node-port lets a NodePort Service through', async () => {
    const ws = workspace(
      appManifests({
        extra:
          'apiVersion: v1\nkind: Service\nmetadata: { name: web-node }\nspec: { type: NodePort, selector: { app: web }, ports: [{ port: 80 }] }\n',
      }),
    );
    const { result } = await preview(48, ws, { allow: 'node-port' });
    expect(result.failure).toBeUndefined();
    expect((bed.object('v1', 'Service', 'pr-48', 'web-node')?.spec as { type?: string }).type).toBe(
      'NodePort',
    );
  });
});

describe('one namespace, two pull requests', () => {
  test('with namespace-template {branch}, a second PR from a same-named branch neither takes over nor deletes the first one’s preview', async () => {
    const inputs = { 'namespace-template': 'preview-{branch}', 'host-template': 'preview-{branch}.{domain}' };
    const open = (n: number, action: 'opened' | 'closed' = 'opened') => {
      const headSha = String(n).repeat(20); // two forks, two commits, one branch name
      if (action === 'opened')
        bed.github.state.addPull({ repo: REPO, number: n, headSha, headRef: 'fix', title: `PR ${n}` });
      return pullRequestEvent({ action, repo: REPO, number: n, headSha, headRef: 'fix', title: `PR ${n}` });
    };
    const first = await bed.run({ payload: open(51), inputs });
    expect(first.result.failure).toBeUndefined();
    expect(
      bed.object('v1', 'Namespace', undefined, 'preview-fix')?.metadata.labels?.['kubestage.dev/pr'],
    ).toBe('51');

    const before = bed.kube.requests.length;
    const second = await bed.run({ payload: open(52), inputs });
    expect(second.result.ok).toBe(false);
    expect(second.result.failure).toContain('holds the preview of PR #51 (kubestage.dev/pr), not PR #52');
    expect(second.result.failure).toContain('Put {number} in the `namespace-template` input');
    expect(bed.kube.requests.slice(before).filter((r) => r.method !== 'GET')).toEqual([]);

    bed.github.state.setPullState(REPO, 52, 'closed', false);
    const cleanup = await bed.run({ payload: open(52, 'closed'), inputs: { ...inputs, command: 'cleanup' } });
    expect(cleanup.result.ok).toBe(false);
    expect(cleanup.result.failure).toContain(
      'refusing to delete: namespace "preview-fix" holds the preview of PR #51',
    );
    expect(
      bed.object('v1', 'Namespace', undefined, 'preview-fix')?.metadata.deletionTimestamp,
    ).toBeUndefined();
    expect(bed.objects('apps/v1', 'Deployment', 'preview-fix').length).toBeGreaterThan(0);
  });
});
