import { recordingLogger } from '../../support/logger.js';
import { findPullForSha, getPull, readPullStates } from '../../../src/github/pulls.js';
import { FULL, REPO, client, sha, useEmulator } from './helpers.js';

const { emu } = useEmulator();

test('getPull reads an open same-repository pull request', async () => {
  emu().state.addPull({
    repo: FULL,
    number: 12,
    headSha: sha('a'),
    headRef: 'feature/login',
    title: 'Add login',
    labels: ['preview-keep'],
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
    labels: ['preview-keep'],
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

test('readPullStates reads two PRs one by one, and a 404 as gone', async () => {
  emu().state.addPull({ repo: FULL, number: 5, headSha: sha('5'), headRef: 'five', labels: ['x'] });
  const before = emu().requests.length;
  const r = await readPullStates(client(emu(), recordingLogger()), REPO, [5, 6]);
  expect(r.states.get(5)).toMatchObject({ fate: 'open', labels: ['x'], headRef: 'five' });
  expect(r.states.get(6)).toEqual({ number: 6, fate: 'gone', labels: [] });
  expect(
    emu()
      .requests.slice(before)
      .map((q) => q.operationId),
  ).toEqual(['pulls/get', 'pulls/get']);
  expect(r.requests).toBe(2);
});

test('readPullStates stops listing open PRs when the pages left outnumber the PRs still unknown', async () => {
  for (let n = 1; n <= 1000; n++)
    emu().state.addPull({ repo: FULL, number: n, headSha: sha(`${n}`), headRef: `b${n}` });
  emu().state.setPullState(FULL, 2, 'closed', true);
  const before = emu().requests.length;
  const r = await readPullStates(client(emu(), recordingLogger()), REPO, [1, 2, 3, 999]);
  // Page 1 (the newest 100) has #999; nine pages are left for three PRs: those are read one by one.
  expect(
    emu()
      .requests.slice(before)
      .map((q) => `${q.operationId} ${q.path.split('/').pop()}`),
  ).toEqual(['pulls/list pulls', 'pulls/get 1', 'pulls/get 2', 'pulls/get 3']);
  expect([...r.states.values()].map((s) => [s.number, s.fate])).toEqual([
    [999, 'open'],
    [1, 'open'],
    [2, 'merged'],
    [3, 'open'],
  ]);
});
