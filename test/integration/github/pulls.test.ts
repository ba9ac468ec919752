import { recordingLogger } from '../../support/logger.js';
import { findPullForSha, getPull } from '../../../src/github/pulls.js';
import { FULL, REPO, client, sha, useEmulator } from './helpers.js';

const { emu } = useEmulator();

test('getPull reads an open same-repository pull request', async () => {
  emu().state.addPull({
    repo: FULL,
    number: 12,
    headSha: sha('a'),
    headRef: 'feature/login',
    title: 'Add login',
  });
  const pull = await getPull(client(emu(), recordingLogger()), REPO, 12);
  expect(pull).toEqual({
    number: 12,
    state: 'open',
    merged: false,
    headSha: sha('a'),
    headRef: 'feature/login',
    headRepoFullName: FULL,
    baseRepoFullName: FULL,
    title: 'Add login',
    htmlUrl: expect.stringMatching(/\/acme\/shop\/pull\/12$/),
    isFork: false,
  });
});

test('getPull tells a fork PR and a merged PR apart', async () => {
  emu().state.addPull({
    repo: FULL,
    number: 20,
    headSha: sha('f'),
    headRef: 'main',
    headRepoFullName: 'mallory/shop',
  });
  emu().state.addPull({ repo: FULL, number: 21, headSha: sha('m'), headRef: 'done' });
  emu().state.setPullState(FULL, 21, 'closed', true);
  const gh = client(emu(), recordingLogger());

  expect(await getPull(gh, REPO, 20)).toMatchObject({ isFork: true, headRepoFullName: 'mallory/shop' });
  expect(await getPull(gh, REPO, 21)).toMatchObject({ state: 'closed', merged: true });
});

test('getPull of a missing PR fails with a message that names the request and the cause', async () => {
  await expect(getPull(client(emu(), recordingLogger()), REPO, 999)).rejects.toThrow(
    /GET \/repos\/acme\/shop\/pulls\/999 failed with HTTP 404 after 1 attempt: Not Found/,
  );
});

test('findPullForSha finds the open PR whose head is that commit, and nothing for other commits', async () => {
  emu().state.addPull({ repo: FULL, number: 12, headSha: sha('open-head'), headRef: 'a' });
  emu().state.addPull({ repo: FULL, number: 13, headSha: sha('closed-head'), headRef: 'b', state: 'closed' });
  emu().state.addPull({ repo: FULL, number: 14, headSha: sha('merged-head'), headRef: 'c' });
  const merged = emu().state.setPullState(FULL, 14, 'closed', true);
  const gh = client(emu(), recordingLogger());

  expect((await findPullForSha(gh, REPO, sha('open-head')))?.number).toBe(12);
  expect(await findPullForSha(gh, REPO, sha('closed-head'))).toBeNull();
  expect(await findPullForSha(gh, REPO, merged.mergeCommitSha!)).toBeNull();
  expect(await findPullForSha(gh, REPO, sha('never-pushed'))).toBeNull();
});
