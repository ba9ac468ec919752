// Deployments, statuses (auto_inactive as documented), environments with protection rules, and
// compare — through real Octokit, with every response checked against GitHub's response schemas.
import { getOctokit } from '@actions/github';
import { loadGitHubSpec, startGitHubEmulator, type GitHubEmulator } from './index.js';

const REPO = { owner: 'acme', repo: 'shop' };
const HEAD = 'abc1234'.padEnd(40, '1');

let emu: GitHubEmulator;
let gh: ReturnType<typeof getOctokit>;

beforeEach(async () => {
  emu = await startGitHubEmulator();
  emu.state.addPull({ repo: 'acme/shop', number: 7, headSha: HEAD, headRef: 'feature/cart' });
  emu.state.setToken('ghs_default', { permissions: 'write' });
  gh = getOctokit('ghs_default', { baseUrl: emu.url });
});

afterEach(async () => {
  expect(emu.responseProblems()).toEqual([]);
  await emu.close();
});

async function status(p: Promise<unknown>): Promise<{ status: number; message: string }> {
  try {
    await p;
  } catch (err) {
    const e = err as { status?: number; message?: string };
    if (typeof e.status === 'number') return { status: e.status, message: e.message ?? '' };
    throw err;
  }
  throw new Error('expected the request to fail');
}

async function deploy(
  environment: string,
  extra: { transient_environment?: boolean; production_environment?: boolean } = {},
): Promise<number> {
  const res = await gh.rest.repos.createDeployment({
    ...REPO,
    ref: HEAD,
    environment,
    auto_merge: false,
    required_contexts: [],
    ...extra,
  });
  expect(res.status).toBe(201);
  return (res.data as { id: number }).id;
}

