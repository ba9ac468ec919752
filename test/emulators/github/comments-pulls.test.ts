// Real Octokit (@actions/github) against the emulator: issue comments, pagination, the OpenAPI
// gate (unknown routes, invalid bodies), GitHub's limits, auth and injected faults, pulls.
import { getOctokit } from '@actions/github';
import { throttling } from '@octokit/plugin-throttling';
import { Octokit } from '@octokit/core';
import { startGitHubEmulator, type GitHubEmulator } from './index.js';

const REPO = { owner: 'acme', repo: 'shop' };
const HEAD = 'c0ffee'.padEnd(40, '0');

// Widened to string so the typed route table lets us send what a buggy client would.
const CREATE_COMMENT: string = 'POST /repos/{owner}/{repo}/issues/{issue_number}/comments';
const LIST_PULLS: string = 'GET /repos/{owner}/{repo}/pulls';

let emu: GitHubEmulator;

beforeEach(async () => {
  emu = await startGitHubEmulator();
  emu.state.addRepo('acme/shop');
  emu.state.setToken('ghs_default', { permissions: 'write' });
  emu.state.addPull({ repo: 'acme/shop', number: 7, headSha: HEAD, headRef: 'feature/cart', title: 'Cart' });
});

afterEach(async () => {
  // Every response the emulator produced in the test matched GitHub's documented schema.
  expect(emu.responseProblems()).toEqual([]);
  await emu.close();
});

function octokit(token = 'ghs_default'): ReturnType<typeof getOctokit> {
  return getOctokit(token, { baseUrl: emu.url });
}

interface RequestFailure {
  status: number;
  message: string;
  response?: { data: unknown; headers: Record<string, string | number | undefined> };
}

// Duck-typed: @actions/github and @octokit/core may resolve different copies of @octokit/request-error.
async function failure(p: Promise<unknown>): Promise<RequestFailure> {
  try {
    await p;
  } catch (err) {
    if (err instanceof Error && typeof (err as Partial<RequestFailure>).status === 'number')
      return err as unknown as RequestFailure;
    throw err;
  }
  throw new Error('expected the request to fail');
}

describe('issue comments', () => {
  test('create, list, get, update, delete — made by the token user (github-actions[bot])', async () => {
    const gh = octokit();
    const created = await gh.rest.issues.createComment({
      ...REPO,
      issue_number: 7,
      body: 'hello <!-- kubestage:preview -->',
    });
    expect(created.status).toBe(201);
    expect(created.headers.location).toBe(`${emu.url}/repos/acme/shop/issues/comments/${created.data.id}`);
    expect(created.data.user).toMatchObject({ login: 'github-actions[bot]', type: 'Bot', id: 41898282 });
    expect(created.data.html_url).toBe(`https://github.com/acme/shop/pull/7#issuecomment-${created.data.id}`);
    expect(created.data.created_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);

    const listed = await gh.rest.issues.listComments({ ...REPO, issue_number: 7 });
    expect(listed.data.map((c) => c.body)).toEqual(['hello <!-- kubestage:preview -->']);

    const updated = await gh.rest.issues.updateComment({ ...REPO, comment_id: created.data.id, body: 'v2' });
    expect(updated.data.body).toBe('v2');
    expect((await gh.rest.issues.getComment({ ...REPO, comment_id: created.data.id })).data.body).toBe('v2');
    expect(emu.state.comments('acme/shop', 7).map((c) => c.body)).toEqual(['v2']);

    const deleted = await gh.rest.issues.deleteComment({ ...REPO, comment_id: created.data.id });
    expect(deleted.status).toBe(204);
    expect(emu.state.comments('acme/shop', 7)).toEqual([]);
    const gone = await failure(gh.rest.issues.getComment({ ...REPO, comment_id: created.data.id }));
    expect(gone.status).toBe(404);
  });

  test('comments on an issue that does not exist, or in a repo never seeded, are 404', async () => {
    const gh = octokit();
    expect(
      (await failure(gh.rest.issues.createComment({ ...REPO, issue_number: 999, body: 'x' }))).status,
    ).toBe(404);
    expect(
      (await failure(gh.rest.issues.listComments({ owner: 'acme', repo: 'nope', issue_number: 7 }))).status,
    ).toBe(404);
  });

  test('octokit.paginate walks 300 comments with per_page 100 (3 requests) and the default 30 (10 requests)', async () => {
    emu.state.addComments('acme/shop', 7, 300, (i) => `c${i}`);
    const gh = octokit();

    const big = await gh.paginate(gh.rest.issues.listComments, { ...REPO, issue_number: 7, per_page: 100 });
    expect(big.map((c) => c.body)).toEqual(Array.from({ length: 300 }, (_, i) => `c${i}`));
    const bigRequests = emu.requests.filter((r) => r.operationId === 'issues/list-comments');
    expect(bigRequests).toHaveLength(3);

    const first = await gh.rest.issues.listComments({ ...REPO, issue_number: 7, per_page: 100 });
    expect(first.headers.link).toBe(
      `<${emu.url}/repos/acme/shop/issues/7/comments?per_page=100&page=2>; rel="next", ` +
        `<${emu.url}/repos/acme/shop/issues/7/comments?per_page=100&page=3>; rel="last"`,
    );
    const middle = await gh.rest.issues.listComments({ ...REPO, issue_number: 7, per_page: 100, page: 2 });
    expect(middle.headers.link).toContain('rel="prev"');
    expect(middle.headers.link).toContain('page=1>; rel="first"');

    const before = emu.requests.length;
    const small = await gh.paginate(gh.rest.issues.listComments, { ...REPO, issue_number: 7 });
    expect(small).toHaveLength(300);
    expect(new Set(small.map((c) => c.id)).size).toBe(300);
    expect(emu.requests.length - before).toBe(10);

    // per_page is capped at 100 like GitHub.
    const capped = await gh.rest.issues.listComments({ ...REPO, issue_number: 7, per_page: 250 });
    expect(capped.data).toHaveLength(100);
  });
});

