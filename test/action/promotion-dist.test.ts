// Promotion through the built action (dist/index.js), the way the jobs of workflows-templates/
// kubestage-promote.yml run it: one child process per job with INPUT_* variables, a push event file,
// GITHUB_RUN_ID/SHA/ACTOR, GITHUB_OUTPUT and GITHUB_STEP_SUMMARY. The app is test/fixtures/qa-app (not
// the example shop): a Deployment, a Redis StatefulSet on a third-party tag, a CronJob, a generated
// ConfigMap and Secret, an Ingress, and three overlays that differ in replicas, resources, host and the
// Secret's value. Every claim of outputs and summary is checked against the cluster through the real
// kubectl, and against the GitHub emulator (every request valid for GitHub's OpenAPI description).
import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { repoRoot, runAction, type ActionRun } from '../support/action.js';
import { REPO, TOKEN, startBed, type Bed } from '../support/bed.js';

const exec = promisify(execFile);

const STAGES = { development: 'notes-dev', testing: 'notes-test', production: 'notes-prod' } as const;
type Stage = keyof typeof STAGES;
const SECRETS: Record<Stage, string> = {
  development: 'dev-pass-1111',
  testing: 'test-pass-2222',
  production: 'prod-S3cr3t-9f8e7d',
};
const GOOD = '1111111111111111111111111111111111111111';
const BAD = '3333333333333333333333333333333333333333';
/**
 * The CronJob's busybox has never run in development when a promotion reads its revision, so no pod
 * reports its digest; the deploy pins it, or a protected stage refuses the tag (see the QA report).
 */
const BUSYBOX = `busybox@sha256:${'b'.repeat(64)}`;

let bed: Bed;
let workspace: string;
const servers: Server[] = [];
/** Web digests whose production release answers 503 (a bad build). */
const broken = new Set<string>();
let runId = 7000;

beforeAll(async () => {
  bed = await startBed();
  bed.github.state.addCommits(REPO, [
    { sha: GOOD, message: 'notes: search', author: { name: 'Ann', email: 'ann@example.com' } },
    { sha: BAD, message: 'notes: cache', author: { name: 'Bo', email: 'bo@example.com' } },
  ]);
  for (const env of ['testing', 'production'])
    bed.github.state.addEnvironment(REPO, env, { reviewers: ['alice'] });
  bed.github.state.setToken('ghp_alice_reviewer', { permissions: 'write', user: 'alice' });
  workspace = mkdtempSync(join(tmpdir(), 'kubestage-qa-app-'));
  cpSync(join(repoRoot, 'test/fixtures/qa-app'), workspace, { recursive: true });
  let config = readFileSync(join(workspace, '.github/kubestage.yml'), 'utf8');
  for (const [stage, host] of [
    ['development', 'https://dev.notes.example.test'],
    ['testing', 'https://test.notes.example.test'],
    ['production', 'https://notes.example.test'],
  ] as const) {
    config = config.replace(`url: ${host}\n`, `url: ${await startApp(stage)}\n`);
  }
  // Failure here comes from a 503, not latency: a loaded CI machine must not fail the good builds' checks.
  config = config
    .replace('{ path: /healthz, status: 200 }', '{ path: /healthz, status: 200, p95-ms: 10000 }')
    .replace('requests: 5 }', 'requests: 5, p95-ms: 10000 }')
    .replace('p95-ms: 300', 'p95-ms: 10000');
  writeFileSync(join(workspace, '.github/kubestage.yml'), config);
});

afterAll(async () => {
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  await bed?.close();
});

afterEach(() => {
  expect(bed.github.invalidRequests()).toEqual([]);
});