describe('deployments and statuses', () => {
  test('a preview deployment: ref = head SHA, transient, statuses in_progress → success with URLs', async () => {
    const created = await gh.rest.repos.createDeployment({
      ...REPO,
      ref: HEAD,
      environment: 'pr-7',
      transient_environment: true,
      production_environment: false,
      auto_merge: false,
      required_contexts: [],
      payload: { pr: 7 },
      description: 'preview of #7',
    });
    expect(created.status).toBe(201);
    const d = created.data as {
      id: number;
      sha: string;
      ref: string;
      environment: string;
      creator: { login: string } | null;
    };
    expect(d).toMatchObject({
      sha: HEAD,
      ref: HEAD,
      environment: 'pr-7',
      transient_environment: true,
      production_environment: false,
    });
    expect(d.creator?.login).toBe('github-actions[bot]');

    await gh.rest.repos.createDeploymentStatus({
      ...REPO,
      deployment_id: d.id,
      state: 'in_progress',
      log_url: 'https://ci.example/run/1',
    });
    const ok = await gh.rest.repos.createDeploymentStatus({
      ...REPO,
      deployment_id: d.id,
      state: 'success',
      environment_url: 'https://pr-7.preview.example',
      log_url: 'https://ci.example/run/1',
      description: 'Preview is up',
    });
    expect(ok.status).toBe(201);
    expect(ok.data).toMatchObject({
      state: 'success',
      environment: 'pr-7',
      environment_url: 'https://pr-7.preview.example',
      log_url: 'https://ci.example/run/1',
      target_url: 'https://ci.example/run/1', // log_url sets target_url too
    });

    const statuses = await gh.rest.repos.listDeploymentStatuses({ ...REPO, deployment_id: d.id });
    expect(statuses.data.map((s) => s.state)).toEqual(['success', 'in_progress']); // newest first
    const one = await gh.rest.repos.getDeploymentStatus({
      ...REPO,
      deployment_id: d.id,
      status_id: ok.data.id,
    });
    expect(one.data.environment_url).toBe('https://pr-7.preview.example');
    expect(emu.state.deploymentStatuses('acme/shop', d.id).map((s) => s.state)).toEqual([
      'in_progress',
      'success',
    ]);
    expect(emu.state.deployments('acme/shop')[0]?.latestState).toBe('success');

    // Deploying to a new environment creates it, as GitHub does.
    expect((await gh.rest.repos.getEnvironment({ ...REPO, environment_name: 'pr-7' })).data.name).toBe(
      'pr-7',
    );
  });

  test('list filters (sha, ref, task, environment), newest first, paginated; get; 404s', async () => {
    const a = await deploy('pr-7', { transient_environment: true });
    const b = await deploy('staging');
    const c = await deploy('pr-7', { transient_environment: true });
    const all = await gh.rest.repos.listDeployments(REPO);
    expect(all.data.map((d) => d.id)).toEqual([c, b, a]);
    expect(
      (await gh.rest.repos.listDeployments({ ...REPO, environment: 'pr-7' })).data.map((d) => d.id),
    ).toEqual([c, a]);
    expect((await gh.rest.repos.listDeployments({ ...REPO, sha: HEAD, task: 'deploy' })).data).toHaveLength(
      3,
    );
    expect((await gh.rest.repos.listDeployments({ ...REPO, ref: 'other' })).data).toEqual([]);
    const paged = await gh.rest.repos.listDeployments({ ...REPO, per_page: 2 });
    expect(paged.data).toHaveLength(2);
    expect(paged.headers.link).toContain('rel="next"');
    expect((await gh.rest.repos.getDeployment({ ...REPO, deployment_id: b })).data.environment).toBe(
      'staging',
    );
    expect((await status(gh.rest.repos.getDeployment({ ...REPO, deployment_id: 1 }))).status).toBe(404);
    expect(
      (await status(gh.rest.repos.createDeploymentStatus({ ...REPO, deployment_id: 1, state: 'success' })))
        .status,
    ).toBe(404);
  });

  test('an unknown ref is 422; a branch name resolves to its head SHA', async () => {
    const bad = await status(
      gh.rest.repos.createDeployment({ ...REPO, ref: 'no-such-branch', required_contexts: [] }),
    );
    expect(bad.status).toBe(422);
    expect(bad.message).toContain('No ref found for: no-such-branch');
    const byBranch = await gh.rest.repos.createDeployment({
      ...REPO,
      ref: 'feature/cart',
      environment: 'qa',
      required_contexts: [],
    });
    expect((byBranch.data as { sha: string }).sha).toBe(HEAD);
    // environment defaults to production, which defaults production_environment to true.
    const prod = await gh.rest.repos.createDeployment({ ...REPO, ref: HEAD, required_contexts: [] });
    expect(prod.data).toMatchObject({
      environment: 'production',
      production_environment: true,
      transient_environment: false,
    });
  });

  test('auto_inactive: a success marks prior successful non-transient, non-production deployments of that environment inactive', async () => {
    const succeed = (id: number, auto_inactive?: boolean): Promise<unknown> =>
      gh.rest.repos.createDeploymentStatus({
        ...REPO,
        deployment_id: id,
        state: 'success',
        ...(auto_inactive === undefined ? {} : { auto_inactive }),
      });
    const latest = (id: number): string | undefined =>
      emu.state.deployments('acme/shop').find((d) => d.id === id)?.latestState;

    const s1 = await deploy('staging');
    await succeed(s1);
    const failed = await deploy('staging');
    await gh.rest.repos.createDeploymentStatus({ ...REPO, deployment_id: failed, state: 'failure' });
    const other = await deploy('qa');
    await succeed(other);
    const t1 = await deploy('pr-7', { transient_environment: true });
    await succeed(t1);
    const p1 = await deploy('production');
    await succeed(p1);

    const s2 = await deploy('staging');
    await succeed(s2);
    expect(latest(s1)).toBe('inactive'); // same env, had success
    expect(latest(failed)).toBe('failure'); // only success deployments are touched
    expect(latest(other)).toBe('success'); // other environment
    expect(latest(s2)).toBe('success');

    const t2 = await deploy('pr-7', { transient_environment: true });
    await succeed(t2);
    expect(latest(t1)).toBe('success'); // transient: left alone, the caller must set inactive itself

    const p2 = await deploy('production');
    await succeed(p2);
    expect(latest(p1)).toBe('success'); // production: left alone

    const s3 = await deploy('staging');
    await succeed(s3, false);
    expect(latest(s2)).toBe('success'); // auto_inactive: false opts out
  });

  test('delete: only inactive deployments while more than one exists (422 otherwise); the last one always', async () => {
    const a = await deploy('pr-7', { transient_environment: true });
    const b = await deploy('pr-8', { transient_environment: true });
    const refused = await status(gh.rest.repos.deleteDeployment({ ...REPO, deployment_id: a }));
    expect(refused.status).toBe(422);
    expect(refused.message).toContain('We cannot delete an active deployment');
    await gh.rest.repos.createDeploymentStatus({ ...REPO, deployment_id: a, state: 'inactive' });
    expect((await gh.rest.repos.deleteDeployment({ ...REPO, deployment_id: a })).status).toBe(204);
    expect(emu.state.deployments('acme/shop').map((d) => d.id)).toEqual([b]);
    expect((await gh.rest.repos.deleteDeployment({ ...REPO, deployment_id: b })).status).toBe(204);
    expect(emu.state.deployments('acme/shop')).toEqual([]);
  });

  test('invalid status body (bad state) is 422 from the OpenAPI check; description over 140 chars is 422', async () => {
    const id = await deploy('pr-7');
    const bad = await status(
      gh.request('POST /repos/{owner}/{repo}/deployments/{deployment_id}/statuses' as string, {
        ...REPO,
        deployment_id: id,
        state: 'done',
      }),
    );
    expect(bad.status).toBe(422);
    expect(bad.message).toContain('is not a member of');
    expect(emu.invalidRequests()).toHaveLength(1);
    const long = await status(
      gh.rest.repos.createDeploymentStatus({
        ...REPO,
        deployment_id: id,
        state: 'success',
        description: 'x'.repeat(141),
      }),
    );
    expect(long.status).toBe(422);
    expect(emu.state.deploymentStatuses('acme/shop', id)).toEqual([]);
  });

  test('a read-only token cannot create deployments', async () => {
    emu.state.setToken('ghs_fork', { permissions: 'read' });
    const fork = getOctokit('ghs_fork', { baseUrl: emu.url });
    const denied = await status(
      fork.rest.repos.createDeployment({ ...REPO, ref: HEAD, required_contexts: [] }),
    );
    expect(denied).toEqual({
      status: 403,
      message: expect.stringContaining('Resource not accessible by integration'),
    });
    expect(emu.state.deployments('acme/shop')).toEqual([]);
  });
});

