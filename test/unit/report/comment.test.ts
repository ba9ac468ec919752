import { COMMENT_MARKER } from '../../../src/model/labels.js';
import { GITHUB_COMMENT_MAX } from '../../../src/report/markdown.js';
import { formatUtc, renderPreviewComment, type PreviewCommentState } from '../../../src/report/comment.js';

const base: PreviewCommentState = {
  status: 'ready',
  url: 'https://pr-12.preview.example.com',
  namespace: 'pr-12',
  headSha: '0123456789abcdef0123456789abcdef01234567',
  headRef: 'feature/login',
  prTitle: 'Add login page',
  images: [{ name: 'web', ref: 'ghcr.io/acme/web:pr-12-0123456' }],
  updatedAt: new Date('2026-11-23T06:40:31Z'),
  expiresAt: new Date('2026-11-30T06:40:31Z'),
  runUrl: 'https://github.com/acme/shop/actions/runs/42',
};

describe('renderPreviewComment', () => {
  test('a ready preview shows the marker first, status, URL as a link, commit, images, times and the run', () => {
    const body = renderPreviewComment(base);
    expect(body.startsWith(`${COMMENT_MARKER}\n`)).toBe(true);
    expect(body).toContain('✅');
    expect(body).toContain('Ready');
    expect(body).toContain('[https://pr-12.preview.example.com](https://pr-12.preview.example.com/)');
    expect(body).toContain('`0123456`');
    expect(body).not.toContain('0123456789abcdef');
    expect(body).toContain('feature/login');
    expect(body).toContain('`pr-12`');
    expect(body).toMatch(/\| web \| <code>ghcr\\\.io\/acme\/web:pr\\-12\\-0123456<\/code> \|/);
    expect(body).toContain('2026-11-23 06:40 UTC');
    expect(body).toContain(
      '2026-11-30 06:40 UTC (in 7 days; each push extends it; after it a scheduled sweep may remove the preview unless the PR has the keep label, `preview-keep` by default)',
    );
    expect(body).toContain('[workflow run](https://github.com/acme/shop/actions/runs/42)');
    expect(body).not.toContain('<details>');
  });

  test('deploying and failed previews say so in words, not only emoji', () => {
    expect(renderPreviewComment({ ...base, status: 'deploying' })).toMatch(/⏳ Deploying/);
    expect(renderPreviewComment({ ...base, status: 'failed', diagnostics: 'ImagePullBackOff' })).toMatch(
      /❌ Preview failed/,
    );
  });

  test('PR-controlled text is escaped: a branch cannot close the marker, a title cannot ping or link', () => {
    const body = renderPreviewComment({
      ...base,
      headRef: 'x--><img src=x>',
      prTitle: '@octocat [free](https://evil.example) <b>|</b>',
      images: [{ name: 'w|eb-->', ref: 'evil/<script>:1' }],
    });
    // The only `-->` is the one closing our own marker.
    expect(body.split('-->')).toHaveLength(2);
    expect(body).not.toMatch(/<img|<b>|<script>/);
    expect(body).not.toMatch(/@octocat/);
    expect(body).not.toContain('](https://evil');
    // Every table row still has exactly its columns: no injected `|`.
    for (const line of body.split('\n').filter((l) => l.startsWith('| '))) {
      const cells = line.replace(/\\\|/g, '').split('|').length - 2;
      expect([2, 3]).toContain(cells);
    }
  });

  test('failure diagnostics go in a collapsed code block, redacted', () => {
    const body = renderPreviewComment({
      ...base,
      status: 'failed',
      diagnostics: 'Pod web-1: ImagePullBackOff\n  token: abc.def.ghi\nwith my-extra-secret-value inside',
      secrets: ['my-extra-secret-value'],
    });
    expect(body).toMatch(/<details><summary>Diagnostics<\/summary>\n\n```text\nPod web-1: ImagePullBackOff/);
    expect(body).toContain('token: ***');
    expect(body).not.toContain('abc.def.ghi');
    expect(body).not.toContain('my-extra-secret-value');
    expect(body).toMatch(/```\n\n<\/details>/);
  });

  test('200 KB of diagnostics are shortened so the whole body stays under GitHub limit, keeping start and end', () => {
    const lines = Array.from({ length: 4000 }, (_, i) => `line ${i} ${'x'.repeat(45)}`);
    const diagnostics = `FIRST CONDITION\n${lines.join('\n')}\nLAST LOG LINE`;
    expect(diagnostics.length).toBeGreaterThan(200_000);
    const body = renderPreviewComment({ ...base, status: 'failed', diagnostics });
    expect(body.length).toBeLessThan(GITHUB_COMMENT_MAX);
    expect(body.length).toBeGreaterThan(GITHUB_COMMENT_MAX - 2000);
    expect(body).toContain('FIRST CONDITION');
    expect(body).toContain('LAST LOG LINE');
    expect(body).toMatch(/characters omitted/);
    expect(body.trimEnd().endsWith('</details>')).toBe(true);
  });

  test('diagnostics containing a code fence cannot break out of the code block', () => {
    const body = renderPreviewComment({
      ...base,
      status: 'failed',
      diagnostics: 'a\n```\n</details>\n@octocat',
    });
    expect(body).toContain('````text\na\n```\n</details>\n@octocat\n````');
  });

  test('a destroyed preview says when and how much was removed, and no longer links the URL', () => {
    const body = renderPreviewComment({
      ...base,
      status: 'destroyed',
      destroyed: { at: new Date('2026-12-01T10:05:00Z'), objectsRemoved: 7 },
    });
    expect(body).toContain('🗑️ Preview destroyed');
    expect(body).toContain('2026-12-01 10:05 UTC');
    expect(body).toContain('7 objects');
    expect(body).not.toContain('](https://pr-12');
    expect(body).not.toContain('Expires');
  });

  test('objects are listed with their state', () => {
    const body = renderPreviewComment({
      ...base,
      status: 'failed',
      objects: [{ kind: 'Deployment', name: 'web', state: 'ImagePullBackOff' }],
    });
    expect(body).toContain('| Deployment | web | ImagePullBackOff |');
  });

  test('a URL that is not http(s) is shown as text, never as a link', () => {
    const body = renderPreviewComment({ ...base, url: 'javascript:alert(1)' });
    expect(body).not.toContain('](javascript');
  });
});

test('formatUtc prints minutes in UTC whatever the local zone', () => {
  expect(formatUtc(new Date('2026-11-23T06:40:59.999Z'))).toBe('2026-11-23 06:40 UTC');
});
