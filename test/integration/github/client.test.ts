import { recordingLogger } from '../../support/logger.js';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createGitHubClient } from '../../../src/github/client.js';
import { getPull } from '../../../src/github/pulls.js';
import { FULL, REPO, TOKEN, client, sha, useEmulator } from './helpers.js';

const { emu } = useEmulator();

function pullRequests(): number {
  return emu().requests.filter((r) => r.path === '/repos/acme/shop/pulls/12').length;
}

beforeEach(() => {
  emu().state.addPull({ repo: FULL, number: 12, headSha: sha('a'), headRef: 'feature/login' });
});

test('a 503 from GitHub is retried and the request succeeds', async () => {
  emu().faults.serverError(2, 503);
  const pull = await getPull(client(emu(), recordingLogger()), REPO, 12);
  expect(pull.number).toBe(12);
  expect(pullRequests()).toBe(3);
});

test('a secondary rate limit is waited out (Retry-After honoured) with a warning, then the request succeeds', async () => {
  emu().faults.secondaryRateLimit(1, 2);
  const logger = recordingLogger();
  const started = Date.now();
  const pull = await getPull(client(emu(), logger), REPO, 12);
  expect(pull.number).toBe(12);
  expect(pullRequests()).toBe(2);
  expect(logger.warnings).toEqual([
    expect.stringMatching(/secondary rate limit hit on GET .*retrying in 2s/),
  ]);
  // Scaled by waitScale 0.001: 2 s become 2 ms, so the test does not sleep.
  expect(Date.now() - started).toBeLessThan(5000);
});

test('a persistent 500 fails after a bounded number of attempts with a clear error', async () => {
  emu().faults.serverError(100, 500);
  const error = await getPull(client(emu(), recordingLogger(), { retries: 3 }), REPO, 12).catch(
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(Error);
  expect((error as Error).message).toMatch(
    /^GitHub API GET \/repos\/acme\/shop\/pulls\/12 failed with HTTP 500 \(http:\/\/127\.0\.0\.1:\d+\) after 4 attempts: Internal Server Error — .*githubstatus/,
  );
  expect((error as { status?: number }).status).toBe(500);
  expect(pullRequests()).toBe(4);
});

test('a secondary rate limit that never lifts gives up after the retry budget', async () => {
  emu().faults.secondaryRateLimit(100, 1);
  const logger = recordingLogger();
  const error = await getPull(client(emu(), logger, { retries: 2 }), REPO, 12).catch((e: unknown) => e);
  expect((error as Error).message).toMatch(
    /HTTP 403 .*after 3 attempts: You have exceeded a secondary rate limit/,
  );
  expect(pullRequests()).toBe(3);
  expect(logger.warnings.at(-1)).toMatch(/giving up after 3 attempts/);
});

test('the API URL comes from GITHUB_API_URL when no base URL is given', async () => {
  const saved = process.env.GITHUB_API_URL;
  process.env.GITHUB_API_URL = emu().url;
  try {
    const gh = createGitHubClient({ token: TOKEN, logger: recordingLogger(), waitScale: 0.001 });
    expect((await getPull(gh, REPO, 12)).headRef).toBe('feature/login');
  } finally {
    if (saved === undefined) delete process.env.GITHUB_API_URL;
    else process.env.GITHUB_API_URL = saved;
  }
});

test('a dropped connection is retried like a 5xx', async () => {
  // A hop in front of the emulator that hangs up on the first request, as a flaky proxy would.
  let hangUps = 1;
  const proxy = createServer((req, res) => {
    if (hangUps > 0) {
      hangUps--;
      req.socket.destroy();
      return;
    }
    const upstream = `${emu().url}${req.url ?? '/'}`;
    void fetch(upstream, {
      method: req.method,
      headers: { authorization: req.headers.authorization ?? '' },
    }).then(async (r) => {
      res.writeHead(r.status, { 'content-type': r.headers.get('content-type') ?? 'application/json' });
      res.end(Buffer.from(await r.arrayBuffer()));
    });
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  try {
    const url = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
    const gh = createGitHubClient({
      token: TOKEN,
      baseUrl: url,
      logger: recordingLogger(),
      waitScale: 0.001,
    });
    expect((await getPull(gh, REPO, 12)).number).toBe(12);
    expect(hangUps).toBe(0);
  } finally {
    proxy.closeAllConnections();
    await new Promise<void>((resolve) => proxy.close(() => resolve()));
  }
});

test('an unreachable API fails after the retries with a message that says no reply came', async () => {
  const closed = createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(closed.address() as AddressInfo).port}`;
  await new Promise<void>((resolve) => closed.close(() => resolve()));
  const gh = createGitHubClient({
    token: TOKEN,
    baseUrl: url,
    logger: recordingLogger(),
    retries: 2,
    waitScale: 0.001,
  });
  await expect(getPull(gh, REPO, 12)).rejects.toThrow(
    /GET \/repos\/acme\/shop\/pulls\/12 failed without a reply \(http:\/\/127\.0\.0\.1:\d+\) after 3 attempts: .*githubstatus/,
  );
});
