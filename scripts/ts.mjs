// Runs a TypeScript entry point (emulators, bench) under Node 24 through tsx.
import { requireNode24, root, run } from './node24.mjs';
import { join } from 'node:path';

const node = requireNode24();
const [entry, ...rest] = process.argv.slice(2);
process.exit(run(node, ['--import', 'tsx', join(root, entry), ...rest]));
