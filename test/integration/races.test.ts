// Runs that race, are cancelled, or outlive their PR: the newer commit always wins, a cancelled run
// says so, and a PR closed while a preview deploys is noticed within seconds.
import { pullRequestEvent } from '../support/action.js';
import { type Bed, EXAMPLE_IMAGES, REPO, SHA_A, SHA_B, startBed } from '../support/bed.js';

let bed: Bed;
afterEach(async () => {
  await bed.close();
});

/** A pull_request event for `sha`, pushed at `at` (GitHub's pull_request.updated_at). */
function event(number: number, sha: string, at: string, action: 'opened' | 'synchronize' = 'synchronize') {
  const payload = pullRequestEvent({
    action,
    repo: REPO,
    number,
    headSha: sha,
    headRef: `feature/${number}`,
  });
  (payload.pull_request as Record<string, unknown>).updated_at = at;
  return payload;
}

function recorded(namespace: string): Record<string, string> {
  return bed.object('v1', 'Namespace', undefined, namespace)?.metadata.annotations ?? {};
}

function webImage(namespace: string): string | undefined {
  const web = bed.object('apps/v1', 'Deployment', namespace, 'web');
  return (web?.spec as { template: { spec: { containers: { image: string }[] } } } | undefined)?.template.spec
    .containers[0]?.image;
}

describe('the newer commit wins', () => {
  beforeEach(async () => {
    bed = await startBed();
  });

  test('with GitHub unreachable, an older build that runs late does not replace the newer preview', async () => {
    const pull = bed.github.state.addPull({ repo: REPO, number: 50, headSha: SHA_B, headRef: 'feature/50' });
    const newer = await bed.run({
      payload: event(50, SHA_B, '2026-11-30T10:05:00Z'),
      inputs: { images: EXAMPLE_IMAGES },
    });
    expect(newer.result.ok).toBe(true);
    expect(recorded('pr-50')['kubestage.dev/head-time']).toBe('2026-11-30T10:05:00.000Z');

    // The run for the older push arrives late, while GitHub answers only errors.
    pull.headSha = SHA_B;
    bed.github.faults.serverError(1000, 503);
    const older = await bed.run({
      payload: event(50, SHA_A, '2026-11-30T10:01:00Z'),
      inputs: { images: EXAMPLE_IMAGES },
    });
    expect(older.result.ok).toBe(true);
    expect(older.result.summary).toContain('superseded');
    expect(older.result.outputs.url).toBe('');
    expect(recorded('pr-50')['kubestage.dev/head-sha']).toBe(SHA_B);
    expect(webImage('pr-50')).toBe('ghcr.io/acme/shop-web:pr-50-b2b2b2b');
  });

  test("when GitHub's answer lags a push, the newer commit is deployed instead of standing down", async () => {
    // SHA_B is a child of SHA_A, but GitHub still reports SHA_A as the PR's head.
    bed.github.state.addCommits(REPO, [SHA_A, SHA_B], { branch: 'feature/51' });
    bed.github.state.addPull({ repo: REPO, number: 51, headSha: SHA_A, headRef: 'feature/51' });
    const { result, log } = await bed.run({
      payload: event(51, SHA_B, '2026-11-30T10:05:00Z'),
      inputs: { images: EXAMPLE_IMAGES },
    });
    expect(result.ok).toBe(true);
    expect(result.summary).toContain('✅ ready');
    expect(log.text()).toContain('GitHub still names a1a1a1a as the head of PR #51, but b2b2b2b is newer');
    expect(recorded('pr-51')['kubestage.dev/head-sha']).toBe(SHA_B);
  });

  test('an older commit that GitHub confirms is superseded stands down without touching the cluster', async () => {
    bed.github.state.addCommits(REPO, [SHA_A, SHA_B], { branch: 'feature/52' });
    bed.github.state.addPull({ repo: REPO, number: 52, headSha: SHA_B, headRef: 'feature/52' });
    const before = bed.kube.requests.length;
    const { result } = await bed.run({
      payload: event(52, SHA_A, '2026-11-30T10:01:00Z'),
      inputs: { images: EXAMPLE_IMAGES },
    });
    expect(result.ok).toBe(true);
    expect(result.summary).toContain('superseded');
    expect(bed.kube.requests.slice(before).filter((r) => r.method !== 'GET')).toEqual([]);
  });
});

