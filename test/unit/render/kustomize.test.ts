// These run the real kustomize (`kubectl kustomize`, or `kustomize build` when on PATH) on temp fixtures
// and on the online-boutique sample.
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { KubeObject } from '../../../src/model/kube-object.js';
import { objectRef } from '../../../src/model/kube-object.js';
import { parseAllow } from '../../../src/render/allow.js';
import { builtinScope, GuardError, guardManifests } from '../../../src/render/guard.js';
import {
  KustomizeError,
  parseRendered,
  readableKustomizeError,
  renderManifests,
} from '../../../src/render/kustomize.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const boutique = path.join(repoRoot, '..', 'shared', 'fixtures', 'online-boutique');
const NS = 'pr-7';
const LABELS = {
  'app.kubernetes.io/managed-by': 'kubestage',
  'kubestage.dev/instance': NS,
  'kubestage.dev/pr': '7',
};
// The image as the fixture writes it (online-boutique-ci, not google-samples as the docs of some releases say).
const FRONTEND = 'us-central1-docker.pkg.dev/online-boutique-ci/microservices-demo/frontend';
const WRONG_FRONTEND = 'us-central1-docker.pkg.dev/google-samples/microservices-demo/frontend';

interface PodTemplateSpec {
  metadata?: { labels?: Record<string, string> };
  spec: { containers: { name: string; image: string }[] };
}
interface WorkloadSpec {
  selector: { matchLabels: Record<string, string> };
  template: PodTemplateSpec;
}
const spec = (o: KubeObject | undefined): WorkloadSpec => (o as KubeObject & { spec: WorkloadSpec }).spec;

let workspace: string;
beforeEach(async () => {
  workspace = await mkdtemp(path.join(tmpdir(), 'kubestage-ws-'));
});
afterEach(async () => {
  await rm(workspace, { recursive: true, force: true });
});

async function write(files: Record<string, string>): Promise<void> {
  for (const [name, text] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(workspace, name)), { recursive: true });
    await writeFile(path.join(workspace, name), text);
  }
}

async function snapshot(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const e of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (e.isFile())
      out[path.join(e.parentPath, e.name)] = await readFile(path.join(e.parentPath, e.name), 'utf8');
  }
  return out;
}

/** Render temp dirs under this test's own temp root (other test files render in parallel into tmpdir()). */
async function renderTemps(root: string): Promise<string[]> {
  return (await readdir(root)).filter((n) => n.startsWith('kubestage-render-'));
}

const DEPLOYMENT = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
        - name: web
          image: localhost:5000/web:latest
