// dist/index.js run as a workflow runs it: INPUT_* variables, a real webhook payload as the event file,
// GITHUB_OUTPUT and GITHUB_STEP_SUMMARY — against the emulators.
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { startGitHubEmulator, type GitHubEmulator } from '../emulators/github/index.js';
import { startKubeEmulator, type KubeEmulator } from '../emulators/kube/index.js';
import { pullRequestEvent, repoRoot, runAction, webhookExample } from '../support/action.js';

const REPO = 'octo-org/storefront';
const SHA1 = 'c0ffee0c0ffee0c0ffee0c0ffee0c0ffee0c0ffe';
const SHA2 = 'decade0decade0decade0decade0decade0decad';

const GITHUB_TOKEN = 'ghs_action_test_token_000000000001';

let kube: KubeEmulator;
let github: GitHubEmulator;
beforeAll(async () => {
  kube = await startKubeEmulator({ namespaceDeletionDelayMs: 20, controllers: { readyDelayMs: 30 } });
  github = await startGitHubEmulator();
  github.state.addRepo(REPO);
  github.state.setToken(GITHUB_TOKEN, { permissions: 'write' });
});
afterAll(async () => {
  await Promise.allSettled([kube.close(), github.close()]);
});

function inputs(extra: Record<string, string> = {}): Record<string, string> {
  return {
    command: 'preview',
    kubeconfig: kube.kubeconfigPath,
    manifests: 'examples/shop/overlays/preview',
    domain: 'preview.example.com',
    images: 'ghcr.io/kubestage/example-web=ghcr.io/octo-org/web',
    'wait-timeout': '30',
    'github-token': GITHUB_TOKEN,
    ...extra,
  };
}

test('a PR opened, pushed and closed through dist/index.js: one comment, outputs, summary, namespace gone', async () => {
  const pull = github.state.addPull({
    repo: REPO,
    number: 5,
    headSha: SHA1,
    headRef: 'feature/cart',
    title: 'Cart',
  });
  const env = { GITHUB_API_URL: github.url };

  const opened = await runAction({
    inputs: inputs(),
    env,
    repo: REPO,
    eventName: 'pull_request',
    payload: pullRequestEvent({
      action: 'opened',
      repo: REPO,
      number: 5,
      headSha: SHA1,
      headRef: 'feature/cart',
    }),
  });
  expect(opened.errors).toEqual([]);
  expect(opened.code).toBe(0);
  expect(opened.outputs).toMatchObject({
    namespace: 'pr-5',
    url: 'https://pr-5.preview.example.com',
    applied: '9', // the app's 6 objects and the preview's ResourceQuota, LimitRange and NetworkPolicy
  });
  expect(opened.outputs['deployment-id']).toMatch(/^\d+$/);
  expect(opened.outputs['comment-id']).toMatch(/^\d+$/);
  expect(opened.summary).toContain('kubestage preview: PR #5');
  expect(opened.summary).toContain('https://pr-5.preview.example.com');

  pull.headSha = SHA2;
  const pushed = await runAction({
    inputs: inputs(),
    env,
    repo: REPO,
    eventName: 'pull_request',
    payload: pullRequestEvent({
      action: 'synchronize',
      repo: REPO,
      number: 5,
      headSha: SHA2,
      headRef: 'feature/cart',
    }),
  });
  expect(pushed.code).toBe(0);
  expect(pushed.outputs['comment-id']).toBe(opened.outputs['comment-id']);
  const marked = github.state.comments(REPO, 5).filter((c) => c.body.includes('<!-- kubestage:preview -->'));
  expect(marked).toHaveLength(1);
  expect(marked[0].body).toContain(SHA2.slice(0, 7));

  github.state.setPullState(REPO, 5, 'closed', true);
  const closed = await runAction({
    inputs: inputs({ command: 'cleanup' }),
    env,
    repo: REPO,
    eventName: 'pull_request',
    payload: pullRequestEvent({
      action: 'closed',
      merged: true,
      repo: REPO,
      number: 5,
      headSha: SHA2,
      headRef: 'feature/cart',
    }),
  });
  expect(closed.errors).toEqual([]);
  expect(closed.code).toBe(0);
  expect(Number(closed.outputs['objects-removed'])).toBeGreaterThanOrEqual(6);
  const nsType = kube.store.findTypeByKind('v1', 'Namespace')!;
  expect(kube.store.get(nsType, undefined, 'pr-5')).toBeUndefined();
  expect(github.invalidRequests()).toEqual([]);
}, 120_000);

