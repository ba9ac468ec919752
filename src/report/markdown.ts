// Making untrusted text safe to put in a GitHub comment. Branch names, PR titles and image names come
// from whoever opened the PR, and the comment is posted with the repository's token, so that text must
// not be able to add links, HTML, mentions (notifications), table cells, or close our hidden marker.
import { COMMENT_MARKER } from '../model/labels.js';

/** GitHub refuses issue comment bodies longer than this (characters). */
export const GITHUB_COMMENT_MAX = 65_536;

const ZWSP = '\u200B';

/** Control characters (newlines split table rows) and bidi overrides (text that reads differently than it is). */
// eslint-disable-next-line no-control-regex
const UNSAFE_CHARS = /[\u0000-\u001F\u007F\u200E\u200F\u202A-\u202E\u2066-\u2069]+/g;

const HTML_ENTITIES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '|': '&#124;',
  '"': '&quot;',
};

/**
 * Escapes text for inline use anywhere in a comment, table cells included. What renders is the
 * original text (modulo invisible zero-width spaces): no emphasis, links, autolinks, HTML, `@`-mentions
 * or line breaks. `-->` comes out as `--&gt;`, so it cannot end an HTML comment.
 */
export function escapeMarkdown(text: string): string {
  return (
    text
      .replace(UNSAFE_CHARS, ' ')
      // GitHub turns `@name` / `@org/team` into a notification, and `a@b.c` into a mailto link; a zero-width
      // space after `@` keeps the text and stops both.
      // Image digests (`web@sha256:…`) keep their `@` intact so they can be copied.
      .replace(/@(?!sha(?:256|384|512):)/g, `@${ZWSP}`)
      // GFM autolinks bare `https://…` and `www.…` after parsing, so backslashes cannot stop it; a zero-width
      // space inside the trigger sequence does.
      .replace(/:\/\//g, `:${ZWSP}//`)
      .replace(/\bwww\./gi, (m) => `${m.slice(0, 3)}${ZWSP}.`)
      // Backslashes for Markdown punctuation, then entities for what could open HTML or a new table
      // cell (in this order, so the `#` of `&#124;` is not escaped again).
      .replace(/[\\`*_{}[\]()#+\-.!~=]/g, (c) => `\\${c}`)
      .replace(/[&<>|"]/g, (c) => HTML_ENTITIES[c] ?? c)
  );
}

/**
 * `text` as inline code: shown literally, no Markdown, links or mentions inside. The backtick fence is
 * longer than any backtick run in the text, so the text cannot close it. In a table cell pass
 * `inTable: true`: GFM splits cells on `|` even inside code spans unless the pipe is escaped.
 */
export function codeSpan(text: string, options: { inTable?: boolean } = {}): string {
  let body = text.replace(UNSAFE_CHARS, ' ');
  if (options.inTable) body = body.replace(/\|/g, '\\|');
  if (body === '') return '` `';
  const longestRun = Math.max(0, ...(body.match(/`+/g) ?? []).map((run) => run.length));
  const fence = '`'.repeat(longestRun + 1);
  // A span that starts or ends with a backtick (or a space) needs padding, which GFM strips again.
  const pad = /^[`\s]|[`\s]$/.test(body) ? ' ' : '';
  return `${fence}${pad}${body}${pad}${fence}`;
}

/**
 * A fenced code block that `text` cannot close: the fence is longer than any backtick run inside.
 * Use for multi-line diagnostics (inside `<details>`, the lines stay literal: no HTML, no mentions).
 */
export function codeBlock(text: string, language = 'text'): string {
  const longestRun = Math.max(0, ...(text.match(/`{3,}/g) ?? []).map((run) => run.length));
  const fence = '`'.repeat(Math.max(3, longestRun + 1));
  const body = text.replace(/\r\n?/g, '\n').replace(/\n+$/, '');
  return `${fence}${language}\n${body}\n${fence}`;
}

/**
 * `url` as a link destination, or undefined if it is not an absolute http(s) URL (a `javascript:` or
 * relative "URL" never becomes a link). Characters that would end the destination or a table cell
 * are percent-encoded.
 */
export function safeHref(url: string): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url.trim());
  } catch {
    return undefined;
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') return undefined;
  return parsed.href.replace(
    /[()|<>\s"'`]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`,
  );
}

/**
 * A Markdown link showing `text` (escaped) to `url`; when `url` is not a safe http(s) URL, the text
 * alone. With `text` omitted the URL itself is shown as given (no zero-width characters), so it can be copied.
 */
export function markdownLink(url: string, text?: string): string {
  const href = safeHref(url);
  if (href === undefined) return escapeMarkdown(text ?? url);
  // Inside a link GitHub neither autolinks nor mentions, so our own URL text needs only Markdown escapes.
  const label =
    text !== undefined
      ? escapeMarkdown(text)
      : url
          .trim()
          .replace(/[&<>|]/g, (c) => HTML_ENTITIES[c] ?? c)
          .replace(/[\\`*_[\]~]/g, (c) => `\\${c}`);
  return `[${label}](${href})`;
}

/** The note that replaces whatever truncateBody cut off. */
export const TRUNCATION_NOTE =
  '> [!NOTE]\n> This comment was cut to stay under GitHub’s 65,536-character limit; the full output is in the workflow run log.';

/**
 * Keeps `body` within `max` characters for GitHub. The head (marker, status, URL) is kept; the tail
 * (diagnostics come last) is cut at a line break, any open code fence or `<details>` is closed so the
 * note renders as text, and a visible note says so. The marker is kept, or put back, at the start.
 */
export function truncateBody(
  body: string,
  max: number = GITHUB_COMMENT_MAX,
  marker: string = COMMENT_MARKER,
): string {
  if (body.length <= max) return body;
  const head = body.startsWith(marker) ? '' : `${marker}\n`;
  const budget = max - head.length;
  // Worst case for the closers: a 100-backtick fence plus `</details>`; measured exactly below.
  let cut = Math.max(0, budget - TRUNCATION_NOTE.length - 200);
  for (;;) {
    let kept = body.slice(0, cut);
    // Never split a surrogate pair (emoji): a lone half is invalid UTF-8 on GitHub's side.
    if (/[\uD800-\uDBFF]$/.test(kept)) kept = kept.slice(0, -1);
    const lineEnd = kept.lastIndexOf('\n');
    if (lineEnd > marker.length) kept = kept.slice(0, lineEnd);
    const result = `${head}${kept}\n${closers(kept)}\n${TRUNCATION_NOTE}\n`;
    if (result.length <= max || cut === 0)
      return result.length <= max ? result : `${marker}\n${TRUNCATION_NOTE}\n`;
    cut = Math.max(0, cut - (result.length - max));
  }
}

/** Closing lines for a code fence and `<details>` blocks left open in `text`. */
function closers(text: string): string {
  let fence: string | undefined;
  for (const line of text.split('\n')) {
    const m = /^ {0,3}(`{3,}|~{3,})/.exec(line);
    if (!m) continue;
    const run = m[1] as string;
    if (fence === undefined) fence = run;
    else if (run[0] === fence[0] && run.length >= fence.length && line.trim() === run) fence = undefined;
  }
  const opened = (text.match(/<details\b/gi) ?? []).length;
  const closed = (text.match(/<\/details>/gi) ?? []).length;
  return `${fence !== undefined ? `${fence}\n` : ''}${'\n</details>\n'.repeat(Math.max(0, opened - closed))}`;
}

const REDACTED = '***';

/**
 * Secrets that must never reach a comment, even when the tool that failed printed them: the given
 * values, plus tokens and keys recognisable by shape. The key (e.g. `token:`) is kept so the reader
 * still sees what was there.
 */
const SECRET_PATTERNS: { re: RegExp; keep?: number }[] = [
  // PEM private keys (a kubeconfig or a Secret dumped in a log), whole block.
  { re: /-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)/g },
  // GitHub tokens: classic/OAuth/user/server/refresh, and fine-grained PATs.
  { re: /\b(?:gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,})\b/g },
  // HTTP auth headers and curl-style "Bearer xyz".
  // The value must hold a digit so prose ("Basic authentication failed") survives.
  { re: /(\b(?:Bearer|Basic)\s+)(?=[A-Za-z0-9\-._~+/]*\d)[A-Za-z0-9\-._~+/]{8,}=*/gi, keep: 1 },
  // kubeconfig / YAML / JSON keys whose value is a credential.
  {
    re: /(\b(?:token|id-token|refresh-token|access-token|client-key-data|client-certificate-data|password|passwd|secret)["']?[ \t]*[:=][ \t]*["']?)([^\s"',;&}]+)/gi,
    keep: 1,
  },
  // Credentials in URLs: https://user:password@host.
  { re: /(\b[a-z][a-z0-9+.-]*:\/\/[^\s:/@]+:)[^\s@/]+(?=@)/gi, keep: 1 },
];

