// @actions/github takes its default baseUrl from GITHUB_API_URL — but reads it once, when the
// module is first loaded (lib/utils.js: `const baseUrl = Utils.getApiBaseUrl()` at top level).
// So the variable must be set before the first import; changing it later has no effect, which is
// why action code should pass `baseUrl` explicitly or import @actions/github lazily.
import { startGitHubEmulator, type GitHubEmulator } from './index.js';

let first: GitHubEmulator;
let second: GitHubEmulator;

beforeAll(async () => {
  first = await startGitHubEmulator();
  second = await startGitHubEmulator();
  for (const emu of [first, second]) {
    emu.state.addPull({ repo: 'acme/shop', number: 3, headSha: '3'.repeat(40), headRef: 'x' });
    emu.state.setToken('ghs_env', { permissions: 'write' });
  }
});

afterAll(async () => {
  delete process.env['GITHUB_API_URL'];
  await first.close();
  await second.close();
});

test('GITHUB_API_URL set before @actions/github is loaded points getOctokit at the emulator', async () => {
  process.env['GITHUB_API_URL'] = first.url;
  const { getOctokit } = await import('@actions/github');
  const gh = getOctokit('ghs_env');
  const pr = await gh.rest.pulls.get({ owner: 'acme', repo: 'shop', pull_number: 3 });
  expect(pr.data.number).toBe(3);
  expect(first.requests.map((r) => r.path)).toEqual(['/repos/acme/shop/pulls/3']);

  // Changing it after the module loaded does not move new clients: they still talk to `first`.
  process.env['GITHUB_API_URL'] = second.url;
  await getOctokit('ghs_env').rest.pulls.get({ owner: 'acme', repo: 'shop', pull_number: 3 });
  expect(first.requests).toHaveLength(2);
  expect(second.requests).toHaveLength(0);
  // An explicit baseUrl always wins.
  await getOctokit('ghs_env', { baseUrl: second.url }).rest.pulls.get({
    owner: 'acme',
    repo: 'shop',
    pull_number: 3,
  });
  expect(second.requests).toHaveLength(1);
});
