// The CLI as a person runs it, in-process (main(argv, env, io)) or as the installed `kubestage` binary:
// a clean environment (no token, no kubeconfig, no gh unless a test puts one there) and a PATH of
// chosen tools.
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../src/cli/main.js';
import { pullRequestEvent } from './action.js';
import { REPO, type Bed } from './bed.js';

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** A PATH with git and Node 24 only, plus a fake `gh` that prints `ghToken` when one is given. */
export function toolsPath(o: { ghToken?: string } = {}): string {
  const bin = mkdtempSync(join(tmpdir(), 'kubestage-bin-'));
  symlinkSync(execFileSync('sh', ['-c', 'command -v git'], { encoding: 'utf8' }).trim(), join(bin, 'git'));
  symlinkSync(process.execPath, join(bin, 'node'));
  if (o.ghToken) {
    writeFileSync(join(bin, 'gh'), `#!/bin/sh\n[ "$1 $2" = "auth token" ] && echo ${o.ghToken}\n`);
    chmodSync(join(bin, 'gh'), 0o755);
  }
  return bin;
}

/** An environment as bare as a fresh login: HOME is an empty directory. */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { PATH: toolsPath(), HOME: mkdtempSync(join(tmpdir(), 'kubestage-home-')), ...extra };
}

export async function runCli(
  argv: string[],
  o: { env?: NodeJS.ProcessEnv; cwd?: string } = {},
): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, o.env ?? cleanEnv(), {
    cwd: o.cwd ?? mkdtempSync(join(tmpdir(), 'kubestage-cwd-')),
    stdout: (t) => void (stdout += t),
    stderr: (t) => void (stderr += t),
  });
  return { code, stdout, stderr };
}

/** A git checkout whose origin remote is `url`. */
export function gitCheckout(url: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'kubestage-checkout-'));
  execFileSync('git', ['init', '-q', dir]);
  execFileSync('git', ['-C', dir, 'remote', 'add', 'origin', url]);
  return dir;
}

/** A real preview of PR `number` of REPO on the bed's cluster, as the action makes it. */
export async function seedPreview(bed: Bed, number: number, headSha: string): Promise<void> {
  bed.github.state.addPull({
    repo: REPO,
    number,
    headSha,
    headRef: `feature/${number}`,
    title: `PR ${number}`,
  });
  const { result } = await bed.run({
    payload: pullRequestEvent({
      action: 'opened',
      repo: REPO,
      number,
      headSha,
      headRef: `feature/${number}`,
    }),
  });
  if (!result.ok) throw new Error(`seeding the preview of PR #${number} failed: ${result.failure}`);
}
