// A pull request's manifests may not make kustomize read anything outside the repository. Each case puts a
// secret NEXT TO the workspace (<tmp>/secret.txt beside <tmp>/ws/), as another checkout on a self-hosted
// runner would be, and renders with the real kustomize.
import { mkdir, mkdtemp, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { objectRef } from '../../../src/model/kube-object.js';
import { KustomizeError, renderManifests } from '../../../src/render/kustomize.js';
import { COPY_LIMITS, isRemoteReference, SourceError } from '../../../src/render/sources.js';
import { writeFiles } from '../../support/workspace.js';

const NS = 'pr-7';
const SECRET = 'runner-only-secret-0f3c';
const CM = 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: app}\ndata: {a: b}\n';

let tmp: string;
let ws: string;
beforeEach(async () => {
  tmp = await mkdtemp(path.join(tmpdir(), 'kubestage-sources-'));
  ws = path.join(tmp, 'ws');
  await mkdir(ws);
  await writeFile(path.join(tmp, 'secret.txt'), SECRET);
  await mkdir(path.join(tmp, 'elsewhere'));
  await writeFile(
    path.join(tmp, 'elsewhere', 'kustomization.yaml'),
    'configMapGenerator:\n  - {name: s, files: [../secret.txt]}\n',
  );
  await writeFile(path.join(tmp, 'elsewhere', 'cm.yaml'), CM);
});
afterEach(async () => {
  await rm(tmp, { recursive: true, force: true });
});

const write = (files: Record<string, string>): void => writeFiles(ws, files);

function render(manifests = 'k8s', tempRoot?: string) {
  return renderManifests({ workspace: ws, manifests, namespace: NS, images: [], labels: {}, tempRoot });
}

async function refusal(manifests = 'k8s'): Promise<SourceError> {
  const e = await render(manifests).then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(SourceError);
  const error = e as SourceError;
  expect(error.message).not.toContain(SECRET);
  expect(error.message).toMatch(/nothing was rendered or sent to the cluster/);
  return error;
}

describe('references that leave the repository are refused before kustomize runs', () => {
  it.each<[string, string, string, RegExp]>([
    [
      'a configMapGenerator file',
      'configMapGenerator:\n  - name: stolen\n    files: [../../secret.txt]\n',
      'configMapGenerator[0].files[0] is "../../secret.txt"',
      /resolves to .*secret\.txt, outside the repository/,
    ],
    [
      'a configMapGenerator file with a key',
      'configMapGenerator:\n  - name: stolen\n    files: [token=../../secret.txt]\n',
      'configMapGenerator[0].files[0] is "../../secret.txt"',
      /outside the repository/,
    ],
    [
      'configMapGenerator envs',
      'configMapGenerator:\n  - name: stolen\n    envs: [../../secret.txt]\n',
      'configMapGenerator[0].envs[0]',
      /outside the repository/,
    ],
    [
      'a secretGenerator file',
      'secretGenerator:\n  - name: stolen\n    files: [../../secret.txt]\n',
      'secretGenerator[0].files[0]',
      /outside the repository/,
    ],
    ['a resources directory', 'resources: [../..]\n', 'resources[0] is "../.."', /outside the repository/],
    [
      'a base elsewhere on the runner',
      'resources: [../../elsewhere]\n',
      'resources[0] is "../../elsewhere"',
      /resolves to .*elsewhere, outside the repository/,
    ],
    ['a component', 'components: [../../elsewhere]\n', 'components[0]', /outside the repository/],
    ['a patch', 'patches:\n  - path: ../../elsewhere/cm.yaml\n', 'patches[0].path', /outside the repository/],
    [
      'a file of the repository outside the kustomization',
      'configMapGenerator:\n  - {name: c, files: [../README.md]}\n',
      'configMapGenerator[0].files[0] is "../README.md"',
      /outside the kustomization’s own directory k8s\//,
    ],
    [
      'a Helm chart',
      'helmCharts:\n  - {name: x, repo: https://charts.example.com}\nhelmGlobals: {chartHome: ../../elsewhere}\n',
      'helmCharts is',
      /Helm charts are not rendered in previews/,
    ],
    [
      'an https resource',
      'resources: [https://169.254.169.254/latest/meta-data]\n',
      'resources[0]',
      /URL or remote base/,
    ],
    [
      'a remote git base',
      'resources: [github.com/acme/infra//k8s?ref=v1]\n',
      'resources[0]',
      /URL or remote base/,
    ],
    [
      'a local git repository',
      'resources: [file:///home/runner/work/other]\n',
      'resources[0]',
      /URL or remote base/,
    ],
  ])('%s', async (_what, kustomization, field, reason) => {
    write({ 'README.md': '#', 'k8s/kustomization.yaml': kustomization, 'k8s/cm.yaml': CM });
    const error = await refusal();
    expect(error.violations[0]).toMatchObject({ file: 'k8s/kustomization.yaml' });
    expect(error.message).toContain(`k8s/kustomization.yaml: ${field}`);
    expect(error.message).toMatch(reason);
  });

  it('follows bases inside the repository and judges their references too, listing every refusal', async () => {
    write({
      'k8s/kustomization.yaml': 'resources: [../base, ../../elsewhere]\n',
      'base/kustomization.yaml':
        'resources: [cm.yaml]\nconfigMapGenerator:\n  - {name: s, envs: [../../secret.txt]}\n',
      'base/cm.yaml': CM,
    });
    const error = await refusal();
    expect(error.violations.map((v) => `${v.file}: ${v.field}`)).toEqual([
      'k8s/kustomization.yaml: resources[1]',
      'base/kustomization.yaml: configMapGenerator[0].envs[0]',
    ]);
  });

  it('refuses a committed file symlink to outside, naming the link and its target', async () => {
    write({ 'k8s/kustomization.yaml': 'configMapGenerator:\n  - {name: s, files: [token.txt]}\n' });
    await symlink('../../secret.txt', path.join(ws, 'k8s', 'token.txt'));
    const error = await refusal();
    expect(error.message).toContain('configMapGenerator[0].files[0] is "token.txt"');
    expect(error.message).toMatch(/goes through a symlink to .*secret\.txt, outside the repository/);
  });

  it('refuses a symlink to outside in a kustomization directory even when nothing names it', async () => {
    write({ 'k8s/kustomization.yaml': 'resources: [cm.yaml]\n', 'k8s/cm.yaml': CM });
    await symlink(path.join(tmp, 'secret.txt'), path.join(ws, 'k8s', 'notes.txt'));
    const error = await refusal();
    expect(error.violations).toEqual([
      {
        file: 'k8s/notes.txt',
        field: 'symlink',
        value: path.join(tmp, 'secret.txt'),
        reason: expect.stringMatching(/points to .*secret\.txt, outside the repository/),
      },
    ]);
  });

  it('refuses a directory symlink to outside used as a base', async () => {
    write({ 'k8s/kustomization.yaml': 'resources: [shared]\n' });
    await symlink('../../elsewhere', path.join(ws, 'k8s', 'shared'));
    const error = await refusal();
    expect(error.message).toMatch(
      /resources\[0\] is "shared": goes through a symlink to .*elsewhere, outside/,
    );
  });

  it('refuses a manifests directory that is itself a symlink to outside', async () => {
    await symlink('../elsewhere', path.join(ws, 'k8s'));
    const error = await refusal();
    expect(error.message).toMatch(
      /the `manifests` input: manifests is "k8s": resolves through a symlink to .*elsewhere/,
    );
  });

  it('refuses a plain manifest that is a symlink to outside', async () => {
    write({ 'k8s/cm.yaml': CM });
    await writeFile(path.join(tmp, 'stolen.yaml'), CM.replace('app', 'stolen'));
    await symlink('../../stolen.yaml', path.join(ws, 'k8s', 'stolen.yaml'));
    const error = await refusal();
    expect(error.violations.map((v) => v.file)).toEqual(['k8s/stolen.yaml']);
  });
});

