// `npm test`: typecheck, lint, actionlint, every jest test, and the dist freshness check.
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireNode24, root, run } from './node24.mjs';

const node = requireNode24();
const results = join(mkdtempSync(join(tmpdir(), 'kubestage-jest-')), 'results.json');
const steps = [
  [
    'typecheck',
    node,
    [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '--noEmit', '-p', 'tsconfig.json'],
  ],
  ['lint', node, [join(root, 'node_modules', 'eslint', 'bin', 'eslint.js'), '.']],
  [
    'format',
    node,
    [join(root, 'node_modules', 'prettier', 'bin', 'prettier.cjs'), '--check', '.', '--log-level', 'warn'],
  ],
  ['actionlint', node, [join(root, 'scripts', 'actionlint.mjs')]],
  [
    'jest',
    node,
    [
      join(root, 'scripts', 'jest.mjs'),
      '--ci',
      '--json',
      `--outputFile=${results}`,
      ...process.argv.slice(2),
    ],
  ],
  ['dist', node, [join(root, 'scripts', 'check-dist.mjs')]],
];
const failed = [];
for (const [name, cmd, args] of steps) {
  console.log(`\n== ${name} ==`);
  const t = Date.now();
  const status = run(cmd, args);
  console.log(
    `== ${name}: ${status === 0 ? 'ok' : `FAILED (exit ${status})`} in ${((Date.now() - t) / 1000).toFixed(1)}s`,
  );
  if (status !== 0) failed.push(name);
}
if (existsSync(results)) {
  const r = JSON.parse(readFileSync(results, 'utf8'));
  // A plain closing line for CI: what jest ran, passed and failed (a suite that crashed counts as failed).
  console.log(
    `\ntests: ${r.numPassedTests} passed, ${r.numFailedTests + r.numRuntimeErrorTestSuites} failed`,
  );
}
if (failed.length) {
  console.error(`\nnpm test failed: ${failed.join(', ')}`);
  process.exit(1);
}
console.log('\nnpm test: all steps passed');
