// `npm run demo`: a pull request's whole life — open, push, close — through the real action entry point
// (dist/index.js, as a workflow runs it), then what happens after the merge: deploy to development,
// plan, approval, promotion to testing and production, a bad release rolled back automatically, status,
// and the real kubectl showing the same digests in every stage. All against the embedded Kubernetes,
// GitHub and OCI registry emulators; every step is checked, and any step that does not do what it
// claims makes the demo exit non-zero.
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parseDocument, type YAMLMap, type YAMLSeq } from 'yaml';
import type { CommandResult } from '../src/app/result.js';
import type { GitHubEmulator } from '../test/emulators/github/index.js';
import type { KubeEmulator } from '../test/emulators/kube/index.js';
import { distEntry, pullRequestEvent, repoRoot, runAction, type ActionRun } from '../test/support/action.js';
import { startBed, type Bed } from '../test/support/bed.js';
import { runCli } from '../test/support/cli.js';

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
  const started = Date.now();
  // Kubernetes, GitHub and an OCI registry whose digests the emulated kubelet reports as imageIDs.
  const bed = await startBed();
  try {
    await play(bed.kube, bed.github, bed.registry.host);
    await playPromotion(bed);
    const invalid = bed.github.invalidRequests();
    rule('Done');
    console.log(
      `GitHub requests: ${bed.github.requests.length}, rejected by GitHub's OpenAPI description: ${invalid.length}`,
    );
    if (invalid.length) {
      for (const r of invalid) console.log(`  invalid: ${r.method} ${r.path} → ${r.status} ${r.error ?? ''}`);
      throw new Error(`${invalid.length} invalid GitHub request(s)`);
    }
    console.log(`Every step did what it claims (${((Date.now() - started) / 1000).toFixed(1)} s).`);
  } finally {
    await bed.close();
  }
}

