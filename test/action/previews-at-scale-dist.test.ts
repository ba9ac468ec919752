// Many previews at once through the built action (dist/index.js), run as workflow steps are: one child
// process per run with INPUT_* variables, a pull_request (or schedule) event file, GITHUB_RUN_ID/SHA/
// ACTOR, GITHUB_OUTPUT and GITHUB_STEP_SUMMARY. The app is test/fixtures/qa9-app ("ledger": web + worker,
// a PVC, an Ingress, pre-deploy/post-deploy/pre-delete hook Jobs; resources on some containers, none on
// others). Runs racing for the last slot under `max-previews`, eviction with its notice on the victim's
// PR, the isolation objects in every preview, and a scheduled `sweep` (dry run first) — every claim
// checked against the cluster through the real kubectl and against the GitHub emulator, whose every
// request must be valid for GitHub's OpenAPI description.
import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { pullRequestEvent, repoRoot, runAction, type ActionRun } from '../support/action.js';
import { REPO, TOKEN, startBed, type Bed } from '../support/bed.js';

const exec = promisify(execFile);
const OTHER = 'acme/ledger-fork';
const FAIL_CAP = { 'max-previews': '3', 'when-full': 'fail' };
const EVICT_CAP = { 'max-previews': '3', 'when-full': 'evict' };

let bed: Bed;
let workspace: string;
let runId = 5100;

beforeAll(async () => {
  bed = await startBed();
  bed.github.state.addRepo(OTHER);
  workspace = mkdtempSync(join(tmpdir(), 'kubestage-qa9-app-'));
  cpSync(join(repoRoot, 'test/fixtures/qa9-app'), workspace, { recursive: true });
});

afterAll(async () => {
  await bed?.close();
});

afterEach(() => {
  expect(bed.github.invalidRequests()).toEqual([]);
  expect(bed.github.responseProblems()).toEqual([]);
});

/** A distinct head commit per PR, repository and push. */
const sha = (n: number, push = 1, repo = REPO) =>
  `${repo === REPO ? 'a' : 'b'}${n.toString(16).padStart(3, '0')}${push.toString(16).padStart(3, '0')}`.padEnd(
    40,
    'e',
  );

interface Pull {
  n: number;
  push: number;
  labels: string[];
  repo: string;
}

function openPull(n: number, o: { labels?: string[]; repo?: string } = {}): Pull {
  const p: Pull = { n, push: 1, labels: o.labels ?? [], repo: o.repo ?? REPO };
  seed(p);
  return p;
}

function seed(p: Pull): void {
  bed.github.state.addPull({
    repo: p.repo,
    number: p.n,
    headSha: sha(p.n, p.push, p.repo),
    headRef: `ledger/${p.n}`,
    title: `Ledger change ${p.n}`,
    labels: p.labels,
  });
}

/** One `preview` step of the PR's workflow, on its `opened` or `synchronize` event. */
function preview(p: Pull, inputs: Record<string, string> = {}): Promise<ActionRun> {
  const payload = pullRequestEvent({
    action: p.push === 1 ? 'opened' : 'synchronize',
    repo: p.repo,
    number: p.n,
    headSha: sha(p.n, p.push, p.repo),
    headRef: `ledger/${p.n}`,
    title: `Ledger change ${p.n}`,
  });
  (payload.pull_request as Record<string, unknown>).labels = p.labels.map((name) => ({ name }));
  return runAction({
    inputs: {
      command: 'preview',
      kubeconfig: bed.kube.kubeconfigPath,
      'github-token': TOKEN,
      manifests: 'k8s/overlays/preview',
      domain: 'preview.ledger.test',
      images: 'registry.example.test/ledger/web=ghcr.io/acme/ledger-web',
      'wait-timeout': '40',
      ...inputs,
    },
    eventName: 'pull_request',
    payload,
    repo: p.repo,
    workspace,
    timeoutMs: 80_000,
    env: {
      GITHUB_API_URL: bed.github.url,
      GITHUB_SHA: sha(p.n, p.push, p.repo),
      GITHUB_ACTOR: 'dana',
      GITHUB_RUN_ID: String(++runId),
    },
  });
}

