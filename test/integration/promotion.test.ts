// Promotion over the emulators: deploy → plan → approve → promote → promote, the same digests in all
// three namespaces as the kubelet reports them; every refusal with its message and nothing written;
// automatic rollback after a failed smoke check; rollback twice; the job's own GitHub deployment reused.
import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, writeFileSync, mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { repoRoot } from '../support/action.js';
import { type Bed, REPO, SHA_A, SHA_B, startBed } from '../support/bed.js';

const run = promisify(execFile);
const RUN_ID = 901;

let bed: Bed;
let workspace: string;
let servers: Server[] = [];
/** The digest whose production release answers slowly (a bad build). */
let slowDigest = '';

beforeEach(async () => {
  bed = await startBed();
  bed.github.state.addCommits(REPO, [
    { sha: SHA_A, message: 'Add the product page', author: { name: 'Ann', email: 'ann@example.com' } },
    { sha: SHA_B, message: 'Faster checkout\n\nDetails', author: { name: 'Bo', email: 'bo@example.com' } },
  ]);
  bed.github.state.addEnvironment(REPO, 'testing', { reviewers: ['alice'] });
  bed.github.state.addEnvironment(REPO, 'production', { reviewers: ['alice'] });
  slowDigest = '';
  const urls = await Promise.all(['development', 'testing', 'production'].map((s) => startApp(s)));
  workspace = mkdtempSync(join(tmpdir(), 'kubestage-promo-'));
  cpSync(join(repoRoot, 'examples/shop'), join(workspace, 'shop'), { recursive: true });
  mkdirSync(join(workspace, '.github'));
  writeFileSync(
    join(workspace, '.github/kubestage.yml'),
    `environments:
  - name: development
    namespace: development
    manifests: shop/overlays/development
    marker: "[dev]"
    url: ${urls[0]}
    smoke:
      - { path: /healthz, status: 200 }
  - name: testing
    namespace: testing
    manifests: shop/overlays/testing
    url: ${urls[1]}
    requires: development
    protected: true
    smoke:
      - { path: /healthz, status: 200 }
  - name: production
    namespace: production
    manifests: shop/overlays/production
    url: ${urls[2]}
    requires: testing
    protected: true
    smoke:
      - { path: /healthz, status: 200, requests: 10, p95-ms: 300 }
`,
  );
});

afterEach(async () => {
  expect(bed.github.invalidRequests()).toEqual([]);
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  servers = [];
  await bed.close();
});

