// `status` over the emulators: previews in every state, read back from what `preview` recorded and
// judged from what the cluster shows now.
import { pullRequestEvent } from '../support/action.js';
import { type Bed, EXAMPLE_IMAGES, REPO, startBed } from '../support/bed.js';
import type { KObject } from '../emulators/kube/store.js';

const SHA = 'c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3';

let bed: Bed;
beforeEach(async () => {
  // Pods take 1.5 s to become ready, so a preview can be seen while it deploys.
  bed = await startBed({ controllers: { readyDelayMs: 1500, timeScale: 0.01 } });
});
afterEach(async () => {
  expect(bed.github.invalidRequests()).toEqual([]);
  await bed.close();
});

function event(number: number) {
  bed.github.state.addPull({
    repo: REPO,
    number,
    headSha: SHA,
    headRef: `feature/${number}`,
    title: `PR ${number}`,
  });
  return pullRequestEvent({
    action: 'opened',
    repo: REPO,
    number,
    headSha: SHA,
    headRef: `feature/${number}`,
  });
}

function store(apiVersion: string, kind: string) {
  return bed.kube.store.findTypeByKind(apiVersion, kind)!;
}

interface Row {
  namespace: string;
  pr?: number;
  state: string;
  recorded?: string;
  detail?: string;
  url?: string;
  headSha?: string;
  actor?: string;
  expiresAt?: string;
  updatedAt?: string;
  createdAt?: string;
}

async function status(inputs: Record<string, string> = {}) {
  const { result } = await bed.run({
    eventName: 'schedule',
    payload: {},
    inputs: { command: 'status', ...inputs },
  });
  expect(result.ok).toBe(true);
  return { result, rows: JSON.parse(result.outputs.previews) as Row[] };
}

test('status lists each preview with its record and its live state: ready, failing, deploying, terminating', async () => {
  expect((await bed.run({ payload: event(1), inputs: { images: EXAMPLE_IMAGES } })).result.ok).toBe(true);
  expect((await bed.run({ payload: event(2), inputs: { images: EXAMPLE_IMAGES } })).result.ok).toBe(true);
  expect((await bed.run({ payload: event(4), inputs: { images: EXAMPLE_IMAGES } })).result.ok).toBe(true);

  // PR 2: someone `kubectl set image`s a tag that does not exist. The record still says ready.
  const deployments = store('apps/v1', 'Deployment');
  const web = bed.kube.store.get(deployments, 'pr-2', 'web')!;
  const spec = structuredClone(web.spec) as { template: { spec: { containers: { image: string }[] } } };
  spec.template.spec.containers[0].image = 'ghcr.io/acme/does-not-exist:1';
  bed.kube.store.update(deployments, { ...web, spec } as KObject);

  // PR 4: torn down, but a finalizer holds the namespace.
  const configMaps = store('v1', 'ConfigMap');
  const cm = bed.kube.store.list(configMaps, 'pr-4')[0];
  bed.kube.store.update(configMaps, {
    ...cm,
    metadata: { ...cm.metadata, finalizers: ['example.com/hold'] },
  });
  const cleanup = await bed.run({
    payload: event(4),
    inputs: { command: 'cleanup', 'wait-timeout': '1' },
  });
  expect(cleanup.result.ok).toBe(false);

  // PR 3: deploying while status runs.
  const deploying = bed.run({ payload: event(3), inputs: { images: EXAMPLE_IMAGES } });
  await waitFor(() => bed.kube.store.get(deployments, 'pr-3', 'web') !== undefined);
  // Give the image-pull failure of PR 2 time to show on its new pod.
  await new Promise((r) => setTimeout(r, 300));
  const { result, rows } = await status();
  const d = await deploying;
  expect(d.result.failure).toBeUndefined();

  const byPr = new Map(rows.map((r) => [r.pr, r]));
  expect([...byPr.keys()].sort()).toEqual([1, 2, 3, 4]);
  expect(byPr.get(1)).toMatchObject({
    namespace: 'pr-1',
    state: 'ready',
    recorded: 'ready',
    url: 'https://pr-1.preview.example.com',
    headSha: SHA,
  });
  expect(byPr.get(1)?.actor).toBeTruthy();
  expect(Date.parse(byPr.get(1)?.expiresAt ?? '')).toBeGreaterThan(Date.now());
  // A stale record is shown as the cluster has it.
  expect(byPr.get(2)).toMatchObject({ state: 'failing', recorded: 'ready' });
  expect(byPr.get(2)?.detail).toMatch(/Deployment\/web .*(ImagePull|ErrImagePull)/);
  expect(byPr.get(3)).toMatchObject({ state: 'deploying' });
  expect(byPr.get(4)).toMatchObject({ state: 'terminating' });

  // People read a table: a row per preview, the stale one called out.
  expect(result.summary).toContain('| `pr-1` | #1 |');
  expect(result.summary).toMatch(/`pr-2`.*❌ failing \(recorded ready\)/);
  expect(result.text.split('\n')[0]).toMatch(/^NAMESPACE\s+PR\s+COMMIT\s+STATE/);
  expect(result.text).toMatch(/pr-2\s+#2\s+c3c3c3c\s+failing \(recorded ready\)/);
});

test("status shows only this repository's previews unless all-repos is set", async () => {
  expect(
    (await bed.run({ payload: event(5), inputs: { images: EXAMPLE_IMAGES } })).result.failure,
  ).toBeUndefined();
  // Another repository's preview on the same cluster.
  bed.kube.store.create(store('v1', 'Namespace'), {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: {
      name: 'other-pr-9',
      labels: {
        'app.kubernetes.io/managed-by': 'kubestage',
        'kubestage.dev/repo': 'acme.other',
        'kubestage.dev/environment': 'preview',
        'kubestage.dev/pr': '9',
      },
      annotations: { 'kubestage.dev/pr': '9', 'kubestage.dev/state': 'ready' },
    },
  });
  const mine = await status();
  expect(mine.rows.map((r) => r.namespace)).toEqual(['pr-5']);
  const all = await status({ 'all-repos': 'true' });
  expect(all.rows.map((r) => r.namespace).sort()).toEqual(['other-pr-9', 'pr-5']);
  expect(all.result.text).toMatch(/^REPO\s+NAMESPACE/);
});

test('status with no previews says so', async () => {
  const { result, rows } = await status();
  expect(rows).toEqual([]);
  expect(result.text).toBe('No previews of acme/shop.\n');
  expect(result.summary).toContain('No previews.');
});

async function waitFor(ok: () => boolean, ms = 10_000): Promise<void> {
  const until = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}
