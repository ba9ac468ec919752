// Which repository a checkout belongs to, from its origin remote or --repo; and which GitHub API it uses.
import { githubApiUrl, parseRemoteUrl, parseRepoFlag } from '../../src/cli/checkout.js';
import { SettingsError } from '../../src/settings/inputs.js';

test.each([
  ['https://github.com/acme/shop.git', { host: 'github.com', owner: 'acme', repo: 'shop' }],
  ['https://github.com/acme/shop', { host: 'github.com', owner: 'acme', repo: 'shop' }],
  [
    'https://x-access-token:secret@github.com/acme/shop.git/',
    { host: 'github.com', owner: 'acme', repo: 'shop' },
  ],
  ['git@github.com:acme/shop.git', { host: 'github.com', owner: 'acme', repo: 'shop' }],
  ['git@github.com:acme/my.site.git', { host: 'github.com', owner: 'acme', repo: 'my.site' }],
  ['ssh://git@github.com/acme/shop.git', { host: 'github.com', owner: 'acme', repo: 'shop' }],
  [
    'ssh://git@ghe.corp.example:2222/platform/api.git',
    { host: 'ghe.corp.example', owner: 'platform', repo: 'api' },
  ],
  ['https://GHE.corp.example/platform/api', { host: 'ghe.corp.example', owner: 'platform', repo: 'api' }],
  ['git@ghe.corp.example:platform/api', { host: 'ghe.corp.example', owner: 'platform', repo: 'api' }],
])('the remote %s is %j', (url, ref) => {
  expect(parseRemoteUrl(url)).toEqual(ref);
});

test.each([
  '/srv/git/shop.git',
  '../shop',
  'file:///srv/git/shop.git',
  'https://github.com/acme',
  'https://gitlab.com/a/b/c',
])('the remote %s names no GitHub repository', (url) => {
  expect(parseRemoteUrl(url)).toBeUndefined();
});

test('--repo takes OWNER/NAME or a repository URL, and says what it expects otherwise', () => {
  expect(parseRepoFlag('acme/shop')).toEqual({ owner: 'acme', repo: 'shop' });
  expect(parseRepoFlag('https://github.com/acme/shop')).toMatchObject({ owner: 'acme', repo: 'shop' });
  expect(() => parseRepoFlag('acme')).toThrow(SettingsError);
  expect(() => parseRepoFlag('acme')).toThrow('The flag --repo is "acme"; expected OWNER/NAME');
});

test('the API is GITHUB_API_URL, else /api/v3 of a GitHub Enterprise Server remote, else the default', () => {
  expect(githubApiUrl({ GITHUB_API_URL: 'http://127.0.0.1:9000' }, 'github.com')).toBe(
    'http://127.0.0.1:9000',
  );
  expect(githubApiUrl({}, 'ghe.corp.example')).toBe('https://ghe.corp.example/api/v3');
  expect(githubApiUrl({}, 'github.com')).toBeUndefined();
  expect(githubApiUrl({}, undefined)).toBeUndefined();
});