describe('OpenAPI gate', () => {
  test('missing body and wrong type are 422 in GitHub words and listed by invalidRequests()', async () => {
    const gh = octokit();
    const missing = await failure(gh.request(CREATE_COMMENT, { ...REPO, issue_number: 7 }));
    expect(missing.status).toBe(422);
    expect(missing.response?.data).toEqual({
      message: 'Invalid request.\n\n"body" wasn\'t supplied.',
      documentation_url: 'https://docs.github.com/rest/issues/comments#create-an-issue-comment',
      status: '422',
    });

    const wrongType = await failure(gh.request(CREATE_COMMENT, { ...REPO, issue_number: 7, body: 42 }));
    expect(wrongType.status).toBe(422);
    expect((wrongType.response?.data as { message: string }).message).toBe(
      "Invalid request.\n\nFor 'properties/body', 42 is not a string.",
    );

    const badEnum = await failure(gh.request(LIST_PULLS, { ...REPO, state: 'merged' }));
    expect(badEnum.status).toBe(422);

    const invalid = emu.invalidRequests();
    expect(invalid.map((r) => [r.method, r.path, r.status])).toEqual([
      ['POST', '/repos/acme/shop/issues/7/comments', 422],
      ['POST', '/repos/acme/shop/issues/7/comments', 422],
      ['GET', '/repos/acme/shop/pulls', 422],
    ]);
    expect(emu.state.comments('acme/shop', 7)).toEqual([]);
  });

  test('a route GitHub does not have is 404; one it has but the emulator lacks is a loud 501', async () => {
    const gh = octokit();
    const unknown = await failure(gh.request('GET /repos/{owner}/{repo}/previews', REPO));
    expect(unknown.status).toBe(404);
    expect(unknown.response?.data).toEqual({
      message: 'Not Found',
      documentation_url: 'https://docs.github.com/rest',
      status: '404',
    });
    // Wrong method on a real path is also unknown to GitHub.
    expect((await failure(gh.request('PUT /repos/{owner}/{repo}/pulls', REPO))).status).toBe(404);
    expect(emu.invalidRequests()).toHaveLength(2);

    const unimplemented = await failure(gh.rest.issues.listLabelsForRepo(REPO));
    expect(unimplemented.status).toBe(501);
    expect(unimplemented.message).toContain('issues/list-labels-for-repo');
    expect(emu.requests.at(-1)?.error).toContain('not implemented');
  });

  test('a comment over 65,536 characters is 422; exactly 65,536 is fine', async () => {
    const gh = octokit();
    const ok = await gh.rest.issues.createComment({ ...REPO, issue_number: 7, body: 'x'.repeat(65536) });
    expect(ok.status).toBe(201);
    const tooLong = await failure(
      gh.rest.issues.createComment({ ...REPO, issue_number: 7, body: 'x'.repeat(65537) }),
    );
    expect(tooLong.status).toBe(422);
    expect(tooLong.response?.data).toMatchObject({
      message: 'Validation Failed',
      errors: [
        {
          resource: 'IssueComment',
          field: 'body',
          message: 'body is too long (maximum is 65536 characters)',
        },
      ],
    });
    const tooLongUpdate = await failure(
      gh.rest.issues.updateComment({ ...REPO, comment_id: ok.data.id, body: 'y'.repeat(70000) }),
    );
    expect(tooLongUpdate.status).toBe(422);
    expect(emu.state.comments('acme/shop', 7)).toHaveLength(1);
  });
});

