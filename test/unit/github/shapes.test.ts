import { DESCRIPTION_MAX, truncateDescription } from '../../../src/github/deployments.js';
import { toPullInfo } from '../../../src/github/pulls.js';

describe('truncateDescription', () => {
  test('short text is kept, whitespace folded', () => {
    expect(truncateDescription('Preview\n  ready')).toBe('Preview ready');
  });
  test('long text is cut to 140 characters with an ellipsis, counting emoji as one', () => {
    const out = truncateDescription('❌'.repeat(200));
    expect([...out]).toHaveLength(DESCRIPTION_MAX);
    expect(out.endsWith('…')).toBe(true);
  });
});

describe('toPullInfo', () => {
  const payload = {
    number: 5,
    state: 'closed',
    merged_at: null,
    title: 't',
    html_url: 'https://github.com/acme/shop/pull/5',
    head: { sha: 'abc', ref: 'x', repo: null },
    base: { repo: { full_name: 'acme/shop' } },
  };
  test('a PR whose fork was deleted counts as a fork, with no head repository', () => {
    expect(toPullInfo(payload)).toMatchObject({ isFork: true, headRepoFullName: null, merged: false });
  });
  test('merged is derived from merged_at when the list endpoint omits it', () => {
    expect(toPullInfo({ ...payload, merged_at: '2026-01-01T00:00:00Z' }).merged).toBe(true);
  });
  test('the same repository in another letter case is not a fork', () => {
    expect(
      toPullInfo({ ...payload, head: { ...payload.head, repo: { full_name: 'Acme/Shop' } } }).isFork,
    ).toBe(false);
  });
});