/** A stage's app on loopback: it answers /healthz; production answers slowly while it runs the bad build. */
async function startApp(stage: string): Promise<string> {
  const server = createServer((req, res) => {
    const api = bed.object('apps/v1', 'Deployment', stage, 'api');
    const image = (api?.spec as { template: { spec: { containers: { image: string }[] } } } | undefined)
      ?.template.spec.containers[0].image;
    const slow = stage === 'production' && slowDigest !== '' && image?.endsWith(slowDigest);
    setTimeout(() => res.end(req.url === '/healthz' ? 'ok' : 'shop'), slow ? 600 : 0);
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const API = 'ghcr.io/kubestage/example-api';
const WEB = 'ghcr.io/kubestage/example-web';

/** Pushes a build of both images to the registry under `tag`; returns their digests. */
function pushBuild(tag: string): { api: string; web: string } {
  return { api: bed.registry.push('acme/shop-api', tag), web: bed.registry.push('acme/shop-web', tag) };
}

function images(tag: string): string {
  const host = bed.registry.host;
  return `${API}=${host}/acme/shop-api:${tag}\n${WEB}=${host}/acme/shop-web:${tag}`;
}

function push(sha: string) {
  return { eventName: 'push', payload: { ref: 'refs/heads/main', after: sha } };
}

async function deploy(tag: string, sha = SHA_A, extra: Record<string, string> = {}) {
  return bed.run({
    ...push(sha),
    workspace,
    inputs: { command: 'deploy', environment: 'development', images: images(tag), ...extra },
    env: { GITHUB_SHA: sha, GITHUB_ACTOR: 'carol' },
  });
}

/** A run whose job `promote-<to>` runs under `environment: <to>`, approved by alice unless told not to. */
function startRun(to: string, runId: number, opts: { approve?: boolean; sha?: string } = {}) {
  const r = bed.github.state.startRun(REPO, {
    runId,
    headSha: opts.sha ?? SHA_B,
    actor: 'carol',
    jobs: [{ name: `promote-${to}`, environment: to }],
  });
  return r;
}

async function approve(runId: number, environment: string, login = 'alice'): Promise<void> {
  bed.github.state.setToken(`ghp_${login}`, { permissions: 'write', user: login });
  const env = bed.github.state.environment(REPO, environment)!;
  const res = await fetch(`${bed.github.url}/repos/${REPO}/actions/runs/${runId}/pending_deployments`, {
    method: 'POST',
    headers: { authorization: `token ghp_${login}`, 'content-type': 'application/json' },
    body: JSON.stringify({ environment_ids: [env.id], state: 'approved', comment: 'LGTM' }),
  });
  expect(res.status).toBe(200);
}

async function promote(
  to: string,
  opts: { runId?: number; inputs?: Record<string, string>; sha?: string } = {},
) {
  return bed.run({
    ...push(opts.sha ?? SHA_B),
    workspace,
    inputs: { command: 'promote', to, ...opts.inputs },
    env: {
      GITHUB_SHA: opts.sha ?? SHA_B,
      GITHUB_ACTOR: 'carol',
      GITHUB_RUN_ID: String(opts.runId ?? RUN_ID),
    },
  });
}

async function approvedPromote(to: string, runId: number, inputs: Record<string, string> = {}) {
  startRun(to, runId);
  await approve(runId, to);
  return promote(to, { runId, inputs });
}

/** What the kubelet says each pod of a stage runs: container image → imageID digest. */
function runningDigests(namespace: string): Record<string, string[]> {
  const out: Record<string, Set<string>> = {};
  for (const pod of bed.objects('v1', 'Pod', namespace)) {
    if ((pod.metadata as { deletionTimestamp?: string }).deletionTimestamp) continue;
    const statuses =
      ((pod.status ?? {}) as { containerStatuses?: { name: string; imageID: string }[] }).containerStatuses ??
      [];
    const labels = (pod.metadata as { labels?: Record<string, string> }).labels ?? {};
    for (const s of statuses) {
      const digest = /@(sha256:[0-9a-f]{64})$/.exec(s.imageID)?.[1];
      if (digest) (out[labels.app ?? s.name] ??= new Set()).add(digest);
    }
  }
  return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, [...v].sort()]));
}

function revisionSecrets(namespace: string) {
  return bed
    .objects('v1', 'Secret', namespace)
    .filter((s) => (s as { type?: string }).type === 'kubestage.dev/revision.v1')
    .map((s) => s.metadata.name)
    .sort();
}

function nsAnnotations(namespace: string): Record<string, string> {
  return (
    (
      bed.object('v1', 'Namespace', undefined, namespace)?.metadata as {
        annotations?: Record<string, string>;
      }
    )?.annotations ?? {}
  );
}

test('deploy → plan → approve → promote → promote: the same digests run in all three stages, a moved tag is not followed', async () => {
  const build = pushBuild('1.0');
  const dev = await deploy('1.0');
  expect(dev.result.failure).toBeUndefined();
  expect(dev.result.ok).toBe(true);
  expect(dev.result.outputs.revision).toBe('1');
  // The stage's marker starts every line of its report.
  expect(dev.result.text.split('\n').filter((l) => !l.startsWith('[dev] '))).toEqual([]);
  expect(runningDigests('development')).toEqual({ api: [build.api], web: [build.web] });
  // The tag moves after the deploy: promotion carries what runs, not what the tag says now.
  pushBuild('1.0');

  const plan = await bed.run({
    ...push(SHA_B),
    workspace,
    inputs: { command: 'plan', to: 'testing' },
    env: { GITHUB_SHA: SHA_B },
  });
  expect(plan.result.ok).toBe(true);
  expect(plan.result.summary).toContain('first promotion');
  expect(plan.result.summary).toContain(`sha256:${build.api.slice(7, 19)}`);
  expect(plan.result.summary).toContain('approval needed from: alice');
  expect(plan.result.outputs.changed).toBe('true');
  expect(revisionSecrets('testing')).toEqual([]);
  expect(bed.object('v1', 'Namespace', undefined, 'testing')).toBeUndefined();

  const testing = await approvedPromote('testing', RUN_ID);
  expect(testing.result.failure).toBeUndefined();
  expect(testing.result.text).toContain('Approved by: alice (testing)');
  expect(runningDigests('testing')).toEqual({ api: [build.api], web: [build.web] });

  const prod = await approvedPromote('production', RUN_ID + 1);
  expect(prod.result.failure).toBeUndefined();
  expect(runningDigests('production')).toEqual({ api: [build.api], web: [build.web] });

  // The evidence: revisions in each namespace, the current one on the namespace, the job's deployment.
  expect(revisionSecrets('production')).toEqual(['kubestage.v1.production.v1']);
  expect(nsAnnotations('production')['kubestage.dev/revision']).toBe('1');
  const deployments = bed.github.state.deployments(REPO).filter((d) => d.environment === 'production');
  expect(deployments).toHaveLength(1); // GitHub's own deployment for the job, never a second
  expect(deployments[0].latestState).toBe('success');
  // status shows every stage: revision, how it got there, who approved, digests, smoke figures.
  const status = await bed.run({ ...push(SHA_B), workspace, inputs: { command: 'status' } });
  expect(status.result.text).toContain(
    'production: revision 1 (promoted from testing, succeeded), commit a1a1a1a, by carol, approved by alice',
  );
  expect(status.result.text).toContain(`${API}: ${bed.registry.host}/acme/shop-api@${build.api}`);
  expect(status.result.text).toMatch(/smoke: .*GET \/healthz/);
  expect(status.result.summary).toContain('### Stages');
  // KUBESTAGE_ENVIRONMENT in every container.
  const api = bed.object('apps/v1', 'Deployment', 'production', 'api') as unknown as {
    spec: { template: { spec: { containers: { env?: { name: string; value: string }[] }[] } } };
  };
  expect(api.spec.template.spec.containers[0].env).toContainEqual({
    name: 'KUBESTAGE_ENVIRONMENT',
    value: 'production',
  });
});