describe('auth, limits and faults', () => {
  test('writes need a token (401); a read-only token (fork PR) gets 403 on writes but can read', async () => {
    // getOctokit insists on a token, so the anonymous client is a bare @octokit/core.
    const anonymous = new Octokit({ baseUrl: emu.url });
    const unauth = await failure(
      anonymous.request('POST /repos/{owner}/{repo}/issues/{issue_number}/comments', {
        ...REPO,
        issue_number: 7,
        body: 'x',
      }),
    );
    expect(unauth.status).toBe(401);
    expect(unauth.message).toContain('Requires authentication');
    expect(
      (await anonymous.request('GET /repos/{owner}/{repo}/pulls/{pull_number}', { ...REPO, pull_number: 7 }))
        .status,
    ).toBe(200);

    emu.state.setToken('ghs_fork', { permissions: 'read' });
    const fork = octokit('ghs_fork');
    const denied = await failure(fork.rest.issues.createComment({ ...REPO, issue_number: 7, body: 'x' }));
    expect(denied.status).toBe(403);
    expect(denied.response?.data).toMatchObject({
      message: 'Resource not accessible by integration',
      status: '403',
    });
    expect((denied.response?.data as { documentation_url: string }).documentation_url).toMatch(
      /^https:\/\/docs\.github\.com\//,
    );
    expect((await fork.rest.issues.listComments({ ...REPO, issue_number: 7 })).status).toBe(200);

    // A token GitHub does not know (typo, expired, revoked) is 401 Bad credentials, reads included.
    for (const token of ['ghs_nobody_registered_this', 'ghs_fork']) {
      if (token === 'ghs_fork') emu.state.revokeToken(token);
      const bad = await failure(octokit(token).rest.pulls.get({ ...REPO, pull_number: 7 }));
      expect(bad.status).toBe(401);
      expect(bad.response?.data).toEqual({
        message: 'Bad credentials',
        documentation_url: 'https://docs.github.com/rest',
        status: '401',
      });
    }

    // Bearer works the same, and a registered write token comments as its own user.
    emu.state.setToken('ghp_alice', { permissions: 'write', user: 'alice' });
    const alice = new Octokit({ baseUrl: emu.url });
    const c = await alice.request('POST /repos/{owner}/{repo}/issues/{issue_number}/comments', {
      ...REPO,
      issue_number: 7,
      body: 'from alice',
      headers: { authorization: 'Bearer ghp_alice' },
    });
    expect(c.data.user?.login).toBe('alice');
    expect(c.data.user?.type).toBe('User');
  });

  test('secondary rate limit: plain Octokit sees 403 + retry-after; the throttling plugin waits and retries', async () => {
    emu.faults.secondaryRateLimit(1, 7);
    const plain = octokit();
    const limited = await failure(plain.rest.issues.listComments({ ...REPO, issue_number: 7 }));
    expect(limited.status).toBe(403);
    expect(limited.response?.headers['retry-after']).toBe('7');
    expect(limited.message).toMatch(/You have exceeded a secondary rate limit/);
    expect((await plain.rest.issues.listComments({ ...REPO, issue_number: 7 })).status).toBe(200);

    emu.faults.secondaryRateLimit(2, 1);
    const seen: number[] = [];
    const throttled = getOctokit(
      'ghs_default',
      {
        baseUrl: emu.url,
        throttle: {
          retryAfterBaseValue: 5, // ms per retry-after second, keeps the test fast
          onRateLimit: () => false,
          onSecondaryRateLimit: (retryAfter: number) => {
            seen.push(retryAfter);
            return true;
          },
        },
      },
      throttling,
    );
    // A read: writes go through the plugin's 1 s write spacing, which only slows the test down.
    emu.state.addComments('acme/shop', 7, 2);
    const res = await throttled.rest.issues.listComments({ ...REPO, issue_number: 7 });
    expect(res.status).toBe(200);
    expect(res.data).toHaveLength(2);
    expect(seen).toEqual([1, 1]);
    expect(emu.requests.slice(-3).map((r) => r.status)).toEqual([403, 403, 200]);
  });

  test('server errors are injected n times with the chosen status', async () => {
    emu.faults.serverError(2, 502);
    const gh = octokit();
    expect((await failure(gh.rest.pulls.get({ ...REPO, pull_number: 7 }))).status).toBe(502);
    expect((await failure(gh.rest.pulls.get({ ...REPO, pull_number: 7 }))).status).toBe(502);
    expect((await gh.rest.pulls.get({ ...REPO, pull_number: 7 })).status).toBe(200);
  });

  test('x-ratelimit-* headers on every response, and GET /rate_limit agrees', async () => {
    const gh = octokit();
    const a = await gh.rest.pulls.get({ ...REPO, pull_number: 7 });
    const b = await gh.rest.pulls.get({ ...REPO, pull_number: 7 });
    expect(a.headers['x-ratelimit-limit']).toBe('5000');
    expect(Number(b.headers['x-ratelimit-remaining'])).toBe(Number(a.headers['x-ratelimit-remaining']) - 1);
    const rl = await gh.rest.rateLimit.get();
    expect(rl.data.resources.core.limit).toBe(5000);
    expect(rl.data.rate.remaining).toBe(Number(b.headers['x-ratelimit-remaining']));
    expect(rl.data.rate.used).toBe(2);
    expect(rl.data.rate.reset).toBe(Number(a.headers['x-ratelimit-reset']));
  });
});

