// `npm run emulators`: the CLI as a user starts it, driven with real kubectl and plain HTTP.
import { afterEach, describe, expect, it } from '@jest/globals';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { node24, repoRoot } from '../support/action.js';

const run = promisify(execFile);
const kubectl = process.env.KUBECTL ?? '/usr/bin/kubectl';

interface Cli {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
}

function startCli(args: string[]): Cli {
  const child = spawn(node24, ['--import', 'tsx', 'test/emulators/cli.ts', ...args], {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (err += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, stdout: () => out, stderr: () => err, exited };
}

async function waitForOutput(cli: Cli, text: string, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cli.stdout().includes(text)) {
    if (cli.child.exitCode !== null)
      throw new Error(`the CLI exited early:\n${cli.stdout()}\n${cli.stderr()}`);
    if (Date.now() > deadline)
      throw new Error(`no "${text}" after ${ms} ms:\n${cli.stdout()}\n${cli.stderr()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

let dirs: string[] = [];
let clis: Cli[] = [];
afterEach(() => {
  for (const c of clis) if (c.child.exitCode === null) c.child.kill('SIGKILL');
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  clis = [];
  dirs = [];
});

describe('npm run emulators (test/emulators/cli.ts)', () => {
  it('serves a kubeconfig kubectl can use and a GitHub URL, and exits 0 on Ctrl-C', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kubestage-cli-'));
    dirs.push(dir);
    const cli = startCli(['--dir', dir]);
    clis.push(cli);
    await waitForOutput(cli, 'Press Ctrl-C', 10_000);

    const { stdout } = await run(kubectl, ['--kubeconfig', join(dir, 'kubeconfig'), 'get', 'namespaces'], {
      timeout: 10_000,
    });
    expect(stdout).toMatch(/^default\s+Active/m);

    const env = readFileSync(join(dir, 'github.env'), 'utf8');
    const url = /^GITHUB_API_URL=(\S+)$/m.exec(env)?.[1];
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const res = await fetch(`${url}/rate_limit`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { resources?: { core?: { limit?: number } } };
    expect(body.resources?.core?.limit).toBeGreaterThan(0);
    // The env file's token is the one GitHub's emulator knows; any other is Bad credentials.
    const token = /^GITHUB_TOKEN=(\S+)$/m.exec(env)?.[1];
    const withToken = (t: string) => fetch(`${url}/rate_limit`, { headers: { authorization: `token ${t}` } });
    expect((await withToken(token ?? '')).status).toBe(200);
    expect((await withToken('ghs_wrong')).status).toBe(401);
    // The registry answers the OCI distribution API's version check.
    const registry = readFileSync(join(dir, 'registry'), 'utf8').trim();
    expect(registry).toMatch(/^127\.0\.0\.1:\d+$/);
    expect((await fetch(`http://${registry}/v2/`)).status).toBe(200);

    cli.child.kill('SIGINT');
    expect(await cli.exited).toBe(0);
  }, 15_000);

  it('rejects a --latency-ms that is not a number, naming the flag', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kubestage-cli-'));
    dirs.push(dir);
    const cli = startCli(['--dir', dir, '--latency-ms', 'abc']);
    clis.push(cli);
    const code = await cli.exited;
    expect(code).not.toBe(0);
    expect(cli.stderr()).toContain('--latency-ms');
  }, 15_000);
});