test('a run without an approval for the environment is refused before anything is written', async () => {
  pushBuild('1.0');
  expect((await deploy('1.0')).result.ok).toBe(true);
  startRun('testing', RUN_ID); // waiting, never approved
  const r = await promote('testing');
  expect(r.result.ok).toBe(false);
  expect(r.result.outputs.result).toBe('refused');
  expect(r.result.failure).toContain('Run 901 has no approval for environment "testing"');
  expect(r.result.failure).toContain('environment: testing');
  expect(bed.object('v1', 'Namespace', undefined, 'testing')).toBeUndefined();
  // With a reason, the bypass goes through and is recorded.
  const bypassed = await promote('testing', {
    inputs: { 'approval-bypass': 'hotfix INC-7, approved on the call' },
  });
  expect(bypassed.result.failure).toBeUndefined();
  expect(bypassed.result.text).toContain('Approval bypassed: hotfix INC-7, approved on the call');
  // The Kubernetes Event tells it too (kubectl events -n testing).
  const events = bed.objects('v1', 'Event', 'testing').map((e) => (e as { message?: string }).message ?? '');
  expect(events.some((m) => m.includes('approval bypassed: hotfix INC-7'))).toBe(true);
});

test('refusals name the reason and the fix, and write nothing', async () => {
  pushBuild('1.0');
  // Nothing in development yet.
  let r = await promote('testing');
  expect(r.result.failure).toContain('development has never been deployed');
  expect(r.result.failure).toContain('Deploy to development first');
  r = await promote('production');
  expect(r.result.failure).toContain('testing has never been deployed');
  expect(r.result.failure).toContain('Promote development → testing first');
  expect((await deploy('1.0')).result.ok).toBe(true);
  // Not the configured predecessor.
  r = await promote('production', { inputs: { from: 'development' } });
  expect(r.result.failure).toContain('production may only be promoted from testing');
  // An environment without required reviewers.
  bed.github.state.addEnvironment(REPO, 'testing', {});
  startRun('testing', RUN_ID);
  r = await promote('testing');
  expect(r.result.failure).toContain('has no required reviewers');
  expect(bed.object('v1', 'Namespace', undefined, 'testing')).toBeUndefined();
  expect(
    bed.github.state
      .deployments(REPO)
      .filter((d) => d.environment === 'testing' && d.latestState === 'in_progress' && !d.viaActions),
  ).toEqual([]);
});

