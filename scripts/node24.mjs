// Runs a command under the project's Node 24 (devDependency `node@24`), the runtime the action uses.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..');
export const node24 = join(root, 'node_modules', '.bin', 'node');

export function requireNode24() {
  if (!existsSync(node24)) {
    console.error(
      `Node 24 not found at ${node24}. Run 'npm ci' first (it installs the devDependency node@24).`,
    );
    process.exit(1);
  }
  return node24;
}

export function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { stdio: 'inherit', cwd: root, ...opts });
  if (r.error) throw r.error;
  return r.status ?? 1;
}
