import { recordingLogger } from '../../support/logger.js';
import { createDeployment, setDeploymentStatus } from '../../../src/github/deployments.js';
import {
  findJobDeployment,
  readEnvironment,
  readRunApprovals,
  reviewFor,
} from '../../../src/github/environments.js';
import { FULL, REPO, client, sha, useEmulator } from './helpers.js';

const { emu } = useEmulator();
const HEAD = sha('release-1');
const { owner, repo } = REPO;

/** A reviewer's own token, as a person approving in the UI (or with `gh api`) would use. */
function reviewerClient(login: string) {
  emu().state.setToken(`ghp_${login}`, { permissions: 'write', user: login });
  return client(emu(), recordingLogger(), { token: `ghp_${login}` });
}

async function approve(login: string, runId: number, environment: string, state: 'approved' | 'rejected') {
  const env = emu().state.environment(FULL, environment)!;
  await reviewerClient(login).rest.actions.reviewPendingDeploymentsForRun({
    owner,
    repo,
    run_id: runId,
    environment_ids: [env.id],
    state,
    comment: `${state} by ${login}`,
  });
}

describe('readEnvironment', () => {
  test('reads required reviewers (users and teams), self-review, wait timer, branch policy and admin bypass', async () => {
    emu().state.addEnvironment(FULL, 'production', {
      reviewers: ['alice', { type: 'Team', slug: 'ops' }],
      preventSelfReview: true,
      waitTimer: 15,
      branchPolicy: { protected_branches: true, custom_branch_policies: false },
      canAdminsBypass: false,
    });
    const env = await readEnvironment(client(emu(), recordingLogger()), owner, repo, 'production');
    expect(env).toEqual({
      name: 'production',
      requiredReviewers: [
        { type: 'User', name: 'alice' },
        { type: 'Team', name: 'ops' },
      ],
      preventSelfReview: true,
      waitTimerMinutes: 15,
      branchPolicy: { protectedBranches: true, customBranchPolicies: false },
      canAdminsBypass: false,
      htmlUrl: 'https://github.com/acme/shop/deployments/activity_log?environments_filter=production',
    });
  });

  test('an environment without rules has no reviewers and no branch policy; admins may bypass by default', async () => {
    emu().state.addEnvironment(FULL, 'development');
    const env = await readEnvironment(client(emu(), recordingLogger()), owner, repo, 'development');
    expect(env).toMatchObject({ requiredReviewers: [], preventSelfReview: false, waitTimerMinutes: 0 });
    expect(env?.branchPolicy).toBeUndefined();
    expect(env?.canAdminsBypass).toBe(true);
  });

  test('a name with a slash and a space is sent encoded and read back', async () => {
    emu().state.addEnvironment(FULL, 'eu west/prod', { reviewers: ['bob'] });
    const env = await readEnvironment(client(emu(), recordingLogger()), owner, repo, 'eu west/prod');
    expect(env?.requiredReviewers).toEqual([{ type: 'User', name: 'bob' }]);
    expect(emu().requests.at(-1)?.path).toBe('/repos/acme/shop/environments/eu%20west%2Fprod');
  });

  test('an environment that does not exist is undefined (GitHub answers 404)', async () => {
    expect(await readEnvironment(client(emu(), recordingLogger()), owner, repo, 'testing')).toBeUndefined();
    expect(emu().requests.at(-1)?.status).toBe(404);
  });

  test('a bad token is an error that says so, not a missing environment', async () => {
    emu().state.addEnvironment(FULL, 'production');
    const gh = client(emu(), recordingLogger(), { token: 'ghp_revoked' });
    await expect(readEnvironment(gh, owner, repo, 'production')).rejects.toThrow(
      'GitHub API GET /repos/acme/shop/environments/production failed with HTTP 401 after 1 attempt: Bad credentials — the token is missing, invalid or expired',
    );
  });
});

