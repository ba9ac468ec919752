// jest under Node 24 with ESM support; extra arguments are passed to jest.
import { requireNode24, root, run } from './node24.mjs';
import { join } from 'node:path';

const node = requireNode24();
const env = {
  ...process.env,
  NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --experimental-vm-modules --no-warnings`.trim(),
};
process.exit(
  run(node, [join(root, 'node_modules', 'jest', 'bin', 'jest.js'), ...process.argv.slice(2)], { env }),
);
