// What a preview and a cleanup cost on GitHub, counted by route on the GitHub emulator: every write
// is a second of GitHub's pacing off a user's preview. And what the PR shows for an app that nothing
// routes to, for two apps on one PR, and when GitHub cannot be reached at cleanup.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { pullRequestEvent } from '../support/action.js';
import { type Bed, EXAMPLE_IMAGES, REPO, SHA_A, SHA_B, startBed, TOKEN } from '../support/bed.js';
import { appManifests, makeWorkspace } from '../support/workspace.js';

let bed: Bed;
afterEach(async () => {
  expect(bed.github.invalidRequests()).toEqual([]);
  await bed.close();
});

function event(number: number, action: 'opened' | 'synchronize' | 'closed', headSha: string) {
  return pullRequestEvent({ action, repo: REPO, number, headSha, headRef: `feature/${number}` });
}

/** The GitHub requests made by `fn`, as `METHOD path` lines. */
async function requestsOf<T>(fn: () => Promise<T>): Promise<{ value: T; all: string[]; writes: string[] }> {
  const from = bed.github.requests.length;
  const value = await fn();
  const all = bed.github.requests.slice(from).map((r) => `${r.method} ${r.path}`);
  return { value, all, writes: all.filter((r) => !r.startsWith('GET ')) };
}

describe('GitHub requests per run', () => {
  beforeEach(async () => {
    bed = await startBed();
  });

  test('first preview ≤ 8 requests; an update of it ≤ 7 with ≤ 4 writes; cleanup ≤ 5', async () => {
    const pull = bed.github.state.addPull({ repo: REPO, number: 40, headSha: SHA_A, headRef: 'feature/40' });
    const first = await requestsOf(() =>
      bed.run({ payload: event(40, 'opened', SHA_A), inputs: { images: EXAMPLE_IMAGES } }),
    );
    expect(first.value.result.ok).toBe(true);
    expect(first.all.length).toBeLessThanOrEqual(8);

    pull.headSha = SHA_B;
    const update = await requestsOf(() =>
      bed.run({ payload: event(40, 'synchronize', SHA_B), inputs: { images: EXAMPLE_IMAGES } }),
    );
    expect(update.value.result.ok).toBe(true);
    expect(update.all.length).toBeLessThanOrEqual(7);
    expect(update.writes.length).toBeLessThanOrEqual(4);
    // The recorded comment is edited by id (no listing of the PR's comments), the previous deployment
    // retired by id (no listing of deployments).
    expect(update.all.filter((r) => r.endsWith('/comments'))).toEqual([]);
    expect(update.all.filter((r) => r === `GET /repos/${REPO}/deployments`)).toEqual([]);
    const deployments = bed.github.state.deployments(REPO);
    expect(deployments).toHaveLength(2);
    expect(bed.github.state.deploymentStatuses(REPO, deployments[0]!.id).at(-1)?.state).toBe('inactive');
    expect(bed.github.state.deploymentStatuses(REPO, deployments[1]!.id).at(-1)?.state).toBe('success');
    expect(bed.markerComments(40)).toHaveLength(1);
    expect(bed.markerComments(40)[0]!.body).toContain('b2b2b2b');

    bed.github.state.setPullState(REPO, 40, 'closed', true);
    const cleanup = await requestsOf(() =>
      bed.run({ payload: event(40, 'closed', SHA_B), inputs: { command: 'cleanup' } }),
    );
    expect(cleanup.value.result.ok).toBe(true);
    expect(cleanup.all.length).toBeLessThanOrEqual(5);
    expect(bed.markerComments(40)[0]!.body).toContain('Preview destroyed');
    for (const d of bed.github.state.deployments(REPO))
      expect(bed.github.state.deploymentStatuses(REPO, d.id).at(-1)?.state).toBe('inactive');
  });

  test('a comment deleted by someone is found again or written anew, not lost', async () => {
    bed.github.state.addPull({ repo: REPO, number: 41, headSha: SHA_A, headRef: 'feature/41' });
    expect(
      (await bed.run({ payload: event(41, 'opened', SHA_A), inputs: { images: EXAMPLE_IMAGES } })).result.ok,
    ).toBe(true);
    const [comment] = bed.markerComments(41);
    // Someone deletes it on GitHub (the namespace still records its id).
    const deleted = await fetch(`${bed.github.url}/repos/${REPO}/issues/comments/${comment!.id}`, {
      method: 'DELETE',
      headers: { authorization: `token ${TOKEN}` },
    });
    expect(deleted.status).toBe(204);
    const again = await bed.run({ payload: event(41, 'opened', SHA_A), inputs: { images: EXAMPLE_IMAGES } });
    expect(again.result.ok).toBe(true);
    expect(bed.markerComments(41)).toHaveLength(1);
    expect(again.result.outputs['comment-id']).toBe(String(bed.markerComments(41)[0]!.id));
  });

  test('a lost reply on creating the deployment does not make a second one', async () => {
    bed.github.state.addPull({ repo: REPO, number: 47, headSha: SHA_A, headRef: 'feature/47' });
    bed.github.faults.dropReply(1, { method: 'POST', path: /\/deployments$/ });
    const { result } = await bed.run({
      payload: event(47, 'opened', SHA_A),
      inputs: { images: EXAMPLE_IMAGES },
    });
    expect(result.ok).toBe(true);
    const deployments = bed.github.state.deployments(REPO);
    expect(deployments).toHaveLength(1);
    expect(result.outputs['deployment-id']).toBe(String(deployments[0]!.id));
    expect(bed.github.state.deploymentStatuses(REPO, deployments[0]!.id).at(-1)?.state).toBe('success');
  });

  test('a cleanup that cannot update the PR comment fails, so the PR does not go on showing a live preview', async () => {
    bed.github.state.addPull({ repo: REPO, number: 42, headSha: SHA_A, headRef: 'feature/42' });
    expect(
      (await bed.run({ payload: event(42, 'opened', SHA_A), inputs: { images: EXAMPLE_IMAGES } })).result.ok,
    ).toBe(true);
    bed.github.faults.serverError(50, 503);
    const { result } = await bed.run({ payload: event(42, 'closed', SHA_A), inputs: { command: 'cleanup' } });
    expect(bed.object('v1', 'Namespace', undefined, 'pr-42')).toBeUndefined();
    expect(result.ok).toBe(false);
    expect(result.failure).toContain(
      'Namespace pr-42 is gone, but the PR comment still shows the preview as live',
    );
    expect(result.failure).toContain('Re-run the cleanup');
  });
});