/** The scheduled sweep workflow's step. */
function sweep(inputs: Record<string, string> = {}): Promise<ActionRun> {
  return runAction({
    inputs: {
      command: 'sweep',
      kubeconfig: bed.kube.kubeconfigPath,
      'github-token': TOKEN,
      'wait-timeout': '20',
      ...inputs,
    },
    eventName: 'schedule',
    payload: { schedule: '17 3 * * *', repository: { full_name: REPO } },
    repo: REPO,
    workspace,
    timeoutMs: 80_000,
    env: {
      GITHUB_API_URL: bed.github.url,
      GITHUB_SHA: 'f'.repeat(40),
      GITHUB_ACTOR: 'github-actions[bot]',
      GITHUB_RUN_ID: String(++runId),
    },
  });
}

async function kubectl(...args: string[]): Promise<string> {
  const { stdout } = await exec('kubectl', ['--kubeconfig', bed.kube.kubeconfigPath, ...args], {
    maxBuffer: 1 << 26,
  });
  return stdout;
}

async function kubectlJson<T>(...args: string[]): Promise<T> {
  return JSON.parse(await kubectl(...args, '-o', 'json')) as T;
}

interface Ns {
  metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  status?: { phase?: string };
}

/** This repository's live (not Terminating) preview namespaces, as kubectl lists them by our labels. */
async function livePreviews(repoLabel = 'acme.shop'): Promise<string[]> {
  const list = await kubectlJson<{ items: Ns[] }>(
    'get',
    'namespaces',
    '-l',
    `app.kubernetes.io/managed-by=kubestage,kubestage.dev/environment=preview,kubestage.dev/repo=${repoLabel}`,
  );
  return list.items
    .filter((n) => n.status?.phase !== 'Terminating')
    .map((n) => n.metadata.name)
    .sort();
}

async function allNamespaces(): Promise<string[]> {
  return (await kubectlJson<{ items: Ns[] }>('get', 'namespaces')).items.map((n) => n.metadata.name).sort();
}

