// Fails when dist/ differs from a fresh build of the sources (every bundle in build.mjs, every file).
import { mkdtempSync, readdirSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildBundles } from './build.mjs';
import { root } from './node24.mjs';

const out = mkdtempSync(join(tmpdir(), 'kubestage-dist-'));
try {
  const failed = buildBundles(out, { quiet: true });
  if (failed.length) {
    console.error(`check-dist: the ncc build of ${failed.join(', ')} failed (see above).`);
    process.exit(1);
  }
  const dist = join(root, 'dist');
  const fresh = files(out);
  const committed = files(dist);
  const stale = [...new Set([...fresh, ...committed])].sort().filter((f) => {
    const a = existsSync(join(out, f)) ? readFileSync(join(out, f)) : null;
    const b = existsSync(join(dist, f)) ? readFileSync(join(dist, f)) : null;
    return !a || !b || !a.equals(b);
  });
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

/** Every file under `dir`, as paths relative to it. */
function files(dir) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name).slice(dir.length + 1))
    .sort();
}