describe('environments', () => {
  test('protection rules: required reviewers (users and teams), wait timer, branch policy; list with total_count; 404', async () => {
    emu.state.addEnvironment('acme/shop', 'production', {
      reviewers: ['alice', { type: 'Team', slug: 'ops' }],
      preventSelfReview: true,
      waitTimer: 30,
      branchPolicy: { protected_branches: true, custom_branch_policies: false },
    });
    emu.state.addEnvironment('acme/shop', 'development');

    const prod = await gh.rest.repos.getEnvironment({ ...REPO, environment_name: 'production' });
    const rules = prod.data.protection_rules ?? [];
    expect(rules.map((r) => r.type).sort()).toEqual(['branch_policy', 'required_reviewers', 'wait_timer']);
    const reviewers = rules.find((r) => r.type === 'required_reviewers') as {
      prevent_self_review: boolean;
      reviewers: { type: string; reviewer: { login?: string; slug?: string } }[];
    };
    expect(reviewers.prevent_self_review).toBe(true);
    expect(reviewers.reviewers.map((r) => [r.type, r.reviewer.login ?? r.reviewer.slug])).toEqual([
      ['User', 'alice'],
      ['Team', 'ops'],
    ]);
    expect(rules.find((r) => r.type === 'wait_timer')).toMatchObject({ wait_timer: 30 });
    expect(prod.data.deployment_branch_policy).toEqual({
      protected_branches: true,
      custom_branch_policies: false,
    });

    const dev = await gh.rest.repos.getEnvironment({ ...REPO, environment_name: 'development' });
    expect(dev.data.protection_rules).toEqual([]);
    expect(dev.data.deployment_branch_policy).toBeNull();

    const list = await gh.rest.repos.getAllEnvironments(REPO);
    expect(list.data.total_count).toBe(2);
    expect(list.data.environments?.map((e) => e.name)).toEqual(['development', 'production']);

    expect(
      (await status(gh.rest.repos.getEnvironment({ ...REPO, environment_name: 'testing' }))).status,
    ).toBe(404);
  });
});