/** The PR's kubestage comments (markdown escapes removed: the text a reader sees). */
function comments(p: Pull): string[] {
  return bed.github.state
    .comments(p.repo, p.n)
    .filter((c) => c.body.includes('<!-- kubestage:preview'))
    .map((c) => c.body.replace(/\\([\\`*_{}[\]()#+\-.!|<>~])/g, '$1'));
}

function latestDeploymentState(id: string | number): string | undefined {
  return bed.github.state.deployments(REPO).find((d) => d.id === Number(id))?.latestState;
}

const noSlot = 'No preview slot: 3 of 3 previews (max-previews, of this repository) are live';
let racers: Pull[] = [];
let winner: Pull;
let first: Pull;
let second: Pull;
let evictor: Pull;

test('runs racing for the last slot end with exactly one admitted; the losers are told why, naming the live previews', async () => {
  first = openPull(1);
  second = openPull(2);
  const opened = await Promise.all([preview(first, FAIL_CAP), preview(second, FAIL_CAP)]);
  for (const r of opened) expect([r.code, r.errors]).toEqual([0, []]);

  racers = [3, 4, 5, 6].map((n) => openPull(n));
  const runs = await Promise.all(racers.map((p) => preview(p, FAIL_CAP)));
  const admitted = runs.flatMap((r, i) => (r.code === 0 ? [racers[i]!] : []));
  expect(admitted).toHaveLength(1);
  winner = admitted[0]!;
  const ready = runs[racers.indexOf(winner)]!;
  expect(ready.outputs.namespace).toBe(`pr-${winner.n}`);
  expect(ready.outputs.url).toBe(`http://pr-${winner.n}.preview.ledger.test`);

  for (const [i, r] of runs.entries()) {
    if (racers[i] === winner) continue;
    expect(r.code).toBe(1);
    expect(r.errors.join('\n')).toContain(noSlot);
    for (const live of [first, second, winner])
      expect(r.errors.join('\n')).toContain(`pr-${live.n} (PR #${live.n}`);
    expect(r.summary).toContain('failed');
    expect(comments(racers[i]!).at(-1)).toContain(noSlot);
    // Refused before anything was created for it: no namespace, no GitHub deployment.
    expect(r.outputs['deployment-id']).toBe('');
  }
  expect(await livePreviews()).toEqual([`pr-${first.n}`, `pr-${second.n}`, `pr-${winner.n}`].sort());
  const names = await allNamespaces();
  for (const p of racers) if (p !== winner) expect(names).not.toContain(`pr-${p.n}`);

  // The decision was taken under the Lease, which nobody holds now.
  const lease = await kubectlJson<{ spec: { holderIdentity?: string } }>(
    'get',
    'lease',
    '-n',
    'default',
    'kubestage-previews-acme.shop',
  );
  expect(lease.spec.holderIdentity ?? '').toBe('');

  // The winner's story: admitted, hooks, deployed — as Events and the last-action annotation.
  const events = await kubectl('events', '-n', `pr-${winner.n}`, '--for', `namespace/pr-${winner.n}`);
  expect(events).toContain(`PR #${winner.n} admitted under max-previews 3`);
  expect(events).toMatch(/HookSucceeded .*pre-deploy hook Job ledger-migrate: succeeded/);
  expect(events).toMatch(/HookSucceeded .*post-deploy hook Job ledger-smoke: succeeded/);
  const ns = await kubectlJson<Ns>('get', 'namespace', `pr-${winner.n}`);
  expect(ns.metadata.annotations?.['kubestage.dev/last-action']).toMatch(
    new RegExp(`^Deployed \\S+ by dana: commit ${sha(winner.n).slice(0, 7)}: \\d+ created; ready$`),
  );
}, 80_000);

test('every preview gets the quota, the container defaults and the network policy, and the quota counts containers without resources', async () => {
  const ns = `pr-${first.n}`;
  const list = await kubectlJson<{
    items: { kind: string; metadata: { name: string; labels: Record<string, string> }; spec: unknown }[];
  }>('get', 'resourcequota,limitrange,networkpolicy', '-n', ns);
  expect(list.items.map((o) => `${o.kind}/${o.metadata.name}`).sort()).toEqual([
    'LimitRange/kubestage-preview',
    'NetworkPolicy/kubestage-preview',
    'ResourceQuota/kubestage-preview',
  ]);
  for (const o of list.items) expect(o.metadata.labels['app.kubernetes.io/managed-by']).toBe('kubestage');
  const quota = list.items.find((o) => o.kind === 'ResourceQuota')!.spec as { hard: Record<string, string> };
  expect(quota.hard).toMatchObject({
    'requests.cpu': '2',
    'requests.memory': '4Gi',
    pods: '20',
    'services.loadbalancers': '0',
    'services.nodeports': '0',
    'requests.storage': '20Gi',
  });
  const limits = list.items.find((o) => o.kind === 'LimitRange')!.spec as {
    limits: { type: string; default: Record<string, string>; defaultRequest: Record<string, string> }[];
  };
  expect(limits.limits[0]).toMatchObject({
    type: 'Container',
    default: { cpu: '200m', memory: '256Mi' },
    defaultRequest: { cpu: '50m', memory: '64Mi' },
  });
  const policy = list.items.find((o) => o.kind === 'NetworkPolicy')!.spec as {
    policyTypes: string[];
    egress: { to?: { ipBlock?: { cidr: string; except?: string[] } }[] }[];
  };
  expect(policy.policyTypes.sort()).toEqual(['Egress', 'Ingress']);
  const internet = policy.egress.flatMap((e) => e.to ?? []).find((t) => t.ipBlock?.cidr === '0.0.0.0/0');
  expect(internet?.ipBlock?.except).toEqual(expect.arrayContaining(['10.0.0.0/8', '169.254.0.0/16']));

  // web 100m + its metrics sidecar 50m (LimitRange default) + the worker 50m (default); completed hook
  // pods do not count. The quota's own status, as `kubectl describe quota` prints it.
  const described = await kubectl('describe', 'quota', '-n', ns, 'kubestage-preview');
  expect(described).toMatch(/requests\.cpu\s+200m\s+2\n/);
  expect(described).toMatch(/requests\.memory\s+256Mi\s+4Gi\n/);
  expect(described).toMatch(/persistentvolumeclaims\s+1\s+5\n/);
  const pods = await kubectlJson<{
    items: { metadata: { name: string }; spec: { containers: { name: string; resources?: unknown }[] } }[];
  }>('get', 'pods', '-n', ns, '-l', 'app=ledger-worker');
  expect(pods.items[0]?.spec.containers[0]?.resources).toEqual({
    limits: { cpu: '200m', memory: '256Mi' },
    requests: { cpu: '50m', memory: '64Mi' },
  });
});

test('evict: a new PR replaces the least recently updated preview, whose PR is told why and whose deployment goes inactive', async () => {
  // A push to PR 1 makes PR 2 the least recently updated; a push to a live preview is always admitted.
  first.push++;
  seed(first);
  const pushed = await preview(first, EVICT_CAP);
  expect([pushed.code, pushed.errors]).toEqual([0, []]);
  const victimRecord = await kubectlJson<Ns>('get', 'namespace', `pr-${second.n}`);
  const victimDeployment = victimRecord.metadata.annotations?.['kubestage.dev/deployment-id'];
  expect(latestDeploymentState(victimDeployment!)).toBe('success');

  evictor = openPull(7);
  const r = await preview(evictor, EVICT_CAP);
  expect([r.code, r.errors]).toEqual([0, []]);
  expect(r.stdout).toContain(`deleted pr-${second.n} (PR #${second.n}, priority normal`);
  expect(await livePreviews()).toEqual([`pr-${first.n}`, `pr-${evictor.n}`, `pr-${winner.n}`].sort());

  const notice = comments(second).at(-1) ?? '';
  expect(notice).toContain('Preview removed to make room');
  expect(notice).toContain(`PR #${evictor.n} needed a slot`);
  expect(notice).toContain(`namespace \`pr-${second.n}\``);
  expect(notice).toContain('To bring it back, push a commit');
  expect(latestDeploymentState(victimDeployment!)).toBe('inactive');

  const events = await kubectl('events', '-n', `pr-${evictor.n}`, '--for', `namespace/pr-${evictor.n}`);
  expect(events).toContain(`evicted pr-${second.n} to make room`);
  expect(events).toMatch(
    new RegExp(
      `Evicted\\s+Namespace/pr-\\d+\\s+.*deleted pr-${second.n} \\(PR #${second.n}, priority normal`,
    ),
  );
}, 60_000);

test('a scheduled sweep deletes exactly the closed, merged, gone and expired previews of this repository (dry run first), reading each PR at most once', async () => {
  // Two more previews outside the cap, expiring in 2 s: one kept by its label.
  const kept = openPull(8, { labels: ['preview-keep'] });
  const expiring = openPull(9);
  const short = await Promise.all([preview(kept, { ttl: '2s' }), preview(expiring, { ttl: '2s' })]);
  for (const s of short) expect([s.code, s.errors]).toEqual([0, []]);
  // Another repository's preview of a closed PR, and a stage namespace of this repository: never swept.
  const foreign = openPull(1, { repo: OTHER });
  const f = await preview(foreign, { 'namespace-template': 'fork-pr-{number}' });
  expect([f.code, f.errors]).toEqual([0, []]);
  bed.github.state.setPullState(OTHER, 1, 'closed');
  await kubectl('create', 'namespace', 'ledger-dev');
  await kubectl(
    'label',
    'namespace',
    'ledger-dev',
    'app.kubernetes.io/managed-by=kubestage',
    'kubestage.dev/repo=acme.shop',
    'kubestage.dev/environment=development',
  );
  // PR 1 merged, the race winner's PR deleted (GitHub answers 404), PR 7 open and fresh.
  bed.github.state.setPullState(REPO, first.n, 'closed', true);
  const repo = bed.github.state.repo(REPO)!;
  repo.pulls.delete(winner.n);
  repo.issues.delete(winner.n);
  await new Promise((r) => setTimeout(r, 2500));

  const before = await allNamespaces();
  const marks = bed.github.requests.length;
  const dry = await sweep({ 'dry-run': 'true' });
  expect([dry.code, dry.errors]).toEqual([0, []]);
  const byNs = (json: string) =>
    Object.fromEntries(
      (JSON.parse(json) as { namespace: string; reason: string }[]).map((d) => [d.namespace, d.reason]),
    );
  const expectedDeleted = {
    [`pr-${first.n}`]: 'pr-merged',
    [`pr-${winner.n}`]: 'pr-gone',
    [`pr-${expiring.n}`]: 'expired',
  };
  const expectedKept = { [`pr-${evictor.n}`]: 'open', [`pr-${kept.n}`]: 'keep-label' };
  expect(byNs(dry.outputs.deleted!)).toEqual(expectedDeleted);
  expect(byNs(dry.outputs.kept!)).toEqual(expectedKept);
  expect(dry.summary).toContain('dry run');
  const dryRequests = bed.github.requests.slice(marks);
  expect(dryRequests.filter((q) => q.method !== 'GET')).toEqual([]);
  expect(await allNamespaces()).toEqual(before);

  const marks2 = bed.github.requests.length;
  const run = await sweep();
  expect([run.code, run.errors]).toEqual([0, []]);
  expect(byNs(run.outputs.deleted!)).toEqual(expectedDeleted);
  expect(byNs(run.outputs.kept!)).toEqual(expectedKept);
  expect(JSON.parse(run.outputs.errors!)).toEqual([]);

  // The cluster: exactly those three are gone; the fork's preview, the stage and the rest untouched.
  const after = await allNamespaces();
  expect(before.filter((n) => !after.includes(n)).sort()).toEqual(Object.keys(expectedDeleted).sort());
  expect(after).toEqual(
    expect.arrayContaining(['fork-pr-1', 'ledger-dev', `pr-${evictor.n}`, `pr-${kept.n}`]),
  );
  expect(await livePreviews('acme.ledger-fork')).toEqual(['fork-pr-1']);

  // GitHub: each PR's state read at most once, nothing read about the other repository.
  const requests = bed.github.requests.slice(marks2);
  expect(requests.filter((q) => !q.path.startsWith(`/repos/${REPO}/`))).toEqual([]);
  const single = requests
    .filter((q) => q.method === 'GET' && /\/pulls\/\d+$/.test(q.path))
    .map((q) => q.path);
  expect(new Set(single).size).toBe(single.length);
  const lists = requests.filter((q) => q.method === 'GET' && q.path === `/repos/${REPO}/pulls`);
  expect(lists.length + single.length).toBeLessThanOrEqual(5);
  // Each swept PR that still exists is told why; its deployment is inactive.
  expect(comments(first).at(-1)).toContain('because the pull request was merged');
  expect(comments(expiring).at(-1)).toMatch(/because it expired at/);
  expect(comments(kept).at(-1)).toContain('Preview ready');
  for (const p of [first, expiring]) {
    const ids = bed.github.state
      .deployments(REPO)
      .filter((d) => d.ref === sha(p.n, p.push))
      .map((d) => d.latestState);
    expect(ids.length).toBeGreaterThan(0);
    expect(ids.every((s) => s === 'inactive')).toBe(true);
  }
}, 80_000);
