// `npm run demo`: a pull request's whole life — open, push, close — through the real action entry point
// (dist/index.js, as a workflow runs it) against the embedded Kubernetes and GitHub emulators.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { existsSync } from 'node:fs';
import { startGitHubEmulator, type GitHubEmulator } from '../test/emulators/github/index.js';
import { startKubeEmulator, type KubeEmulator } from '../test/emulators/kube/index.js';
import { distEntry, pullRequestEvent, runAction, type ActionRun } from '../test/support/action.js';

const REPO = 'acme/shop';
const PR = 42;
/** The workflow's GITHUB_TOKEN, registered with the GitHub emulator (unknown tokens get 401). */
const DEMO_TOKEN = 'ghs_demo_token_0123456789';
const SHA1 = '1f3e5a7c9b2d4f6a8c0e1a3b5d7f9e2c4a6b8d0f';
const SHA2 = '7b9d1f3a5c7e9b1d3f5a7c9e1b3d5f7a9c1e3b5d';

const bold = (s: string) => (process.stdout.isTTY ? `\x1b[1m${s}\x1b[0m` : s);
const rule = (title: string) =>
  console.log(`\n${bold(`━━ ${title} ${'━'.repeat(Math.max(0, 70 - title.length))}`)}`);

async function main(): Promise<void> {
  if (!existsSync(distEntry)) {
    throw new Error(`${distEntry} is missing. Run 'npm run build' first (dist/ is normally committed).`);
  }
  const kube = await startKubeEmulator({ controllers: { readyDelayMs: 300 } });
  const github = await startGitHubEmulator();
  try {
    await play(kube, github);
  } finally {
    await Promise.allSettled([kube.close(), github.close()]);
  }
}

async function play(kube: KubeEmulator, github: GitHubEmulator): Promise<void> {
  console.log(`Kubernetes API emulator at ${kube.url} (kubeconfig ${kube.kubeconfigPath})`);
  console.log(`GitHub REST emulator at ${github.url}`);
  github.state.addRepo(REPO);
  github.state.setToken(DEMO_TOKEN, { permissions: 'write' });
  const pull = github.state.addPull({
    repo: REPO,
    number: PR,
    headSha: SHA1,
    headRef: 'feature/checkout-v2',
    title: 'Checkout v2: one-page checkout',
  });
  github.state.addComments(
    REPO,
    PR,
    3,
    (i) => ['LGTM once CI is green', 'Can we see it running?', 'Nice!'][i],
  );

  const inputs = {
    command: 'preview',
    kubeconfig: kube.kubeconfigPath,
    manifests: 'examples/shop/overlays/preview',
    domain: 'preview.example.com',
    images: [
      'ghcr.io/kubestage/example-web=ghcr.io/acme/shop-web',
      'ghcr.io/kubestage/example-api=ghcr.io/acme/shop-api',
    ].join('\n'),
    'wait-timeout': '60',
    'github-token': DEMO_TOKEN,
  };
  const env = { GITHUB_API_URL: github.url };

  rule(`1. PR #${PR} opened (head ${SHA1.slice(0, 7)}): kubestage preview`);
  const opened = await runAction({
    inputs,
    env,
    repo: REPO,
    eventName: 'pull_request',
    payload: pullRequestEvent({
      action: 'opened',
      repo: REPO,
      number: PR,
      headSha: SHA1,
      headRef: pull.headRef,
      title: pull.title,
    }),
  });
  await report(opened, kube, github);

  rule(`2. A new commit is pushed (head ${SHA2.slice(0, 7)}): the same comment is updated in place`);
  pull.headSha = SHA2;
  const pushed = await runAction({
    inputs,
    env,
    repo: REPO,
    eventName: 'pull_request',
    payload: pullRequestEvent({
      action: 'synchronize',
      repo: REPO,
      number: PR,
      headSha: SHA2,
      headRef: pull.headRef,
      title: pull.title,
    }),
  });
  await report(pushed, kube, github);

  rule(`3. PR #${PR} is merged and closed: kubestage cleanup`);
  github.state.setPullState(REPO, PR, 'closed', true);
  const closed = await runAction({
    inputs: { ...inputs, command: 'cleanup' },
    env,
    repo: REPO,
    eventName: 'pull_request',
    payload: pullRequestEvent({
      action: 'closed',
      merged: true,
      repo: REPO,
      number: PR,
      headSha: SHA2,
      headRef: pull.headRef,
      title: pull.title,
    }),
  });
  await report(closed, kube, github);

  const invalid = github.invalidRequests();
  rule('Done');
  console.log(
    `GitHub requests: ${github.requests.length}, rejected by GitHub's OpenAPI description: ${invalid.length}`,
  );
  const failed = [opened, pushed, closed].filter((r) => r.code !== 0).length;
  if (failed || invalid.length) {
    for (const r of invalid) console.log(`  invalid: ${r.method} ${r.path} → ${r.status} ${r.error ?? ''}`);
    throw new Error(`${failed} step(s) failed, ${invalid.length} invalid GitHub request(s)`);
  }
  console.log('Every step succeeded.');
}

