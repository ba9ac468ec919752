// The cap on live previews over the emulators: fail (naming the live previews), runs racing for the last
// slot (exactly one admitted, decided on the cluster under a Lease), the queue (position on the comment,
// priority before arrival), and eviction (the least recently updated preview of lower or equal priority,
// its PR told why).
import { pullRequestEvent } from '../support/action.js';
import { REPO, startBed, type Bed } from '../support/bed.js';
import { appManifests, makeWorkspace } from '../support/workspace.js';

const SHA = 'c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3';

let bed: Bed;
let ws: string;
beforeEach(async () => {
  bed = await startBed();
  ws = makeWorkspace(appManifests());
});
afterEach(async () => {
  expect(bed.github.invalidRequests()).toEqual([]);
  await bed.close();
});

function preview(
  n: number,
  inputs: Record<string, string>,
  opts: { labels?: string[]; now?: () => Date; action?: 'opened' | 'synchronize' } = {},
) {
  const pull = { repo: REPO, number: n, headSha: SHA, headRef: `feature/${n}`, title: `PR ${n}` };
  if ((opts.action ?? 'opened') === 'opened')
    bed.github.state.addPull({ ...pull, labels: opts.labels ?? [] });
  const payload = pullRequestEvent({ action: opts.action ?? 'opened', ...pull });
  (payload.pull_request as Record<string, unknown>).labels = (opts.labels ?? []).map((name) => ({ name }));
  return bed.run({
    payload,
    workspace: ws,
    inputs: { manifests: 'k8s', ...inputs },
    ...(opts.now ? { now: opts.now } : {}),
  });
}

const live = () =>
  bed.kube.store
    .list(bed.kube.store.findTypeByKind('v1', 'Namespace')!)
    .filter(
      (n) => n.metadata.labels?.['kubestage.dev/environment'] === 'preview' && !n.metadata.deletionTimestamp,
    )
    .map((n) => n.metadata.name)
    .sort();

test('fail: a preview over the cap is refused naming the live previews; a push to a live preview is admitted', async () => {
  const cap = { 'max-previews': '2' };
  expect((await preview(1, cap)).result.failure).toBeUndefined();
  expect((await preview(2, cap)).result.failure).toBeUndefined();
  const r = await preview(3, cap);
  expect(r.result.ok).toBe(false);
  expect(r.result.failure).toContain(
    'No preview slot: 2 of 2 previews (max-previews, of this repository) are live',
  );
  expect(r.result.failure).toContain('pr-1 (PR #1');
  expect(r.result.failure).toContain('pr-2 (PR #2');
  expect(r.result.failure).toContain('when-full: queue');
  expect(bed.markerComments(3)[0]?.body).toContain('No preview slot');
  expect(live()).toEqual(['pr-1', 'pr-2']);
  // A push to PR 1 is not a new preview.
  expect((await preview(1, cap, { action: 'synchronize' })).result.failure).toBeUndefined();
});

test.each([2, 10])(
  '%i runs racing for the last slot: exactly one is admitted',
  async (n) => {
    const cap = { 'max-previews': '3' };
    expect((await preview(1, cap)).result.ok).toBe(true);
    expect((await preview(2, cap)).result.ok).toBe(true);
    const runs = await Promise.all(Array.from({ length: n }, (_, i) => preview(10 + i, cap)));
    const admitted = runs.filter((r) => r.result.ok);
    expect(admitted).toHaveLength(1);
    expect(runs.filter((r) => !r.result.ok).every((r) => r.result.failure?.includes('No preview slot'))).toBe(
      true,
    );
    expect(live()).toHaveLength(3);
    // The decision was taken on the cluster: the Lease exists and nobody holds it now.
    const lease = bed.object('coordination.k8s.io/v1', 'Lease', 'default', 'kubestage-previews-acme.shop') as
      { spec?: { holderIdentity?: string } } | undefined;
    expect(lease).toBeDefined();
    expect(lease?.spec?.holderIdentity ?? '').toBe('');
  },
  120_000,
);