describe('readRunApprovals', () => {
  test('lists who approved which environment; approvals of other environments do not count', async () => {
    emu().state.addEnvironment(FULL, 'testing', { reviewers: ['alice'] });
    emu().state.addEnvironment(FULL, 'production', { reviewers: ['carol'] });
    emu().state.startRun(FULL, {
      runId: 501,
      headSha: HEAD,
      actor: 'dave',
      jobs: [
        { name: 'to-testing', environment: 'testing' },
        { name: 'to-production', environment: 'production' },
      ],
    });
    await approve('alice', 501, 'testing', 'approved');

    const approvals = await readRunApprovals(client(emu(), recordingLogger()), owner, repo, 501);
    expect(approvals).toEqual([
      { environments: ['testing'], state: 'approved', user: 'alice', comment: 'approved by alice' },
    ]);
    expect(reviewFor(approvals, 'Testing')?.user).toBe('alice');
    expect(reviewFor(approvals, 'production')).toBeUndefined();
  });

  test('a rejection is recorded as a rejection, with who and why', async () => {
    emu().state.addEnvironment(FULL, 'production', { reviewers: ['carol'] });
    emu().state.startRun(FULL, {
      runId: 502,
      headSha: HEAD,
      actor: 'dave',
      jobs: [{ name: 'to-production', environment: 'production' }],
    });
    await approve('carol', 502, 'production', 'rejected');
    const approvals = await readRunApprovals(client(emu(), recordingLogger()), owner, repo, 502);
    expect(reviewFor(approvals, 'production')).toEqual({
      environments: ['production'],
      state: 'rejected',
      user: 'carol',
      comment: 'rejected by carol',
    });
  });

  test('an admin bypass leaves the job running with no approval recorded', async () => {
    emu().state.addEnvironment(FULL, 'production', { reviewers: ['carol'] });
    const run = emu().state.startRun(FULL, {
      runId: 503,
      headSha: HEAD,
      actor: 'dave',
      jobs: [{ name: 'to-production', environment: 'production' }],
    });
    emu().state.bypassRun(FULL, 503, 'production');

    const gh = client(emu(), recordingLogger());
    expect(await readRunApprovals(gh, owner, repo, 503)).toEqual([]);
    const d = await findJobDeployment(gh, owner, repo, { environment: 'production', sha: HEAD, runId: 503 });
    expect(d).toMatchObject({ id: run.jobs[0]!.deploymentId, latestState: 'in_progress' });
  });

  test('a job without `environment:` leaves no approval and no deployment', async () => {
    emu().state.startRun(FULL, { runId: 504, headSha: HEAD, actor: 'dave', jobs: [{ name: 'promote' }] });
    const gh = client(emu(), recordingLogger());
    expect(await readRunApprovals(gh, owner, repo, 504)).toEqual([]);
    expect(
      await findJobDeployment(gh, owner, repo, { environment: 'production', sha: HEAD, runId: 504 }),
    ).toBeUndefined();
    expect(emu().state.deployments(FULL)).toEqual([]);
  });
});

