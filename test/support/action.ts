// Runs the action the way a workflow runner does: `node dist/index.js` with INPUT_* variables, an event
// file, GITHUB_OUTPUT and GITHUB_STEP_SUMMARY files; and builds event payloads from GitHub's own
// webhook examples (@octokit/webhooks-examples).
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const node24 = join(repoRoot, 'node_modules', '.bin', 'node');
export const distEntry = join(repoRoot, 'dist', 'index.js');
export const sharedDir = join(repoRoot, '..', 'shared');

const require = createRequire(import.meta.url);

type Json = Record<string, unknown>;
interface WebhookExamples {
  name: string;
  examples: Json[];
}

/** A real webhook payload from GitHub's examples, deep-copied. */
export function webhookExample(event: string, action?: string): Json {
  const all = require('@octokit/webhooks-examples/api.github.com/index.json') as WebhookExamples[];
  const group = all.find((e) => e.name === event);
  const ex = group?.examples.find((e) => action === undefined || e.action === action);
  if (!ex) throw new Error(`no webhook example for ${event}.${action}`);
  return structuredClone(ex);
}

export interface PullRequestEventOptions {
  action: 'opened' | 'synchronize' | 'reopened' | 'closed';
  repo: string; // owner/name
  number: number;
  headSha: string;
  headRef?: string;
  title?: string;
  merged?: boolean;
  /** Full name of the head repository; differs from `repo` for a fork. */
  headRepo?: string;
}

/** A pull_request payload: GitHub's example for the action, rewritten to the given PR. */
export function pullRequestEvent(o: PullRequestEventOptions): Json {
  const base = webhookExample(
    'pull_request',
    o.action === 'synchronize' || o.action === 'reopened' ? o.action : o.action,
  );
  const [owner, name] = o.repo.split('/');
  const pr = base.pull_request as Json;
  const repository = {
    ...(base.repository as Json),
    name,
    full_name: o.repo,
    owner: { ...((base.repository as Json).owner as Json), login: owner },
  };
  const headRepoName = o.headRepo ?? o.repo;
  pr.number = o.number;
  pr.title = o.title ?? `Change ${o.number}`;
  pr.state = o.action === 'closed' ? 'closed' : 'open';
  pr.merged = o.action === 'closed' ? (o.merged ?? false) : false;
  pr.head = {
    ...(pr.head as Json),
    sha: o.headSha,
    ref: o.headRef ?? `feature-${o.number}`,
    repo: {
      ...repository,
      full_name: headRepoName,
      name: headRepoName.split('/')[1],
      fork: headRepoName !== o.repo,
    },
  };
  pr.base = { ...(pr.base as Json), repo: repository };
  base.number = o.number;
  base.repository = repository;
  base.action = o.action;
  return base;
}

export interface RunActionOptions {
  inputs: Record<string, string>;
  eventName: string;
  payload: Json;
  /** The event file's text as is, instead of `payload` (e.g. not JSON at all). */
  rawPayload?: string;
  repo: string;
  env?: Record<string, string>;
  workspace?: string;
  entry?: string;
  timeoutMs?: number;
}

export interface ActionRun {
  code: number | null;
  stdout: string;
  stderr: string;
  outputs: Record<string, string>;
  summary: string;
  /** The `::error::` messages the run printed. */
  errors: string[];
}

export async function runAction(o: RunActionOptions): Promise<ActionRun> {
  const dir = mkdtempSync(join(tmpdir(), 'kubestage-run-'));
  const eventPath = join(dir, 'event.json');
  const outputPath = join(dir, 'output');
  const summaryPath = join(dir, 'summary.md');
  writeFileSync(eventPath, o.rawPayload ?? JSON.stringify(o.payload));
  writeFileSync(outputPath, '');
  writeFileSync(summaryPath, '');
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? dir,
    GITHUB_ACTIONS: 'true',
    GITHUB_EVENT_NAME: o.eventName,
    GITHUB_EVENT_PATH: eventPath,
    GITHUB_REPOSITORY: o.repo,
    GITHUB_SERVER_URL: 'https://github.com',
    GITHUB_RUN_ID: '4242',
    GITHUB_WORKSPACE: o.workspace ?? repoRoot,
    GITHUB_OUTPUT: outputPath,
    GITHUB_STEP_SUMMARY: summaryPath,
    RUNNER_TEMP: dir,
    ...o.env,
  };
  for (const [k, v] of Object.entries(o.inputs)) env[`INPUT_${k.replace(/ /g, '_').toUpperCase()}`] = v;

  const child = spawn(node24, [o.entry ?? distEntry], { env, cwd: o.workspace ?? repoRoot });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(
        new Error(
          `dist/index.js did not finish in ${o.timeoutMs ?? 60000} ms.\nstdout:\n${stdout}\nstderr:\n${stderr}`,
        ),
      );
    }, o.timeoutMs ?? 60000);
    child.on('close', (c) => {
      clearTimeout(timer);
      resolve(c);
    });
  });
  return {
    code,
    stdout,
    stderr,
    outputs: parseOutputFile(readFileSync(outputPath, 'utf8')),
    summary: existsSync(summaryPath) ? readFileSync(summaryPath, 'utf8') : '',
    errors: [...stdout.matchAll(/^::error::(.*)$/gm)].map((m) => decodeCommandData(m[1])),
  };
}

/** GITHUB_OUTPUT uses `name<<DELIM\nvalue\nDELIM` blocks (as @actions/core writes them). */
export function parseOutputFile(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  const re = /^([^\n<]+)<<(\S+)\n([\s\S]*?)\n\2$/gm;
  for (const m of text.matchAll(re)) out[m[1]] = m[3];
  return out;
}

function decodeCommandData(s: string): string {
  return s.replace(/%0D/g, '\r').replace(/%0A/g, '\n').replace(/%25/g, '%');
}
