// Shared set-up for the GitHub integration tests: a real emulator over HTTP and a client built the
// way main.ts builds it, with waits scaled down so retries cost milliseconds.
import { startGitHubEmulator, type GitHubEmulator } from '../../emulators/github/index.js';
import { createGitHubClient, type GitHubClient } from '../../../src/github/client.js';
import type { Logger } from '../../../src/logger.js';

export const REPO = { owner: 'acme', repo: 'shop' };
export const FULL = `${REPO.owner}/${REPO.repo}`;
export const TOKEN = 'ghs_test_write_token';

export function client(
  emu: GitHubEmulator,
  logger: Logger,
  opts: { token?: string; retries?: number } = {},
): GitHubClient {
  return createGitHubClient({
    token: opts.token ?? TOKEN,
    baseUrl: emu.url,
    logger,
    retries: opts.retries,
    waitScale: 0.001,
  });
}

/** Starts a fresh emulator per test file and checks, after every test, that GitHub's OpenAPI description accepts every request we sent. */
export function useEmulator(): { emu: () => GitHubEmulator } {
  let emu: GitHubEmulator | undefined;
  beforeEach(async () => {
    emu = await startGitHubEmulator();
    emu.state.addRepo(FULL);
    emu.state.setToken(TOKEN, { permissions: 'write' });
  });
  afterEach(async () => {
    const e = emu;
    emu = undefined;
    if (!e) return;
    try {
      expect(e.invalidRequests()).toEqual([]);
      // And that the emulator answered in GitHub's documented shapes, so what we parsed is real.
      expect(e.responseProblems()).toEqual([]);
    } finally {
      await e.close();
    }
  });
  return {
    emu: () => {
      if (!emu) throw new Error('emulator not started: call emu() inside a test');
      return emu;
    },
  };
}

export function sha(seed: string): string {
  return Buffer.from(seed).toString('hex').padEnd(40, '0').slice(0, 40);
}
