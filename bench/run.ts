// `npm run bench`: kubestage against its real peer, kubectl, on the same emulator in the same run.
// Reports ratios (peer time / our time), never absolute pass/fail timings.
import { execFile, execFileSync, spawn, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { applyRendered, guardRendered } from '../src/steps/release.js';
import { createKubeClient, type KubeClient } from '../src/kube/client.js';
import { loadKubeConfig } from '../src/kube/kubeconfig.js';
import type { Logger } from '../src/logger.js';
import type { KubeObject } from '../src/model/kube-object.js';
import {
  LABEL_ENVIRONMENT,
  LABEL_INSTANCE,
  LABEL_MANAGED_BY,
  LABEL_REPO,
  MANAGED_BY,
  PREVIEW_ENVIRONMENT,
} from '../src/model/labels.js';
import { parseAllow } from '../src/render/allow.js';
import { renderManifests } from '../src/render/kustomize.js';
import { distEntry, node24, repoRoot, sharedDir } from '../test/support/action.js';

const LATENCY_MS = 5;
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const quiet: Logger = { info: () => {}, warning: () => {}, debug: () => {} };

interface Row {
  name: string;
  ours: number;
  peer: number;
}

async function main(): Promise<void> {
  const rows: Row[] = [];
  // The emulator runs in its own process, as an API server would: neither client shares its CPU time.
  const kube = await startEmulatorProcess();
  try {
    const { kc } = loadKubeConfig({ kubeconfig: kube.kubeconfigPath, env: {} });
    const client = createKubeClient(kc, { logger: quiet });
    console.log(
      `kubestage bench — ${LATENCY_MS} ms latency injected on every Kubernetes request, median of ${RUNS} runs\n`,
    );

    const boutique = join(sharedDir, 'fixtures', 'online-boutique');
    rows.push(...(await compare(kube, client, 'Online Boutique', async (ns) => render(boutique, ns))));
    const generated = generateApp(300);
    rows.push(
      ...(await compare(kube, client, 'generated 300-object app', async (ns) => inNamespace(generated, ns))),
    );
  } finally {
    await kube.close();
  }

  console.log('\n| scenario | kubestage (ms) | kubectl apply --server-side (ms) | speed-up |');
  console.log('|---|---:|---:|---:|');
  for (const r of rows) {
    console.log(
      `| ${r.name} | ${r.ours.toFixed(0)} | ${r.peer.toFixed(0)} | ${(r.peer / r.ours).toFixed(1)}× |`,
    );
  }
  const big = rows.find((r) => r.name.startsWith('generated') && r.name.endsWith('new namespace'));
  if (big) {
    const ratio = big.peer / big.ours;
    console.log(
      `\nTarget: the 300-object apply at least 5× faster than kubectl — ${ratio >= 5 ? 'met' : 'NOT met'} (${ratio.toFixed(1)}×).`,
    );
  }

  await coldStart();
  bundleSize();
}

/** Times our apply path (guard + waves + server-side apply + prune) and kubectl's on fresh namespaces. */
interface EmulatorProcess {
  kubeconfigPath: string;
  close(): Promise<void>;
}

async function startEmulatorProcess(): Promise<EmulatorProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'kubestage-bench-emu-'));
  const child = spawn(
    node24,
    [
      '--import',
      'tsx',
      join(repoRoot, 'test', 'emulators', 'cli.ts'),
      '--dir',
      dir,
      '--latency-ms',
      String(LATENCY_MS),
      '--ready-delay-ms',
      '50',
    ],
    { cwd: repoRoot, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  await new Promise<void>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('Press Ctrl-C')) resolve();
    });
    child.on('exit', (code) =>
      reject(new Error(`the emulators exited (${code}) before they were ready:\n${out}`)),
    );
  });
  return {
    kubeconfigPath: join(dir, 'kubeconfig'),
    close: async () => {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Times our apply path (guard + namespace + server-side apply in waves + prune) and kubectl's, first on a
 * fresh namespace (a PR opened), then again with every image retagged (a push to the PR).
 */
async function compare(
  kube: EmulatorProcess,
  client: KubeClient,
  name: string,
  objectsFor: (ns: string) => Promise<KubeObject[]>,
): Promise<Row[]> {
  const times = {
    ours: [] as number[],
    peer: [] as number[],
    oursPush: [] as number[],
    peerPush: [] as number[],
  };
  for (let i = 0; i < RUNS; i++) {
    const nsOurs = `bench-ours-${slug(name)}-${i}`;
    const labels = {
      [LABEL_MANAGED_BY]: MANAGED_BY,
      [LABEL_REPO]: 'bench.bench',
      [LABEL_ENVIRONMENT]: PREVIEW_ENVIRONMENT,
      [LABEL_INSTANCE]: nsOurs,
    };
    const ours = async (objects: KubeObject[]) => {
      const t0 = performance.now();
      // The same code path as the preview command (src/steps/release.ts).
      await guardRendered(client, objects, nsOurs, { allow: parseAllow('load-balancer') }); // Online Boutique's frontend-external
      await applyRendered(client, objects, {
        namespace: nsOurs,
        labels,
        annotations: {},
        repoLabel: 'bench.bench',
        waitTerminatingMs: 60_000,
        logger: quiet,
      });
      return performance.now() - t0;
    };
    const objects = await objectsFor(nsOurs);
    times.ours.push(await ours(objects));
    times.oursPush.push(await ours(retag(objects, 'push-2')));

    const nsPeer = `bench-kubectl-${slug(name)}-${i}`;
    const dir = mkdtempSync(join(tmpdir(), 'kubestage-bench-'));
    const peerObjects = await objectsFor(nsPeer);
    const kubectl = async (objs: KubeObject[], create: boolean) => {
      const file = join(dir, 'app.yaml');
      writeFileSync(file, objs.map((o) => stringify(o)).join('---\n'));
      const t1 = performance.now();
      // Asynchronous: kubectl is a child process, and this one keeps its event loop free.
      if (create) await run('kubectl', ['--kubeconfig', kube.kubeconfigPath, 'create', 'namespace', nsPeer]);
      await run('kubectl', [
        '--kubeconfig',
        kube.kubeconfigPath,
        'apply',
        '--server-side',
        '--field-manager',
        'bench',
        '-f',
        file,
      ]);
      return performance.now() - t1;
    };
    times.peer.push(await kubectl(peerObjects, true));
    times.peerPush.push(await kubectl(retag(peerObjects, 'push-2'), false));
    rmSync(dir, { recursive: true, force: true });
  }
  const count = (await objectsFor('x')).length;
  const rows = [
    { name: `${name} (${count} objects), new namespace`, ours: median(times.ours), peer: median(times.peer) },
    {
      name: `${name} (${count} objects), a push (images retagged)`,
      ours: median(times.oursPush),
      peer: median(times.peerPush),
    },
  ];
  for (const row of rows) {
    console.log(
      `${row.name}: kubestage ${row.ours.toFixed(0)} ms, kubectl ${row.peer.toFixed(0)} ms → ${(row.peer / row.ours).toFixed(1)}×`,
    );
  }
  return rows;
}

/** The objects with every container image's tag replaced, as a new commit's build would. */
function retag(objects: KubeObject[], tag: string): KubeObject[] {
  const copy = structuredClone(objects);
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(visit);
    if (!node || typeof node !== 'object') return;
    const o = node as Record<string, unknown>;
    for (const key of ['containers', 'initContainers']) {
      const list = o[key];
      if (Array.isArray(list)) {
        for (const c of list as Record<string, unknown>[]) {
          if (typeof c.image === 'string')
            c.image = `${c.image.split('@')[0].replace(/:[^:/]+$/, '')}:${tag}`;
        }
      }
    }
    Object.values(o).forEach(visit);
  };
  visit(copy);
  return copy;
}

async function render(dir: string, namespace: string): Promise<KubeObject[]> {
  const { objects } = await renderManifests({
    workspace: join(dir, '..'),
    manifests: 'online-boutique',
    namespace,
    images: [],
    labels: { [LABEL_MANAGED_BY]: MANAGED_BY, [LABEL_REPO]: 'bench.bench', [LABEL_INSTANCE]: namespace },
  });
  return objects;
}

/** n objects: a quarter each ConfigMaps, Secrets, Services and Deployments. */
function generateApp(n: number): KubeObject[] {
  const out: KubeObject[] = [];
  for (let i = 0; out.length < n; i++) {
    const name = `svc-${i}`;
    out.push({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: `${name}-config` },
      data: { INDEX: String(i), MODE: 'bench' },
    });
    out.push({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: `${name}-secret` },
      type: 'Opaque',
      stringData: { token: `t-${i}` },
    });
    out.push({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name },
      spec: { selector: { app: name }, ports: [{ port: 80, targetPort: 8080 }] },
    });
    out.push({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name },
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: name } },
        template: {
          metadata: { labels: { app: name } },
          spec: {
            containers: [
              {
                name: 'app',
                image: `registry.example.com/bench/${name}:1.0.0`,
                ports: [{ containerPort: 8080 }],
                envFrom: [{ configMapRef: { name: `${name}-config` } }],
              },
            ],
          },
        },
      },
    });
  }
  return out.slice(0, n);
}

