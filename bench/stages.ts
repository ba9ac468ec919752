// The bench's stage section: `promote` and `plan` of Online Boutique (development → testing), run
// as the action runs them (settings → ports → command) over a Kubernetes emulator in its own
// process and the GitHub emulator, against the equivalent kubectl steps on the same emulator in the
// same run. The rollout wait is excluded as far as the emulator allows: its workloads become ready at
// once (no pull or start delay, probe delays scaled down) and the stages have no smoke checks, so a
// promotion's time is render + checks + namespace + apply + wait for already-ready workloads +
// records (revision Secret, namespace annotations, Event, GitHub deployment). Every request our
// client sends is attributed to the phase it was sent in, so a ratio comes with where it goes.
import { execFile, spawn } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { stringify } from 'yaml';
import type { KubeConfig } from '@kubernetes/client-node';
import type { Ports } from '../src/app/ports.js';
import { connectionsOf, createPorts } from '../src/app/ports.js';
import type { CommandResult } from '../src/app/result.js';
import { createKubeClient, type KubeClient } from '../src/kube/client.js';
import { loadKubeConfig } from '../src/kube/kubeconfig.js';
import { readRevision } from '../src/kube/ledger.js';
import { waitForWorkloads } from '../src/kube/wait.js';
import type { Logger } from '../src/logger.js';
import { actionInputs, prepareAction } from '../src/main.js';
import type { KubeObject } from '../src/model/kube-object.js';
import { parseAllow } from '../src/render/allow.js';
import { loadStages } from '../src/steps/stage-checks.js';
import { pinnedOverrides, readStageState, renderStage } from '../src/steps/stage.js';
import { node24, repoRoot, sharedDir } from '../test/support/action.js';
import type { PullSeed, SeededPulls } from './emulators.js';

const REPO = 'bench/boutique';
const TOKEN = 'ghs_bench_token_000000000000000000000001';
const SHA_A = 'a'.repeat(40);
const SHA_B = 'b'.repeat(40);
const ALLOW = 'load-balancer'; // Online Boutique's frontend-external, as a team would allow it

/** One segment of a command's run: a log group (Render, Namespace, Apply, Prune, Wait) or the gap between two. */
interface Segment {
  name: string;
  ms: number;
  /** Kubernetes requests answered during it: "METHOD resource". */
  requests: string[];
  /** When it started (epoch ms, sub-ms precision). */
  at: number;
}

interface OurRun {
  ms: number;
  serverCpuMs: number;
  segments: Segment[];
  /** GitHub requests as "METHOD /route". */
  github: string[];
  result: CommandResult;
  warnings: string[];
  /** The Wait split: the emulator's controllers after Apply ended, then our waiter noticing. */
  wait?: { controllers: number; notice: number };
}

interface PeerRun {
  ms: number;
  serverCpuMs: number;
  /** kubectl invocation → ms. */
  steps: Map<string, number>;
}

export interface StageRow {
  name: string;
  ours: number;
  peer: number;
  peerLabel: string;
  serverCpu: { ours: number; peer: number };
  /** Medians per segment, in order; requests from the last run. */
  segments: Segment[];
  peerSteps: Map<string, number>;
  /** kubectl's requests (from one untimed `-v=6` run of the same steps), "METHOD resource". */
  peerRequests: string[];
  github: string[];
  wait?: { controllers: number; notice: number };
  /** `kubectl kustomize` of the stage's overlay alone (ms, median): what rendering costs any client. */
  kustomize?: number;
}

const quiet: Logger = { info: () => {}, warning: () => {}, debug: () => {} };

/** The stage section of the bench: promote and plan rows, `runs` timed runs each (medians). */
export async function benchStages(runs: number, latencyMs: number): Promise<StageRow[]> {
  const kube = await startEmulatorsProcess(latencyMs, {
    repo: REPO,
    token: TOKEN,
    commits: [
      { sha: SHA_A, message: 'Boutique 1', author: { name: 'Ann', email: 'ann@example.com' } },
      { sha: SHA_B, message: 'Boutique 2', author: { name: 'Bo', email: 'bo@example.com' } },
    ],
  });
  const workspace = boutiqueWorkspace();
  try {
    const bench = new StageBench(kube, workspace);
    const rows = [await bench.promote(runs)];
    rows.push(await bench.plan(runs));
    return rows;
  } finally {
    await kube.close();
    rmSync(workspace, { recursive: true, force: true });
  }
}

