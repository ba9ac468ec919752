// `sweep` over the emulators: a scheduled run deletes exactly the previews that expired or whose PR is
// closed, merged or gone — never another repository's, never a stage's — reads each PR at most once,
// tells each PR why, and reports a namespace it cannot delete without hanging on it.
import { createGitHubClient } from '../../src/github/client.js';
import { createDeployment, setDeploymentStatus } from '../../src/github/deployments.js';
import {
  COMMENT_MARKER,
  LABEL_ENVIRONMENT,
  LABEL_INSTANCE,
  LABEL_MANAGED_BY,
  LABEL_PR,
  LABEL_REPO,
  MANAGED_BY,
  repoLabelValue,
} from '../../src/model/labels.js';
import { encodeRecord } from '../../src/model/records.js';
import { pullRequestEvent } from '../support/action.js';
import { type Bed, EXAMPLE_IMAGES, REPO, startBed, TOKEN } from '../support/bed.js';
import { recordingLogger } from '../support/logger.js';

let bed: Bed;
beforeEach(async () => {
  bed = await startBed();
});
afterEach(async () => {
  expect(bed.github.invalidRequests()).toEqual([]);
  expect(bed.github.responseProblems()).toEqual([]);
  await bed.close();
});

const HOUR = 3_600_000;
const sha = (n: number) => n.toString(16).padStart(40, 'a');

function namespaces() {
  return bed.kube.store.list(bed.kube.store.findTypeByKind('v1', 'Namespace')!);
}
function namespaceNames(): string[] {
  return namespaces()
    .map((n) => n.metadata.name as string)
    .sort();
}

/** A namespace as `preview` leaves it (labels + record), seeded straight into the cluster. */
function seedNamespace(
  name: string,
  o: {
    repo?: string;
    environment?: string;
    pr?: number;
    expiresAt?: Date;
    commentId?: number;
    deploymentId?: number;
    managedBy?: string;
  },
): void {
  const labels: Record<string, string> = {
    [LABEL_MANAGED_BY]: o.managedBy ?? MANAGED_BY,
    [LABEL_REPO]: repoLabelValue(o.repo ?? REPO),
    [LABEL_ENVIRONMENT]: o.environment ?? 'preview',
    [LABEL_INSTANCE]: name,
  };
  if (o.pr !== undefined) labels[LABEL_PR] = String(o.pr);
  bed.kube.store.create(bed.kube.store.findTypeByKind('v1', 'Namespace')!, {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: {
      name,
      labels,
      annotations: encodeRecord({
        pr: o.pr,
        headSha: o.pr !== undefined ? sha(o.pr) : undefined,
        url: o.pr !== undefined ? `https://pr-${o.pr}.preview.example.com` : undefined,
        updatedAt: o.expiresAt ? new Date(o.expiresAt.getTime() - 7 * 24 * HOUR) : undefined,
        expiresAt: o.expiresAt,
        commentId: o.commentId,
        deploymentId: o.deploymentId,
        state: 'ready',
      }),
    },
  });
  bed.kube.store.create(bed.kube.store.findTypeByKind('v1', 'ConfigMap')!, {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      name: 'web-config',
      namespace: name,
      labels: { [LABEL_INSTANCE]: name },
      // As server-side apply by kubestage leaves it: what cleanup and sweep count as "ours".
      managedFields: [
        { manager: 'kubestage', operation: 'Apply', apiVersion: 'v1', fieldsType: 'FieldsV1', fieldsV1: {} },
      ],
    },
    data: { greeting: 'hello' },
  });
}

type Fate = 'open' | 'closed' | 'merged' | 'gone';

/**
 * 120 previews: PRs 1–110 cycle closed, merged, open, open (every other one of those expired; PR 3
 * carries preview-keep), PRs 111–120 do not exist (404). Each existing PR has our comment and a live
 * deployment. Plus another repository's expired preview, a stage namespace of this repository, and a
 * namespace with our labels but not made by kubestage.
 */