/** The stage's app on loopback; production answers 503 while its web Deployment runs a broken digest. */
async function startApp(stage: Stage): Promise<string> {
  const server = createServer((_req, res) => {
    const web = bed.object('apps/v1', 'Deployment', STAGES[stage], 'notes-web');
    const image =
      (web?.spec as { template?: { spec?: { containers?: { image?: string }[] } } } | undefined)?.template
        ?.spec?.containers?.[0]?.image ?? '';
    res.statusCode = stage === 'production' && [...broken].some((d) => image.endsWith(d)) ? 503 : 200;
    res.end('ok');
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** One job of the promotion workflow: `node dist/index.js` on a push to main. */
function job(inputs: Record<string, string>, sha: string, id = ++runId): Promise<ActionRun> {
  return runAction({
    inputs: { kubeconfig: bed.kube.kubeconfigPath, 'github-token': TOKEN, ...inputs },
    eventName: 'push',
    payload: { ref: 'refs/heads/main', after: sha, repository: { full_name: REPO } },
    repo: REPO,
    workspace,
    env: {
      GITHUB_API_URL: bed.github.url,
      GITHUB_SHA: sha,
      GITHUB_ACTOR: 'carol',
      GITHUB_RUN_ID: String(id),
      GITHUB_REF: 'refs/heads/main',
    },
  });
}

/** GitHub starts run `id` whose job runs under `environment: stage`; alice approves it. */
async function approvedRun(stage: Stage, sha: string): Promise<number> {
  const id = ++runId;
  bed.github.state.startRun(REPO, {
    runId: id,
    headSha: sha,
    actor: 'carol',
    jobs: [{ name: stage, environment: stage }],
  });
  const env = bed.github.state.environment(REPO, stage);
  const res = await fetch(`${bed.github.url}/repos/${REPO}/actions/runs/${id}/pending_deployments`, {
    method: 'POST',
    headers: { authorization: 'token ghp_alice_reviewer', 'content-type': 'application/json' },
    body: JSON.stringify({ environment_ids: [env?.id], state: 'approved', comment: 'plan read' }),
  });
  expect(res.status).toBe(200);
  return id;
}

/** The real kubectl against the emulator (asynchronous: the emulator lives in this process). */
async function kubectl<T>(...args: string[]): Promise<T> {
  const { stdout } = await exec('kubectl', ['--kubeconfig', bed.kube.kubeconfigPath, ...args, '-o', 'json'], {
    maxBuffer: 1 << 26,
  });
  return JSON.parse(stdout) as T;
}

interface Pod {
  metadata: { name: string; labels: Record<string, string>; deletionTimestamp?: string };
  spec: { containers: { name: string; image: string; env?: { name: string; value?: string }[] }[] };
  status: { containerStatuses?: { name: string; imageID: string }[] };
}

/** What kubectl says a stage's live pods run: container → digests of their imageIDs, and their stage marks. */
async function running(stage: Stage) {
  const pods = (await kubectl<{ items: Pod[] }>('get', 'pods', '-n', STAGES[stage])).items.filter(
    (p) => !p.metadata.deletionTimestamp,
  );
  const digests: Record<string, string[]> = {};
  for (const p of pods)
    for (const s of p.status.containerStatuses ?? []) {
      const d = /@(sha256:[0-9a-f]{64})$/.exec(s.imageID)?.[1] ?? `not a digest: ${s.imageID}`;
      digests[s.name] = [...new Set([...(digests[s.name] ?? []), d])].sort();
    }
  const marks = new Set(
    pods.flatMap((p) =>
      p.spec.containers.map(
        (c) =>
          `${p.metadata.labels['kubestage.dev/environment']}/${c.env?.find((e) => e.name === 'KUBESTAGE_ENVIRONMENT')?.value}`,
      ),
    ),
  );
  return { digests, marks: [...marks], pods: pods.length };
}

async function namespaceAnnotations(stage: Stage): Promise<Record<string, string>> {
  return (
    await kubectl<{ metadata: { annotations: Record<string, string> } }>('get', 'namespace', STAGES[stage])
  ).metadata.annotations;
}

/** Revision Secrets of a stage: name → result label and kind label. */
async function revisions(stage: Stage): Promise<Record<string, string>> {
  const list = await kubectl<{
    items: { type: string; metadata: { name: string; labels: Record<string, string> } }[];
  }>('get', 'secrets', '-n', STAGES[stage], '-l', `kubestage.dev/stage=${stage}`);
  return Object.fromEntries(
    list.items.map((s) => [
      s.metadata.name,
      `${s.type} ${s.metadata.labels['kubestage.dev/revision-kind']} ${s.metadata.labels['kubestage.dev/result']}`,
    ]),
  );
}

async function events(stage: Stage): Promise<string[]> {
  const { stdout } = await exec('kubectl', [
    '--kubeconfig',
    bed.kube.kubeconfigPath,
    'events',
    '-n',
    STAGES[stage],
    '--for',
    `namespace/${STAGES[stage]}`,
  ]);
  return stdout.trim().split('\n').slice(1);
}

async function namespaceExists(stage: Stage): Promise<boolean> {
  const { stdout } = await exec('kubectl', [
    '--kubeconfig',
    bed.kube.kubeconfigPath,
    'get',
    'namespaces',
    '-o',
    'jsonpath={.items[*].metadata.name}',
  ]);
  return stdout.split(' ').includes(STAGES[stage]);
}

/** The digest a JSON `images` output gives for an image name. */
function outputDigest(run: ActionRun, name: string): string | undefined {
  const images = JSON.parse(run.outputs.images ?? '{}') as Record<string, string>;
  return /@(sha256:[0-9a-f]{64})$/.exec(images[name] ?? '')?.[1];
}

/** Markdown as a reader sees it (the summary escapes punctuation). */
function unescape(md: string): string {
  return md.replace(/\\([\\`*_{}[\]()#+\-.!|<>~])/g, '$1').replace(/&quot;/g, '"');
}

function deploymentsOf(stage: Stage) {
  return bed.github.state
    .deployments(REPO)
    .filter((d) => d.environment === stage)
    .map((d) => ({
      id: d.id,
      sha: d.sha,
      states: bed.github.state.deploymentStatuses(REPO, d.id).map((s) => s.state),
    }));
}

/** No value of any stage's Secret in what the run wrote (the add-mask commands aside). */
function expectNoSecretValues(run: ActionRun): void {
  const text = [
    run.summary,
    run.stdout.replace(/^::add-mask::.*$/gm, ''),
    run.stderr,
    JSON.stringify(run.outputs),
  ].join('\n');
  for (const value of Object.values(SECRETS)) {
    expect(text).not.toContain(value);
    expect(text).not.toContain(Buffer.from(value).toString('base64'));
  }
}

const good = { web: '' };

test('deploy by tag: the tag resolved to its digest, which the pods run; revision, annotation, Event, GitHub deployment', async () => {
  good.web = bed.registry.push('qa/notes-web', '1.0');
  const run = await job(
    {
      command: 'deploy',
      environment: 'development',
      images: `notes-web=${bed.registry.host}/qa/notes-web:1.0\nbusybox=${BUSYBOX}`,
    },
    GOOD,
  );
  expect(run.errors).toEqual([]);
  expect(run.code).toBe(0);
  expect(run.outputs).toMatchObject({ environment: 'development', revision: '1', result: 'succeeded' });
  expect(outputDigest(run, 'notes-web')).toBe(good.web);
  const summary = unescape(run.summary);
  expect(summary).toContain('Deployed to development (revision 1)');
  expect(summary).toContain(`sha256:${good.web.slice(7, 19)}`);

  const live = await running('development');
  expect(live.digests.web).toEqual([good.web]);
  // redis:7-alpine by tag in the manifests: the revision records the digest its pod reports.
  expect(outputDigest(run, 'redis')).toBe(live.digests.redis[0]);
  expect(live.marks).toEqual(['development/development']);
  const annotations = await namespaceAnnotations('development');
  expect(annotations['kubestage.dev/revision']).toBe('1');
  expect(annotations['kubestage.dev/head-sha']).toBe(GOOD);
  expect(await revisions('development')).toEqual({
    'kubestage.v1.development.v1': 'kubestage.dev/revision.v1 deploy succeeded',
  });
  expect((await events('development')).join('\n')).toMatch(
    /Deployed\s+Namespace\/notes-dev\s+Revision 1 deployed by carol/,
  );
  const [deployment] = deploymentsOf('development');
  expect(String(deployment.id)).toBe(run.outputs['deployment-id']);
  expect(deployment.states).toEqual(['in_progress', 'success']);
  expect(run.outputs.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
});

test('plan for testing: the digest that would move and the Secret as <secret>, no Secret value anywhere, nothing written', async () => {
  const run = await job({ command: 'plan', from: 'development', to: 'testing' }, GOOD);
  expect(run.errors).toEqual([]);
  expect(run.code).toBe(0);
  expect(run.outputs.changed).toBe('true');
  const plan = JSON.parse(run.outputs.plan) as { from: string; to: string };
  expect(plan).toMatchObject({ from: 'development', to: 'testing' });
  const summary = unescape(run.summary);
  expect(summary).toContain(`sha256:${good.web.slice(7, 19)}`);
  expect(summary).toContain('password: <secret>');
  expect(summary).toContain('host: test.notes.example.test');
  expect(summary).toContain('replicas: 2');
  expect(summary).toContain('approval needed from: alice');
  expectNoSecretValues(run);
  expect(await namespaceExists('testing')).toBe(false);
});

test('promote in a job without `environment: testing`: refused with the reason and the fix, nothing written', async () => {
  const id = ++runId;
  bed.github.state.startRun(REPO, { runId: id, headSha: GOOD, actor: 'carol', jobs: [{ name: 'testing' }] });
  const run = await job({ command: 'promote', from: 'development', to: 'testing' }, GOOD, id);
  expect(run.code).toBe(1);
  expect(run.outputs).toMatchObject({ environment: 'testing', result: 'refused' });
  expect(run.errors).toEqual([
    expect.stringContaining(
      `Run ${id} has no approval for environment "testing" (required reviewers: alice)`,
    ),
  ]);
  expect(run.errors[0]).toContain('must declare `environment: testing`');
  expect(unescape(run.summary)).toContain('promote to testing refused: nothing was changed.');
  expect(await namespaceExists('testing')).toBe(false);
  expect(deploymentsOf('testing').every((d) => !d.states.includes('success'))).toBe(true);
});

test("approved promote to testing: development's digests run in testing with testing's overlay, on the job's own deployment", async () => {
  const id = await approvedRun('testing', GOOD);
  const jobDeployment = bed.github.state.run(REPO, id)?.jobs[0].deploymentId;
  const run = await job({ command: 'promote', to: 'testing' }, GOOD, id);
  expect(run.errors).toEqual([]);
  expect(run.code).toBe(0);
  expect(run.outputs).toMatchObject({ environment: 'testing', revision: '1', result: 'succeeded' });
  expect(run.outputs['deployment-id']).toBe(String(jobDeployment));
  expect(unescape(run.summary)).toContain('| Approved by | alice (testing) |');

  const dev = await running('development');
  const testing = await running('testing');
  expect(testing.digests).toEqual(dev.digests);
  expect(testing.marks).toEqual(['testing/testing']);
  const web = await kubectl<{
    spec: { replicas: number; template: { spec: { containers: { resources: unknown }[] } } };
  }>('get', 'deployment', 'notes-web', '-n', STAGES.testing);
  expect(web.spec.replicas).toBe(2);
  expect(web.spec.template.spec.containers[0].resources).toEqual({
    limits: { memory: '128Mi' },
    requests: { cpu: '100m', memory: '128Mi' },
  });
  const ingress = await kubectl<{ spec: { rules: { host: string }[] } }>(
    'get',
    'ingress',
    'notes',
    '-n',
    STAGES.testing,
  );
  expect(ingress.spec.rules.map((r) => r.host)).toEqual(['test.notes.example.test']);
  const secrets = await kubectl<{ items: { type: string; data: { password?: string } }[] }>(
    'get',
    'secrets',
    '-n',
    STAGES.testing,
  );
  const passwords = secrets.items
    .filter((s) => s.type === 'Opaque')
    .map((s) => Buffer.from(s.data.password ?? '', 'base64').toString());
  expect(passwords).toEqual([SECRETS.testing]);
  expect((await namespaceAnnotations('testing'))['kubestage.dev/revision']).toBe('1');
  expect((await events('testing')).join('\n')).toMatch(
    /Promoted .*Revision 1 promoted from development by carol, approved by alice/,
  );
  // GitHub: no second deployment; the job's carries kubestage's statuses ending in success with the url.
  expect(deploymentsOf('testing').filter((d) => d.states.includes('success'))).toEqual([
    expect.objectContaining({ id: jobDeployment }),
  ]);
  const last = bed.github.state.deploymentStatuses(REPO, jobDeployment as number).at(-1);
  expect(last).toMatchObject({ state: 'success', environmentUrl: run.outputs.url });
  expectNoSecretValues(run);
});

test('a bad build fails its production smoke checks and is rolled back automatically to the running revision', async () => {
  // The good build goes to production first.
  const first = await job(
    { command: 'promote', to: 'production' },
    GOOD,
    await approvedRun('production', GOOD),
  );
  expect(first.errors).toEqual([]);
  expect(first.outputs).toMatchObject({ revision: '1', result: 'succeeded' });

  const bad = bed.registry.push('qa/notes-web', '2.0');
  broken.add(bad);
  const deployed = await job(
    {
      command: 'deploy',
      environment: 'development',
      images: `notes-web=${bed.registry.host}/qa/notes-web:2.0\nbusybox=${BUSYBOX}`,
    },
    BAD,
  );
  expect(deployed.errors).toEqual([]);
  expect(deployed.outputs.result).toBe('succeeded');
  const testing = await job({ command: 'promote', to: 'testing' }, BAD, await approvedRun('testing', BAD));
  expect(testing.errors).toEqual([]);
  expect(testing.outputs.result).toBe('succeeded');
  expect((await running('testing')).digests.web).toEqual([bad]);

  const id = await approvedRun('production', BAD);
  const jobDeployment = bed.github.state.run(REPO, id)?.jobs[0].deploymentId;
  const run = await job({ command: 'promote', to: 'production' }, BAD, id);
  expect(run.code).toBe(1);
  expect(run.outputs).toMatchObject({
    environment: 'production',
    revision: '2',
    result: 'rolled-back',
    'rolled-back-to': '1',
  });
  expect(run.errors).toEqual([
    expect.stringMatching(
      /^Promotion to production failed \(revision 2\): smoke checks failed: GET \/healthz 10 of 10 answered 503 \(expected 200\); rolled back automatically to revision 1, which runs again \(revision 3\)/,
    ),
  ]);
  expect(unescape(run.summary)).toContain('Rolled back production to revision 1 (revision 3)');

  const live = await running('production');
  expect(live.digests.web).toEqual([good.web]);
  expect(live.marks).toEqual(['production/production']);
  expect(live.pods).toBe(4); // 3 web replicas + redis
  const annotations = await namespaceAnnotations('production');
  expect(annotations['kubestage.dev/revision']).toBe('3');
  expect(annotations['kubestage.dev/head-sha']).toBe(GOOD);
  expect(await revisions('production')).toEqual({
    'kubestage.v1.production.v1': 'kubestage.dev/revision.v1 promote succeeded',
    'kubestage.v1.production.v2': 'kubestage.dev/revision.v1 promote rolled-back',
    'kubestage.v1.production.v3': 'kubestage.dev/revision.v1 rollback succeeded',
  });
  const log = (await events('production')).join('\n');
  expect(log).toMatch(/Warning\s+PromotionFailed\s+Namespace\/notes-prod\s+Revision 2 promoted from testing/);
  expect(log).toMatch(/Normal\s+RolledBack\s+Namespace\/notes-prod\s+Revision 3 rolled back to revision 1/);
  // GitHub: the job's deployment failed; a new one at the restored commit succeeded.
  const deployments = deploymentsOf('production');
  expect(deployments.find((d) => d.id === jobDeployment)?.states.at(-1)).toBe('failure');
  const restored = deployments.filter((d) => d.id !== jobDeployment && d.states.includes('success')).at(-1);
  expect(restored?.sha).toBe(GOOD);
  expectNoSecretValues(run);
});
