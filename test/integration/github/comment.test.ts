import { recordingLogger } from '../../support/logger.js';
import { COMMENT_MARKER } from '../../../src/model/labels.js';
import { findMarkedComment, upsertComment } from '../../../src/github/comment.js';
import { GITHUB_COMMENT_MAX } from '../../../src/report/markdown.js';
import { renderPreviewComment } from '../../../src/report/comment.js';
import { FULL, REPO, client, sha, useEmulator } from './helpers.js';

const { emu } = useEmulator();
const PR = 12;

function seedPull(): void {
  emu().state.addPull({ repo: FULL, number: PR, headSha: sha('head-12'), headRef: 'feature/login' });
}

test('creates the comment on the PR when there is none, marker first', async () => {
  seedPull();
  const logger = recordingLogger();
  const result = await upsertComment(client(emu(), logger), REPO, PR, `${COMMENT_MARKER}\nhello`, { logger });

  const comments = emu().state.comments(FULL, PR);
  expect(comments).toHaveLength(1);
  expect(comments[0]!.body).toBe(`${COMMENT_MARKER}\nhello`);
  expect(result).toEqual({
    id: comments[0]!.id,
    url: expect.stringContaining(`/pull/${PR}#issuecomment-`),
    created: true,
  });
});

test('a second update edits the same comment in place', async () => {
  seedPull();
  const logger = recordingLogger();
  const gh = client(emu(), logger);
  const first = await upsertComment(gh, REPO, PR, `${COMMENT_MARKER}\nv1`, { logger });
  const second = await upsertComment(gh, REPO, PR, `${COMMENT_MARKER}\nv2`, { logger });

  const comments = emu().state.comments(FULL, PR);
  expect(comments.map((c) => c.body)).toEqual([`${COMMENT_MARKER}\nv2`]);
  expect(second).toMatchObject({ id: (first as { id: number }).id, created: false });
});

test('adds the marker when the body lacks it, so the next run finds the comment', async () => {
  seedPull();
  const logger = recordingLogger();
  const gh = client(emu(), logger);
  await upsertComment(gh, REPO, PR, 'no marker here', { logger });
  await upsertComment(gh, REPO, PR, 'still none', { logger });

  expect(
    emu()
      .state.comments(FULL, PR)
      .map((c) => c.body),
  ).toEqual([`${COMMENT_MARKER}\nstill none`]);
});

test('finds its comment behind 300 other comments, on the fourth page, and updates it', async () => {
  seedPull();
  emu().state.addComments(FULL, PR, 300, (i) => `chatter ${i}`);
  const [ours] = emu().state.addComments(FULL, PR, 1, () => `${COMMENT_MARKER}\nold`, 'github-actions[bot]');
  emu().state.addComments(FULL, PR, 20, (i) => `more chatter ${i}`);
  const logger = recordingLogger();
  const gh = client(emu(), logger);

  expect((await findMarkedComment(gh, REPO, PR))?.id).toBe(ours!.id);
  const result = await upsertComment(gh, REPO, PR, `${COMMENT_MARKER}\nnew`, { logger });

  expect(result).toMatchObject({ id: ours!.id, created: false });
  const comments = emu().state.comments(FULL, PR);
  expect(comments).toHaveLength(321);
  expect(comments.filter((c) => c.body.startsWith(COMMENT_MARKER)).map((c) => c.body)).toEqual([
    `${COMMENT_MARKER}\nnew`,
  ]);
  const pages = emu()
    .requests.filter((r) => r.operationId === 'issues/list-comments')
    .map((r) => r.query);
  expect(pages.some((q) => /page=4/.test(q))).toBe(true);
});

