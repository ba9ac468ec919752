import { COMMENT_MARKER } from '../../../src/model/labels.js';
import {
  GITHUB_COMMENT_MAX,
  TRUNCATION_NOTE,
  codeBlock,
  codeSpan,
  escapeMarkdown,
  markdownLink,
  redact,
  safeHref,
  truncateBody,
} from '../../../src/report/markdown.js';

const ZWSP = '\u200B';

describe('escapeMarkdown', () => {
  test.each([
    ['a link', '[click](https://evil.example)', /\\\[click\\\]\\\(https:\u200B\/\/evil\\\.example\\\)/],
    ['an image', '![x](https://evil.example/x.png)', /^\\!\\\[x\\\]/],
    ['raw HTML', '<img src=x onerror=alert(1)>', /^&lt;img src\\=x onerror\\=alert\\\(1\\\)&gt;$/],
    ['the end of our hidden comment', 'feat/x-->y', /^feat\/x\\-\\-&gt;y$/],
    ['the start of an HTML comment', 'x<!--', /^x&lt;\\!\\-\\-$/],
    ['a table cell break', 'a|b', /^a&#124;b$/],
    ['a new line', 'a\nb\r\nc', /^a b c$/],
    ['emphasis', '*bold* _it_ ~~del~~ `code`', /^\\\*bold\\\* \\_it\\_ \\~\\~del\\~\\~ \\`code\\`$/],
  ])('neutralises %s', (_what, input, expected) => {
    expect(escapeMarkdown(input)).toMatch(expected);
  });

  test('a mention no longer pings: a zero-width space follows every @', () => {
    const out = escapeMarkdown('cc @octocat and @org/team, mail a@b.example');
    expect(out).toContain(`@${ZWSP}octocat`);
    expect(out).toContain(`@${ZWSP}org/team`);
    expect(out).toContain(`a@${ZWSP}b`);
    expect(out).not.toMatch(/@[A-Za-z]/);
  });

  test('image digests keep their @ so they can be copied', () => {
    expect(escapeMarkdown('web@sha256:abc')).toBe('web@sha256:abc');
  });

  test('bare URLs are not autolinked', () => {
    const out = escapeMarkdown('see https://evil.example and www.evil.example');
    expect(out).not.toContain('https://');
    expect(out).not.toMatch(/www\\?\./);
  });

  test('no raw angle bracket, pipe or newline survives any input', () => {
    const nasty = '<script>|\n-->@x</script>\u202Egnp.exe';
    const out = escapeMarkdown(nasty);
    expect(out).not.toMatch(/[<>|\n\u202E]/);
  });
});

describe('codeSpan', () => {
  test('wraps plain text in single backticks', () => {
    expect(codeSpan('pr-12')).toBe('`pr-12`');
  });
  test('a backtick in the text cannot close the span', () => {
    expect(codeSpan('a`b')).toBe('``a`b``');
    expect(codeSpan('`x`')).toBe('`` `x` ``');
  });
  test('in a table, pipes are escaped so the cell is not split', () => {
    expect(codeSpan('a|b', { inTable: true })).toBe('`a\\|b`');
    expect(codeSpan('a|b')).toBe('`a|b`');
  });
  test('new lines become spaces', () => {
    expect(codeSpan('a\nb')).toBe('`a b`');
  });
});

describe('codeBlock', () => {
  test('a fence inside the text cannot close the block', () => {
    const block = codeBlock('before\n````\nafter');
    expect(block.startsWith('`````text\n')).toBe(true);
    expect(block.endsWith('\n`````')).toBe(true);
  });
});

describe('links', () => {
  test('only http(s) URLs become links', () => {
    expect(safeHref('javascript:alert(1)')).toBeUndefined();
    expect(safeHref('/relative')).toBeUndefined();
    expect(markdownLink('javascript:alert(1)')).not.toContain('](');
  });
  test('parentheses and pipes in a URL cannot end the link or the cell', () => {
    expect(safeHref('https://x.example/a)(b|c')).toBe('https://x.example/a%29%28b%7Cc');
  });
  test('the URL text is shown without zero-width characters', () => {
    expect(markdownLink('https://pr-12.preview.example.com')).toBe(
      '[https://pr-12.preview.example.com](https://pr-12.preview.example.com/)',
    );
  });
});

describe('truncateBody', () => {
  test('a short body is unchanged', () => {
    expect(truncateBody(`${COMMENT_MARKER}\nhello`)).toBe(`${COMMENT_MARKER}\nhello`);
  });

  test('a long body keeps the marker and the head, closes the open code block and says it was cut', () => {
    const body = `${COMMENT_MARKER}\n### head\n<details><summary>d</summary>\n\n\`\`\`text\n${'line of log\n'.repeat(20_000)}\`\`\`\n</details>\n`;
    const out = truncateBody(body);
    expect(out.length).toBeLessThanOrEqual(GITHUB_COMMENT_MAX);
    expect(out.startsWith(`${COMMENT_MARKER}\n### head`)).toBe(true);
    expect(out).toContain(TRUNCATION_NOTE);
    // The note is after a closed fence and a closed <details>, so it renders as text.
    const beforeNote = out.slice(0, out.indexOf(TRUNCATION_NOTE));
    expect(beforeNote.match(/^```/gm)).toHaveLength(2);
    expect(beforeNote).toContain('</details>');
  });

  test('the marker is put back when the body does not start with it', () => {
    const out = truncateBody('x'.repeat(100), 50);
    expect(out.startsWith(COMMENT_MARKER)).toBe(true);
    expect(out.length).toBeLessThanOrEqual(50 + TRUNCATION_NOTE.length + COMMENT_MARKER.length + 4);
  });

  test('an emoji at the cut is never split into half a surrogate pair', () => {
    const out = truncateBody(`${COMMENT_MARKER}\n${'😀'.repeat(40_000)}`);
    expect(out.length).toBeLessThanOrEqual(GITHUB_COMMENT_MAX);
    expect(out).not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])/);
  });
});

describe('redact', () => {
  test.each([
    ['a given secret', 'password is hunter22', ['hunter22'], 'password is ***'],
    ['a bearer token', 'Authorization: Bearer abc123def456ghi', [], 'Authorization: Bearer ***'],
    ['a classic PAT', `token ghp_${'a'.repeat(36)} leaked`, [], 'token *** leaked'],
    ['an Actions token', `x ghs_${'B1'.repeat(18)}`, [], 'x ***'],
    ['a fine-grained PAT', `github_pat_${'1A_'.repeat(25)}`, [], '***'],
    ['a kubeconfig token', '    token: eyJhbGciOi.xyz', [], '    token: ***'],
    ['kubeconfig key data', 'client-key-data: LS0tLS1CRUdJTg==', [], 'client-key-data: ***'],
    ['kubeconfig cert data', 'client-certificate-data: LS0tLS1C', [], 'client-certificate-data: ***'],
    ['a password assignment', 'DB_URL password=s3cr3t&user=x', [], 'DB_URL password=***&user=x'],
    [
      'a URL with credentials',
      'pull https://bob:pa55@registry.example/x',
      [],
      'pull https://bob:***@registry.example/x',
    ],
  ])('masks %s', (_what, input, secrets, expected) => {
    expect(redact(input, secrets)).toBe(expected);
  });

  test('masks a PEM private key block', () => {
    const out = redact(
      'key:\n-----BEGIN RSA PRIVATE KEY-----\nMIIE\nabc\n-----END RSA PRIVATE KEY-----\nafter',
    );
    expect(out).toBe('key:\n***\nafter');
  });

  test('masks each line of a multi-line secret', () => {
    const secret = 'first-line-of-secret\nsecond-line-of-secret';
    expect(redact('x second-line-of-secret y', [secret])).toBe('x *** y');
  });

  test('leaves ordinary prose and empty secrets alone', () => {
    const text = 'Back-off pulling image "web:pr-12": Basic authentication failed, token expired';
    expect(redact(text, ['', ' '])).toBe(text);
  });
});