export function reportStages(rows: StageRow[]): void {
  if (!rows.length) return;
  console.log(
    '\n| stage command (Online Boutique, development → testing) | kubestage (ms) | kubectl (ms) | kubectl steps | kubestage / kubectl |',
  );
  console.log('|---|---:|---:|---|---:|');
  for (const r of rows)
    console.log(
      `| ${r.name} | ${r.ours.toFixed(0)} | ${r.peer.toFixed(0)} | ${r.peerLabel} | ${(r.ours / r.peer).toFixed(2)}× |`,
    );
  console.log(
    '\nAPI server CPU per run (ms, medians): ' +
      rows
        .map(
          (r) =>
            `${r.name}: ${r.serverCpu.ours.toFixed(0)} kubestage, ${r.serverCpu.peer.toFixed(0)} kubectl`,
        )
        .join('; '),
  );
  for (const r of rows) {
    const total = r.segments.reduce(
      (n, s) => n + s.requests.filter((q) => !q.startsWith('GitHub ')).length,
      0,
    );
    console.log(
      `\nWhere the time of kubestage ${r.name} goes (ms, medians; requests of its last run: ${total} to Kubernetes, ` +
        `${r.github.length} to GitHub with their own times; "·" is time outside the log groups):`,
    );
    for (const s of r.segments) {
      if (s.ms < 0.5 && s.requests.length === 0) continue;
      console.log(
        `  ${s.name.padEnd(34)} ${s.ms.toFixed(0).padStart(5)}  ${summarise(s.requests) || '(no requests)'}`,
      );
      if (s.name === 'Wait' && r.wait)
        console.log(
          `  ${''.padEnd(34)}        (the emulator had every Deployment available ${r.wait.controllers.toFixed(0)} ms after Apply ended; ` +
            `the wait returned ${r.wait.notice.toFixed(0)} ms after that)`,
        );
    }
    const render = r.segments.find((s) => s.name === 'Render');
    if (r.kustomize !== undefined && render)
      console.log(
        `  Render alone is ${render.ms.toFixed(0)} ms; \`kubectl kustomize\` of the overlay, which it runs, takes ${r.kustomize.toFixed(0)} ms by itself. ` +
          `Without Render kubestage takes ${(r.ours - render.ms).toFixed(0)} ms, ${((r.ours - render.ms) / r.peer).toFixed(2)}× kubectl.`,
      );
    console.log(
      `  kubectl: ${[...r.peerSteps].map(([step, ms]) => `${step} ${ms.toFixed(0)}`).join(', ')}; ` +
        `${r.peerRequests.length} requests (${summarise(r.peerRequests)})`,
    );
  }
  console.log('\nGitHub requests of the stage commands (counted on the GitHub emulator, last run):');
  console.log('| run | requests | writes | routes |');
  console.log('|---|---:|---:|---|');
  for (const r of rows) {
    const writes = r.github.filter((g) => !g.startsWith('GET ')).length;
    console.log(`| ${r.name} | ${r.github.length} | ${writes} | ${summarise(r.github) || '(none)'} |`);
  }
}

/** "3× GET secrets, 1× PATCH namespaces" in first-seen order. */
export function summarise(requests: string[]): string {
  const counts = new Map<string, number>();
  for (const r of requests) counts.set(r, (counts.get(r) ?? 0) + 1);
  return [...counts].map(([what, n]) => `${n}× ${what}`).join(', ');
}

class StageBench {
  private runId = 5000;
  private readonly kc: KubeConfig;
  private readonly k: string[];

  constructor(
    private readonly kube: EmulatorsProcess,
    private readonly workspace: string,
  ) {
    this.kc = loadKubeConfig({ kubeconfig: kube.kubeconfigPath, env: {} }).kc;
    this.k = ['--kubeconfig', kube.kubeconfigPath];
  }

