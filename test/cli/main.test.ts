// The CLI in-process (main(argv, env, io)) against the emulators: what a person at a terminal sees on
// stdout and stderr, the exit code, and what happened in the cluster and on GitHub.
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { COMMENT_MARKER } from '../../src/model/labels.js';
import { repoRoot } from '../support/action.js';
import { EMULATOR_CONTEXT } from '../emulators/kube/index.js';
import { REPO, startBed, TOKEN, type Bed } from '../support/bed.js';
import { cleanEnv, gitCheckout, runCli, seedPreview, toolsPath } from '../support/cli.js';

const SHA = 'c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1';

describe('usage errors exit 2 and say what was wrong and what is valid', () => {
  test.each([
    [
      ['status', '--bogus'],
      ['--bogus', 'kubestage status', '--all-repos', '--context', '--output'],
    ],
    [
      ['cleanup', '--all-repos'],
      ['--all-repos', 'kubestage cleanup', '--pr', '--wait-timeout'],
    ],
    [['ship'], ['"ship"', 'preview, cleanup, status, deploy, plan, promote, rollback']],
    [
      ['bless', 'testing'],
      ['kubestage bless FROM TO', 'bless testing production'],
    ],
    [
      ['promote', '--repo', 'acme/shop'],
      ['--to', 'is required'],
    ],
    [
      ['rollback', '--repo', 'acme/shop', '--environment', 'production', '--revision', 'last'],
      ['"last"', 'revision number such as 3'],
    ],
    [
      ['deploy', '--repo', 'acme/shop', '--environment', 'development', '--images', 'ghcr.io/acme/api'],
      ['give the tag or the digest'],
    ],
    [
      ['status', '--output', 'yaml'],
      ['--output', '"yaml"', 'text or json'],
    ],
    [['cleanup', '--pr'], ['--pr needs a value']],
    [
      ['cleanup', '--pr', 'abc', '--repo', REPO],
      ['--pr', '"abc"', 'such as 42'],
    ],
    [
      ['cleanup', '--pr', '3', '--repo', REPO, '--wait-timeout=soon'],
      ['--wait-timeout', '"soon"'],
    ],
    [
      ['status', '--all-repos=maybe', '--repo', REPO],
      ['--all-repos', '"maybe"', 'true or false'],
    ],
    [
      ['status', '--repo', 'not a repo'],
      ['--repo', '"not a repo"', 'OWNER/NAME'],
    ],
    [
      ['status', '--repo', REPO, '--kubeconfig', '/nowhere/config'],
      ['--kubeconfig', '/nowhere/config', 'not a file'],
    ],
    [['preview', '--repo', REPO], ['--pr N']],
    [['status', 'extra'], ['"extra"']],
  ])('kubestage %j', async (argv, says) => {
    const kubeconfig = join(mkdtempSync(join(tmpdir(), 'kubestage-kc-')), 'config');
    writeFileSync(kubeconfig, 'apiVersion: v1\nkind: Config\nclusters: []\n');
    const run = await runCli(argv, { env: cleanEnv({ KUBECONFIG: kubeconfig }) });
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    for (const s of says) expect(run.stderr).toContain(s);
  });

  test('no kubeconfig anywhere: the flag, the variable and the file to set', async () => {
    const run = await runCli(['status', '--repo', REPO]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(
      /No kubeconfig: --kubeconfig is not given, \$KUBECONFIG is not set and .*\.kube\/config does not exist/,
    );
  });

  test('bare kubestage prints the help on stderr and exits 2', async () => {
    const run = await runCli([]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('Usage: kubestage COMMAND [flags]');
  });
});

describe('help', () => {
  test('the program help lists every command with its summary, the global flags and the exit codes', async () => {
    const run = await runCli(['--help']);
    expect(run.code).toBe(0);
    expect(run.stderr).toBe('');
    expect(run.stdout).toMatch(/^ {2}status +List this repository's previews/m);
    expect(run.stdout).toMatch(/^ {2}cleanup +Delete the PR's preview namespace/m);
    expect(run.stdout).toMatch(/--context NAME +kubeconfig context to use \(default: its current-context\)/);
    expect(run.stdout).toContain('Exit codes: 0 ok, 1 the command failed, 2 usage error');
  });

  test('`help cleanup` and `cleanup --help` show its flags with meaning and default, and examples', async () => {
    const a = await runCli(['help', 'cleanup']);
    const b = await runCli(['cleanup', '--help']);
    expect(a).toEqual(b);
    expect(a.code).toBe(0);
    expect(a.stdout).toContain('kubestage cleanup: Delete the PR');
    expect(a.stdout).toMatch(/--wait-timeout DURATION +how long to wait .* \(default: 300\)/);
    expect(a.stdout).toMatch(
      /--namespace-template TEMPLATE +namespace of a preview.* \(default: pr-\{number\}\)/,
    );
    expect(a.stdout).toMatch(/--pr N +the pull request to act on \(default: none\)/);
    expect(a.stdout).not.toContain('--manifests');
    expect(a.stdout).toContain('Examples:\n  kubestage cleanup --pr 42');
  });

  test('preview --help marks --images repeatable', async () => {
    const run = await runCli(['preview', '--help']);
    expect(run.stdout).toMatch(/--images NAME=REF .*\(repeatable\) \(default: none\)/);
  });
});

describe('against the emulators', () => {
  let bed: Bed;
  beforeEach(async () => {
    bed = await startBed();
  });
  afterEach(async () => {
    await bed.close();
  });

  test('status finds the repository from the origin remote (git@github.com:owner/repo.git) of the checkout', async () => {
    await seedPreview(bed, 7, SHA);
    const cwd = gitCheckout(`git@github.com:${REPO}.git`);
    const run = await runCli(['status', '--output', 'json', '--kubeconfig', bed.kube.kubeconfigPath], {
      cwd,
    });
    expect(run.stderr).not.toContain('error');
    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout) as {
      repo: string;
      previews: { namespace: string; state: string }[];
    };
    expect(report.repo).toBe(REPO);
    expect(report.previews).toEqual([expect.objectContaining({ namespace: 'pr-7', state: 'ready', pr: 7 })]);
  });

  test('an origin remote that is not GitHub asks for --repo', async () => {
    const cwd = gitCheckout('/srv/git/shop.git');
    const run = await runCli(['status', '--kubeconfig', bed.kube.kubeconfigPath], { cwd });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('"/srv/git/shop.git", which is not a GitHub URL');
    expect(run.stderr).toContain('Pass --repo OWNER/NAME');
  });

  test('--context picks a context other than the current one, and an unknown one is named with the ones there are', async () => {
    await seedPreview(bed, 7, SHA);
    // The current context points at nothing; only the emulator's context works.
    const kubeconfig = join(mkdtempSync(join(tmpdir(), 'kubestage-kc-')), 'config');
    writeFileSync(
      kubeconfig,
      bed.kube.kubeconfig
        .replace(`current-context: ${EMULATOR_CONTEXT}`, 'current-context: nowhere')
        .replace(
          'contexts:\n',
          `contexts:\n- name: nowhere\n  context:\n    cluster: nowhere\n    user: ${EMULATOR_CONTEXT}\n`,
        )
        .replace('clusters:\n', 'clusters:\n- name: nowhere\n  cluster:\n    server: http://127.0.0.1:9\n'),
    );
    const env = cleanEnv({ KUBECONFIG: kubeconfig });
    const picked = await runCli(['status', '--repo', REPO, '--context', EMULATOR_CONTEXT], { env });
    expect(picked.stderr).not.toContain('error');
    expect(picked.code).toBe(0);
    expect(picked.stdout).toMatch(/^pr-7 +#7 +c1c1c1c +ready/m);
    expect(picked.stderr).toContain(`API server ${bed.kube.url}`);

    const unknown = await runCli(['status', '--repo', REPO, '--context', 'prod'], { env });
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain(
      `the kubeconfig has no context "prod"; it has: nowhere, ${EMULATOR_CONTEXT}`,
    );
  });

  test('cleanup --pr deletes the namespace and marks the PR comment, with the token from GITHUB_TOKEN', async () => {
    await seedPreview(bed, 7, SHA);
    const env = cleanEnv({ GITHUB_TOKEN: TOKEN, GITHUB_API_URL: bed.github.url, GITHUB_ACTOR: 'octocat' });
    const run = await runCli(
      ['cleanup', '--pr', '7', '--repo', REPO, '--kubeconfig', bed.kube.kubeconfigPath],
      {
        env,
      },
    );
    expect(run.stderr).not.toContain('error');
    expect(run.code).toBe(0);
    expect(run.stderr).toContain('== Delete namespace pr-7');
    expect(run.stdout).toContain('pr-7');
    expect(namespaceExists(bed, 'pr-7')).toBe(false);
    const comments = bed.github.state.comments(REPO, 7).filter((c) => c.body.includes(COMMENT_MARKER));
    expect(comments).toHaveLength(1);
    expect(comments[0]?.body).toMatch(/destroyed|deleted|removed/i);
    expect(bed.github.invalidRequests()).toEqual([]);
  });

  test('without a token: one note, GitHub is not called, the namespace is still deleted', async () => {
    await seedPreview(bed, 8, SHA);
    const before = bed.github.requests.length;
    const run = await runCli(
      ['cleanup', '--pr', '8', '--repo', REPO, '--kubeconfig', bed.kube.kubeconfigPath],
      {
        env: cleanEnv({ GITHUB_API_URL: bed.github.url }),
      },
    );
    expect(run.code).toBe(0);
    expect(
      run.stderr.match(/^note: no GitHub token.*skipping the PR comment and deployment\.$/gm),
    ).toHaveLength(1);
    expect(namespaceExists(bed, 'pr-8')).toBe(false);
    expect(bed.github.requests.length).toBe(before);
  });

  test('without a token, asking for --comment is a usage error that says how to get one', async () => {
    const run = await runCli(
      ['cleanup', '--pr', '8', '--repo', REPO, '--kubeconfig', bed.kube.kubeconfigPath, '--comment'],
      { env: cleanEnv() },
    );
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--comment needs a GitHub token');
    expect(run.stderr).toContain('gh auth login');
  });

  test('the token of `gh auth token` is used when GITHUB_TOKEN and GH_TOKEN are unset', async () => {
    await seedPreview(bed, 9, SHA);
    const env = cleanEnv({ PATH: toolsPath({ ghToken: TOKEN }), GITHUB_API_URL: bed.github.url });
    const run = await runCli(
      ['cleanup', '--pr', '9', '--repo', REPO, '--kubeconfig', bed.kube.kubeconfigPath, '--verbose'],
      { env },
    );
    expect(run.code).toBe(0);
    expect(run.stderr).toContain('debug: GitHub token: from `gh auth token`');
    expect(run.stderr).not.toContain(TOKEN);
    expect(bed.github.state.comments(REPO, 9).some((c) => c.body.includes(COMMENT_MARKER))).toBe(true);
  });

  test('preview --pr deploys the checkout with repeated --images and keeps the PR comment', async () => {
    bed.github.state.addPull({ repo: REPO, number: 21, headSha: SHA, headRef: 'feature/cli', title: 'CLI' });
    const env = cleanEnv({ GITHUB_TOKEN: TOKEN, GITHUB_API_URL: bed.github.url, GITHUB_ACTOR: 'octocat' });
    const run = await runCli(
      [
        'preview',
        '--pr=21',
        '--repo',
        REPO,
        '--kubeconfig',
        bed.kube.kubeconfigPath,
        '--manifests',
        'examples/shop/overlays/preview',
        '--domain',
        'preview.example.com',
        '--images',
        'ghcr.io/kubestage/example-web=ghcr.io/acme/shop-web',
        '--images=ghcr.io/kubestage/example-api=ghcr.io/acme/shop-api',
        '--wait-timeout',
        '20',
        '--output',
        'json',
      ],
      { env, cwd: repoRoot },
    );
    expect(run.stderr).not.toContain('error');
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({
      namespace: 'pr-21',
      url: 'https://pr-21.preview.example.com',
    });
    const ns = bed.kube.store.get(bed.kube.store.findTypeByKind('v1', 'Namespace')!, undefined, 'pr-21');
    expect(ns?.metadata.annotations?.['kubestage.dev/images']).toContain(
      'ghcr.io/acme/shop-api:pr-21-c1c1c1c',
    );
    expect(ns?.metadata.annotations?.['kubestage.dev/images']).toContain(
      'ghcr.io/acme/shop-web:pr-21-c1c1c1c',
    );
    expect(bed.github.state.comments(REPO, 21).filter((c) => c.body.includes(COMMENT_MARKER))).toHaveLength(
      1,
    );
  });

  test('a failing command exits 1 with its reason on stderr', async () => {
    // A namespace pr-4 that kubestage did not make: cleanup refuses it.
    const ns = bed.kube.store.findTypeByKind('v1', 'Namespace')!;
    bed.kube.store.create(ns, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'pr-4' } });
    const run = await runCli([
      'cleanup',
      '--pr',
      '4',
      '--repo',
      REPO,
      '--kubeconfig',
      bed.kube.kubeconfigPath,
    ]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^error: .*pr-4/m);
    expect(namespaceExists(bed, 'pr-4')).toBe(true);
  });
});

function namespaceExists(bed: Bed, name: string): boolean {
  return bed.kube.store.get(bed.kube.store.findTypeByKind('v1', 'Namespace')!, undefined, name) !== undefined;
}