async function seed(now: Date) {
  const gh = createGitHubClient({
    token: TOKEN,
    baseUrl: bed.github.url,
    logger: recordingLogger(),
    waitScale: 0.001,
  });
  const repo = { owner: 'acme', repo: 'shop' };
  const fates = new Map<number, Fate>();
  const expired = new Set<number>();
  const comments = new Map<number, number>();
  const deployments = new Map<number, number>();
  for (let n = 1; n <= 120; n++) {
    const fate: Fate = n > 110 ? 'gone' : (['open', 'closed', 'merged', 'open'] as const)[n % 4]!;
    fates.set(n, fate);
    if (fate === 'open' && n % 8 === 3) expired.add(n);
    if (fate !== 'gone') {
      bed.github.state.addPull({
        repo: REPO,
        number: n,
        headSha: sha(n),
        headRef: `feature/${n}`,
        title: `PR ${n}`,
        ...(fate === 'open' ? {} : { state: 'closed' as const, merged: fate === 'merged' }),
        ...(n === 3 ? { labels: ['bug', 'Preview-Keep'] } : {}),
      });
      const c = bed.github.state.createComment(
        bed.github.state.repo(REPO)!,
        n,
        `${COMMENT_MARKER}\n### ✅ Preview ready\n\nhttps://pr-${n}.preview.example.com`,
        bed.github.state.user('github-actions[bot]'),
      );
      comments.set(n, c.id);
    }
    const id = await createDeployment(gh, repo, {
      ref: fate === 'gone' ? 'main' : sha(n),
      environment: 'preview',
      transient: true,
      production: false,
      prNumber: n,
    });
    await setDeploymentStatus(gh, repo, id, { state: 'success', description: 'ready' });
    deployments.set(n, id);
    seedNamespace(`pr-${n}`, {
      pr: n,
      expiresAt: new Date(now.getTime() + (expired.has(n) ? -HOUR : 72 * HOUR)),
      commentId: comments.get(n),
      deploymentId: id,
    });
  }
  expect(expired.has(3)).toBe(true);
  seedNamespace('other-pr-1', { repo: 'acme/other', pr: 1, expiresAt: new Date(now.getTime() - HOUR) });
  seedNamespace('development', { environment: 'development' });
  seedNamespace('handmade-pr-2', { pr: 2, managedBy: 'helm', expiresAt: new Date(now.getTime() - HOUR) });
  return { fates, expired, comments, deployments };
}

async function sweep(inputs: Record<string, string> = {}, now?: () => Date) {
  const before = bed.github.requests.length;
  const run = await bed.run({
    eventName: 'schedule',
    payload: { schedule: '17 3 * * *' },
    inputs: { command: 'sweep', ...inputs },
    ...(now ? { now } : {}),
  });
  const requests = bed.github.requests.slice(before);
  const out = run.result.outputs;
  return {
    ...run,
    requests,
    deleted: JSON.parse(out.deleted ?? '[]') as { namespace: string; pr: number | null; reason: string }[],
    kept: JSON.parse(out.kept ?? '[]') as { namespace: string; pr: number | null; reason: string }[],
    errors: JSON.parse(out.errors ?? '[]') as { namespace: string; pr: number | null; error: string }[],
  };
}

function expectedGone(fates: Map<number, Fate>, expired: Set<number>): number[] {
  return [...fates]
    .filter(([n, f]) => f !== 'open' || (expired.has(n) && n !== 3))
    .map(([n]) => n)
    .sort((a, b) => a - b);
}