test('a slow preview says it is deploying: an in_progress status and a "Deploying" comment before the result', async () => {
  bed = await startBed({ controllers: { readyDelayMs: 11_000, timeScale: 0.05 } });
  bed.github.state.addPull({ repo: REPO, number: 43, headSha: SHA_A, headRef: 'feature/43' });
  const bodies: string[] = [];
  const stop = setInterval(() => {
    const c = bed.markerComments(43)[0];
    if (c && bodies.at(-1) !== c.body) bodies.push(c.body);
  }, 50);
  const { result } = await bed.run({
    payload: event(43, 'opened', SHA_A),
    inputs: { images: EXAMPLE_IMAGES, 'wait-timeout': '60' },
  });
  clearInterval(stop);
  expect(result.ok).toBe(true);
  const [deployment] = bed.github.state.deployments(REPO);
  expect(bed.github.state.deploymentStatuses(REPO, deployment!.id).map((s) => s.state)).toEqual([
    'in_progress',
    'success',
  ]);
  expect(bodies[0]).toContain('Deploying preview');
  expect(bed.markerComments(43)[0]!.body).toContain('Preview ready');
}, 60_000);

describe('what the PR is told', () => {
  beforeEach(async () => {
    bed = await startBed();
  });

  test('an app that nothing routes to gets no URL: the comment says how to reach it, the deployment has no environment_url', async () => {
    const ws = makeWorkspace(appManifests());
    bed.github.state.addPull({ repo: REPO, number: 44, headSha: SHA_A, headRef: 'feature/44' });
    const { result } = await bed.run({
      payload: event(44, 'opened', SHA_A),
      workspace: ws,
      inputs: { manifests: 'k8s' },
    });
    expect(result.ok).toBe(true);
    expect(result.outputs.url).toBe('');
    const [comment] = bed.markerComments(44);
    expect(comment!.body).toContain('Nothing routes to this preview');
    expect(comment!.body).toContain('kubectl -n pr-44 port-forward service/web 8080:80');
    expect(comment!.body).not.toContain('https://pr-44');
    // No image of this PR was set: said plainly.
    expect(comment!.body).toContain('No `images` were given');
    const [deployment] = bed.github.state.deployments(REPO);
    const statuses = bed.github.state.deploymentStatuses(REPO, deployment!.id);
    expect(statuses.every((s) => !s.environmentUrl)).toBe(true);
    expect(result.summary).toContain('URL: none (nothing routes to the preview)');
    expect(
      bed.object('v1', 'Namespace', undefined, 'pr-44')!.metadata.annotations?.['kubestage.dev/url'],
    ).toBeUndefined();
  });

  test('a host another namespace already serves is refused before any write, naming it', async () => {
    bed.kube.store.create(bed.kube.store.findTypeByKind('v1', 'Namespace')!, {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: 'team-b' },
    });
    bed.kube.store.create(bed.kube.store.findTypeByKind('networking.k8s.io/v1', 'Ingress')!, {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'Ingress',
      metadata: { name: 'squatter', namespace: 'team-b' },
      spec: { rules: [{ host: 'pr-45.preview.example.com' }] },
    });
    bed.github.state.addPull({ repo: REPO, number: 45, headSha: SHA_A, headRef: 'feature/45' });
    const before = bed.kube.requests.length;
    const { result } = await bed.run({
      payload: event(45, 'opened', SHA_A),
      inputs: { images: EXAMPLE_IMAGES },
    });
    expect(result.ok).toBe(false);
    expect(result.failure).toContain('pr-45.preview.example.com is served by Ingress team-b/squatter');
    expect(result.failure).toContain('{repo}-pr-{number}');
    expect(bed.kube.requests.slice(before).filter((r) => r.method !== 'GET')).toEqual([]);
  });

  test('two apps on one PR keep their own namespace, comment and deployments', async () => {
    const web = makeWorkspace(appManifests({ image: 'example/web:1.0' }));
    bed.github.state.addPull({ repo: REPO, number: 46, headSha: SHA_A, headRef: 'feature/46' });
    const run = (app: string) =>
      bed.run({ payload: event(46, 'opened', SHA_A), workspace: web, inputs: { manifests: 'k8s', app } });
    expect((await run('web')).result.ok).toBe(true);
    expect((await run('api')).result.ok).toBe(true);
    expect(bed.object('v1', 'Namespace', undefined, 'pr-46-web')).toBeDefined();
    expect(bed.object('v1', 'Namespace', undefined, 'pr-46-api')).toBeDefined();
    const comments = bed.github.state.comments(REPO, 46).map((c) => c.body.split('\n')[0]);
    expect(comments.sort()).toEqual(['<!-- kubestage:preview:api -->', '<!-- kubestage:preview:web -->']);
    const deployments = bed.github.state.deployments(REPO);
    expect(deployments.map((d) => d.environment).sort()).toEqual(['preview-api', 'preview-web']);
    // Neither app's run retired the other's deployment.
    for (const d of deployments)
      expect(bed.github.state.deploymentStatuses(REPO, d.id).at(-1)?.state).toBe('success');

    const cleanup = await bed.run({
      payload: event(46, 'closed', SHA_A),
      inputs: { command: 'cleanup', app: 'web' },
    });
    expect(cleanup.result.ok).toBe(true);
    expect(bed.object('v1', 'Namespace', undefined, 'pr-46-web')).toBeUndefined();
    expect(bed.object('v1', 'Namespace', undefined, 'pr-46-api')).toBeDefined();
  });
});