async function report(run: ActionRun, kube: KubeEmulator, github: GitHubEmulator): Promise<void> {
  const log = run.stdout
    .split('\n')
    .filter((l) => l && !l.startsWith('::add-mask::') && !l.startsWith('::debug::'))
    .map((l) => l.replace(/^::(group|endgroup)::/, (_m, g: string) => (g === 'group' ? '▸ ' : '')))
    .filter(Boolean);
  console.log(bold('Action log:'));
  for (const l of log) console.log(`  ${l}`);
  if (run.stderr.trim()) console.log(`  (stderr) ${run.stderr.trim()}`);
  console.log(`${bold('Exit code:')} ${run.code}`);
  console.log(bold('Outputs:'));
  for (const [k, v] of Object.entries(run.outputs)) console.log(`  ${k} = ${v}`);

  const comments = github.state
    .comments(REPO, PR)
    .filter((c) => c.body.includes('<!-- kubestage:preview -->'));
  console.log(
    bold(
      `\nThe PR comment (${comments.length} kubestage comment${comments.length === 1 ? '' : 's'} on the PR):`,
    ),
  );
  for (const line of (comments[0]?.body ?? '(none)').split('\n')) console.log(`  │ ${line}`);

  console.log(bold('\nGitHub deployments:'));
  for (const d of github.state.deployments(REPO)) {
    const statuses = github.state.deploymentStatuses(REPO, d.id).map((s) => s.state);
    console.log(`  #${d.id} ${d.environment} ref ${d.sha.slice(0, 7)}: ${statuses.join(' → ')}`);
  }

  console.log(bold(`\nkubectl get namespaces -l app.kubernetes.io/managed-by=kubestage`));
  console.log(
    indent(
      await kubectl(kube, [
        'get',
        'namespaces',
        '-l',
        'app.kubernetes.io/managed-by=kubestage',
        '-L',
        'kubestage.dev/pr',
      ]),
    ),
  );
  console.log(bold(`kubectl get deploy,svc,ingress,configmap -n pr-${PR}`));
  console.log(
    indent(await kubectl(kube, ['get', 'deploy,svc,ingress,configmap', '-n', `pr-${PR}`, '-o', 'wide'])),
  );
}

// Asynchronous on purpose: the emulators live in this process and must keep answering kubectl.
async function kubectl(kube: KubeEmulator, args: string[]): Promise<string> {
  try {
    const { stdout: out } = await promisify(execFile)(
      'kubectl',
      ['--kubeconfig', kube.kubeconfigPath, ...args],
      {
        encoding: 'utf8',
      },
    );
    return out.trim() || '(nothing)';
  } catch (e) {
    const err = e as { stderr?: string; stdout?: string };
    return (err.stdout?.trim() || err.stderr?.trim() || String(e)).trim();
  }
}

function indent(s: string): string {
  return s
    .split('\n')
    .map((l) => `  ${l}`)
    .join('\n');
}

main().catch((e: Error) => {
  console.error(`demo failed: ${e.message}`);
  process.exit(1);
});