async function play(kube: KubeEmulator, github: GitHubEmulator, registryHost: string): Promise<void> {
  console.log(`Kubernetes API emulator at ${kube.url} (kubeconfig ${kube.kubeconfigPath})`);
  console.log(`GitHub REST emulator at ${github.url}`);
  console.log(`OCI registry emulator at ${registryHost}`);
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

  const failed = [opened, pushed, closed].filter((r) => r.code !== 0).length;
  if (failed) throw new Error(`${failed} step(s) of the pull request's life failed`);
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

function indent(s: string, prefix = '  '): string {
  return s
    .split('\n')
    .map((l) => `${prefix}${l}`)
    .join('\n');
}

// ---- After the merge: development → testing → production ----------------------------------------

const API_IMAGE = 'ghcr.io/kubestage/example-api';
const WEB_IMAGE = 'ghcr.io/kubestage/example-web';
/** The merge commits on main: the PR's merge, then a later one that turns out bad in production. */
const MERGE_GOOD = 'c0ffee1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f6a7b';
const MERGE_BAD = 'bad5eed1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7';
const REVIEWER = 'alice';
const DEPLOYER = 'carol';
const STAGES = ['development', 'testing', 'production'] as const;
type Stage = (typeof STAGES)[number];
/** The example's own stages file, copied into the demo's workspace with loopback URLs. */
const CONFIG = 'examples/shop/kubestage.yml';

interface Build {
  tag: string;
  api: string;
  web: string;
}

/** A claim the demo makes; a false one stops it with a non-zero exit. */
function claim(ok: boolean, what: string, detail?: unknown): void {
  if (!ok) {
    throw new Error(`${what} — not so${detail === undefined ? '' : `: ${JSON.stringify(detail)}`}`);
  }
  console.log(`  ✓ ${what}`);
}

function sameDigests(a: Record<string, string[]>, b: Build): boolean {
  return JSON.stringify(a) === JSON.stringify({ api: [b.api], web: [b.web] });
}

async function playPromotion(bed: Bed): Promise<void> {
  const servers: Server[] = [];
  try {
    await promotion(bed, servers);
  } finally {
    await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  }
}

async function promotion(bed: Bed, servers: Server[]): Promise<void> {
  const { github, registry } = bed;
  github.state.addCommits(REPO, [
    {
      sha: MERGE_GOOD,
      message: `Merge pull request #${PR} from acme/feature/checkout-v2\n\nCheckout v2: one-page checkout`,
      author: { name: 'Dana', email: 'dana@example.com' },
    },
  ]);
  for (const env of ['testing', 'production'])
    github.state.addEnvironment(REPO, env, { reviewers: [REVIEWER] });
  github.state.setToken(`ghp_${REVIEWER}_reviewer_token`, { permissions: 'write', user: REVIEWER });

  // Each stage's app, on loopback: production answers slowly while it runs the bad build's API.
  let slowDigest = '';
  const url = async (stage: Stage): Promise<string> => {
    const server = createServer((req, res) => {
      const image = containerImage(bed.object('apps/v1', 'Deployment', stage, 'api'));
      const slow = stage === 'production' && slowDigest !== '' && image.endsWith(slowDigest);
      const body =
        req.url === '/api/products'
          ? JSON.stringify({ greeting: 'Hello', products: [{ name: 'T-shirt', price: 2400 }] })
          : 'ok';
      setTimeout(() => res.end(body), slow ? 400 : 0);
    });
    servers.push(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  };
  const urls = {
    development: await url('development'),
    testing: await url('testing'),
    production: await url('production'),
  };
  const workspace = demoWorkspace(urls);

  const run = (inputs: Record<string, string>, sha: string, runId: number) =>
    bed.run({
      eventName: 'push',
      payload: { ref: 'refs/heads/main', after: sha },
      workspace,
      inputs: { config: CONFIG, ...inputs },
      env: { GITHUB_SHA: sha, GITHUB_ACTOR: DEPLOYER, GITHUB_RUN_ID: String(runId) },
    });
  const pushBuild = (tag: string): Build => ({
    tag,
    api: registry.push('acme/shop-api', tag),
    web: registry.push('acme/shop-web', tag),
  });
  const imagesInput = (tag: string) =>
    `${API_IMAGE}=${registry.host}/acme/shop-api:${tag}\n${WEB_IMAGE}=${registry.host}/acme/shop-web:${tag}`;
  let runId = 5000;

  const deploy = async (build: Build, sha: string) => {
    console.log(bold(`kubestage deploy --environment development --images …:${build.tag}`));
    const r = await run(
      { command: 'deploy', environment: 'development', images: imagesInput(build.tag) },
      sha,
      ++runId,
    );
    printResult(r.result);
    claim(r.result.ok, 'deploy succeeded', r.result.failure);
    claim(
      sameDigests(runningDigests(bed, 'development'), build),
      `development's pods run the digests the tag ${build.tag} resolved to (api ${short(build.api)}, web ${short(build.web)})`,
      runningDigests(bed, 'development'),
    );
  };

  const plan = async (to: Stage, sha: string, expectChange: Build) => {
    console.log(bold(`kubestage plan --to ${to}   (what the reviewer reads before approving)`));
    const nsBefore = JSON.stringify(bed.object('v1', 'Namespace', undefined, to) ?? null);
    const r = await run({ command: 'plan', to }, sha, ++runId);
    console.log(indent(r.result.text.trimEnd(), '  │ '));
    claim(r.result.ok, `plan for ${to} succeeded`, r.result.failure);
    claim(r.result.outputs.changed === 'true', `the plan says ${to} would change`, r.result.outputs);
    claim(
      r.result.text.includes(expectChange.api.slice(7, 19)),
      `the plan names the API digest that would move (${short(expectChange.api)})`,
    );
    claim(
      JSON.stringify(bed.object('v1', 'Namespace', undefined, to) ?? null) === nsBefore,
      `the plan wrote nothing to ${to}`,
    );
  };

  /** GitHub starts the run's job under `environment: to`; it waits until the reviewer approves it. */
  const approve = async (to: Stage, sha: string): Promise<number> => {
    const id = ++runId;
    github.state.startRun(REPO, {
      runId: id,
      headSha: sha,
      actor: DEPLOYER,
      jobs: [{ name: to, environment: to }],
    });
    const env = github.state.environment(REPO, to);
    if (!env) throw new Error(`the GitHub emulator has no environment ${to}`);
    const res = await fetch(`${github.url}/repos/${REPO}/actions/runs/${id}/pending_deployments`, {
      method: 'POST',
      headers: { authorization: `token ghp_${REVIEWER}_reviewer_token`, 'content-type': 'application/json' },
      body: JSON.stringify({ environment_ids: [env.id], state: 'approved', comment: 'Plan looks right' }),
    });
    console.log(
      bold(
        `${REVIEWER} approves run ${id}'s job "${to}" (POST /repos/${REPO}/actions/runs/${id}/pending_deployments)`,
      ),
    );
    claim(res.status === 200, `GitHub accepted ${REVIEWER}'s approval for ${to}`, res.status);
    return id;
  };

  const promote = async (to: Stage, sha: string, id: number) => {
    console.log(bold(`kubestage promote --to ${to}   (run ${id}, job under environment: ${to})`));
    const r = await run({ command: 'promote', to }, sha, id);
    printResult(r.result);
    return r.result;
  };

  const goodPromotion = async (step: number, to: Stage, build: Build) => {
    rule(`${step}. ${to}: plan → a reviewer approves in GitHub → promote`);
    await plan(to, MERGE_GOOD, build);
    const id = await approve(to, MERGE_GOOD);
    const r = await promote(to, MERGE_GOOD, id);
    claim(r.ok, `promotion to ${to} succeeded`, r.failure);
    claim(r.text.includes(`Approved by: ${REVIEWER} (${to})`), `the release records ${REVIEWER}'s approval`);
    claim(
      r.outputs.url === urls[to],
      `the url output is ${to}'s url (what the workflow's environment url shows)`,
      r.outputs,
    );
    claim(
      sameDigests(runningDigests(bed, to), build),
      `${to}'s pods run exactly development's digests`,
      runningDigests(bed, to),
    );
  };

  rule(`4. PR #${PR} merged (${MERGE_GOOD.slice(0, 7)} on main): build 1.0 pushed, deployed to development`);
  const good = pushBuild('1.0');
  console.log(`Pushed ${registry.host}/acme/shop-api:1.0 = ${good.api}`);
  console.log(`Pushed ${registry.host}/acme/shop-web:1.0 = ${good.web}`);
  await deploy(good, MERGE_GOOD);
  // The tag moves after the deploy; promotion carries what runs, never what a tag says later.
  pushBuild('1.0');
  console.log(`(the tag 1.0 is pushed again with other contents: promotion must not follow it)`);

  await goodPromotion(5, 'testing', good);
  await goodPromotion(6, 'production', good);

  rule(`7. A bad release (${MERGE_BAD.slice(0, 7)}): fine in development and testing, slow in production`);
  github.state.addCommits(REPO, [
    {
      sha: MERGE_BAD,
      message: 'Product list: load reviews per product',
      author: { name: 'Eve', email: 'eve@example.com' },
    },
  ]);
  const bad = pushBuild('1.1');
  slowDigest = bad.api;
  await deploy(bad, MERGE_BAD);
  const badTesting = await promote('testing', MERGE_BAD, await approve('testing', MERGE_BAD));
  claim(badTesting.ok, 'the bad build passes testing (its smoke checks are fast there)', badTesting.failure);
  await plan('production', MERGE_BAD, bad);
  const prod = await promote('production', MERGE_BAD, await approve('production', MERGE_BAD));
  claim(!prod.ok, 'the production promotion fails', prod.outputs);
  claim(
    prod.outputs.result === 'rolled-back',
    'it is rolled back automatically (result=rolled-back)',
    prod.outputs,
  );
  claim(
    (prod.failure ?? '').includes('smoke checks failed'),
    'the failure says the smoke checks failed',
    prod.failure,
  );
  claim(
    sameDigests(runningDigests(bed, 'production'), good),
    'production runs build 1.0 again',
    runningDigests(bed, 'production'),
  );

  rule('8. The bad build is taken out of testing and development too: kubestage rollback');
  for (const stage of ['testing', 'development'] as const) {
    console.log(bold(`kubestage rollback --environment ${stage}`));
    const r = await run({ command: 'rollback', environment: stage }, MERGE_BAD, ++runId);
    printResult(r.result);
    claim(r.result.ok, `rollback of ${stage} succeeded`, r.result.failure);
    claim(
      sameDigests(runningDigests(bed, stage), good),
      `${stage} runs build 1.0 again`,
      runningDigests(bed, stage),
    );
  }

  rule('9. kubestage status');
  const status = await runCli(['status', '--repo', REPO, '--kubeconfig', bed.kube.kubeconfigPath]);
  console.log(indent(status.stdout.trimEnd()));
  if (status.stderr.trim()) console.log(indent(status.stderr.trimEnd(), '  (stderr) '));
  claim(status.code === 0, 'kubestage status exits 0', status.stderr);
  for (const stage of STAGES) {
    claim(new RegExp(`\\b${stage}\\b.*\\bready\\b`).test(status.stdout), `status shows ${stage} ready`);
  }

  console.log(bold("\nGitHub deployments of the stages (the job's own deployment, one per run):"));
  for (const d of github.state.deployments(REPO).filter((d) => d.environment !== `pr-${PR}`)) {
    if (!(STAGES as readonly string[]).includes(d.environment)) continue;
    console.log(`  #${d.id} ${d.environment.padEnd(11)} ${d.sha.slice(0, 7)}: ${d.latestState}`);
  }

  rule('10. The real kubectl: the same digests run in all three namespaces');
  const seen: Record<string, string> = {};
  for (const stage of STAGES) {
    const digests = await kubectlDigests(bed.kube, stage);
    seen[stage] = JSON.stringify(digests);
    console.log(
      `  ${stage.padEnd(11)} api ${digests.api?.map(short).join(',')}  web ${digests.web?.map(short).join(',')}`,
    );
  }
  claim(
    STAGES.every((s) => seen[s] === JSON.stringify({ api: [good.api], web: [good.web] })),
    "kubectl reports build 1.0's digests (api and web) as the imageID of every running pod in development, testing and production",
    seen,
  );
}

/** The example shop and its stages file in a scratch workspace, the stages' urls on loopback. */
function demoWorkspace(urls: Record<Stage, string>): string {
  const workspace = mkdtempSync(join(tmpdir(), 'kubestage-demo-'));
  cpSync(join(repoRoot, 'examples/shop'), join(workspace, 'examples/shop'), { recursive: true });
  const doc = parseDocument(readFileSync(join(repoRoot, CONFIG), 'utf8'));
  const envs = doc.get('environments') as YAMLSeq<YAMLMap>;
  for (const env of envs.items) {
    const name = String(env.get('name')) as Stage;
    console.log(`  ${name}: url ${String(env.get('url'))} → ${urls[name]} (a loopback server)`);
    env.set('url', urls[name]);
    // The weekend freeze would stop a demo run on a Saturday; the tests cover freeze windows.
    if (env.has('freeze')) {
      console.log(`  ${name}: freeze windows left out so the demo runs any day`);
      env.delete('freeze');
    }
  }
  writeFileSync(join(workspace, CONFIG), doc.toString());
  return workspace;
}

function containerImage(obj: object | undefined): string {
  const spec = (obj as { spec?: unknown } | undefined)?.spec as
    { template?: { spec?: { containers?: { image?: string }[] } } } | undefined;
  return spec?.template?.spec?.containers?.[0]?.image ?? '';
}

/** What the emulated kubelet says each live pod of a stage runs: app → imageID digests. */
function runningDigests(bed: Bed, namespace: string): Record<string, string[]> {
  const out: Record<string, Set<string>> = {};
  for (const pod of bed.objects('v1', 'Pod', namespace)) {
    const meta = pod.metadata as { deletionTimestamp?: string; labels?: Record<string, string> };
    if (meta.deletionTimestamp) continue;
    const statuses =
      ((pod.status ?? {}) as { containerStatuses?: { name: string; imageID: string }[] }).containerStatuses ??
      [];
    for (const s of statuses) {
      const digest = /@(sha256:[0-9a-f]{64})$/.exec(s.imageID)?.[1];
      if (digest) (out[meta.labels?.app ?? s.name] ??= new Set()).add(digest);
    }
  }
  return Object.fromEntries(
    Object.entries(out)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([k, v]) => [k, [...v].sort()]),
  );
}

/** The same through the real kubectl: every live pod's app label and its containers' imageIDs. */
async function kubectlDigests(kube: KubeEmulator, namespace: string): Promise<Record<string, string[]>> {
  const jsonpath =
    '{range .items[*]}{.metadata.labels.app}{"\\t"}{.metadata.deletionTimestamp}{"\\t"}{range .status.containerStatuses[*]}{.imageID}{" "}{end}{"\\n"}{end}';
  const args = [
    '--kubeconfig',
    kube.kubeconfigPath,
    'get',
    'pods',
    '-n',
    namespace,
    '-o',
    `jsonpath=${jsonpath}`,
  ];
  console.log(bold(`kubectl ${args.slice(2).join(' ').replace(jsonpath, `'${jsonpath}'`)}`));
  const { stdout } = await promisify(execFile)('kubectl', args, { encoding: 'utf8' });
  const out: Record<string, Set<string>> = {};
  for (const line of stdout.split('\n').filter(Boolean)) {
    console.log(indent(line.replace(/sha256:([0-9a-f]{12})[0-9a-f]{52}/g, 'sha256:$1…'), '    '));
    const [app = '', deleting = '', ids = ''] = line.split('\t');
    if (deleting) continue;
    for (const id of ids.split(' ').filter(Boolean)) {
      const digest = /@(sha256:[0-9a-f]{64})$/.exec(id)?.[1];
      if (!digest)
        throw new Error(`kubectl shows a pod of ${app} in ${namespace} with imageID "${id}", not a digest`);
      (out[app] ??= new Set()).add(digest);
    }
  }
  return Object.fromEntries(
    Object.entries(out)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([k, v]) => [k, [...v].sort()]),
  );
}

function printResult(r: CommandResult): void {
  console.log(indent(r.text.trimEnd(), '  │ '));
  if (r.failure) console.log(`  failure: ${r.failure}`);
  const outputs = Object.entries(r.outputs)
    .filter(([k]) => k !== 'plan' && k !== 'images')
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
  console.log(`  outputs: ${outputs}`);
}

function short(digest: string): string {
  return `${digest.slice(0, 19)}…`;
}

main().catch((e: Error) => {
  console.error(`demo failed: ${e.message}`);
  process.exit(1);
});