test('an unknown command fails with the valid commands listed', async () => {
  const run = await runAction({
    inputs: inputs({ command: 'deploy-everything' }),
    repo: REPO,
    eventName: 'pull_request',
    payload: webhookExample('pull_request', 'opened'),
  });
  expect(run.code).not.toBe(0);
  expect(run.errors.join('\n')).toContain(
    'Unknown command "deploy-everything". Valid commands: preview, cleanup',
  );
});

test('an event file that is not JSON fails with an ::error:: naming the file, not a stack trace', async () => {
  const run = await runAction({
    inputs: inputs(),
    repo: REPO,
    eventName: 'pull_request',
    payload: {},
    rawPayload: '{"action": "opened", truncated',
  });
  expect(run.code).not.toBe(0);
  expect(run.errors.join('\n')).toMatch(
    /Could not read the event payload at GITHUB_EVENT_PATH ".*event\.json": .*JSON/,
  );
  expect(run.stderr).not.toMatch(/at .*\(.*:\d+:\d+\)/);
});

test('an event without a pull request fails naming the event and the ones that work', async () => {
  const run = await runAction({
    inputs: inputs(),
    repo: REPO,
    eventName: 'push',
    payload: webhookExample('push'),
  });
  expect(run.code).not.toBe(0);
  expect(run.errors.join('\n')).toMatch(
    /"push" event.*pull_request, pull_request_target, workflow_run, workflow_dispatch/s,
  );
});

test('a malformed images line fails before touching the cluster, naming the line and the value', async () => {
  const before = kube.requests.length;
  const run = await runAction({
    inputs: inputs({ images: 'ghcr.io/kubestage/example-web=ghcr.io/x/web:bad tag!' }),
    env: { GITHUB_API_URL: github.url },
    repo: REPO,
    eventName: 'pull_request',
    payload: pullRequestEvent({ action: 'opened', repo: REPO, number: 6, headSha: SHA1 }),
  });
  expect(run.code).not.toBe(0);
  expect(run.errors.join('\n')).toMatch(/line 1/);
  expect(run.errors.join('\n')).toContain('bad tag!');
  expect(kube.requests.slice(before).filter((r) => r.method !== 'GET')).toEqual([]);
});

test('kubeconfig content given as input is masked and never printed', async () => {
  const content = readFileSync(kube.kubeconfigPath, 'utf8');
  const config = parse(content) as { users: { user: { token?: string } }[] };
  const token = config.users[0].user.token;
  expect(token).toBeTruthy();
  github.state.addPull({ repo: REPO, number: 7, headSha: SHA1, headRef: 'feature/masking' });
  const run = await runAction({
    inputs: inputs({ kubeconfig: Buffer.from(content).toString('base64') }),
    env: { GITHUB_API_URL: github.url },
    repo: REPO,
    eventName: 'pull_request',
    payload: pullRequestEvent({
      action: 'opened',
      repo: REPO,
      number: 7,
      headSha: SHA1,
      headRef: 'feature/masking',
    }),
  });
  expect(run.code).toBe(0);
  expect(run.stdout).toContain(`::add-mask::${token}`);
  const printed = run.stdout.split('\n').filter((l) => !l.startsWith('::add-mask::'));
  expect(printed.join('\n')).not.toContain(token!);
  expect(run.stdout).not.toContain(content.slice(0, 40));
});

test('action.yml declares node24, dist/index.js and documents every input the code reads', async () => {
  const action = parse(readFileSync(`${repoRoot}/action.yml`, 'utf8')) as {
    runs: { using: string; main: string };
    inputs: Record<string, { description?: string }>;
    outputs: Record<string, { description?: string }>;
  };
  expect(action.runs).toEqual({ using: 'node24', main: 'dist/index.js' });
  const { INPUT, OUTPUT } = await import('../../src/settings/inputs.js');
  expect(Object.keys(action.inputs).sort()).toEqual(Object.values(INPUT).sort());
  expect(Object.keys(action.outputs).sort()).toEqual(Object.values(OUTPUT).sort());
  for (const [name, input] of Object.entries(action.inputs))
    expect([name, input.description?.length ?? 0]).not.toEqual([name, 0]);
  const readme = readFileSync(`${repoRoot}/README.md`, 'utf8');
  for (const name of Object.keys(action.inputs)) expect(readme).toContain(`| \`${name}\` |`);
  for (const name of Object.keys(action.outputs)) expect(readme).toContain(`\`${name}\``);
});