describe('findJobDeployment', () => {
  test('finds the deployment GitHub made for this run’s job, waiting and then running after approval', async () => {
    emu().state.addEnvironment(FULL, 'production', { reviewers: ['carol'] });
    const run = emu().state.startRun(FULL, {
      runId: 601,
      headSha: HEAD,
      actor: 'dave',
      jobs: [{ name: 'build' }, { name: 'promote', environment: 'production' }],
    });
    const job = run.jobs[1]!;
    const gh = client(emu(), recordingLogger());
    const where = { environment: 'production', sha: HEAD, runId: 601 };

    expect(await findJobDeployment(gh, owner, repo, where)).toEqual({
      id: job.deploymentId,
      environment: 'production',
      sha: HEAD,
      ref: 'main',
      task: 'deploy',
      creator: 'dave',
      latestState: 'waiting',
      jobUrl: `https://github.com/acme/shop/actions/runs/601/job/${job.id}`,
      jobId: job.id,
    });

    await approve('carol', 601, 'production', 'approved');
    const after = await findJobDeployment(gh, owner, repo, where);
    expect(after).toMatchObject({ id: job.deploymentId, latestState: 'in_progress' });
    // Adding our status to it makes no second deployment.
    await setDeploymentStatus(gh, REPO, after!.id, {
      state: 'success',
      environmentUrl: 'https://shop.example',
    });
    expect(
      emu()
        .state.deployments(FULL)
        .map((d) => [d.id, d.latestState]),
    ).toEqual([[job.deploymentId, 'success']]);
  });

  test('another run’s deployment of the same commit is not taken (run 70 is not run 700)', async () => {
    const mine = emu().state.startRun(FULL, {
      runId: 70,
      headSha: HEAD,
      actor: 'dave',
      jobs: [{ name: 'deploy', environment: 'testing' }],
    });
    const other = emu().state.startRun(FULL, {
      runId: 700,
      headSha: HEAD,
      actor: 'dave',
      jobs: [{ name: 'deploy', environment: 'testing' }],
    });
    const gh = client(emu(), recordingLogger());
    const found = await findJobDeployment(gh, owner, repo, { environment: 'testing', sha: HEAD, runId: 70 });
    expect(found?.id).toBe(mine.jobs[0]!.deploymentId);
    expect(found?.id).not.toBe(other.jobs[0]!.deploymentId);
    expect(found?.latestState).toBe('in_progress'); // no reviewers: queued, then in_progress at once
    expect(
      await findJobDeployment(gh, owner, repo, { environment: 'testing', sha: HEAD, runId: 7 }),
    ).toBeUndefined();
  });

  test('kubestage’s own deployment that links to the run is not the job’s deployment', async () => {
    const gh = client(emu(), recordingLogger());
    emu().state.addCommits(FULL, [HEAD]);
    const ours = await createDeployment(gh, REPO, { ref: HEAD, environment: 'testing', transient: false });
    await setDeploymentStatus(gh, REPO, ours, {
      state: 'in_progress',
      logUrl: 'https://github.com/acme/shop/actions/runs/801',
    });
    expect(
      await findJobDeployment(gh, owner, repo, { environment: 'testing', sha: HEAD, runId: 801 }),
    ).toBeUndefined();
  });

  test('another environment or another commit does not match', async () => {
    emu().state.startRun(FULL, {
      runId: 802,
      headSha: HEAD,
      actor: 'dave',
      jobs: [{ name: 'deploy', environment: 'testing' }],
    });
    const gh = client(emu(), recordingLogger());
    expect(
      await findJobDeployment(gh, owner, repo, { environment: 'production', sha: HEAD, runId: 802 }),
    ).toBeUndefined();
    expect(
      await findJobDeployment(gh, owner, repo, { environment: 'testing', sha: sha('other'), runId: 802 }),
    ).toBeUndefined();
  });

  test('looks past a full page of newer deployments of the same commit', async () => {
    const run = emu().state.startRun(FULL, {
      runId: 901,
      headSha: HEAD,
      actor: 'dave',
      jobs: [{ name: 'deploy', environment: 'testing' }],
    });
    const r = emu().state.repo(FULL)!;
    const template = r.deployments[0]!;
    for (let i = 0; i < 100; i++)
      r.deployments.push({ ...template, id: emu().state.id(), task: 'deploy:other-tool', viaActions: false });

    const gh = client(emu(), recordingLogger());
    const found = await findJobDeployment(gh, owner, repo, { environment: 'testing', sha: HEAD, runId: 901 });
    expect(found?.id).toBe(run.jobs[0]!.deploymentId);
    const pages = emu()
      .requests.filter((q) => q.operationId === 'repos/list-deployments')
      .map((q) => new URLSearchParams(q.query).get('page'));
    expect(pages).toEqual(['1', '2']);
  });
});
