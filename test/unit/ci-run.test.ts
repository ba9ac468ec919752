// .ci/run stops at once, saying what to install, when kubectl is missing (before any npm work).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../support/action.js';

test('.ci/run fails loudly without kubectl on PATH', () => {
  const bin = mkdtempSync(join(tmpdir(), 'kubestage-path-'));
  for (const tool of ['dirname', 'npm']) {
    const found = spawnSync('bash', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).stdout.trim();
    if (found) symlinkSync(found, join(bin, tool));
  }
  const run = spawnSync('/bin/bash', [join(repoRoot, '.ci', 'run')], {
    env: { PATH: bin },
    encoding: 'utf8',
  });
  expect(run.status).toBe(1);
  expect(run.stderr).toContain('kubectl is not on PATH');
  expect(run.stderr).toContain('Install kubectl');
  expect(run.stdout).not.toContain('added'); // npm ci never ran
});