test('a freeze window refuses a promotion; an override with a reason goes through and is recorded', async () => {
  pushBuild('1.0');
  expect((await deploy('1.0')).result.ok).toBe(true);
  const config = join(workspace, '.github/kubestage.yml');
  const { readFileSync } = await import('node:fs');
  writeFileSync(
    config,
    readFileSync(config, 'utf8').replace(
      '    requires: development\n',
      '    requires: development\n    freeze:\n      - { from: "2026-01-01T00:00:00Z", to: "2099-01-01T00:00:00Z", reason: release train }\n',
    ),
  );
  startRun('testing', RUN_ID);
  await approve(RUN_ID, 'testing');
  // plan names the window too.
  const plan = await bed.run({
    ...push(SHA_B),
    workspace,
    inputs: { command: 'plan', to: 'testing' },
    env: { GITHUB_SHA: SHA_B },
  });
  expect(plan.result.failure).toContain('testing is frozen now');
  let r = await promote('testing');
  expect(r.result.failure).toContain('testing is frozen');
  expect(r.result.failure).toContain('release train');
  expect(bed.object('v1', 'Namespace', undefined, 'testing')).toBeUndefined();
  r = await promote('testing', { inputs: { 'freeze-override': 'security fix CVE-1' } });
  expect(r.result.failure).toBeUndefined();
  expect(r.result.text).toContain('security fix CVE-1');
  expect(
    (r.result.json as { revision: { freezeOverride: { reason: string } } }).revision.freezeOverride.reason,
  ).toBe('security fix CVE-1');
  // Once the window lies ahead, plan tells when it opens.
  writeFileSync(
    config,
    readFileSync(config, 'utf8').replace('from: "2026-01-01T00:00:00Z"', 'from: "2098-01-01T00:00:00Z"'),
  );
  const ahead = await bed.run({
    ...push(SHA_B),
    workspace,
    inputs: { command: 'plan', to: 'testing' },
    env: { GITHUB_SHA: SHA_B },
  });
  expect(ahead.result.ok).toBe(true);
  expect(ahead.result.text).toMatch(/next freeze of testing: release train .*2098/);
});

test('a release that fails its smoke check in production is rolled back automatically: the previous digests run again', async () => {
  const good = pushBuild('1.0');
  expect((await deploy('1.0')).result.ok).toBe(true);
  expect((await approvedPromote('testing', 1001)).result.failure).toBeUndefined();
  expect((await approvedPromote('production', 1002)).result.failure).toBeUndefined();

  const bad = pushBuild('2.0');
  slowDigest = bad.api;
  expect((await deploy('2.0', SHA_B)).result.failure).toBeUndefined();
  expect((await approvedPromote('testing', 1003)).result.failure).toBeUndefined();
  const r = await approvedPromote('production', 1004);
  expect(r.result.ok).toBe(false);
  expect(r.result.failure).toContain('smoke checks failed');
  expect(r.result.failure).toContain('rolled back automatically to revision 1');
  expect(r.result.outputs.result).toBe('rolled-back');
  // The summary's table and the images output say what runs now: the restored revision's.
  expect(r.result.text).toMatch(new RegExp(`${API}: .* → sha256:${good.api.slice(7, 19)}`));
  expect(JSON.parse(r.result.outputs.images)).toEqual({
    [API]: `${bed.registry.host}/acme/shop-api@${good.api}`,
    [WEB]: `${bed.registry.host}/acme/shop-web@${good.web}`,
  });
  expect(runningDigests('production')).toEqual({ api: [good.api], web: [good.web] });
  expect(nsAnnotations('production')['kubestage.dev/revision']).toBe('3');
  expect(revisionSecrets('production')).toEqual([
    'kubestage.v1.production.v1',
    'kubestage.v1.production.v2',
    'kubestage.v1.production.v3',
  ]);
  const states = bed.github.state
    .deployments(REPO)
    .filter((d) => d.environment === 'production')
    .map((d) => d.latestState);
  // The first release went inactive when a newer one succeeded (GitHub does that per environment).
  expect(states).toEqual(['inactive', 'failure', 'success']);
});

test('rollback twice: to the previous revision, then back', async () => {
  const one = pushBuild('1.0');
  expect((await deploy('1.0')).result.ok).toBe(true);
  const two = pushBuild('2.0');
  expect((await deploy('2.0', SHA_B)).result.ok).toBe(true);
  const rollback = () =>
    bed.run({
      ...push(SHA_B),
      workspace,
      inputs: { command: 'rollback', environment: 'development' },
      env: { GITHUB_SHA: SHA_B, GITHUB_ACTOR: 'carol' },
    });
  let r = await rollback();
  expect(r.result.failure).toBeUndefined();
  expect(r.result.outputs.revision).toBe('3');
  expect(runningDigests('development')).toEqual({ api: [one.api], web: [one.web] });
  r = await rollback();
  expect(r.result.failure).toBeUndefined();
  expect(runningDigests('development')).toEqual({ api: [two.api], web: [two.web] });
  expect((r.result.json as { revision: { restores: number } }).revision.restores).toBe(2);
});