test('sweep deletes exactly the expired and closed/merged/gone previews of this repo, reads each PR once, tells each PR; dry-run writes nothing', async () => {
  const now = new Date();
  const { fates, expired, comments, deployments } = await seed(now);
  // PR state costs at most 10 requests: a page of open PRs, one of closed, then 8 GETs for the 10 PRs
  // in neither list (deleted PRs answer only to a GET), unexpired ones first. The 2 left over are
  // confirmed by the next sweep; an expired one goes anyway.
  const unlisted = [...fates].filter(([, f]) => f === 'gone').map(([n]) => n);
  const byPreference = [...unlisted].sort((a, b) => Number(expired.has(a)) - Number(expired.has(b)) || a - b);
  const confirmed = byPreference.slice(0, 8);
  const deferred = byPreference.slice(8);
  const waiting = deferred.filter((n) => !expired.has(n));
  const gone = expectedGone(fates, expired).filter((n) => !waiting.includes(n));
  expect(waiting.length).toBeGreaterThan(0); // the seed leaves an unexpired gone PR for the next sweep
  const allBefore = namespaceNames();

  // Dry run: the same verdicts, nothing deleted, nothing written to GitHub.
  const dry = await sweep({ 'dry-run': 'true' });
  expect(dry.result.ok).toBe(true);
  expect(dry.deleted.map((d) => d.pr).sort((a, b) => a! - b!)).toEqual(gone);
  expect(namespaceNames()).toEqual(allBefore);
  expect(namespaces().filter((n) => n.metadata.deletionTimestamp)).toEqual([]);
  expect(dry.requests.filter((r) => r.method !== 'GET')).toEqual([]);
  expect(dry.result.text).toContain('would delete');
  expect(dry.result.text.split('\n')[0]).toMatch(
    /dry run: \d+ of 120 preview\(s\) would be deleted.*nothing was changed/,
  );

  const run = await sweep();
  expect(run.result.failure).toBeUndefined();
  expect(run.result.ok).toBe(true);

  // The cluster: only the right namespaces are gone.
  const left = namespaceNames();
  for (let n = 1; n <= 120; n++) expect([n, left.includes(`pr-${n}`)]).toEqual([n, !gone.includes(n)]);
  expect(left).toEqual(expect.arrayContaining(['other-pr-1', 'development', 'handmade-pr-2']));
  expect(bed.objects('v1', 'ConfigMap', 'development')).toHaveLength(1);

  // Outputs: why each went, why each stayed.
  const reasonOf = new Map(run.deleted.map((d) => [d.pr, d.reason]));
  expect(run.deleted.map((d) => d.pr).sort((a, b) => a! - b!)).toEqual(gone);
  expect(reasonOf.get(1)).toBe('pr-closed');
  expect(reasonOf.get(2)).toBe('pr-merged');
  expect(reasonOf.get(11)).toBe('expired');
  expect(reasonOf.get(confirmed[0])).toBe('pr-gone');
  for (const n of deferred)
    if (expired.has(n)) expect(reasonOf.get(n)).toBe('expired');
    else expect(run.kept.find((k) => k.pr === n)?.reason).toBe('pr-unconfirmed');
  expect(run.kept.find((k) => k.pr === 3)).toEqual({ namespace: 'pr-3', pr: 3, reason: 'keep-label' });
  expect(run.kept.find((k) => k.pr === 4)).toEqual({ namespace: 'pr-4', pr: 4, reason: 'open' });
  expect(run.kept).toHaveLength(120 - gone.length);
  expect(run.errors).toEqual([]);

  // GitHub: each PR's state read at most once — one page of open PRs, one of closed, one GET per PR
  // that is gone (a 404 is the only way to know) — and nothing else read about PRs.
  const prReads = run.requests.filter((r) => r.operationId === 'pulls/get' || r.operationId === 'pulls/list');
  const gets = prReads
    .filter((r) => r.operationId === 'pulls/get')
    .map((r) => Number(r.path.split('/').pop()));
  expect(gets.sort((a, b) => a - b)).toEqual([...confirmed].sort((a, b) => a - b));
  expect(
    prReads
      .filter((r) => r.operationId === 'pulls/list')
      .map((r) => new URLSearchParams(r.query).get('state')),
  ).toEqual(['open', 'closed']);
  expect(run.result.text).toMatch(/PR states: 10 GitHub request\(s\)/);

  // Each swept PR's comment says it was removed, and why; kept PRs' comments are untouched.
  const body = (n: number) => bed.markerComments(n).find((c) => c.id === comments.get(n))?.body ?? '';
  expect(body(1)).toMatch(
    /Preview destroyed[\s\S]*because the pull request was closed: namespace `pr-1` and 1 object in it were deleted/,
  );
  expect(body(2)).toContain('because the pull request was merged');
  expect(body(11)).toMatch(
    /because it expired at \d{4}-\d\d-\d\d \d\d:\d\d UTC \(no push since .*\); a new push deploys it again/,
  );
  expect(body(11)).toMatch(/\| \*\*URL\*\* \| ~~https:\S*\/\/pr-11\.preview\.example\.com~~ \|/);
  expect(body(3)).toContain('✅ Preview ready');
  expect(body(4)).toContain('✅ Preview ready');
  for (const n of [1, 2, 11]) expect(bed.markerComments(n)).toHaveLength(1);

  // Deployments: the swept previews' (gone PRs' too) are inactive, the kept ones still live.
  const latest = new Map(bed.github.state.deployments(REPO).map((d) => [d.id, d.latestState]));
  for (const n of gone) expect([n, latest.get(deployments.get(n)!)]).toEqual([n, 'inactive']);
  for (const n of [3, 4, 7, 8]) expect([n, latest.get(deployments.get(n)!)]).toEqual([n, 'success']);

  // The table people read.
  expect(run.result.text).toMatch(/NAMESPACE\s+PR\s+PR STATE\s+EXPIRES\s+ACTION\s+REASON/);
  expect(run.result.text).toMatch(
    /pr-3\s+#3\s+open\s+60 minutes ago\s+kept\s+expired, kept by label preview-keep/,
  );
  expect(run.result.text).toMatch(/pr-2\s+#2\s+merged\s+in 3 days\s+deleted\s+PR merged/);
  expect(run.result.summary).toContain(`| \`pr-${confirmed[0]}\` | #${confirmed[0]} | gone |`);

  // A second sweep confirms the PRs left over (gone) and deletes their previews; a third has nothing to do.
  const again = await sweep();
  expect(again.deleted.map((d) => [d.pr, d.reason])).toEqual(waiting.map((n) => [n, 'pr-gone']));
  const third = await sweep();
  expect(third.deleted).toEqual([]);
  expect(third.kept).toHaveLength(120 - gone.length - waiting.length);
  expect(third.requests.filter((r) => r.method !== 'GET')).toEqual([]);
}, 60_000);

test('a namespace held by a finalizer is reported with what holds it; the others are swept; the step fails at the end', async () => {
  const now = new Date();
  for (const n of [1, 2, 3]) {
    bed.github.state.addPull({ repo: REPO, number: n, headSha: sha(n), headRef: `f/${n}`, state: 'closed' });
    seedNamespace(`pr-${n}`, { pr: n, expiresAt: new Date(now.getTime() + HOUR) });
  }
  const configMaps = bed.kube.store.findTypeByKind('v1', 'ConfigMap')!;
  const cm = bed.kube.store.get(configMaps, 'pr-2', 'web-config')!;
  bed.kube.store.update(configMaps, {
    ...cm,
    metadata: { ...cm.metadata, finalizers: ['example.com/hold'] },
  });

  const started = Date.now();
  const run = await sweep({ 'wait-timeout': '1', comment: 'false' });
  expect(Date.now() - started).toBeLessThan(15_000);
  expect(run.result.ok).toBe(false);
  expect(namespaceNames()).not.toContain('pr-1');
  expect(namespaceNames()).not.toContain('pr-3');
  // Held, so not deleted: it is in `errors`, not `deleted`.
  expect(run.deleted.map((d) => d.namespace).sort()).toEqual(['pr-1', 'pr-3']);
  expect(run.errors).toHaveLength(1);
  expect(run.errors[0]).toMatchObject({ namespace: 'pr-2', pr: 2 });
  expect(run.errors[0]!.error).toContain('still Terminating');
  expect(run.errors[0]!.error).toContain('ConfigMap/web-config');
  expect(run.errors[0]!.error).toContain('example.com/hold');
  expect(run.result.failure).toMatch(
    /1 preview namespace\(s\) could not be swept cleanly:\n {2}pr-2: namespace pr-2 is still Terminating/,
  );
  expect(run.result.text).toMatch(/pr-2\s+#2\s+closed\s+in 60 minutes\s+stuck\s+PR closed/);

  // The next sweep checks it again briefly and says the same; it never waits forever.
  const again = await sweep({ 'wait-timeout': '1', comment: 'false' });
  expect(again.errors.map((e) => e.namespace)).toEqual(['pr-2']);
  expect(again.errors[0]!.error).toContain('example.com/hold');
}, 60_000);

test('with 500 previews of 500 PRs the PR states take at most 10 GitHub requests', async () => {
  const now = new Date();
  for (let n = 1; n <= 500; n++) {
    const closed = n % 5 === 0;
    bed.github.state.addPull({
      repo: REPO,
      number: n,
      headSha: sha(n),
      headRef: `f/${n}`,
      ...(closed ? { state: 'closed' as const, merged: n % 10 === 0 } : {}),
    });
    seedNamespace(`pr-${n}`, { pr: n, expiresAt: new Date(now.getTime() + (n % 7 === 0 ? -HOUR : HOUR)) });
  }
  const run = await sweep({ 'dry-run': 'true' });
  expect(run.result.ok).toBe(true);
  const prReads = run.requests.filter((r) => r.operationId === 'pulls/get' || r.operationId === 'pulls/list');
  expect(prReads.length).toBeLessThanOrEqual(10);
  expect(prReads.filter((r) => r.operationId === 'pulls/get')).toEqual([]);
  const expected = [...Array(500).keys()].map((i) => i + 1).filter((n) => n % 5 === 0 || n % 7 === 0);
  expect(run.deleted.map((d) => d.pr).sort((a, b) => a! - b!)).toEqual(expected);
}, 60_000);

test('each preview run records a new expiry, so a push extends it; sweep removes the preview once it passes', async () => {
  bed.github.state.addPull({ repo: REPO, number: 7, headSha: sha(7), headRef: 'feature/7', title: 'PR 7' });
  const event = (headSha: string) =>
    pullRequestEvent({ action: 'synchronize', repo: REPO, number: 7, headSha, headRef: 'feature/7' });
  const t0 = new Date('2026-11-20T10:00:00Z');
  const first = await bed.run({
    payload: event(sha(7)),
    inputs: { images: EXAMPLE_IMAGES, ttl: '2d' },
    now: () => t0,
  });
  expect(first.result.failure).toBeUndefined();
  const expiry = () =>
    bed.object('v1', 'Namespace', undefined, 'pr-7')?.metadata.annotations?.['kubestage.dev/expires-at'];
  expect(expiry()).toBe('2026-11-22T10:00:00.000Z');

  // A push a day later.
  const newer = 'f'.repeat(40);
  bed.github.state.addPull({ repo: REPO, number: 7, headSha: newer, headRef: 'feature/7', title: 'PR 7' });
  const t1 = new Date('2026-11-21T10:00:00Z');
  const second = await bed.run({
    payload: event(newer),
    inputs: { images: EXAMPLE_IMAGES, ttl: '2d' },
    now: () => t1,
  });
  expect(second.result.failure).toBeUndefined();
  expect(expiry()).toBe('2026-11-23T10:00:00.000Z');
  expect(bed.markerComments(7)[0]?.body).toContain('Keep until');
  expect(bed.markerComments(7)[0]?.body).toContain('2026-11-23 10:00 UTC');

  // Past the first expiry, within the new one: kept.
  const kept = await sweep({}, () => new Date('2026-11-22T12:00:00Z'));
  expect(kept.kept).toEqual([{ namespace: 'pr-7', pr: 7, reason: 'open' }]);
  // Past the new one: removed, and the comment says so.
  const swept = await sweep({}, () => new Date('2026-11-23T12:00:00Z'));
  expect(swept.result.failure).toBeUndefined();
  expect(swept.deleted).toEqual([{ namespace: 'pr-7', pr: 7, reason: 'expired' }]);
  expect(bed.object('v1', 'Namespace', undefined, 'pr-7')).toBeUndefined();
  const comments = bed.markerComments(7);
  expect(comments).toHaveLength(1);
  expect(comments[0]?.body).toContain('because it expired at 2026-11-23 10:00 UTC');
  const deployments = bed.github.state.deployments(REPO);
  expect(deployments.every((d) => d.latestState === 'inactive')).toBe(true);
}, 60_000);

test('sweep without a GitHub token, or with an impossible keep label, says what to set', async () => {
  await expect(sweep({ 'github-token': '' })).rejects.toThrow(
    /No GitHub token: the `github-token` input is empty, and `sweep` reads each preview's pull request/,
  );
  await expect(sweep({ 'keep-label': 'x'.repeat(51) })).rejects.toThrow(
    /The `keep-label` input is "x{51}"; a GitHub label name is one line of at most 50 characters/,
  );
});

test('a PR whose state GitHub cannot give keeps its preview and is an error', async () => {
  bed.github.state.addPull({ repo: REPO, number: 1, headSha: sha(1), headRef: 'f/1', state: 'closed' });
  seedNamespace('pr-1', { pr: 1, expiresAt: new Date(Date.now() - HOUR) });
  bed.github.state.setToken(TOKEN, { permissions: 'write' });
  bed.github.state.revokeToken(TOKEN);
  const run = await sweep();
  expect(run.result.ok).toBe(false);
  expect(namespaceNames()).toContain('pr-1');
  expect(run.errors).toEqual([
    {
      namespace: 'pr-1',
      pr: 1,
      error: expect.stringMatching(/could not read PR #1: Bad credentials.*kept until its state is known/),
    },
  ]);
});

test('a preview deleted while GitHub refuses the writes is deleted, and an error naming what GitHub was not told', async () => {
  bed.github.state.addPull({ repo: REPO, number: 1, headSha: sha(1), headRef: 'f/1', state: 'closed' });
  const comment = bed.github.state.createComment(
    bed.github.state.repo(REPO)!,
    1,
    `${COMMENT_MARKER}\n### ✅ Preview ready`,
    bed.github.state.user('github-actions[bot]'),
  );
  seedNamespace('pr-1', { pr: 1, expiresAt: new Date(Date.now() + HOUR), commentId: comment.id });
  // A token without pull-requests: write (reads work, writes get 403).
  bed.github.state.setToken(TOKEN, { permissions: 'read' });
  const run = await sweep();
  expect(namespaceNames()).not.toContain('pr-1');
  expect(run.deleted).toEqual([{ namespace: 'pr-1', pr: 1, reason: 'pr-closed' }]);
  expect(run.result.ok).toBe(false);
  expect(run.errors).toEqual([
    {
      namespace: 'pr-1',
      pr: 1,
      error: expect.stringMatching(
        /^namespace pr-1 is gone, but GitHub was not told: could not update the PR comment \d+: Resource not accessible by integration/,
      ),
    },
  ]);
  expect(run.result.text).toMatch(
    /pr-1\s+#1\s+closed\s+in 60 minutes\s+deleted \(GitHub not told\)\s+PR closed/,
  );
  expect(bed.markerComments(1)[0]?.body).toContain('✅ Preview ready');
});