  /**
   * Development deployed once (untimed); then, per round, `promote` into a testing namespace that does
   * not exist yet against kubectl create namespace + diff + apply --server-side of the same render
   * into a new namespace. Each run starts on an idle server: kubectl's rollouts settle and each
   * namespace is deleted before the next run.
   */
  async promote(runs: number): Promise<StageRow> {
    await this.deploy(boutiqueDigests('1'), SHA_A);
    const render = await this.renderFor('testing', 'development');
    const ours: OurRun[] = [];
    const peer: PeerRun[] = [];
    const kustomize: number[] = [];
    for (let i = 0; i < runs; i++) {
      const order = i % 2 === 0 ? ['ours', 'peer'] : ['peer', 'ours'];
      for (const who of order) {
        if (who === 'ours') {
          ours.push(await this.command({ command: 'promote', to: 'testing' }, SHA_A));
          await this.kubectl(['delete', 'namespace', 'testing', '--wait=true']);
        } else {
          const ns = `bench-kubectl-promote-${i}`;
          const file = this.write(`promote-${i}.yaml`, inNamespace(render, ns));
          peer.push(
            await this.peer([
              ['create namespace', ['create', 'namespace', ns]],
              ['diff', ['diff', '--server-side', '--field-manager', 'bench', '-f', file]],
              ['apply', ['apply', '--server-side', '--field-manager', 'bench', '-f', file]],
            ]),
          );
          await this.settle(ns, render);
          await this.kubectl(['delete', 'namespace', ns, '--wait=true']);
          const k0 = performance.now();
          await this.kubectl(['kustomize', join(this.workspace, 'overlays', 'testing')]);
          kustomize.push(performance.now() - k0);
        }
      }
    }
    const countNs = 'bench-kubectl-promote-count';
    const countFile = this.write('promote-count.yaml', inNamespace(render, countNs));
    const peerRequests = await this.peerRequests([
      ['create', 'namespace', countNs],
      ['diff', '--server-side', '--field-manager', 'bench', '-f', countFile],
      ['apply', '--server-side', '--field-manager', 'bench', '-f', countFile],
    ]);
    await this.settle(countNs, render);
    await this.kubectl(['delete', 'namespace', countNs, '--wait=true']);
    return {
      ...row(
        `promote (${render.length} objects, new namespace)`,
        'create namespace + diff --server-side + apply --server-side',
        ours,
        peer,
        peerRequests,
      ),
      kustomize: median(kustomize),
    };
  }

  /**
   * Testing at revision 1 (a promotion of development's first deploy), development at a newer
   * deploy (other digests, a later commit): `plan` against `kubectl diff --server-side` of the
   * render plan computes, on the same live testing namespace. Neither writes, so they share it.
   */
  async plan(runs: number): Promise<StageRow> {
    const first = await this.command({ command: 'promote', to: 'testing' }, SHA_A);
    if (!first.result.ok) throw new Error(`bench: the promotion before plan failed: ${first.result.failure}`);
    await this.deploy(boutiqueDigests('2'), SHA_B);
    const render = await this.renderFor('testing', 'development');
    const file = this.write('plan.yaml', render);
    const diff = ['diff', '--server-side', '--field-manager', 'kubestage', '-f', file];
    const ours: OurRun[] = [];
    const peer: PeerRun[] = [];
    for (let i = 0; i < runs; i++) {
      const order = i % 2 === 0 ? ['ours', 'peer'] : ['peer', 'ours'];
      for (const who of order) {
        if (who === 'ours') {
          const r = await this.command({ command: 'plan', to: 'testing' }, SHA_B);
          if (r.result.outputs.changed !== 'true')
            throw new Error(`bench: plan saw no change to promote:\n${r.result.text}`);
          ours.push(r);
        } else peer.push(await this.peer([['diff', diff]]));
      }
    }
    return row(
      `plan (${render.length} objects)`,
      'diff --server-side',
      ours,
      peer,
      await this.peerRequests([diff]),
    );
  }

