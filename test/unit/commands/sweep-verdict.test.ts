// The rule that decides each preview's fate, as a table: the PR's state, the expiry and the keep label.
import { judgePreview } from '../../../src/commands/sweep.js';
import type { PullState } from '../../../src/github/pulls.js';

const NOW = new Date('2026-11-30T12:00:00Z');
const PAST = new Date('2026-11-30T11:59:59Z');
const FUTURE = new Date('2026-11-30T12:00:01Z');
const pull = (fate: PullState['fate'], labels: string[] = []): PullState => ({ number: 7, fate, labels });

test.each([
  ['closed, not expired', { pr: 7, expiresAt: FUTURE }, pull('closed'), true, 'pr-closed'],
  [
    'merged, with the keep label',
    { pr: 7, expiresAt: PAST },
    pull('merged', ['preview-keep']),
    true,
    'pr-merged',
  ],
  ['gone', { pr: 7 }, pull('gone'), true, 'pr-gone'],
  ['open, expired', { pr: 7, expiresAt: PAST }, pull('open'), true, 'expired'],
  ['open, expiring exactly now', { pr: 7, expiresAt: NOW }, pull('open'), true, 'expired'],
  ['open, not expired', { pr: 7, expiresAt: FUTURE }, pull('open'), false, 'open'],
  ['open, no expiry recorded', { pr: 7 }, pull('open'), false, 'open'],
  [
    'open, expired, keep label in another case',
    { pr: 7, expiresAt: PAST },
    pull('open', ['Preview-KEEP']),
    false,
    'keep-label',
  ],
  [
    'open, expired, another label',
    { pr: 7, expiresAt: PAST },
    pull('open', ['preview-keeper']),
    true,
    'expired',
  ],
  ['no PR recorded', { expiresAt: PAST }, undefined, false, 'no-pr'],
] as const)('%s', (_name, record, state, del, reason) => {
  expect(judgePreview(record, state, undefined, NOW, 'preview-keep')).toEqual({ delete: del, reason });
});

test('a PR that could not be read keeps its preview, and says why', () => {
  expect(
    judgePreview({ pr: 7, expiresAt: PAST }, undefined, 'could not read PR #7: Server Error', NOW, 'k'),
  ).toEqual({
    delete: false,
    reason: 'pr-unknown',
    error: 'could not read PR #7: Server Error; the preview is kept until its state is known',
  });
});