describe('pulls and repo', () => {
  test('get: head/base, state, merged; closing and merging is visible', async () => {
    const gh = octokit();
    const pr = await gh.rest.pulls.get({ ...REPO, pull_number: 7 });
    expect(pr.data).toMatchObject({ number: 7, state: 'open', merged: false, title: 'Cart' });
    expect(pr.data.head).toMatchObject({ sha: HEAD, ref: 'feature/cart', label: 'acme:feature/cart' });
    expect(pr.data.head.repo?.full_name).toBe('acme/shop');
    expect(pr.data.base.ref).toBe('main');

    emu.state.setPullState('acme/shop', 7, 'closed', true);
    const merged = await gh.rest.pulls.get({ ...REPO, pull_number: 7 });
    expect(merged.data).toMatchObject({ state: 'closed', merged: true });
    expect(merged.data.merged_at).not.toBeNull();
    expect((await failure(gh.rest.pulls.get({ ...REPO, pull_number: 8 }))).status).toBe(404);
  });

  test('list: state filter, head=owner:ref (fork aware), newest first, paginated', async () => {
    emu.state.addPull({
      repo: 'acme/shop',
      number: 8,
      headSha: 'b'.repeat(40),
      headRef: 'fix',
      state: 'closed',
    });
    emu.state.addPull({
      repo: 'acme/shop',
      number: 9,
      headSha: 'd'.repeat(40),
      headRef: 'fix',
      headRepoFullName: 'mallory/shop',
      user: 'mallory',
    });
    const gh = octokit();
    const open = await gh.rest.pulls.list(REPO);
    expect(open.data.map((p) => p.number)).toEqual([9, 7]);
    expect((await gh.rest.pulls.list({ ...REPO, state: 'closed' })).data.map((p) => p.number)).toEqual([8]);
    expect(
      (await gh.rest.pulls.list({ ...REPO, state: 'all', direction: 'asc' })).data.map((p) => p.number),
    ).toEqual([7, 8, 9]);
    const forked = await gh.rest.pulls.list({ ...REPO, head: 'mallory:fix' });
    expect(forked.data.map((p) => p.number)).toEqual([9]);
    expect(forked.data[0]?.head.repo?.full_name).toBe('mallory/shop');
    expect(forked.data[0]?.head.repo?.fork).toBe(true);
    expect(
      (await gh.rest.pulls.list({ ...REPO, head: 'acme:fix', state: 'all' })).data.map((p) => p.number),
    ).toEqual([8]);
    const paged = await gh.rest.pulls.list({ ...REPO, state: 'all', per_page: 2 });
    expect(paged.data).toHaveLength(2);
    expect(paged.headers.link).toContain('rel="next"');
  });

  test('commits/{sha}/pulls finds a same-repo PR by head SHA, not a fork PR (workflow_run events)', async () => {
    emu.state.addPull({
      repo: 'acme/shop',
      number: 9,
      headSha: 'd'.repeat(40),
      headRef: 'x',
      headRepoFullName: 'mallory/shop',
    });
    const gh = octokit();
    const res = await gh.rest.repos.listPullRequestsAssociatedWithCommit({ ...REPO, commit_sha: HEAD });
    expect(res.data.map((p) => p.number)).toEqual([7]);
    const fork = await gh.rest.repos.listPullRequestsAssociatedWithCommit({
      ...REPO,
      commit_sha: 'd'.repeat(40),
    });
    // GitHub does not find a commit that exists only in a fork from the base repository.
    expect(fork.data.map((p) => p.number)).toEqual([]);
    expect(
      (await gh.rest.repos.listPullRequestsAssociatedWithCommit({ ...REPO, commit_sha: 'e'.repeat(40) }))
        .data,
    ).toEqual([]);
  });

  test('GET /repos/{owner}/{repo}', async () => {
    const gh = octokit();
    const repo = await gh.rest.repos.get(REPO);
    expect(repo.data).toMatchObject({
      full_name: 'acme/shop',
      default_branch: 'main',
      private: false,
      open_issues_count: 1,
    });
    expect(repo.data.owner.login).toBe('acme');
    expect((await failure(gh.rest.repos.get({ owner: 'acme', repo: 'other' }))).status).toBe(404);
  });
});