`;

describe('renderManifests on online-boutique', () => {
  it('overrides images, sets the namespace on every object, labels objects and pod templates but not selectors', async () => {
    const before = await snapshot(boutique);
    const tempRoot = await mkdtemp(path.join(tmpdir(), 'kubestage-temps-'));
    const { objects, overlayYaml, unusedImages } = await renderManifests({
      tempRoot,
      workspace: path.dirname(boutique),
      manifests: 'online-boutique',
      namespace: NS,
      images: [
        { name: FRONTEND, newName: 'ghcr.io/acme/frontend', newTag: 'pr-7-abc1234' },
        { name: 'redis', newTag: '7.4-alpine' },
        { name: WRONG_FRONTEND, newTag: 'pr-7-abc1234' },
      ],
      labels: LABELS,
      annotations: { 'kubestage.dev/head-sha': 'abc1234' },
    });

    expect(objects.length).toBeGreaterThanOrEqual(20);
    expect(objects.filter((o) => o.metadata.namespace !== NS).map(objectRef)).toEqual([]);
    expect(
      objects.filter((o) => o.metadata.labels?.['kubestage.dev/instance'] !== NS).map(objectRef),
    ).toEqual([]);
    expect(objects.filter((o) => o.metadata.annotations?.['kubestage.dev/head-sha'] !== 'abc1234')).toEqual(
      [],
    );

    const frontend = objects.find((o) => o.kind === 'Deployment' && o.metadata.name === 'frontend');
    const fspec = spec(frontend);
    expect(fspec.template.spec.containers.map((c) => c.image)).toEqual([
      'ghcr.io/acme/frontend:pr-7-abc1234',
    ]);
    expect(fspec.template.metadata?.labels).toMatchObject({ app: 'frontend', ...LABELS });
    expect(fspec.template.metadata?.labels?.['kubestage.dev/head-sha']).toBeUndefined();
    expect(fspec.selector.matchLabels).toEqual({ app: 'frontend' });
    const svc = objects.find((o) => o.kind === 'Service' && o.metadata.name === 'frontend') as KubeObject & {
      spec: { selector: Record<string, string> };
    };
    expect(svc.spec.selector).toEqual({ app: 'frontend' });

    // Other images untouched.
    const cart = spec(objects.find((o) => o.kind === 'Deployment' && o.metadata.name === 'cartservice'));
    expect(cart.template.spec.containers[0].image).toMatch(
      /^us-central1-docker.pkg.dev\/online-boutique-ci\/microservices-demo\/cartservice:v/,
    );

    const redis = spec(objects.find((o) => o.kind === 'Deployment' && o.metadata.name === 'redis-cart'));
    expect(redis.template.spec.containers[0].image).toBe('redis:7.4-alpine');
    // A NAME that matches nothing in the manifests is reported, not silently ignored.
    expect(unusedImages).toEqual([{ name: WRONG_FRONTEND, newTag: 'pr-7-abc1234' }]);
    expect(overlayYaml).toContain('namespace: pr-7');
    expect(overlayYaml).toMatch(/resources:\n {2}- \.\.?\//);
    expect(overlayYaml).toContain('includeSelectors: false');
    // Its frontend-external is a LoadBalancer: a preview takes it only when the team allows it.
    expect(() => guardManifests(objects, NS, builtinScope)).toThrow(
      /Service\/frontend-external: spec.type is "LoadBalancer"/,
    );
    expect(() =>
      guardManifests(objects, NS, builtinScope, { allow: parseAllow('load-balancer') }),
    ).not.toThrow();

    expect(await snapshot(boutique)).toEqual(before);
    expect(await renderTemps(tempRoot)).toEqual([]);
    await rm(tempRoot, { recursive: true, force: true });
  });
});

describe('renderManifests on temp fixtures', () => {
  it('blames an old kubectl, not the user, when its kustomize cannot read the generated overlay', async () => {
    await write({ 'k8s/kustomization.yaml': 'resources: []\n' });
    const oldKubectl = [
      'sh',
      '-c',
      'echo \'error: json: unknown field "includeTemplates"\' >&2; exit 1',
      'kubectl',
    ];
    const err = await renderManifests({
      workspace,
      manifests: 'k8s',
      namespace: NS,
      images: [],
      labels: LABELS,
      kustomizeCommand: oldKubectl,
    }).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(err?.message).toContain("is too old for kubestage's generated overlay");
    expect(err?.message).toContain('kubectl ≥ 1.24');
  });

  it('keeps a PR (a fork) from reading files outside its kustomization: plugins, helm and outside loads are off', async () => {
    await write({
      'secret.txt': 'runner-only-secret',
      'k8s/kustomization.yaml': 'configMapGenerator:\n  - name: stolen\n    files: [../secret.txt]\n',
    });
    const err = await renderManifests({
      workspace,
      manifests: 'k8s',
      namespace: NS,
      images: [],
      labels: LABELS,
    }).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(err?.message).toMatch(
      /configMapGenerator\[0\]\.files\[0\] is "\.\.\/secret\.txt": is outside the kustomization’s own directory k8s\//,
    );
    expect(err?.message).not.toContain('runner-only-secret');
  });

  it('renders an overlay that references ../base, with a registry-port image name', async () => {
    await write({
      'deploy/base/kustomization.yaml': 'resources: [deployment.yaml]\n',
      'deploy/base/deployment.yaml': DEPLOYMENT,
      'deploy/preview/kustomization.yaml': 'resources: [../base]\ncommonLabels: {tier: preview}\n',
    });
    const { objects, unusedImages } = await renderManifests({
      workspace,
      manifests: 'deploy/preview',
      namespace: NS,
      images: [
        { name: 'localhost:5000/web', newTag: 'pr-7-abc1234' },
        { name: 'ghcr.io/acme/typo', newTag: 'x' },
      ],
      labels: LABELS,
    });
    expect(objects.map(objectRef)).toEqual(['Deployment/web']);
    expect(spec(objects[0]).template.spec.containers[0].image).toBe('localhost:5000/web:pr-7-abc1234');
    expect(unusedImages).toEqual([{ name: 'ghcr.io/acme/typo', newTag: 'x' }]);
  });

  it('renders a directory of plain manifests without a kustomization, flattening Lists, without writing into it', async () => {
    await write({
      'k8s/web.yaml': DEPLOYMENT + '---\n---\n',
      'k8s/list.yml':
        'apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: ConfigMap, metadata: {name: a}}\n- {apiVersion: v1, kind: ConfigMap, metadata: {name: b}}\n',
      'k8s/README.md': '# not a manifest',
      'k8s/sub/ignored.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ignored}\n',
    });
    const before = await snapshot(path.join(workspace, 'k8s'));
    const { objects } = await renderManifests({
      workspace,
      manifests: 'k8s',
      namespace: NS,
      images: [],
      labels: LABELS,
    });
    expect(objects.map(objectRef).sort()).toEqual(['ConfigMap/a', 'ConfigMap/b', 'Deployment/web']);
    expect(objects.every((o) => o.metadata.namespace === NS)).toBe(true);
    expect(await snapshot(path.join(workspace, 'k8s'))).toEqual(before);
  });

  it('renames a Namespace object and rewrites default-namespace subjects; the guard then refuses what is left', async () => {
    await write({
      'app/kustomization.yaml': 'resources: [all.yaml]\n',
      'app/all.yaml': `apiVersion: v1
