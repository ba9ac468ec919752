// The bench's sweep section (issue 9): 500 preview namespaces of one repository, labelled and
// annotated as `preview` leaves them, and their 500 pull requests on the GitHub emulator in a mix a
// busy repository has (open, closed, merged, a few gone, some open ones expired, one expired one kept
// by label). `sweep` runs as the action runs it (settings → ports → command), first as a dry run, then
// for real, over the Kubernetes emulator (in its own process, latency injected) and the GitHub
// emulator. It reports the GitHub requests that read PR states against the target (≤ 10), every
// GitHub request by route, the Kubernetes requests, the wall time, and it fails loudly unless the
// namespaces deleted are exactly the expected ones and each of them told its PR.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Ports } from '../src/app/ports.js';
import { connectionsOf, createPorts } from '../src/app/ports.js';
import type { CommandResult } from '../src/app/result.js';
import { createGitHubClient } from '../src/github/client.js';
import { createDeployment, setDeploymentStatus } from '../src/github/deployments.js';
import { createKubeClient, type KubeClient } from '../src/kube/client.js';
import { loadKubeConfig } from '../src/kube/kubeconfig.js';
import { mapSettled } from '../src/kube/pool.js';
import type { LiveObject } from '../src/kube/types.js';
import type { Logger } from '../src/logger.js';
import { actionInputs, prepareAction } from '../src/main.js';
import type { KubeObject } from '../src/model/kube-object.js';
import {
  COMMENT_MARKER,
  LABEL_ENVIRONMENT,
  LABEL_INSTANCE,
  LABEL_MANAGED_BY,
  LABEL_PR,
  LABEL_REPO,
  MANAGED_BY,
  PREVIEW_ENVIRONMENT,
  repoLabelValue,
} from '../src/model/labels.js';
import { encodeRecord } from '../src/model/records.js';
import type { PullSeed } from './emulators.js';
import { describeRequest, type EmulatorsProcess, startEmulatorsProcess, summarise } from './stages.js';

const REPO = 'bench/sweep';
const OTHER_REPO = 'bench/other';
const TOKEN = 'ghs_bench_token_000000000000000000000002';
const PREVIEWS = 500;
/** Issue 9: "with 500 previews and 500 PRs, at most 10 GitHub requests for PR state, in the bench". */
const TARGET_PR_STATE_REQUESTS = 10;
const KEEP_LABEL = 'preview-keep';
/** PRs that GitHub answers 404 for (deleted by GitHub staff, e.g. spam): rare; 1 % here. */
const GONE = new Set([37, 137, 237, 337, 437]);
const HOUR = 3_600_000;
const quiet: Logger = { info: () => {}, warning: () => {}, debug: () => {} };

type Fate = 'open' | 'closed' | 'merged' | 'gone';

interface Preview {
  pr: number;
  fate: Fate;
  expired: boolean;
  labels: string[];
  headSha: string;
}

/**
 * The mix, deterministic (a seeded generator): PR numbers grow with age, and an old PR is more often
 * done (p(open) from 35 % for #1 to 85 % for #500); of the done ones three in four were merged. One in
 * four open PRs has had no push for longer than the TTL (expired); the first of those carries the keep
 * label. Some PRs carry other labels. PRs in GONE answer 404.
 */