/** `text` with every secret in `secrets` and every recognisable credential replaced by `***`. */
export function redact(text: string, secrets: readonly string[] = []): string {
  let out = text;
  // Longest first, so a secret that contains another is not left half-masked. Multi-line secrets
  // (keys, kubeconfigs) are also masked line by line, as tools often print them reformatted.
  const values = new Set<string>();
  for (const s of secrets) {
    if (!s || s.trim().length < 4) continue;
    values.add(s);
    for (const line of s.split(/\r?\n/)) if (line.trim().length >= 8) values.add(line.trim());
  }
  for (const value of [...values].sort((a, b) => b.length - a.length)) out = out.split(value).join(REDACTED);
  for (const { re, keep } of SECRET_PATTERNS) {
    out = out.replace(re, (...m: string[]) => (keep ? `${m[keep]}${REDACTED}` : REDACTED));
  }
  return out;
}

/**
 * A table for a terminal: columns padded to their widest cell, two spaces apart, the last one not
 * padded (so long URLs do not push every line wide). Header first.
 */
export function textTable<T>(
  rows: readonly T[],
  cols: readonly (readonly [string, (row: T) => string])[],
): string[] {
  const cells = rows.map((row) => cols.map(([, f]) => f(row)));
  const widths = cols.map(([h], i) => Math.max(h.length, ...cells.map((c) => (c[i] ?? '').length)));
  const line = (c: readonly string[]) =>
    c
      .map((v, i) => (i === c.length - 1 ? v : v.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(cols.map(([h]) => h)), ...cells.map(line)];
}
