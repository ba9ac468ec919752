// Environments (PUT), workflow runs whose environment jobs get GitHub's own deployments, pending
// deployment reviews and run approvals — through real Octokit, every request and response checked
// against GitHub's OpenAPI description.
import { getOctokit } from '@actions/github';
import { startGitHubEmulator, type GitHubEmulator } from './index.js';

const REPO = { owner: 'acme', repo: 'shop' };
const FULL = 'acme/shop';
const HEAD = 'feed'.padEnd(40, '2');

let emu: GitHubEmulator;
let gh: ReturnType<typeof getOctokit>;

beforeEach(async () => {
  emu = await startGitHubEmulator();
  emu.state.addRepo(FULL);
  emu.state.setToken('ghs_default', { permissions: 'write' });
  gh = getOctokit('ghs_default', { baseUrl: emu.url });
});

afterEach(async () => {
  expect(emu.responseProblems()).toEqual([]);
  await emu.close();
});

function as(login: string): ReturnType<typeof getOctokit> {
  emu.state.setToken(`ghp_${login}`, { permissions: 'write', user: login });
  return getOctokit(`ghp_${login}`, { baseUrl: emu.url });
}

async function failure(p: Promise<unknown>): Promise<{ status: number; message: string }> {
  try {
    await p;
  } catch (err) {
    const e = err as { status?: number; response?: { data?: { message?: string } } };
    if (typeof e.status === 'number') return { status: e.status, message: e.response?.data?.message ?? '' };
    throw err;
  }
  throw new Error('expected the request to fail');
}

describe('PUT /repos/{owner}/{repo}/environments/{environment_name}', () => {
  test('creates an environment with reviewers by id, then updates it in place (same id, omitted fields kept)', async () => {
    const alice = emu.state.user('alice');
    const ops = emu.state.team('acme', 'ops');
    const created = await gh.rest.repos.createOrUpdateEnvironment({
      ...REPO,
      environment_name: 'production',
      wait_timer: 10,
      prevent_self_review: true,
      reviewers: [
        { type: 'User', id: alice.id },
        { type: 'Team', id: ops.id },
      ],
      deployment_branch_policy: { protected_branches: true, custom_branch_policies: false },
    });
    expect(created.status).toBe(200);
    const rules = created.data.protection_rules ?? [];
    expect(rules.map((r) => r.type)).toEqual(['wait_timer', 'required_reviewers', 'branch_policy']);
    expect(rules.every((r) => typeof r.id === 'number' && typeof r.node_id === 'string')).toBe(true);
    expect(
      (
        rules[1] as { reviewers: { type: string; reviewer: { login?: string; slug?: string } }[] }
      ).reviewers.map((r) => r.reviewer.login ?? r.reviewer.slug),
    ).toEqual(['alice', 'ops']);
    expect((created.data as { can_admins_bypass?: boolean }).can_admins_bypass).toBe(true);

    const updated = await gh.request('PUT /repos/{owner}/{repo}/environments/{environment_name}', {
      ...REPO,
      environment_name: 'production',
      wait_timer: 0,
      can_admins_bypass: false, // accepted by GitHub though not in its OpenAPI description
    });
    expect(updated.data.id).toBe(created.data.id);
    expect((updated.data as { can_admins_bypass?: boolean }).can_admins_bypass).toBe(false);
    expect(updated.data.protection_rules?.map((r) => r.type)).toEqual([
      'required_reviewers',
      'branch_policy',
    ]);

    const cleared = await gh.rest.repos.createOrUpdateEnvironment({
      ...REPO,
      environment_name: 'production',
      prevent_self_review: false,
      reviewers: null,
      deployment_branch_policy: null,
    });
    expect(cleared.data.protection_rules).toEqual([]);
    expect(cleared.data.deployment_branch_policy).toBeNull();

    const list = await gh.rest.repos.getAllEnvironments(REPO);
    expect(list.data.environments?.map((e) => e.name)).toEqual(['production']);
  });

  test('refuses self-review without reviewers, unknown reviewers, a contradictory branch policy, bad bodies', async () => {
    const put = (body: Record<string, unknown>) =>
      failure(
        gh.request('PUT /repos/{owner}/{repo}/environments/{environment_name}', {
          ...REPO,
          environment_name: 'production',
          ...body,
        }),
      );
    expect(await put({ prevent_self_review: true })).toEqual({
      status: 422,
      message:
        'Failed to create or update the environment protection rule. Required reviewers must have at least one reviewer to set prevent_self_review.',
    });
    expect((await put({ reviewers: [{ type: 'User', id: 424242 }] })).message).toContain(
      'no user with id 424242',
    );
    expect(
      (await put({ deployment_branch_policy: { protected_branches: true, custom_branch_policies: true } }))
        .status,
    ).toBe(422);
    // The OpenAPI description itself refuses a key it does not list, and a wrongly typed value.
    expect(await put({ admins_bypass: false })).toEqual({
      status: 422,
      message: 'Invalid request.\n\n"admins_bypass" is not a permitted key.',
    });
    expect((await put({ wait_timer: 'ten' })).message).toContain('is not an integer');
    expect(emu.state.environment(FULL, 'production')).toBeUndefined();
  });

  test('a read-only token may not change environments', async () => {
    emu.state.setToken('ghs_fork', { permissions: 'read' });
    const fork = getOctokit('ghs_fork', { baseUrl: emu.url });
    expect(
      await failure(fork.rest.repos.createOrUpdateEnvironment({ ...REPO, environment_name: 'production' })),
    ).toEqual({ status: 403, message: 'Resource not accessible by integration' });
  });
});

