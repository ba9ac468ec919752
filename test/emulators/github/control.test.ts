// The /_emulator/ control routes: an outside client seeds state, then GitHub's own API serves it.
import { getOctokit } from '@actions/github';
import { startGitHubEmulator, type GitHubEmulator } from './index.js';

let emu: GitHubEmulator;
beforeEach(async () => {
  emu = await startGitHubEmulator();
});
afterEach(async () => {
  await emu.close();
});

async function control(method: string, path: string, body?: unknown) {
  const res = await fetch(`${emu.url}/_emulator/${path}`, {
    method,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

test('a pull request seeded over HTTP is served by the GitHub API and shows in the state', async () => {
  const sha = '1234567890abcdef1234567890abcdef12345678';
  expect(
    (await control('POST', 'pulls', { repo: 'acme/shop', number: 3, headSha: sha, headRef: 'feat' })).status,
  ).toBe(201);
  expect((await control('POST', 'tokens', { token: 't', permissions: 'write' })).status).toBe(201);
  const octokit = getOctokit('t', { baseUrl: emu.url });
  const { data } = await octokit.rest.pulls.get({ owner: 'acme', repo: 'shop', pull_number: 3 });
  expect(data.head.sha).toBe(sha);
  await octokit.rest.issues.createComment({ owner: 'acme', repo: 'shop', issue_number: 3, body: 'hello' });

  expect(
    (await control('PATCH', 'pulls', { repo: 'acme/shop', number: 3, state: 'closed', merged: true })).status,
  ).toBe(200);
  expect((await octokit.rest.pulls.get({ owner: 'acme', repo: 'shop', pull_number: 3 })).data.merged).toBe(
    true,
  );

  const state = await control('GET', 'state');
  expect(state.body).toEqual({
    repos: [
      {
        fullName: 'acme/shop',
        pulls: [{ number: 3, state: 'closed', merged: true, headSha: sha, headRef: 'feat' }],
        comments: [{ issue: 3, count: 1 }],
        deployments: [],
      },
    ],
  });
  // Control traffic is not GitHub traffic: only the three API calls are recorded.
  expect(emu.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
    'GET /repos/acme/shop/pulls/3',
    'POST /repos/acme/shop/issues/3/comments',
    'GET /repos/acme/shop/pulls/3',
  ]);
});

test('bad control requests say what is wrong', async () => {
  expect(await control('POST', 'pulls', { repo: 'acme/shop' })).toEqual({
    status: 422,
    body: { message: '"number" is required' },
  });
  const unknown = await control('GET', 'nothing-here');
  expect(unknown.status).toBe(404);
  expect(unknown.body.routes).toContain('POST /_emulator/pulls');
  expect((await control('PATCH', 'pulls', { repo: 'x/y', number: 1 })).body.message).toBe(
    'no pull request x/y#1; POST it first',
  );
});