test('duplicates left by earlier races are removed, the newest kept, and a person’s comment quoting the marker is left alone', async () => {
  seedPull();
  const bot = 'github-actions[bot]';
  const [old1, old2] = emu().state.addComments(FULL, PR, 2, (i) => `${COMMENT_MARKER}\nrace ${i}`, bot);
  const [human] = emu().state.addComments(
    FULL,
    PR,
    1,
    () => `${COMMENT_MARKER}\npasted by a person`,
    'octocat',
  );
  const [newest] = emu().state.addComments(FULL, PR, 1, () => `${COMMENT_MARKER}\nrace 3`, bot);
  const logger = recordingLogger();

  const result = await upsertComment(client(emu(), logger), REPO, PR, `${COMMENT_MARKER}\nfinal`, { logger });

  expect(result).toMatchObject({ id: newest!.id, created: false });
  const left = emu().state.comments(FULL, PR);
  expect(left.map((c) => c.id)).toEqual([human!.id, newest!.id]);
  expect(left.map((c) => c.body)).toEqual([
    `${COMMENT_MARKER}\npasted by a person`,
    `${COMMENT_MARKER}\nfinal`,
  ]);
  expect(left.map((c) => c.id)).not.toContain(old1!.id);
  expect(left.map((c) => c.id)).not.toContain(old2!.id);
});

test('two runs racing to create both end with one comment', async () => {
  seedPull();
  const logger = recordingLogger();
  const gh = client(emu(), logger);
  const [a, b] = await Promise.all([
    upsertComment(gh, REPO, PR, `${COMMENT_MARKER}\nrun A`, { logger }),
    upsertComment(gh, REPO, PR, `${COMMENT_MARKER}\nrun B`, { logger }),
  ]);
  const comments = emu().state.comments(FULL, PR);
  expect(comments).toHaveLength(1);
  expect((a as { id: number }).id).toBe(comments[0]!.id);
  expect((b as { id: number }).id).toBe(comments[0]!.id);
});

test('a read-only token (fork PR) skips the comment with a warning instead of failing', async () => {
  seedPull();
  emu().state.setToken('ghs_fork_read_only', { permissions: 'read' });
  const logger = recordingLogger();
  const gh = client(emu(), logger, { token: 'ghs_fork_read_only' });

  const result = await upsertComment(gh, REPO, PR, `${COMMENT_MARKER}\nhello`, { logger });

  expect(result).toEqual({ skipped: true, reason: expect.stringContaining('read-only') });
  expect(emu().state.comments(FULL, PR)).toHaveLength(0);
  expect(logger.warnings).toHaveLength(1);
  expect(logger.warnings[0]).toMatch(/read-only for PRs from forks; use pull_request_target or workflow_run/);
});

test('a failed preview with 200 KB of diagnostics is posted under GitHub’s limit and accepted', async () => {
  seedPull();
  const logger = recordingLogger();
  const diagnostics = Array.from(
    { length: 5000 },
    (_, i) => `event ${i}: Back-off pulling image ${'x'.repeat(30)}`,
  ).join('\n');
  expect(diagnostics.length).toBeGreaterThan(200_000);
  const body = renderPreviewComment({
    status: 'failed',
    url: 'https://pr-12.preview.example.com',
    namespace: 'pr-12',
    headSha: sha('head-12'),
    headRef: 'feature/login',
    images: [{ name: 'web', ref: 'ghcr.io/acme/web:pr-12-6865616' }],
    updatedAt: new Date('2026-11-23T06:40:00Z'),
    diagnostics,
  });

  const result = await upsertComment(client(emu(), logger), REPO, PR, body, { logger });

  expect(result).toMatchObject({ created: true });
  const [stored] = emu().state.comments(FULL, PR);
  expect(stored!.body.length).toBeLessThan(GITHUB_COMMENT_MAX);
  expect(stored!.body.startsWith(COMMENT_MARKER)).toBe(true);
  expect(stored!.body).toContain('event 0:');
  expect(stored!.body).toContain('event 4999:');
  expect(stored!.body).toContain('characters omitted');
});

test('an oversized raw body is cut by upsertComment itself, keeping the marker', async () => {
  seedPull();
  const logger = recordingLogger();
  await upsertComment(client(emu(), logger), REPO, PR, `head\n${'y'.repeat(100_000)}`, { logger });
  const [stored] = emu().state.comments(FULL, PR);
  expect(stored!.body.length).toBeLessThanOrEqual(GITHUB_COMMENT_MAX);
  expect(stored!.body.startsWith(`${COMMENT_MARKER}\nhead`)).toBe(true);
  expect(stored!.body).toMatch(/65,536-character limit/);
});