test('plan shows the manifest diff without Secret values, and drift after a kubectl edit', async () => {
  pushBuild('1.0');
  expect((await deploy('1.0')).result.ok).toBe(true);
  expect((await approvedPromote('testing', 1001)).result.ok).toBe(true);
  pushBuild('2.0');
  expect((await deploy('2.0', SHA_B)).result.ok).toBe(true);
  // Someone scales testing by hand.
  await run('kubectl', [
    '--kubeconfig',
    bed.kube.kubeconfigPath,
    '-n',
    'testing',
    'set',
    'env',
    'deployment/web',
    'DEBUG=1',
  ]);
  const plan = await bed.run({
    ...push(SHA_B),
    workspace,
    inputs: { command: 'plan', to: 'testing' },
    env: { GITHUB_SHA: SHA_B },
  });
  expect(plan.result.ok).toBe(true);
  expect(plan.result.summary).toContain('```diff');
  expect(plan.result.summary).toMatch(/-\s+image: .*@sha256/);
  expect(plan.result.summary).toContain('### Drift');
  expect(plan.result.summary).toContain('Deployment/web');
  expect(plan.result.summary).toContain('Faster checkout');
});

test('two promotions into one stage at once: never both applying; the later one stands down and says why', async () => {
  pushBuild('1.0');
  expect((await deploy('1.0')).result.ok).toBe(true);
  startRun('testing', 2001);
  await approve(2001, 'testing');
  startRun('testing', 2002);
  await approve(2002, 'testing');
  const [a, b] = await Promise.all([
    promote('testing', { runId: 2001 }),
    promote('testing', { runId: 2002 }),
  ]);
  const revisions = bed
    .objects('v1', 'Secret', 'testing')
    .filter((s) => (s as { type?: string }).type === 'kubestage.dev/revision.v1')
    .map((s) => s.metadata.annotations ?? {});
  if (a.result.ok && b.result.ok) {
    // They ran one after the other: their revisions' times do not overlap.
    const spans = revisions
      .map((r) => [
        Date.parse(r['kubestage.dev/started-at'] ?? ''),
        Date.parse(r['kubestage.dev/finished-at'] ?? ''),
      ])
      .sort((x, y) => (x[0] ?? 0) - (y[0] ?? 0));
    expect(spans[1]?.[0] ?? 0).toBeGreaterThanOrEqual(spans[0]?.[1] ?? Infinity);
  } else {
    const [ok, stood] = a.result.ok ? [a, b] : [b, a];
    expect(ok.result.ok).toBe(true);
    expect(stood.result.failure).toContain('another change to testing is in progress (revision 1');
    expect(stood.result.failure).toContain('this run changed nothing');
    expect(
      revisions.map((r) => r['kubestage.dev/message'] ?? '').filter((m) => m.includes('in progress')),
    ).toHaveLength(1);
  }
  expect(nsAnnotations('testing')['kubestage.dev/revision']).toBe('1');
});

test('a source changed by kubectl set image is refused: what runs there is not what its revision applied', async () => {
  pushBuild('1.0');
  expect((await deploy('1.0')).result.ok).toBe(true);
  const other = pushBuild('1.1');
  const image = `${bed.registry.host}/acme/shop-api@${other.api}`;
  await run('kubectl', [
    '--kubeconfig',
    bed.kube.kubeconfigPath,
    '-n',
    'development',
    'set',
    'image',
    'deployment/api',
    `api=${image}`,
  ]);
  // Wait for the hand-made rollout to finish (what a person would do before promoting).
  await run('kubectl', [
    '--kubeconfig',
    bed.kube.kubeconfigPath,
    '-n',
    'development',
    'rollout',
    'status',
    'deployment/api',
    '--timeout=30s',
  ]);
  for (let i = 0; i < 100 && runningDigests('development').api?.join() !== other.api; i++)
    await new Promise((r) => setTimeout(r, 50));
  startRun('testing', RUN_ID);
  await approve(RUN_ID, 'testing');
  const r = await promote('testing');
  expect(r.result.ok).toBe(false);
  expect(r.result.failure).toContain('The pods of development do not run what its revision 1 records');
  expect(r.result.failure).toContain(`Deployment/api container api runs ${image}, revision 1 applied`);
  expect(bed.object('v1', 'Namespace', undefined, 'testing')).toBeUndefined();
}, 60_000);