describe('a flaky connection to the cluster', () => {
  beforeEach(async () => {
    bed = await startBed();
  });

  test.each([
    ['drop', 'GET'],
    ['drop', 'PATCH'],
    ['dropReply', 'PATCH'],
    ['drop', 'watch'],
  ])('one %s on the first %s request does not fail the preview', async (kind, method) => {
    bed.github.state.addPull({ repo: REPO, number: 48, headSha: SHA_A, headRef: 'feature/48' });
    bed.kube.faults.failNext(1, {
      ...(method === 'watch' ? { method: 'GET', queryPattern: /watch=/ } : { method }),
      status: kind as 'drop' | 'dropReply',
    });
    const { result } = await bed.run({
      payload: event(48, 'opened', SHA_A),
      inputs: { images: EXAMPLE_IMAGES },
    });
    expect(result.failure).toBeUndefined();
    expect(result.ok).toBe(true);
  });

  test("a namespace DELETE whose reply is lost still reports the objects removed, not 'already gone'", async () => {
    bed.github.state.addPull({ repo: REPO, number: 49, headSha: SHA_A, headRef: 'feature/49' });
    expect(
      (await bed.run({ payload: event(49, 'opened', SHA_A), inputs: { images: EXAMPLE_IMAGES } })).result.ok,
    ).toBe(true);
    bed.kube.faults.failNext(1, {
      method: 'DELETE',
      pathPattern: /\/namespaces\/pr-49$/,
      status: 'dropReply',
    });
    const { result, log } = await bed.run({
      payload: event(49, 'closed', SHA_A),
      inputs: { command: 'cleanup' },
    });
    expect(result.ok).toBe(true);
    expect(Number(result.outputs['objects-removed'])).toBeGreaterThanOrEqual(6);
    expect(log.text()).not.toContain('already gone');
    expect(bed.object('v1', 'Namespace', undefined, 'pr-49')).toBeUndefined();
  });
});