function inNamespace(objects: KubeObject[], namespace: string): Promise<KubeObject[]> {
  return Promise.resolve(
    objects.map((o) => ({
      ...structuredClone(o),
      metadata: {
        ...o.metadata,
        namespace,
        labels: {
          ...o.metadata.labels,
          [LABEL_MANAGED_BY]: MANAGED_BY,
          [LABEL_REPO]: 'bench.bench',
          [LABEL_INSTANCE]: namespace,
        },
      },
    })),
  );
}

/** Launch of dist/index.js to its first Kubernetes API request, against bare `node -e 0`. */
async function coldStart(): Promise<void> {
  const times: number[] = [];
  const bare: number[] = [];
  const loadOnly: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    let first = 0;
    const server = createServer((req, res) => {
      if (!first) first = performance.now();
      res.writeHead(503, { 'content-type': 'application/json' }).end('{"kind":"Status","code":503}');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    const dir = mkdtempSync(join(tmpdir(), 'kubestage-cold-'));
    const kubeconfig = join(dir, 'kubeconfig');
    writeFileSync(
      kubeconfig,
      `apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: "http://127.0.0.1:${port}"}}]\nusers: [{name: u, user: {token: bench}}]\ncontexts: [{name: c, context: {cluster: c, user: u}}]\ncurrent-context: c\n`,
    );
    const event = join(dir, 'event.json');
    writeFileSync(
      event,
      JSON.stringify({
        action: 'closed',
        number: 1,
        pull_request: { number: 1, state: 'closed', head: { sha: 'a'.repeat(40), ref: 'x' } },
      }),
    );
    const start = performance.now();
    const child = spawn(node24, [distEntry], {
      env: {
        PATH: process.env.PATH,
        GITHUB_EVENT_NAME: 'pull_request',
        GITHUB_EVENT_PATH: event,
        GITHUB_REPOSITORY: 'bench/bench',
        GITHUB_OUTPUT: join(dir, 'out'),
        GITHUB_STEP_SUMMARY: join(dir, 'summary'),
        INPUT_COMMAND: 'cleanup',
        INPUT_KUBECONFIG: kubeconfig,
        INPUT_COMMENT: 'false',
        INPUT_DEPLOYMENT: 'false',
        'INPUT_WAIT-TIMEOUT': '5',
      },
      stdio: 'ignore',
    });
    while (!first && child.exitCode === null) await new Promise((r) => setTimeout(r, 1));
    if (first) times.push(first - start);
    child.kill('SIGKILL');
    server.close();
    rmSync(dir, { recursive: true, force: true });

    const b0 = performance.now();
    execFileSync(node24, ['-e', '0']);
    bare.push(performance.now() - b0);
    const l0 = performance.now();
    // No inputs: the bundle is evaluated and run() stops at the first settings check.
    spawnSync(node24, [distEntry], { env: { PATH: process.env.PATH }, stdio: 'ignore' });
    loadOnly.push(performance.now() - l0);
  }
  console.log(
    `\nCold start (dist/index.js launch → first Kubernetes API request): ${median(times).toFixed(0)} ms`,
  );
  console.log(
    `  of which bare Node 24 start-up (node -e 0): ${median(bare).toFixed(0)} ms; launch + evaluating the bundle: ${median(loadOnly).toFixed(0)} ms`,
  );
  console.log(`  ratio to bare node: ${(median(times) / median(bare)).toFixed(1)}×`);
}

/** dist size and the packages that dominate it (from an unminified stats build). */
function bundleSize(): void {
  const dist = join(repoRoot, 'dist');
  const files = readdirSync(dist).map((f) => ({ f, size: statSync(join(dist, f)).size }));
  const total = files.reduce((s, x) => s + x.size, 0);
  console.log(
    `\ndist/: ${(total / 1024 / 1024).toFixed(2)} MiB (${files.map((x) => `${x.f} ${(x.size / 1024).toFixed(0)} KiB`).join(', ')})`,
  );
  const out = mkdtempSync(join(tmpdir(), 'kubestage-stats-'));
  try {
    execFileSync(
      node24,
      [
        join(repoRoot, 'node_modules', '@vercel', 'ncc', 'dist', 'ncc', 'cli.js'),
        'build',
        'src/index.ts',
        '-o',
        out,
        '-q',
        '--stats-out',
        join(out, 'stats.json'),
      ],
      {
        cwd: repoRoot,
        stdio: 'ignore',
      },
    );
    interface StatsModule {
      name?: string;
      size?: number;
      modules?: StatsModule[];
    }
    const stats = JSON.parse(readFileSync(join(out, 'stats.json'), 'utf8')) as { modules?: StatsModule[] };
    // Concatenated modules ("./src/index.ts + 400 modules") list their parts in `modules`.
    const flat = (ms: StatsModule[]): StatsModule[] =>
      ms.flatMap((m) => (m.modules?.length ? flat(m.modules) : [m]));
    const byPackage = new Map<string, number>();
    for (const m of flat(stats.modules ?? [])) {
      const name = m.name ?? '';
      const match = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(name);
      const key = match
        ? match[1]
        : name.includes('/src/') || name.startsWith('./src')
          ? '(kubestage src)'
          : '(other)';
      byPackage.set(key, (byPackage.get(key) ?? 0) + (m.size ?? 0));
    }
    const sum = [...byPackage.values()].reduce((a, b) => a + b, 0) || 1;
    console.log('  what dominates it (unminified module bytes by package):');
    for (const [pkg, size] of [...byPackage.entries()].sort((a, b) => b[1] - a[1]).slice(0, 8)) {
      console.log(
        `    ${pkg.padEnd(32)} ${(size / 1024).toFixed(0).padStart(6)} KiB  ${((size / sum) * 100).toFixed(0)} %`,
      );
    }
  } catch (e) {
    console.log(`  (could not build the stats bundle: ${(e as Error).message})`);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

const run = (cmd: string, args: string[]) => promisify(execFile)(cmd, args, { maxBuffer: 64 * 1024 * 1024 });

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor(s.length / 2)] : NaN;
}

function slug(s: string): string {
  return s
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .slice(0, 20)
    .replace(/-+$/, '');
}

main().catch((e: Error) => {
  console.error(`bench failed: ${e.stack ?? e.message}`);
  process.exit(1);
});