  /** Untimed: deploys development with `digests`; throws unless it succeeded. */
  private async deploy(digests: string, sha: string): Promise<void> {
    const r = await this.command({ command: 'deploy', environment: 'development', images: digests }, sha);
    if (!r.result.ok)
      throw new Error(`bench: deploying development failed: ${r.result.failure}\n${r.result.text}`);
  }

  /** What promoting `from` → `to` renders now (the same call promote and plan make). */
  private async renderFor(to: string, from: string): Promise<KubeObject[]> {
    const { ctx, ports } = this.prepare({ command: 'plan', to }, SHA_B, () => {}, quiet);
    const stages = await loadStages(ctx, '.github/kubestage.yml');
    const kube = ports.kube();
    const source = stages.stage(from);
    const state = await readStageState(kube, source);
    if (!state.current) throw new Error(`bench: ${from} has no current revision`);
    const revision = await readRevision(kube, source.namespace, source.name, state.current.number);
    const { objects } = await renderStage(
      ctx,
      ports,
      stages.stage(to),
      pinnedOverrides(revision.images),
      parseAllow(ALLOW),
    );
    return objects;
  }

  private prepare(
    inputs: Record<string, string>,
    sha: string,
    onRequest: (method: string, path: string) => void,
    logger: Logger,
    group: Ports['group'] = (_n, fn) => fn(),
  ) {
    const dir = mkdtempSync(join(tmpdir(), 'kubestage-bench-event-'));
    const eventPath = join(dir, 'event.json');
    writeFileSync(eventPath, JSON.stringify({ ref: 'refs/heads/main', after: sha }));
    const all: Record<string, string> = {
      kubeconfig: this.kube.kubeconfigPath,
      'github-token': TOKEN,
      'wait-timeout': '60',
      allow: ALLOW,
      ...inputs,
    };
    const env = {
      GITHUB_EVENT_NAME: 'push',
      GITHUB_EVENT_PATH: eventPath,
      GITHUB_REPOSITORY: REPO,
      GITHUB_SERVER_URL: 'https://github.com',
      GITHUB_RUN_ID: String(this.runId++),
      GITHUB_WORKSPACE: this.workspace,
      GITHUB_API_URL: this.kube.githubUrl,
      GITHUB_SHA: sha,
      GITHUB_ACTOR: 'bench',
    };
    const input = actionInputs((n) => all[n] ?? '', env);
    const { ctx, start } = prepareAction(input, env);
    const base = createPorts(connectionsOf(input, ctx), logger, env, {
      mask: () => {},
      group,
      // GitHub's pacing of writes (about a second apart) scaled down as in the tests: the writes
      // are counted and reported instead.
      githubWaitScale: 0.001,
    });
    let client: KubeClient | undefined;
    // A new client per run, as a job has (discovery included), counting what it sends.
    const kc = loadKubeConfig({ kubeconfig: this.kube.kubeconfigPath, env: {} }).kc;
    const ports: Ports = {
      ...base,
      kube: () =>
        (client ??= createKubeClient(kc, {
          logger,
          onResponse: ({ method, path }) => onRequest(method, path),
        })),
    };
    return { ctx, start, ports, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
  }

  /** One timed run of a command, with its segments, Kubernetes requests and GitHub requests. */
  private async command(inputs: Record<string, string>, sha: string): Promise<OurRun> {
    const segments: Segment[] = [{ name: '· before any group', ms: 0, requests: [], at: epoch() }];
    let segStart = 0;
    const open = (name: string) => {
      const now = performance.now();
      (segments.at(-1) as Segment).ms = now - segStart;
      segStart = now;
      segments.push({ name, ms: 0, requests: [], at: epoch() });
    };
    const group: Ports['group'] = async (title, fn) => {
      const name = title.split(' ')[0] as string;
      open(name);
      try {
        return await fn();
      } finally {
        open(`· after ${name}`);
      }
    };
    const warnings: string[] = [];
    const logger: Logger = { info: () => {}, debug: () => {}, warning: (m: string) => void warnings.push(m) };
    const { start, ports, cleanup } = this.prepare(
      inputs,
      sha,
      (method, path) => (segments.at(-1) as Segment).requests.push(describeRequest(method, path)),
      logger,
      group,
    );
    // Each GitHub request (the hooks see every attempt) is put in the segment it was sent in, with
    // its time, so GitHub's share of a segment is visible.
    const sent = new WeakMap<object, { at: number; segment: Segment }>();
    ports.github?.hook.before('request', (options) => {
      sent.set(options, { at: performance.now(), segment: segments.at(-1) as Segment });
    });
    const done = (options: { method: string; url: string }) => {
      const s = sent.get(options);
      if (s)
        s.segment.requests.push(
          `GitHub ${options.method} ${githubRoute(new URL(options.url, 'http://x').pathname)} (${(performance.now() - s.at).toFixed(0)} ms)`,
        );
    };
    ports.github?.hook.after('request', (_response, options) => done(options));
    ports.github?.hook.error('request', (error, options) => {
      done(options);
      throw error;
    });
    const ghFrom = (await this.kube.githubRequests()).length;
    const c0 = this.kube.cpuMs();
    const t0 = performance.now();
    segStart = t0;
    const result = await start(ports);
    const end = performance.now();
    (segments.at(-1) as Segment).ms = end - segStart;
    const serverCpuMs = this.kube.cpuMs() - c0;
    cleanup();
    if (!result.ok) throw new Error(`bench: ${inputs.command} failed: ${result.failure}\n${result.text}`);
    if (warnings.length) console.log(`  (${inputs.command} warned: ${warnings.join(' | ')})`);
    const github = (await this.kube.githubRequests())
      .slice(ghFrom)
      .map((r) => `${r.method} ${githubRoute(r.path)}`);
    const run: OurRun = { ms: end - t0, serverCpuMs, segments, github, result, warnings };
    const apply = segments.find((s) => s.name === 'Apply');
    const wait = segments.find((s) => s.name === 'Wait');
    const readyAt = inputs.to ? await this.kube.readyAt(inputs.to) : undefined;
    if (apply && wait && readyAt !== undefined)
      run.wait = { controllers: readyAt - (apply.at + apply.ms), notice: wait.at + wait.ms - readyAt };
    return run;
  }

  private async peer(steps: [string, string[]][]): Promise<PeerRun> {
    const times = new Map<string, number>();
    const c0 = this.kube.cpuMs();
    const t0 = performance.now();
    for (const [name, args] of steps) {
      const s0 = performance.now();
      await this.kubectl(args);
      times.set(name, performance.now() - s0);
    }
    return { ms: performance.now() - t0, serverCpuMs: this.kube.cpuMs() - c0, steps: times };
  }

  /** kubectl's requests for the same steps, from its `-v=6` log (one untimed run). */
  private async peerRequests(steps: string[][]): Promise<string[]> {
    const out: string[] = [];
    for (const args of steps) {
      const { stderr } = await this.kubectl([...args, '-v=6']);
      for (const m of stderr.matchAll(/"?(GET|POST|PUT|PATCH|DELETE)"? "?https:\/\/[^/\s"]+([^\s"?]*)/g))
        out.push(describeRequest(m[1] as string, m[2] as string));
    }
    return out;
  }

  /**
   * kubectl with the emulator's kubeconfig. `kubectl diff` exits 1 for "differences", which every diff
   * here must find (a new namespace; other digests): 0 would mean it compared the wrong thing.
   */
  private async kubectl(args: string[]): Promise<{ stdout: string; stderr: string }> {
    try {
      const out = await promisify(execFile)('kubectl', [...this.k, ...args], { maxBuffer: 64 * 1024 * 1024 });
      if (args[0] === 'diff') throw new Error(`bench: kubectl ${args.join(' ')} found no difference`);
      return out;
    } catch (e) {
      const err = e as { code?: number; stdout?: string; stderr?: string };
      if (args[0] === 'diff' && err.code === 1) return { stdout: err.stdout ?? '', stderr: err.stderr ?? '' };
      throw e;
    }
  }

  private write(name: string, objects: KubeObject[]): string {
    const file = join(this.workspace, name);
    writeFileSync(file, objects.map((o) => stringify(o)).join('---\n'));
    return file;
  }

  private async settle(namespace: string, objects: KubeObject[]): Promise<void> {
    const client = createKubeClient(this.kc, { logger: quiet });
    const res = await waitForWorkloads(client, {
      namespace,
      objects: inNamespace(objects, namespace),
      timeoutMs: 120_000,
      logger: quiet,
    });
    if (!res.ok) throw new Error(`bench: the workloads in ${namespace} did not become ready`);
  }
}

function row(
  name: string,
  peerLabel: string,
  ours: OurRun[],
  peer: PeerRun[],
  peerRequests: string[],
): StageRow {
  const last = ours.at(-1) as OurRun;
  // The flow is the same every run, so segment i is the same phase in each; medians per index.
  const segments = last.segments.map((s, i) => ({
    name: s.name,
    ms: median(ours.map((r) => r.segments[i]?.ms ?? 0)),
    requests: s.requests,
    at: s.at,
  }));
  const waits = ours.flatMap((r) => (r.wait ? [r.wait] : []));
  const steps = new Map(
    [...(peer[0]?.steps.keys() ?? [])].map((k) => [k, median(peer.map((p) => p.steps.get(k) ?? 0))]),
  );
  return {
    name,
    ours: median(ours.map((r) => r.ms)),
    peer: median(peer.map((r) => r.ms)),
    peerLabel: `kubectl ${peerLabel}`,
    serverCpu: { ours: median(ours.map((r) => r.serverCpuMs)), peer: median(peer.map((r) => r.serverCpuMs)) },
    segments,
    peerSteps: steps,
    peerRequests,
    github: last.github,
    ...(waits.length
      ? {
          wait: {
            controllers: median(waits.map((w) => w.controllers)),
            notice: median(waits.map((w) => w.notice)),
          },
        }
      : {}),
  };
}

/** Now, as epoch ms with sub-ms precision (comparable with the emulator process's clock). */
function epoch(): number {
  return performance.timeOrigin + performance.now();
}

/** A GitHub request's route as the report shows it: the repository, ids and compare range generalised. */
function githubRoute(path: string): string {
  return decodeURIComponent(path)
    .replace(`/repos/${REPO}`, '/repos/:repo')
    .replace('/repos/{owner}/{repo}', '/repos/:repo')
    .replace(/\/compare\/.*/, '/compare/:basehead')
    .replace(/\/(\d+|\{\w+\})/g, '/:id');
}

/** "GET secrets", "PATCH deployments", "GET discovery", "LIST pods", "WATCH …" from a request's method and path. */
export function describeRequest(method: string, path: string): string {
  const segs = path.split('/').filter(Boolean);
  // kubectl reads OpenAPI v3 documents (/openapi/v3/…) for server-side apply and field validation.
  if (segs[0] !== 'api' && segs[0] !== 'apis') return `${method} ${segs[0] ?? '/'}`;
  const core = segs[0] === 'api';
  const rest = core ? segs.slice(2) : segs.slice(3);
  if (segs.length <= (core ? 2 : 3)) return `${method} discovery`;
  const local = rest[0] === 'namespaces' && rest.length >= 3 ? rest.slice(2) : rest;
  const resource = local.length >= 3 ? `${local[0]}/${local[2]}` : (local[0] as string);
  const verb = method === 'GET' ? (local.length === 1 ? 'LIST' : 'GET') : method;
  return `${verb} ${resource}`;
}

/** A temp workspace: a copy of the fixture and one overlay per stage setting only its namespace. */
function boutiqueWorkspace(): string {
  const ws = mkdtempSync(join(tmpdir(), 'kubestage-bench-stages-'));
  cpSync(join(sharedDir, 'fixtures', 'online-boutique'), join(ws, 'online-boutique'), { recursive: true });
  for (const stage of ['development', 'testing']) {
    mkdirSync(join(ws, 'overlays', stage), { recursive: true });
    writeFileSync(
      join(ws, 'overlays', stage, 'kustomization.yaml'),
      `apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: ${stage}\nresources:\n  - ../../online-boutique\n`,
    );
  }
  mkdirSync(join(ws, '.github'));
  // No url, so no smoke checks; testing is not protected, so no approval is read.
  writeFileSync(
    join(ws, '.github', 'kubestage.yml'),
    `environments:
  - name: development
    namespace: development
    manifests: overlays/development
  - name: testing
    namespace: testing
    manifests: overlays/testing
    requires: development
    protected: false
`,
  );
  return ws;
}

/** The `images` input of a CI build: every unpinned image of the fixture at a digest of build `build`. */
function boutiqueDigests(build: string): string {
  const dir = join(sharedDir, 'fixtures', 'online-boutique', 'base');
  const names = new Set<string>();
  for (const f of [
    'adservice',
    'cartservice',
    'checkoutservice',
    'currencyservice',
    'emailservice',
    'frontend',
    'loadgenerator',
    'paymentservice',
    'productcatalogservice',
    'recommendationservice',
    'shippingservice',
  ]) {
    for (const m of readFileSync(join(dir, `${f}.yaml`), 'utf8').matchAll(/image:\s*(\S+)/g)) {
      const ref = m[1] as string;
      if (!ref.includes('@')) names.add(ref.replace(/:[^:/]+$/, ''));
    }
  }
  return [...names]
    .map((n) => `${n}=${n}@sha256:${createHash('sha256').update(`${n}#${build}`).digest('hex')}`)
    .join('\n');
}

function inNamespace(objects: KubeObject[], namespace: string): KubeObject[] {
  return objects.map((o) => ({ ...o, metadata: { ...o.metadata, namespace } }));
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? (s[Math.floor(s.length / 2)] as number) : NaN;
}

export interface EmulatorsProcess {
  kubeconfigPath: string;
  githubUrl: string;
  /** Every request the GitHub emulator served so far (its /_emulator/requests control route). */
  githubRequests(): Promise<{ method: string; path: string }[]>;
  /** When the namespace's Deployments last all became available (epoch ms), as the emulator saw it. */
  readyAt(namespace: string): Promise<number | undefined>;
  /** Seeds the GitHub emulator's pull requests and comments in its process (bench/emulators.ts `seedPulls`). */
  seedPulls(seed: PullSeed): Promise<SeededPulls>;
  cpuMs(): number;
  close(): Promise<void>;
}

/** bench/emulators.ts in its own process; its CPU time read from /proc. */
export async function startEmulatorsProcess(
  latencyMs: number,
  githubSeed: unknown,
): Promise<EmulatorsProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'kubestage-bench-stage-emu-'));
  const child = spawn(
    node24,
    [
      '--import',
      'tsx',
      join(repoRoot, 'bench', 'emulators.ts'),
      '--dir',
      dir,
      '--latency-ms',
      String(latencyMs),
      '--github-seed',
      JSON.stringify(githubSeed),
    ],
    { cwd: repoRoot, stdio: ['ignore', 'pipe', 'inherit', 'ipc'] },
  );
  const [kubeconfigPath, githubUrl] = await new Promise<[string, string]>((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /ready (\S+) (\S+)/.exec(out);
      if (m) resolve([m[1] as string, m[2] as string]);
    });
    child.on('exit', (code) => reject(new Error(`bench/emulators.ts exited (${code}):\n${out}`)));
  });
  return {
    kubeconfigPath,
    githubUrl,
    githubRequests: async () => {
      const res = await fetch(`${githubUrl}/_emulator/requests`);
      return (await res.json()) as { method: string; path: string }[];
    },
    readyAt: (namespace) =>
      new Promise((resolve) => {
        child.once('message', (m: { readyAt: number | null }) => resolve(m.readyAt ?? undefined));
        child.send({ readyAt: namespace });
      }),
    seedPulls: (seed) =>
      new Promise((resolve, reject) => {
        child.once('message', (m: { seeded?: SeededPulls; error?: string }) =>
          m.seeded ? resolve(m.seeded) : reject(new Error(`bench/emulators.ts: ${m.error ?? 'no reply'}`)),
        );
        child.send({ seedPulls: seed });
      }),
    cpuMs: () => {
      try {
        const stat = readFileSync(`/proc/${child.pid}/stat`, 'utf8');
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        return (Number(fields[11]) + Number(fields[12])) * 10;
      } catch {
        return NaN;
      }
    },
    close: async () => {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
