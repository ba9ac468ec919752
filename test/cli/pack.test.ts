// The package as a user installs it: `npm pack`, then `npm install --prefix` of the tarball with no
// network, then the `kubestage` binary against the emulators. It packs the committed dist/ (npm test's
// dist check keeps that equal to a fresh build of the sources).
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { repoRoot } from '../support/action.js';
import { REPO, startBed, type Bed } from '../support/bed.js';
import { cleanEnv, seedPreview } from '../support/cli.js';

const exec = promisify(execFile);
let bed: Bed;
let kubestage: string;
let installed: string;

beforeAll(async () => {
  const work = mkdtempSync(join(tmpdir(), 'kubestage-pack-'));
  const npmEnv = { ...process.env, npm_config_cache: join(work, 'npm-cache') };
  await exec('npm', ['pack', '--pack-destination', work, '--silent'], { cwd: repoRoot, env: npmEnv });
  const tarball = readdirSync(work).find((f) => f.endsWith('.tgz'));
  if (!tarball) throw new Error(`npm pack wrote no tarball into ${work}`);
  const prefix = join(work, 'prefix');
  // --offline: the bundles are self-contained, so installing needs nothing from a registry.
  await exec(
    'npm',
    ['install', '--prefix', prefix, '--offline', '--no-audit', '--no-fund', join(work, tarball)],
    { env: npmEnv },
  );
  installed = join(prefix, 'node_modules', 'kubestage');
  kubestage = join(prefix, 'node_modules', '.bin', 'kubestage');
  bed = await startBed();
}, 120_000);
afterAll(async () => {
  await bed?.close();
});

/** The installed binary, run by its #! line with Node 24 first on PATH (and no token, no kubeconfig). */
async function run(args: string[]) {
  const env = cleanEnv();
  try {
    const { stdout, stderr } = await exec(kubestage, args, { env, cwd: mkdtempSync(join(tmpdir(), 'ks-')) });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

test('the tarball holds the bundles, action.yml and the README, not the sources or the tests', () => {
  const files = readdirSync(installed, { recursive: true }) as string[];
  expect(files).toEqual(
    expect.arrayContaining([
      'action.yml',
      'README.md',
      'package.json',
      join('dist', 'index.js'),
      join('dist', 'cli', 'index.js'),
    ]),
  );
  expect(files.filter((f) => /^(src|test|scripts)\b/.test(f))).toEqual([]);
  expect(existsSync(join(installed, 'node_modules'))).toBe(false);
});

test('kubestage --help runs from the installed bin', async () => {
  const r = await run(['--help']);
  expect(r.code).toBe(0);
  expect(r.stdout).toContain('Usage: kubestage COMMAND [flags]');
  expect(r.stdout).toMatch(/^ {2}status +List this repository's previews/m);
});

test('kubestage status shows a row per preview with its state, and --output json one parsable document', async () => {
  await seedPreview(bed, 11, 'e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5');
  await seedPreview(bed, 12, 'f6f6f6f6f6f6f6f6f6f6f6f6f6f6f6f6f6f6f6f6');
  const flags = ['--repo', REPO, '--kubeconfig', bed.kube.kubeconfigPath];

  const text = await run(['status', ...flags]);
  expect(text.stderr).not.toContain('error');
  expect(text.code).toBe(0);
  expect(text.stdout).toMatch(/^NAMESPACE +PR +COMMIT +STATE/);
  expect(text.stdout).toMatch(/^pr-11 +#11 +e5e5e5e +ready .* https:\/\/pr-11\.preview\.example\.com$/m);
  expect(text.stdout).toMatch(/^pr-12 +#12 +f6f6f6f +ready /m);

  const json = await run(['status', ...flags, '--output', 'json']);
  expect(json.code).toBe(0);
  const report = JSON.parse(json.stdout) as { previews: { namespace: string; state: string }[] };
  expect(report.previews.map((p) => [p.namespace, p.state])).toEqual([
    ['pr-11', 'ready'],
    ['pr-12', 'ready'],
  ]);
});

test('an unknown flag exits 2 from the installed bin too', async () => {
  const r = await run(['status', '--namespace', 'x']);
  expect(r.code).toBe(2);
  expect(r.stderr).toContain('Unknown flag --namespace for `kubestage status`');
});
