// `npm run build`: the ncc bundles, each self-contained — the action (dist/index.js, action.yml's
// `main`) and the CLI (dist/cli/index.js, package.json's `bin`). check-dist.mjs builds the same list.
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { requireNode24, root, run } from './node24.mjs';

export const BUNDLES = [
  { entry: 'src/index.ts', dir: '.' },
  { entry: 'src/cli.ts', dir: 'cli' },
];

/** Builds every bundle under `out`; returns the entries whose build failed. */
export function buildBundles(out, { quiet = false } = {}) {
  const node = requireNode24();
  const ncc = join(root, 'node_modules', '@vercel', 'ncc', 'dist', 'ncc', 'cli.js');
  return BUNDLES.filter(
    ({ entry, dir }) =>
      run(node, [
        ncc,
        'build',
        entry,
        '-o',
        join(out, dir),
        '-m',
        ...(quiet ? ['-q'] : []),
        '--license',
        'licenses.txt',
      ]) !== 0,
  ).map((b) => b.entry);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const failed = buildBundles(join(root, 'dist'));
  if (failed.length) {
    console.error(`build: ncc failed for ${failed.join(', ')} (see above).`);
    process.exit(1);
  }
}