describe('workflow runs with environment jobs', () => {
  test('a job under a protected environment gets GitHub’s deployment, waiting, until a reviewer approves', async () => {
    emu.state.addEnvironment(FULL, 'production', { reviewers: ['carol'], preventSelfReview: true });
    const run = emu.state.startRun(FULL, {
      runId: 4242,
      headSha: HEAD,
      actor: 'dave',
      jobs: [{ name: 'build' }, { name: 'promote', environment: 'production' }],
    });
    const job = run.jobs[1]!;
    const jobUrl = `https://github.com/acme/shop/actions/runs/4242/job/${job.id}`;

    const [d] = (await gh.rest.repos.listDeployments({ ...REPO, environment: 'production', sha: HEAD })).data;
    expect(d).toMatchObject({
      id: job.deploymentId,
      sha: HEAD,
      ref: 'main',
      task: 'deploy',
      payload: {},
      description: null,
      original_environment: 'production',
      transient_environment: false,
      production_environment: false,
      creator: { login: 'dave' },
      performed_via_github_app: { slug: 'github-actions' },
    });
    const statuses = async () =>
      (await gh.rest.repos.listDeploymentStatuses({ ...REPO, deployment_id: d!.id })).data.map((s) => [
        s.state,
        s.log_url,
        s.target_url,
      ]);
    expect(await statuses()).toEqual([['waiting', jobUrl, jobUrl]]);

    // What the run waits on, and who may approve it.
    const env = emu.state.environment(FULL, 'production')!;
    const pendingFor = async (who: ReturnType<typeof getOctokit>) =>
      (await who.rest.actions.getPendingDeploymentsForRun({ ...REPO, run_id: 4242 })).data;
    const pending = await pendingFor(as('carol'));
    expect(pending).toHaveLength(1);
    expect(pending[0]).toMatchObject({
      environment: { id: env.id, name: 'production' },
      wait_timer: 0,
      wait_timer_started_at: null,
      current_user_can_approve: true,
    });
    expect((await pendingFor(as('dave')))[0]?.current_user_can_approve).toBe(false); // self-review
    expect((await pendingFor(gh))[0]?.current_user_can_approve).toBe(false); // the bot is no reviewer

    const review = (who: ReturnType<typeof getOctokit>, ids = [env.id]) =>
      who.rest.actions.reviewPendingDeploymentsForRun({
        ...REPO,
        run_id: 4242,
        environment_ids: ids,
        state: 'approved',
        comment: 'ship it',
      });
    expect(await failure(review(as('mallory')))).toEqual({
      status: 422,
      message:
        'mallory is not a required reviewer of the environment production, so cannot review its deployment.',
    });
    emu.state.addEnvironment(FULL, 'production', {
      reviewers: ['carol', 'dave'],
      preventSelfReview: true,
    });
    expect(await failure(review(as('dave')))).toEqual({
      status: 422,
      message: 'dave triggered workflow run 4242 and the environment production prevents self-review.',
    });
    expect((await failure(review(as('carol'), [env.id + 999]))).message).toContain(
      `No pending deployment for environment id ${env.id + 999} in workflow run 4242: only production (${env.id}) is waiting.`,
    );
    expect(emu.state.run(FULL, 4242)!.approvals).toEqual([]);

    const approved = await review(as('carol'));
    expect(approved.data.map((x) => x.id)).toEqual([d!.id]);
    expect(await statuses()).toEqual([
      ['in_progress', jobUrl, jobUrl],
      ['queued', jobUrl, jobUrl],
      ['waiting', jobUrl, jobUrl],
    ]);
    expect(await pendingFor(as('carol'))).toEqual([]);

    const approvals = (await gh.rest.actions.getReviewsForRun({ ...REPO, run_id: 4242 })).data;
    expect(approvals).toHaveLength(1);
    expect(approvals[0]).toMatchObject({
      state: 'approved',
      comment: 'ship it',
      user: { login: 'carol' },
      environments: [{ id: env.id, name: 'production' }],
    });
  });

  test('a team member may approve for the team; a rejection fails the job’s deployment', async () => {
    emu.state.addEnvironment(FULL, 'testing', {
      reviewers: [{ type: 'Team', slug: 'qa', members: ['erin'] }],
    });
    const run = emu.state.startRun(FULL, {
      runId: 77,
      headSha: HEAD,
      actor: 'dave',
      jobs: [{ name: 'deploy', environment: 'testing' }],
    });
    const env = emu.state.environment(FULL, 'testing')!;
    await as('erin').rest.actions.reviewPendingDeploymentsForRun({
      ...REPO,
      run_id: 77,
      environment_ids: [env.id],
      state: 'rejected',
      comment: 'not today',
    });
    expect(emu.state.deploymentStatuses(FULL, run.jobs[0]!.deploymentId!).map((s) => s.state)).toEqual([
      'waiting',
      'failure',
    ]);
    const [a] = (await gh.rest.actions.getReviewsForRun({ ...REPO, run_id: 77 })).data;
    expect(a).toMatchObject({ state: 'rejected', user: { login: 'erin' } });
  });

  test('an unprotected environment’s job starts at once: queued, then in_progress; it creates the environment', async () => {
    const run = emu.state.startRun(FULL, {
      headSha: HEAD,
      headBranch: 'release',
      actor: 'github-actions[bot]',
      jobs: [{ name: 'deploy', environment: 'development' }],
    });
    const id = run.jobs[0]!.deploymentId!;
    expect(emu.state.deploymentStatuses(FULL, id).map((s) => s.state)).toEqual(['queued', 'in_progress']);
    const d = (await gh.rest.repos.getDeployment({ ...REPO, deployment_id: id })).data;
    expect(d).toMatchObject({ ref: 'release', creator: { login: 'github-actions[bot]' } });
    expect((await gh.rest.repos.getEnvironment({ ...REPO, environment_name: 'development' })).status).toBe(
      200,
    );
    expect((await gh.rest.actions.getPendingDeploymentsForRun({ ...REPO, run_id: run.id })).data).toEqual([]);
  });

  test('an unknown run is 404 Not Found on every run route', async () => {
    for (const p of [
      gh.rest.actions.getPendingDeploymentsForRun({ ...REPO, run_id: 1 }),
      gh.rest.actions.getReviewsForRun({ ...REPO, run_id: 1 }),
      gh.rest.actions.reviewPendingDeploymentsForRun({
        ...REPO,
        run_id: 1,
        environment_ids: [1],
        state: 'approved',
        comment: '',
      }),
    ])
      expect(await failure(p)).toEqual({ status: 404, message: 'Not Found' });
  });

  test('over the control routes: start a run, then an admin bypass starts the job with no approval', async () => {
    const control = async (path: string, body: unknown) => {
      const res = await fetch(`${emu.url}/_emulator/${path}`, { method: 'POST', body: JSON.stringify(body) });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    };
    expect(
      (await control('environments', { repo: FULL, name: 'production', reviewers: ['carol'] })).status,
    ).toBe(201);
    const started = await control('runs', {
      repo: FULL,
      runId: 9,
      headSha: HEAD,
      actor: 'dave',
      jobs: [{ name: 'promote', environment: 'production' }],
    });
    expect(started.status).toBe(201);
    expect(started.body).toMatchObject({ id: 9, jobs: [{ name: 'promote', status: 'waiting' }] });

    const bypassed = await control('runs/bypass', { repo: FULL, runId: 9, environment: 'production' });
    expect(bypassed).toMatchObject({
      status: 200,
      body: { jobs: [{ status: 'in_progress' }], approvals: 0 },
    });
    expect((await gh.rest.actions.getReviewsForRun({ ...REPO, run_id: 9 })).data).toEqual([]);

    expect(await control('runs/bypass', { repo: FULL, runId: 9, environment: 'production' })).toEqual({
      status: 422,
      body: { message: 'bypassRun: no job of run 9 is waiting for "production"' },
    });
    expect((await control('runs', { repo: FULL, headSha: HEAD, actor: 'dave' })).body.message).toContain(
      '"jobs" is required',
    );
    emu.state.addEnvironment(FULL, 'locked', { reviewers: ['carol'], canAdminsBypass: false });
    emu.state.startRun(FULL, {
      runId: 10,
      headSha: HEAD,
      actor: 'dave',
      jobs: [{ name: 'x', environment: 'locked' }],
    });
    expect(
      (await control('runs/bypass', { repo: FULL, runId: 10, environment: 'locked' })).body.message,
    ).toBe('bypassRun: environment "locked" does not allow administrators to bypass');
  });
});