function previewMix(): Preview[] {
  let seed = 20261130;
  const rand = (): number => {
    // mulberry32
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const out: Preview[] = [];
  let kept = false;
  for (let pr = 1; pr <= PREVIEWS; pr++) {
    const open = rand() < 0.35 + (0.5 * pr) / PREVIEWS;
    const merged = rand() < 0.75;
    const fate: Fate = GONE.has(pr) ? 'gone' : open ? 'open' : merged ? 'merged' : 'closed';
    const expired = rand() < 0.25;
    const labels = rand() < 0.2 ? ['dependencies'] : rand() < 0.1 ? ['bug', 'needs-review'] : [];
    if (fate === 'open' && expired && !kept) {
      labels.push('Preview-Keep'); // GitHub compares label names regardless of case
      kept = true;
    }
    out.push({ pr, fate, expired, labels, headSha: sha(pr) });
  }
  return out;
}

function sha(n: number): string {
  return n.toString(16).padStart(40, 'c');
}

function shouldGo(p: Preview): boolean {
  return p.fate !== 'open' || (p.expired && !p.labels.some((l) => l.toLowerCase() === KEEP_LABEL));
}

/** One run of `sweep`: its result, wall time and every request it sent. */
interface SweepRun {
  ms: number;
  serverCpuMs: number;
  /** This process's CPU time over the run (kubestage's own work; the emulators run elsewhere). */
  clientCpuMs: number;
  result: CommandResult;
  /** GitHub requests as the emulator recorded them. */
  github: { method: string; path: string; operationId?: string; query?: string }[];
  /** Kubernetes requests as "VERB resource". */
  kube: string[];
}

export async function benchSweep(latencyMs: number): Promise<void> {
  const emu = await startEmulatorsProcess(latencyMs, { repo: REPO, token: TOKEN });
  const workspace = mkdtempSync(join(tmpdir(), 'kubestage-bench-sweep-'));
  try {
    const previews = previewMix();
    const t0 = performance.now();
    await seed(emu, previews);
    const seedMs = performance.now() - t0;
    let expected = previews
      .filter(shouldGo)
      .map((p) => `pr-${p.pr}`)
      .sort();
    const count = (f: (p: Preview) => boolean) => previews.filter(f).length;
    console.log(
      `\nsweep: ${PREVIEWS} preview namespaces of ${REPO} and their ${PREVIEWS} PRs — ` +
        `${count((p) => p.fate === 'open')} open (${count((p) => p.fate === 'open' && p.expired)} of them expired, 1 of those labelled ${KEEP_LABEL}), ` +
        `${count((p) => p.fate === 'merged')} merged, ${count((p) => p.fate === 'closed')} closed, ${count((p) => p.fate === 'gone')} gone (404); ` +
        `plus another repository's expired preview and a stage namespace of this one, which must stay. ` +
        `Expected to go: ${expected.length}. Seeded in ${(seedMs / 1000).toFixed(1)} s.`,
    );
    const before = await namespaceNames(emu);

    const dry = await runSweep(emu, workspace, { 'dry-run': 'true' });
    // PR state has a budget of 10 requests: a PR in neither list whose preview has not expired may be
    // left for the next sweep to confirm (kept as pr-unconfirmed). Only gone PRs may be left over.
    const unconfirmed = unconfirmedNamespaces(dry.result);
    const byName = new Map(previews.map((p) => [`pr-${p.pr}`, p]));
    const wrongly = unconfirmed.filter((n) => byName.get(n)?.fate !== 'gone' || byName.get(n)?.expired);
    const expectedAll = expected;
    expected = expected.filter((n) => !unconfirmed.includes(n));
    const dryDeleted = outputNamespaces(dry.result, 'deleted');
    const dryWrites = dry.github.filter((r) => r.method !== 'GET');
    const afterDry = await namespaceNames(emu);
    const problems: string[] = [];
    if (!sameSet(dryDeleted, expected))
      problems.push(`the dry run would delete ${describeDiff(dryDeleted, expected)}`);
    if (wrongly.length)
      problems.push(
        `left for a later sweep, though not a gone PR with an unexpired preview: ${wrongly.join(', ')}`,
      );
    if (dryWrites.length)
      problems.push(`the dry run wrote to GitHub: ${summarise(dryWrites.map(githubRoute))}`);
    if (!sameSet(afterDry, before))
      problems.push(`the dry run changed the namespaces: ${describeDiff(before, afterDry)}`);

    const real = await runSweep(emu, workspace, {});
    const after = await namespaceNames(emu);
    const gone = before.filter((n) => !after.includes(n));
    const reported = outputNamespaces(real.result, 'deleted');
    if (!real.result.ok) problems.push(`sweep failed: ${real.result.failure ?? '(no message)'}`);
    if (!sameSet(gone, expected))
      problems.push(`the namespaces deleted were ${describeDiff(gone, expected)}`);
    if (!sameSet(reported, expected))
      problems.push(`sweep's \`deleted\` output lists ${describeDiff(reported, expected)}`);
    // Each deleted preview tells GitHub: its PR's comment edited (not for a PR that is gone), its
    // deployment marked inactive.
    const toGo = previews.filter((p) => shouldGo(p) && !unconfirmed.includes(`pr-${p.pr}`));
    const commentEdits = real.github.filter((r) => r.operationId === 'issues/update-comment').length;
    const statuses = real.github.filter((r) => r.operationId === 'repos/create-deployment-status').length;
    const wantEdits = toGo.filter((p) => p.fate !== 'gone').length;
    if (commentEdits !== wantEdits)
      problems.push(
        `${commentEdits} comments were edited, ${wantEdits} expected (one per deleted preview whose PR exists)`,
      );
    if (statuses !== toGo.length)
      problems.push(
        `${statuses} deployment statuses were written, ${toGo.length} expected (one per deleted preview)`,
      );

    report(dry, real, expected.length, gone.length, previews);
    // The next sweep confirms what was left over, within the same budget.
    const next = await runSweep(emu, workspace, {});
    const nextDeleted = outputNamespaces(next.result, 'deleted');
    if (!sameSet(nextDeleted, unconfirmed))
      problems.push(`the next sweep deleted ${describeDiff(nextDeleted, unconfirmed)}`);
    if (!sameSet([...gone, ...nextDeleted].sort(), expectedAll))
      problems.push(`the two sweeps deleted ${describeDiff([...gone, ...nextDeleted].sort(), expectedAll)}`);
    console.log(
      `  Left for the next sweep (gone PRs past the budget, previews not expired): ${unconfirmed.join(', ') || 'none'}; ` +
        `the next sweep deleted ${nextDeleted.length} with ${prState(next).length} GitHub request(s) for PR state.`,
    );
    if (problems.length)
      throw new Error(`the sweep bench found sweep wrong:\n  - ${problems.join('\n  - ')}`);
  } finally {
    await emu.close();
    rmSync(workspace, { recursive: true, force: true });
  }
}

/** The requests of a run that read PR state. */
function prState(r: SweepRun): SweepRun['github'] {
  return r.github.filter((q) => q.operationId === 'pulls/list' || q.operationId === 'pulls/get');
}

function report(dry: SweepRun, real: SweepRun, expected: number, deleted: number, previews: Preview[]): void {
  const prStateWords = (r: SweepRun) => {
    const reads = prState(r);
    const lists = (state: string) =>
      reads.filter(
        (q) => q.operationId === 'pulls/list' && new URLSearchParams(q.query).get('state') === state,
      ).length;
    return `${lists('open')} page(s) of open PRs, ${lists('closed')} of closed, ${reads.filter((q) => q.operationId === 'pulls/get').length} single PR(s)`;
  };
  const own = (r: SweepRun) => /PR states: (\d+) GitHub request/.exec(r.result.text)?.[1] ?? '?';
  const verdict = (n: number) => (n <= TARGET_PR_STATE_REQUESTS ? 'PASS' : 'MISS');
  console.log(
    `\n| sweep of ${PREVIEWS} previews / ${PREVIEWS} PRs | wall (ms) | API servers' CPU (ms) | kubestage CPU (ms) | GitHub requests for PR state | GitHub requests | GitHub writes | Kubernetes requests | deleted |`,
  );
  console.log('|---|---:|---:|---:|---|---:|---:|---:|---:|');
  for (const [name, r, gone] of [
    ['dry-run: true', dry, 0],
    ['for real', real, deleted],
  ] as const) {
    const n = prState(r).length;
    console.log(
      `| ${name} | ${r.ms.toFixed(0)} | ${r.serverCpuMs.toFixed(0)} | ${r.clientCpuMs.toFixed(0)} | ${n} (target ≤ ${TARGET_PR_STATE_REQUESTS}: ${verdict(n)}) | ` +
        `${r.github.length} | ${r.github.filter((q) => q.method !== 'GET').length} | ${r.kube.length} | ` +
        `${gone}${name === 'for real' ? ` of ${expected} expected` : ` (would: ${outputNamespaces(r.result, 'deleted').length})`} |`,
    );
  }
  for (const [name, r] of [
    ['dry run', dry],
    ['real run', real],
  ] as const) {
    console.log(
      `\n  ${name}: PR state ${prStateWords(r)} (sweep's own count: ${own(r)}); GitHub by route: ${summarise(r.github.map(githubRoute)) || '(none)'}`,
    );
    console.log(`  ${name}: Kubernetes by verb and resource: ${summarise(r.kube)}`);
  }
  // What listing can do at best: every open PR is on a page of 100, the closed walk from the newest
  // PR down to the oldest wanted one, and a PR that is gone answers only to a GET of its own (404).
  const open = previews.filter((p) => p.fate === 'open').length;
  const gone = previews.filter((p) => p.fate === 'gone').length;
  const done = previews.filter((p) => p.fate === 'closed' || p.fate === 'merged').length;
  const floor = Math.ceil(open / 100) + Math.ceil(done / 100) + gone;
  console.log(
    `\n  PR states by listing, at best: ⌈${open} open / 100⌉ + ⌈${done} closed or merged / 100⌉ + ${gone} gone (one GET each) = ${floor}; ` +
      `sweep made ${prState(real).length} (a budget of 10: gone PRs past it with unexpired previews are confirmed by the next sweep). Without the gone PRs it would be ${floor - gone}.`,
  );
  const perDeleted = deleted ? (real.kube.length - dry.kube.length) / deleted : 0;
  console.log(
    `  Per deleted namespace, beyond the dry run's reads: ${perDeleted.toFixed(1)} Kubernetes and ` +
      `${deleted ? ((real.github.length - dry.github.length) / deleted).toFixed(1) : '0'} GitHub requests.`,
  );
}

/** `sweep` as the action runs it on a schedule, with a new Kubernetes client counting what it sends. */
async function runSweep(
  emu: EmulatorsProcess,
  workspace: string,
  inputs: Record<string, string>,
): Promise<SweepRun> {
  const dir = mkdtempSync(join(tmpdir(), 'kubestage-bench-event-'));
  const eventPath = join(dir, 'event.json');
  writeFileSync(eventPath, JSON.stringify({ schedule: '17 3 * * *' }));
  const all: Record<string, string> = {
    command: 'sweep',
    kubeconfig: emu.kubeconfigPath,
    'github-token': TOKEN,
    'wait-timeout': '60',
    ...inputs,
  };
  const env = {
    GITHUB_EVENT_NAME: 'schedule',
    GITHUB_EVENT_PATH: eventPath,
    GITHUB_REPOSITORY: REPO,
    GITHUB_SERVER_URL: 'https://github.com',
    GITHUB_RUN_ID: '9000',
    GITHUB_WORKSPACE: workspace,
    GITHUB_API_URL: emu.githubUrl,
    GITHUB_SHA: 'd'.repeat(40),
    GITHUB_ACTOR: 'bench',
  };
  const input = actionInputs((n) => all[n] ?? '', env);
  const { ctx, start } = prepareAction(input, env);
  const base = createPorts(connectionsOf(input, ctx), quiet, env, {
    mask: () => {},
    group: (_n, fn) => fn(),
    // GitHub's pacing of writes (about a second apart) scaled down as in the tests: the writes are
    // counted and reported instead.
    githubWaitScale: 0.001,
  });
  const kube: string[] = [];
  let client: KubeClient | undefined;
  const kc = loadKubeConfig({ kubeconfig: emu.kubeconfigPath, env: {} }).kc;
  const ports: Ports = {
    ...base,
    kube: () =>
      (client ??= createKubeClient(kc, {
        logger: quiet,
        onResponse: ({ method, path }) => kube.push(describeRequest(method, path)),
      })),
  };
  const ghFrom = (await emu.githubRequests()).length;
  const c0 = emu.cpuMs();
  const u0 = process.cpuUsage();
  const t0 = performance.now();
  const result = await start(ports);
  const ms = performance.now() - t0;
  const u = process.cpuUsage(u0);
  const serverCpuMs = emu.cpuMs() - c0;
  rmSync(dir, { recursive: true, force: true });
  const github = ((await emu.githubRequests()) as SweepRun['github']).slice(ghFrom);
  return { ms, serverCpuMs, clientCpuMs: (u.user + u.system) / 1000, result, github, kube };
}

/**
 * GitHub as `preview` left it (each PR with kubestage's comment and a successful deployment of its
 * head), and the cluster as `preview` left it: per PR a namespace labelled as planPreview labels it and
 * annotated with its record, holding a small app applied by kubestage.
 */
async function seed(emu: EmulatorsProcess, previews: Preview[]): Promise<void> {
  const seedPulls: PullSeed = {
    repo: REPO,
    commentBody: `${COMMENT_MARKER}\n### ✅ Preview ready\n\nThe preview is up.`,
    pulls: previews.map((p) => ({
      number: p.pr,
      state: p.fate === 'open' ? 'open' : 'closed',
      merged: p.fate === 'merged',
      gone: p.fate === 'gone',
      title: `PR ${p.pr}`,
      headSha: p.headSha,
      headRef: `feature/${p.pr}`,
      labels: p.labels,
    })),
  };
  const { comments } = await emu.seedPulls(seedPulls);
  const gh = createGitHubClient({ token: TOKEN, baseUrl: emu.githubUrl, logger: quiet, waitScale: 0.001 });
  const repo = { owner: REPO.split('/')[0] as string, repo: REPO.split('/')[1] as string };
  const deployments = new Map<number, number>();
  const made = await mapSettled(previews, 8, async (p) => {
    const id = await createDeployment(gh, repo, {
      ref: p.headSha,
      environment: PREVIEW_ENVIRONMENT,
      transient: true,
      production: false,
      prNumber: p.pr,
    });
    await setDeploymentStatus(gh, repo, id, {
      state: 'success',
      description: 'Preview ready',
      environmentUrl: `https://pr-${p.pr}.preview.example.com`,
    });
    deployments.set(p.pr, id);
  });
  const failed = made.find((r) => r.status === 'rejected');
  if (failed) throw new Error(`bench: seeding a deployment failed: ${String(failed.reason)}`);

  const kc = loadKubeConfig({ kubeconfig: emu.kubeconfigPath, env: {} }).kc;
  const kube = createKubeClient(kc, { logger: quiet });
  const now = Date.now();
  const namespaces: { name: string; repo: string; environment: string; pr?: Preview; expiresAt: Date }[] = [
    ...previews.map((p) => ({
      name: `pr-${p.pr}`,
      repo: REPO,
      environment: PREVIEW_ENVIRONMENT,
      pr: p,
      // A preview is extended on each push by its TTL (3 days here): expired ones saw no push since.
      expiresAt: new Date(now + (p.expired ? -((p.pr % 48) + 1) * HOUR : ((p.pr % 60) + 1) * HOUR)),
    })),
    {
      name: 'other-pr-1',
      repo: OTHER_REPO,
      environment: PREVIEW_ENVIRONMENT,
      expiresAt: new Date(now - HOUR),
    },
    { name: 'development', repo: REPO, environment: 'development', expiresAt: new Date(now - HOUR) },
  ];
  const applied = await mapSettled(namespaces, 16, async (n) => {
    const p = n.pr;
    const number = p?.pr ?? 1;
    const labels: Record<string, string> = {
      [LABEL_MANAGED_BY]: MANAGED_BY,
      [LABEL_REPO]: repoLabelValue(n.repo),
      [LABEL_ENVIRONMENT]: n.environment,
      [LABEL_INSTANCE]: n.name,
      ...(n.environment === PREVIEW_ENVIRONMENT ? { [LABEL_PR]: String(number) } : {}),
    };
    const updatedAt = new Date(n.expiresAt.getTime() - 72 * HOUR);
    await kube.apply({
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: {
        name: n.name,
        labels,
        annotations: encodeRecord({
          ...(n.environment === PREVIEW_ENVIRONMENT ? { pr: number } : {}),
          headSha: p?.headSha ?? sha(number),
          headTime: updatedAt,
          images: {
            'ghcr.io/bench/web': `ghcr.io/bench/web:pr-${number}-${(p?.headSha ?? sha(number)).slice(0, 7)}`,
          },
          url: `https://pr-${number}.preview.example.com`,
          updatedAt,
          expiresAt: n.expiresAt,
          runUrl: `https://github.com/${REPO}/actions/runs/${1000 + number}`,
          ...(p ? { commentId: comments[p.pr], deploymentId: deployments.get(p.pr) } : {}),
          state: 'ready',
          actor: 'octocat',
        }),
      },
    });
    for (const o of app(n.name)) await kube.apply(o);
  });
  const bad = applied.find((r) => r.status === 'rejected');
  if (bad) throw new Error(`bench: seeding a namespace failed: ${String(bad.reason)}`);
}

/** What a small preview holds: a ConfigMap, a Service and a Deployment of one replica. */
function app(namespace: string): KubeObject[] {
  const labels = { [LABEL_INSTANCE]: namespace, app: 'web' };
  return [
    {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'web-config', namespace, labels },
      data: { MODE: 'preview' },
    },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'web', namespace, labels },
      spec: { selector: { app: 'web' }, ports: [{ port: 80, targetPort: 8080 }] },
    },
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web', namespace, labels },
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: 'web' } },
        template: {
          metadata: { labels: { app: 'web' } },
          spec: {
            containers: [{ name: 'web', image: 'ghcr.io/bench/web:1', ports: [{ containerPort: 8080 }] }],
          },
        },
      },
    },
  ];
}

