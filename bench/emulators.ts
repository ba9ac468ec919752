// The stage bench's API servers: the Kubernetes emulator in its own process (as an API
// server runs, so neither client shares its CPU), with workloads that become ready at once —
// no pull or start delay, probe delays and progress deadlines scaled by --time-scale — so that a
// stage change's rollout wait is as short as the emulator allows and what remains is our own work.
// The GitHub emulator runs here too (seeded from --github-seed), so that its OpenAPI checks do not
// take CPU time from the client being timed. Prints "ready <kubeconfig path> <GitHub API URL>".
import { parseArgs } from 'node:util';
import { startGitHubEmulator } from '../test/emulators/github/index.js';
import { startKubeEmulator } from '../test/emulators/kube/index.js';

/** Pull requests to seed (the sweep bench): each with kubestage's comment; `gone` ones removed after (404). */
export interface PullSeed {
  repo: string;
  /** The body of kubestage's comment (marker first), as a ready preview leaves it. */
  commentBody: string;
  pulls: {
    number: number;
    state: 'open' | 'closed';
    merged: boolean;
    gone: boolean;
    title: string;
    headSha: string;
    headRef: string;
    labels: string[];
  }[];
}

/** PR number → the id of kubestage's comment on it. */
export interface SeededPulls {
  comments: Record<number, number>;
}

const { values } = parseArgs({
  options: {
    dir: { type: 'string' },
    'latency-ms': { type: 'string', default: '0' },
    'time-scale': { type: 'string', default: '0.001' },
    // {"repo":"owner/name","token":"…","commits":[{"sha":"…","message":"…","author":{…}}]}
    'github-seed': { type: 'string', default: '{}' },
  },
});
if (!values.dir) {
  console.error('bench/emulators.ts: --dir DIR is required (where the kubeconfig is written)');
  process.exit(2);
}
const kube = await startKubeEmulator({
  dir: values.dir,
  latencyMs: Number(values['latency-ms']),
  namespaceDeletionDelayMs: 20,
  controllers: { readyDelayMs: 0, timeScale: Number(values['time-scale']) },
});

// When each namespace's Deployments were last all rolled out (epoch ms, sub-ms precision), so the
// bench can tell the controllers' time from the time our waiter takes to notice: asked over IPC.
const deployments = new Map<string, Map<string, boolean>>();
const lastReady = new Map<string, number>();
kube.store.subscribe((e) => {
  if (e.object.kind !== 'Deployment') return;
  const ns = e.object.metadata.namespace as string;
  const byName = deployments.get(ns) ?? new Map<string, boolean>();
  deployments.set(ns, byName);
  const o = e.object as {
    metadata: { name?: string; generation?: number };
    spec?: { replicas?: number };
    status?: { observedGeneration?: number; updatedReplicas?: number; availableReplicas?: number };
  };
  const want = o.spec?.replicas ?? 1;
  const ready =
    e.type !== 'DELETED' &&
    (o.status?.observedGeneration ?? 0) >= (o.metadata.generation ?? 1) &&
    (o.status?.updatedReplicas ?? 0) >= want &&
    (o.status?.availableReplicas ?? 0) >= want;
  const wasAll = byName.size > 0 && [...byName.values()].every(Boolean);
  byName.set(o.metadata.name as string, ready);
  if (e.type === 'DELETED') byName.delete(o.metadata.name as string);
  const isAll = byName.size > 0 && [...byName.values()].every(Boolean);
  if (isAll && !wasAll) lastReady.set(ns, performance.timeOrigin + performance.now());
});
const github = await startGitHubEmulator();
process.on('message', (m: { readyAt?: string; seedPulls?: PullSeed }) => {
  if (m.readyAt !== undefined) process.send?.({ readyAt: lastReady.get(m.readyAt) ?? null });
  if (m.seedPulls) {
    try {
      process.send?.({ seeded: seedPulls(m.seedPulls) });
    } catch (e) {
      process.send?.({ error: (e as Error).message });
    }
  }
});
const seed = JSON.parse(values['github-seed']) as {
  repo?: string;
  token?: string;
  commits?: Parameters<typeof github.state.addCommits>[1];
};
if (seed.repo) github.state.addRepo(seed.repo);
if (seed.token) github.state.setToken(seed.token, { permissions: 'write' });
if (seed.repo && seed.commits) github.state.addCommits(seed.repo, seed.commits);

/**
 * As `preview` leaves GitHub: the PR, and the bot's comment on it found by its marker. A PR that is
 * gone (GitHub answers 404 for it) had its comment and its commit before it went.
 */
function seedPulls(seed: PullSeed): SeededPulls {
  const comments: Record<number, number> = {};
  const bot = github.state.user('github-actions[bot]');
  for (const p of seed.pulls) {
    github.state.addPull({
      repo: seed.repo,
      number: p.number,
      headSha: p.headSha,
      headRef: p.headRef,
      title: p.title,
      state: p.state,
      merged: p.merged,
      labels: p.labels,
    });
    const repo = github.state.repo(seed.repo);
    if (!repo) throw new Error(`no repository ${seed.repo}`);
    comments[p.number] = github.state.createComment(repo, p.number, seed.commentBody, bot).id;
    if (p.gone) repo.pulls.delete(p.number);
  }
  return { comments };
}
console.log(`ready ${kube.kubeconfigPath} ${github.url}`);
const stop = async () => {
  await Promise.allSettled([kube.close(), github.close()]);
  process.exit(0);
};
process.on('SIGINT', () => void stop());
process.on('SIGTERM', () => void stop());