describe('runs that end early', () => {
  beforeEach(async () => {
    // Pods take 4 s to be ready: long enough to cancel or close the PR while the run waits.
    bed = await startBed({ controllers: { readyDelayMs: 4000, timeScale: 0.05 } });
  });

  function onDeploymentCreated(namespace: string, fn: () => void): void {
    const type = bed.kube.store.findTypeByKind('apps/v1', 'Deployment')!;
    let done = false;
    bed.kube.store.subscribe((ev) => {
      if (done || ev.type !== 'ADDED' || ev.type_ !== type || ev.object.metadata.namespace !== namespace)
        return;
      done = true;
      setImmediate(fn);
    });
  }

  test('a cancelled run (SIGINT) says so on the deployment and the comment, and fails the step', async () => {
    bed.github.state.addPull({ repo: REPO, number: 53, headSha: SHA_A, headRef: 'feature/53' });
    const cancel = new AbortController();
    onDeploymentCreated('pr-53', () => cancel.abort());
    const started = Date.now();
    const { result } = await bed.run({
      payload: event(53, SHA_A, '2026-11-30T10:00:00Z', 'opened'),
      inputs: { images: EXAMPLE_IMAGES, 'wait-timeout': '60' },
      signal: cancel.signal,
    });
    expect(Date.now() - started).toBeLessThan(4000);
    expect(result.ok).toBe(false);
    expect(result.failure).toContain('cancelled');
    expect(result.summary).toContain('⏹️ cancelled');
    const [deployment] = bed.github.state.deployments(REPO);
    expect(bed.github.state.deploymentStatuses(REPO, deployment!.id).at(-1)?.state).toBe('error');
    expect(bed.markerComments(53)[0]!.body).toContain('Preview deployment cancelled');
    expect(recorded('pr-53')['kubestage.dev/state']).toBe('cancelled');
  });

  test('a PR closed while its preview waits is noticed within seconds, and the preview is removed', async () => {
    bed.github.state.addPull({ repo: REPO, number: 54, headSha: SHA_A, headRef: 'feature/54' });
    let cleanup: ReturnType<Bed['run']> | undefined;
    onDeploymentCreated('pr-54', () => {
      bed.github.state.setPullState(REPO, 54, 'closed', false);
      cleanup = bed.run({
        payload: pullRequestEvent({
          action: 'closed',
          repo: REPO,
          number: 54,
          headSha: SHA_A,
          headRef: 'feature/54',
        }),
        inputs: { command: 'cleanup' },
      });
    });
    const started = Date.now();
    const preview = await bed.run({
      payload: event(54, SHA_A, '2026-11-30T10:00:00Z', 'opened'),
      inputs: { images: EXAMPLE_IMAGES, 'wait-timeout': '120' },
    });
    expect(Date.now() - started).toBeLessThan(15_000);
    expect((await cleanup!).result.ok).toBe(true);
    expect(preview.log.text()).toContain('PR #54 was closed while this run deployed');
    expect(bed.object('v1', 'Namespace', undefined, 'pr-54')).toBeUndefined();
    // It never got as far as announcing itself on the PR: nothing there claims a live preview.
    expect(bed.markerComments(54).filter((c) => c.body.includes('Preview ready'))).toEqual([]);
    for (const d of bed.github.state.deployments(REPO))
      expect(bed.github.state.deploymentStatuses(REPO, d.id).at(-1)?.state).toBe('inactive');
  }, 30_000);
});
