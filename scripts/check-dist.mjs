// Fails when dist/ differs from a fresh build of the sources.
import { mkdtempSync, readdirSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireNode24, root, run } from './node24.mjs';

const node = requireNode24();
const out = mkdtempSync(join(tmpdir(), 'kubestage-dist-'));
try {
  const status = run(node, [
    join(root, 'node_modules', '@vercel', 'ncc', 'dist', 'ncc', 'cli.js'),
    'build',
    'src/index.ts',
    '-o',
    out,
    '-m',
    '-q',
    '--license',
    'licenses.txt',
  ]);
  if (status !== 0) {
    console.error('check-dist: the ncc build failed (see above).');
    process.exit(1);
  }
  const stale = [];
  const fresh = readdirSync(out).sort();
  const committed = existsSync(join(root, 'dist')) ? readdirSync(join(root, 'dist')).sort() : [];
  for (const f of new Set([...fresh, ...committed])) {
    const a = existsSync(join(out, f)) ? readFileSync(join(out, f)) : null;
    const b = existsSync(join(root, 'dist', f)) ? readFileSync(join(root, 'dist', f)) : null;
    if (!a || !b || !a.equals(b)) stale.push(f);
  }
  if (stale.length) {
    console.error(
      `check-dist: dist/ is stale (${stale.join(', ')} differ from a fresh build).\nFix: run 'npm run build' and commit dist/.`,
    );
    process.exit(1);
  }
  console.log(`check-dist: dist/ matches a fresh build (${fresh.join(', ')}).`);
} finally {
  rmSync(out, { recursive: true, force: true });
}