kind: Namespace
metadata: {name: shop}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: god-mode}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}
subjects:
  - {kind: ServiceAccount, name: default, namespace: default}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: peek, namespace: shop}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: view}
subjects:
  - {kind: ServiceAccount, name: robot, namespace: kube-system}
---
${DEPLOYMENT}`,
    });
    const { objects } = await renderManifests({
      workspace,
      manifests: 'app',
      namespace: NS,
      images: [],
      labels: LABELS,
    });
    expect(objects.find((o) => o.kind === 'Namespace')?.metadata.name).toBe(NS);
    let error: unknown;
    try {
      guardManifests(objects, NS, builtinScope);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(GuardError);
    const crb = objects.find((o) => o.kind === 'ClusterRoleBinding') as KubeObject & {
      subjects: { namespace: string }[];
    };
    expect(crb.subjects[0].namespace).toBe(NS); // kustomize rewrote "default"; the guard still refuses the binding
    // kustomize orders output by kind, so compare as a set.
    const violations = [...(error as GuardError).violations].sort((a, b) => a.object.localeCompare(b.object));
    expect(violations).toEqual([
      { object: 'ClusterRoleBinding/god-mode', reason: expect.stringMatching(/cluster-scoped/) },
      { object: 'ClusterRoleBinding/god-mode', reason: expect.stringMatching(/cluster-admin/) },
      { object: `Namespace/${NS}`, reason: expect.stringMatching(/is a Namespace/) },
      { object: 'RoleBinding/peek', reason: expect.stringMatching(/roleRef is ClusterRole "view"/) },
      {
        object: 'RoleBinding/peek',
        reason: expect.stringMatching(/"kube-system\/robot" from another namespace/),
      },
    ]);
  });

  it("shows kustomize's own message when the kustomization is broken", async () => {
    await write({ 'bad/kustomization.yaml': 'resources: [missing.yaml]\n' });
    const run = renderManifests({ workspace, manifests: 'bad', namespace: NS, images: [], labels: LABELS });
    await expect(run).rejects.toBeInstanceOf(KustomizeError);
    const error = (await run.catch((e: unknown) => e)) as KustomizeError;
    expect(error.stderr).toContain('missing.yaml');
    expect(error.message).toContain(error.stderr.trim());
    expect(error.message).toMatch(/^kustomize failed to render .*bad \(kubectl kustomize|kustomize build/);
  });

  it.each<[string, Record<string, string>, string, RegExp]>([
    [
      'a missing directory',
      {},
      'deploy/nope',
      /Manifests directory "deploy\/nope" does not exist \(looked for .*deploy\/nope in workspace /,
    ],
    ['a file instead of a directory', { 'k.yaml': DEPLOYMENT }, 'k.yaml', /is a file, not a directory/],
    [
      'a directory with no manifests',
      { 'docs/README.md': '#' },
      'docs',
      /has no kustomization.yaml and no \*\.yaml.*create a kustomization.yaml/s,
    ],
  ])('refuses %s, naming the path and the workspace', async (_what, files, manifests, message) => {
    await write(files);
    const run = renderManifests({ workspace, manifests, namespace: NS, images: [], labels: LABELS });
    await expect(run).rejects.toThrow(message);
  });

  it('says which program is missing when the kustomize command cannot run', async () => {
    await write({ 'k8s/web.yaml': DEPLOYMENT });
    await expect(
      renderManifests({
        workspace,
        manifests: 'k8s',
        namespace: NS,
        images: [],
        labels: {},
        kustomizeCommand: ['no-such-kustomize', 'build'],
      }),
    ).rejects.toThrow(/Cannot run "no-such-kustomize": it is not installed or not on PATH/);
  });

  it('uses the given kustomize command and cleans the temp dir even on failure', async () => {
    await write({ 'k8s/web.yaml': DEPLOYMENT });
    const tempRoot = path.join(workspace, 'tmp');
    await mkdir(tempRoot);
    await expect(
      renderManifests({
        workspace,
        manifests: 'k8s',
        namespace: NS,
        images: [],
        labels: {},
        kustomizeCommand: ['false'],
        tempRoot,
      }),
    ).rejects.toThrow(/exit 1/);
    expect(await readdir(tempRoot)).toEqual([]);
    expect((await stat(path.join(workspace, 'k8s'))).isDirectory()).toBe(true);
  });
});

describe('parseRendered', () => {
  it.each([
    ['empty output', '', []],
    ['empty documents', '---\n---\n# only a comment\n', []],
    [
      'a List',
      'kind: List\napiVersion: v1\nitems:\n- {apiVersion: v1, kind: Secret, metadata: {name: s}}\n',
      ['Secret/s'],
    ],
    [
      'a typed list',
      'kind: ConfigMapList\napiVersion: v1\nitems:\n- {apiVersion: v1, kind: ConfigMap, metadata: {name: c}}\n',
      ['ConfigMap/c'],
    ],
  ])('%s', (_what, text, refs) => expect(parseRendered(text).map(objectRef)).toEqual(refs));

  it.each([
    [
      'a document without kind',
      'apiVersion: v1\nmetadata: {name: x}\n',
      /document 1: the object has no kind/,
    ],
    [
      'a list item without name',
      'kind: List\napiVersion: v1\nitems:\n- {apiVersion: v1, kind: Secret, metadata: {}}\n',
      /document 1, item 1: the object Secret has no metadata.name/,
    ],
    ['invalid YAML', 'a: [\n', /Could not parse document 1/],
    [
      'invalid YAML in a later document, naming its line',
      'apiVersion: v1\nkind: List\nitems: []\n---\nkind: [\n',
      /Could not parse document 2 of the output of "kustomize": .* at line 6, column 1:\n\n.*kind: \[/s,
    ],
  ])('refuses %s', (_what, text, message) => expect(() => parseRendered(text)).toThrow(message));

  it('reads scalars by the YAML 1.2 core schema: 1.1 booleans and dates stay strings, `<<` is a plain key', () => {
    const [widget] = parseRendered(
      [
        'apiVersion: example.com/v1',
        'kind: Widget',
        'metadata: {name: w}',
        'spec:',
        '  quoted: "on"',
        '  on: on',
        '  yes: yes',
        '  mode: 0755',
        '  octal: 0o755',
        '  thousand: 1e3',
        '  date: 2024-01-02',
        '  time: 2001-12-14t21:59:43.10-05:00',
        '  explicit: !!timestamp 2002-12-14',
        '  base: &base {x: 1}',
        '  merged:',
        '    <<: *base',
        '    y: 2',
      ].join('\n'),
    );
    expect(widget?.spec).toEqual({
      quoted: 'on',
      on: 'on',
      yes: 'yes',
      mode: 755,
      octal: 493,
      thousand: 1000,
      date: '2024-01-02',
      time: '2001-12-14t21:59:43.10-05:00',
      explicit: new Date('2002-12-14T00:00:00Z'),
      base: { x: 1 },
      merged: { '<<': { x: 1 }, y: 2 },
    });
  });
});

describe('readableKustomizeError', () => {
  it("drops kubectl's klog prefix and keeps kustomize's own words", () => {
    expect(
      readableKustomizeError(
        `E1130 19:20:48.027662   25232 run.go:72] "command failed" err="accumulating resources: accumulation err='accumulating resources from 'missing.yaml': no such file'"`,
      ),
    ).toBe(
      "accumulating resources: accumulation err='accumulating resources from 'missing.yaml': no such file'",
    );
  });

  it('never repeats a generator literal, which may be a password', () => {
    const text = readableKustomizeError(
      'E1130 19:20:47.966443   25226 run.go:72] "command failed" err="loading KV pairs: literal sources [DB_PASSWORD:hunter2-very-secret]: invalid literal source DB_PASSWORD:hunter2-very-secret, expected key=value"',
    );
    expect(text).not.toContain('hunter2');
    expect(text).toBe(
      'loading KV pairs: literal sources [<redacted>]: invalid literal source <redacted>, expected key=value',
    );
  });
});