test('a stuck cleanup leaves the deployment as it was; the cleanup that sees the namespace go retires it', async () => {
  bed = await startBed();
  const ws = makeWorkspace(
    appManifests({
      extra:
        'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: held\n  finalizers: ["example.com/hold"]\ndata: {}\n',
    }),
  );
  bed.github.state.addPull({ repo: REPO, number: 90, headSha: SHA_A, headRef: 'feature/90' });
  const inputs = { manifests: 'k8s' };
  expect((await bed.run({ payload: event(90, 'opened', SHA_A), workspace: ws, inputs })).result.ok).toBe(
    true,
  );
  const [deployment] = bed.github.state.deployments(REPO);
  const latest = () => bed.github.state.deploymentStatuses(REPO, deployment!.id).at(-1);

  const stuck = await bed.run({
    payload: event(90, 'closed', SHA_A),
    workspace: ws,
    inputs: { ...inputs, command: 'cleanup', 'wait-timeout': '1' },
  });
  expect(stuck.result.ok).toBe(false);
  // Not gone, so not "removed": the deployment keeps its state.
  expect(latest()?.state).toBe('success');

  // The finalizer's controller lets go; the namespace goes; a re-run sees it gone.
  await promisify(execFile)(
    'kubectl',
    ['-n', 'pr-90', 'patch', 'configmap', 'held', '--type=merge', '-p', '{"metadata":{"finalizers":null}}'],
    { env: { ...process.env, KUBECONFIG: bed.kube.kubeconfigPath } },
  );
  for (let i = 0; i < 100 && bed.object('v1', 'Namespace', undefined, 'pr-90'); i++)
    await new Promise((r) => setTimeout(r, 20));
  const again = await bed.run({
    payload: event(90, 'closed', SHA_A),
    workspace: ws,
    inputs: { ...inputs, command: 'cleanup' },
  });
  expect(again.result.ok).toBe(true);
  expect(latest()?.state).toBe('inactive');
  expect(bed.markerComments(90)[0]!.body).toContain('Preview destroyed');
  expect(bed.markerComments(90)[0]!.body).not.toContain(' 0 objects');
});