test('queue: a queued preview shows its position and starts when a slot frees; higher priority goes first', async () => {
  const cap = { 'max-previews': '1', 'when-full': 'queue', 'queue-timeout': '60s' };
  expect((await preview(1, cap)).result.ok).toBe(true);
  const normal = preview(2, cap);
  // Wait until PR 2 says it is queued.
  for (let i = 0; i < 100 && !bed.markerComments(2)[0]?.body.includes('Waiting for a preview slot'); i++)
    await new Promise((r) => setTimeout(r, 100));
  expect(bed.markerComments(2)[0]?.body).toContain('position 1 of 1');
  const high = preview(3, cap, { labels: ['preview-priority/high'] });
  for (let i = 0; i < 100 && !bed.markerComments(3)[0]?.body.includes('Waiting for a preview slot'); i++)
    await new Promise((r) => setTimeout(r, 100));
  // The high-priority PR is ahead of the one that came first.
  expect(bed.markerComments(3)[0]?.body).toContain('position 1 of 2');
  // PR 1 closes: its cleanup frees the slot; PR 3 gets it, PR 2 keeps waiting.
  bed.github.state.setPullState(REPO, 1, 'closed');
  const closed = pullRequestEvent({
    action: 'closed',
    repo: REPO,
    number: 1,
    headSha: SHA,
    headRef: 'feature/1',
  });
  expect((await bed.run({ payload: closed, workspace: ws, inputs: { command: 'cleanup' } })).result.ok).toBe(
    true,
  );
  const third = await high;
  expect(third.result.failure).toBeUndefined();
  expect(live()).toEqual(['pr-3']);
  // Then PR 3 closes and PR 2 gets its turn.
  bed.github.state.setPullState(REPO, 3, 'closed');
  const closed3 = pullRequestEvent({
    action: 'closed',
    repo: REPO,
    number: 3,
    headSha: SHA,
    headRef: 'feature/3',
  });
  expect((await bed.run({ payload: closed3, workspace: ws, inputs: { command: 'cleanup' } })).result.ok).toBe(
    true,
  );
  expect((await normal).result.failure).toBeUndefined();
  expect(live()).toEqual(['pr-2']);
}, 120_000);

test('queue: waiting longer than queue-timeout fails with the live previews named', async () => {
  const cap = { 'max-previews': '1', 'when-full': 'queue', 'queue-timeout': '2s' };
  expect((await preview(1, cap)).result.ok).toBe(true);
  const r = await preview(2, cap);
  expect(r.result.failure).toContain('after waiting');
  expect(r.result.failure).toContain('pr-1 (PR #1');
});

test('evict: the least recently updated preview of lower or equal priority makes room, and its PR is told', async () => {
  const cap = { 'max-previews': '2', 'when-full': 'evict' };
  const at = (iso: string) => () => new Date(iso);
  expect((await preview(1, cap, { now: at('2026-11-30T08:00:00Z') })).result.ok).toBe(true);
  expect(
    (await preview(2, cap, { now: at('2026-11-30T09:00:00Z'), labels: ['preview-priority/high'] })).result.ok,
  ).toBe(true);
  // PR 1 is older than PR 2; PR 2 is high priority anyway.
  const r = await preview(3, cap, { now: at('2026-11-30T10:00:00Z') });
  expect(r.result.failure).toBeUndefined();
  expect(r.log.text()).toContain('deleted pr-1');
  await new Promise((res) => setTimeout(res, 200));
  expect(live()).toEqual(['pr-2', 'pr-3']);
  const told = bed.markerComments(1)[0]?.body ?? '';
  expect(told).toContain('Preview removed to make room');
  expect(told).toContain('PR #3 needed a slot');
  expect(told).toContain('push a commit or re-run');
  // Only high-priority previews left besides the newcomer's peer: a low-priority PR cannot evict them.
  const low = await preview(
    4,
    { ...cap },
    { labels: ['preview-priority/low'], now: at('2026-11-30T11:00:00Z') },
  );
  expect(low.result.failure).toContain('none has a priority at or below low');
});

test('without a cap, the story starts with the namespace created', async () => {
  expect((await preview(5, {})).result.ok).toBe(true);
  const reasons = bed.objects('v1', 'Event', 'pr-5').map((e) => (e as { reason?: string }).reason);
  expect(reasons).toEqual(expect.arrayContaining(['Created', 'Deployed']));
});