async function namespaceNames(emu: EmulatorsProcess): Promise<string[]> {
  const kc = loadKubeConfig({ kubeconfig: emu.kubeconfigPath, env: {} }).kc;
  const client = createKubeClient(kc, { logger: quiet });
  const { items } = await client.list<LiveObject>('v1', 'Namespace');
  return items.map((n) => n.metadata.name).sort();
}

function outputNamespaces(result: CommandResult, output: 'deleted' | 'kept'): string[] {
  const raw = result.outputs[output];
  return (JSON.parse(raw ?? '[]') as { namespace: string }[]).map((d) => d.namespace).sort();
}

function unconfirmedNamespaces(result: CommandResult): string[] {
  const raw = result.outputs.kept;
  return (JSON.parse(raw ?? '[]') as { namespace: string; reason: string }[])
    .filter((k) => k.reason === 'pr-unconfirmed')
    .map((k) => k.namespace)
    .sort();
}

function sameSet(a: string[], b: string[]): boolean {
  const s = new Set(a);
  return a.length === b.length && b.every((x) => s.has(x));
}

/** "412, of which not expected: pr-3; missing: pr-9" */
function describeDiff(actual: string[], expected: string[]): string {
  const extra = actual.filter((x) => !expected.includes(x));
  const missing = expected.filter((x) => !actual.includes(x));
  return (
    `${actual.length} namespace(s)` +
    (extra.length
      ? `, of which not expected: ${extra.slice(0, 20).join(', ')}${extra.length > 20 ? ', …' : ''}`
      : '') +
    (missing.length ? `; missing: ${missing.slice(0, 20).join(', ')}${missing.length > 20 ? ', …' : ''}` : '')
  );
}

/** "GET /repos/:repo/pulls?state=open", "PATCH /repos/:repo/issues/comments/:id" */
function githubRoute(r: { method: string; path: string; query?: string }): string {
  const state = r.query ? new URLSearchParams(r.query).get('state') : null;
  return (
    `${r.method} ${decodeURIComponent(r.path)
      .replace(`/repos/${REPO}`, '/repos/:repo')
      .replace(/\/\d+/g, '/:id')}` + (state ? `?state=${state}` : '')
  );
}