describe('compare', () => {
  test('ahead, behind, identical and diverged from seeded history', async () => {
    const sha = (n: number): string => String(n).padStart(40, '0');
    emu.state.addCommits('acme/shop', [sha(1), sha(2), sha(3)]); // main: root ← 1 ← 2 ← 3
    emu.state.addCommits('acme/shop', [{ sha: sha(10), parents: [sha(2)], message: 'side work' }], {
      branch: 'side',
    });

    const ahead = await gh.rest.repos.compareCommitsWithBasehead({
      ...REPO,
      basehead: `${sha(1)}...${sha(3)}`,
    });
    expect(ahead.data).toMatchObject({ status: 'ahead', ahead_by: 2, behind_by: 0, total_commits: 2 });
    expect(ahead.data.commits.map((c) => c.sha)).toEqual([sha(2), sha(3)]);
    expect(ahead.data.merge_base_commit.sha).toBe(sha(1));

    const behind = await gh.rest.repos.compareCommitsWithBasehead({ ...REPO, basehead: `main...${sha(1)}` });
    expect(behind.data).toMatchObject({ status: 'behind', ahead_by: 0, behind_by: 2, total_commits: 0 });

    const same = await gh.rest.repos.compareCommitsWithBasehead({ ...REPO, basehead: `${sha(3)}...main` });
    expect(same.data.status).toBe('identical');

    const diverged = await gh.rest.repos.compareCommitsWithBasehead({ ...REPO, basehead: 'main...side' });
    expect(diverged.data).toMatchObject({ status: 'diverged', ahead_by: 1, behind_by: 1 });
    expect(diverged.data.commits[0]?.commit.message).toBe('side work');
    expect(diverged.data.merge_base_commit.sha).toBe(sha(2));

    expect(
      (
        await status(
          gh.rest.repos.compareCommitsWithBasehead({ ...REPO, basehead: `main...${'f'.repeat(40)}` }),
        )
      ).status,
    ).toBe(404);
  });
});

describe('response schemas', () => {
  test('the schema check is real: a broken comment shape is rejected, a generated one accepted', async () => {
    const spec = loadGitHubSpec();
    const { match } = spec.match('GET', '/repos/acme/shop/issues/comments/1');
    expect(match?.operation.operationId).toBe('issues/get-comment');
    const op = match!.operation;
    const c = await gh.rest.issues.createComment({ ...REPO, issue_number: 7, body: 'x' });
    expect(spec.validateResponse(op, 200, c.data)).toBeUndefined();
    const { user: _user, ...withoutUser } = c.data;
    expect(spec.validateResponse(op, 200, withoutUser)).toContain('user');
    expect(spec.validateResponse(op, 200, { ...c.data, id: 'one' })).toContain('/id');
    expect(spec.validateResponse(op, 201, c.data)).toContain('not documented');
  });

  test('route matching prefers literal segments and decodes parameters', () => {
    const spec = loadGitHubSpec();
    expect(spec.match('GET', '/repos/a/b/issues/comments/5').match?.operation.operationId).toBe(
      'issues/get-comment',
    );
    expect(spec.match('GET', '/repos/a/b/issues/5/comments').match?.operation.operationId).toBe(
      'issues/list-comments',
    );
    const env = spec.match('GET', '/repos/a/b/environments/pr%2F7');
    expect(env.match?.pathParams['environment_name']).toBe('pr/7');
    expect(spec.match('GET', '/repos/a/b/nothing-here').match).toBeUndefined();
  });
});