test('the namespace tells its story: Events and the last-action annotation, shown by status', async () => {
  const cap = { 'max-previews': '1', 'when-full': 'evict' };
  expect((await preview(1, cap)).result.ok).toBe(true);
  expect((await preview(2, cap)).result.ok).toBe(true);
  const events = bed
    .objects('v1', 'Event', 'pr-2')
    .map((e) => `${(e as { reason?: string }).reason}: ${(e as { message?: string }).message}`);
  expect(events.find((e) => e.startsWith('Admitted:'))).toContain('evicted pr-1 to make room');
  expect(events.find((e) => e.startsWith('Evicted:'))).toContain('deleted pr-1 (PR #1, priority normal');
  expect(events.find((e) => e.startsWith('Deployed:'))).toMatch(/commit c3c3c3c: \d+ created; ready/);
  const annotations = bed.object('v1', 'Namespace', undefined, 'pr-2')?.metadata.annotations ?? {};
  expect(annotations['kubestage.dev/last-action']).toMatch(/^Deployed \d{4}-\d\d-\d\dT.*: commit c3c3c3c/);
  const status = await bed.run({
    payload: { ref: 'refs/heads/main', after: SHA },
    eventName: 'push',
    inputs: { command: 'status' },
  });
  expect(status.result.text).toMatch(/pr-2 last: Deployed .*commit c3c3c3c/);
});

test('time in the queue is not taken from the rollout: a preview that waited longer than wait-timeout still deploys', async () => {
  const cap = { 'max-previews': '1', 'when-full': 'queue', 'queue-timeout': '60s', 'wait-timeout': '2' };
  expect((await preview(1, cap)).result.ok).toBe(true);
  const waiting = preview(2, cap);
  await new Promise((r) => setTimeout(r, 3500));
  bed.github.state.setPullState(REPO, 1, 'closed');
  const closed = pullRequestEvent({
    action: 'closed',
    repo: REPO,
    number: 1,
    headSha: SHA,
    headRef: 'feature/1',
  });
  expect((await bed.run({ payload: closed, workspace: ws, inputs: { command: 'cleanup' } })).result.ok).toBe(
    true,
  );
  const r = await waiting;
  expect(r.result.failure).toBeUndefined();
  expect(r.log.text()).toMatch(/Admitted after waiting [3-9]\d*s in the queue: 1 of 1 previews/);
}, 60_000);

test("evict mode's advice fits it: a PR of lower priority than every live preview is told how to get a slot", async () => {
  const cap = { 'max-previews': '1', 'when-full': 'evict' };
  expect((await preview(1, cap, { labels: ['preview-priority/high'] })).result.ok).toBe(true);
  const r = await preview(2, cap);
  expect(r.result.failure).toContain('Every live preview has a higher priority than this PR (normal)');
  expect(r.result.failure).toContain('preview-priority/high');
  expect(r.result.failure).not.toContain('when-full: queue');
  // A refused preview has no URL.
  expect(r.result.outputs.url ?? '').toBe('');
});

test("another repository's run on the same namespace name writes nothing there: no record, no story, no URL", async () => {
  expect((await preview(3, {})).result.ok).toBe(true);
  const before = structuredClone(bed.object('v1', 'Namespace', undefined, 'pr-3')?.metadata.annotations);
  const eventsBefore = bed.objects('v1', 'Event', 'pr-3').length;
  bed.github.state.addRepo('acme/other');
  bed.github.state.addPull({
    repo: 'acme/other',
    number: 3,
    headSha: SHA,
    headRef: 'feature/3',
    title: 'PR 3',
  });
  const other = await bed.run({
    payload: pullRequestEvent({
      action: 'opened',
      repo: 'acme/other',
      number: 3,
      headSha: SHA,
      headRef: 'feature/3',
    }),
    workspace: ws,
    inputs: { manifests: 'k8s', domain: 'preview.example.com' },
    env: { GITHUB_REPOSITORY: 'acme/other' },
  });
  expect(other.result.ok).toBe(false);
  expect(other.result.failure).toContain('belongs to repo "acme.shop"');
  expect(other.result.outputs.url ?? '').toBe('');
  expect(bed.object('v1', 'Namespace', undefined, 'pr-3')?.metadata.annotations).toEqual(before);
  expect(bed.objects('v1', 'Event', 'pr-3')).toHaveLength(eventsBefore);
});