describe('what stays inside the repository renders as before', () => {
  it('follows file and directory symlinks inside the repository, resolving .. from the target as kustomize does', async () => {
    write({
      'deploy/base/kustomization.yaml':
        'resources: [cm.yaml]\nconfigMapGenerator:\n  - {name: settings, files: [settings.txt]}\n',
      'deploy/base/cm.yaml': CM,
      'shared/settings.txt': 'mode=preview',
      'k8s/kustomization.yaml': 'resources: [base]\n',
    });
    await symlink('../../shared/settings.txt', path.join(ws, 'deploy', 'base', 'settings.txt'));
    await symlink('../deploy/base', path.join(ws, 'k8s', 'base'));
    const { objects } = await render();
    expect(objects.map(objectRef).sort()).toEqual([
      'ConfigMap/app',
      expect.stringMatching(/^ConfigMap\/settings-/),
    ]);
    const settings = objects.find((o) => o.metadata.name.startsWith('settings-')) as {
      data?: Record<string, string>;
    };
    expect(settings.data).toEqual({ 'settings.txt': 'mode=preview' });
  });

  it('shows kustomize’s messages with the workspace’s paths, not the copy’s', async () => {
    write({ 'k8s/kustomization.yaml': 'resources: [missing.yaml]\n' });
    const tempRoot = path.join(tmp, 'temp');
    await mkdir(tempRoot);
    const error = (await render('k8s', tempRoot).catch((e: unknown) => e)) as KustomizeError;
    expect(error).toBeInstanceOf(KustomizeError);
    expect(error.stderr).toContain('missing.yaml');
    expect(error.message).not.toContain(tempRoot);
    expect(await readdir(tempRoot)).toEqual([]);
  });

  it('refuses, clearly, a manifests directory too big to be manifests', async () => {
    const saved = COPY_LIMITS.files;
    COPY_LIMITS.files = 3;
    try {
      write({
        'kustomization.yaml': 'resources: [a.yaml]\n',
        'a.yaml': CM,
        'b.txt': '',
        'c.txt': '',
        'd.txt': '',
      });
      await expect(render('.')).rejects.toThrow(
        /holds more than 3 files .* point the `manifests` input at a directory that holds only Kubernetes manifests/,
      );
    } finally {
      COPY_LIMITS.files = saved;
    }
  });
});

describe('isRemoteReference', () => {
  it.each<[string, boolean, boolean]>([
    ['https://example.com/a.yaml', false, true],
    ['git@github.com:acme/infra.git//k8s', false, true],
    ['git::https://example.com/x', false, true],
    ['file:///etc', false, true],
    ['github.com/acme/infra//k8s?ref=v1', false, true],
    ['base', false, false],
    ['../base', false, false],
    ['config.d/a.yaml', true, false],
  ])('%s (exists: %s) → %s', (value, exists, remote) =>
    expect(isRemoteReference(value, exists)).toBe(remote),
  );
});
