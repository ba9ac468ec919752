// The example shop's stages file and Makefile: the file is what the parser and the schema accept, and
// every Makefile target runs a kubestage command line the CLI accepts, with flags taken from the
// command registry and stage names from the stages file, so neither can drift from the CLI.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { parse } from 'yaml';
import { REGISTRY } from '../../src/app/registry.js';
import { commandFlags, parseArgs, type Invocation } from '../../src/cli/flags.js';
import { activeFreeze } from '../../src/model/freeze.js';
import { INPUT } from '../../src/settings/inputs.js';
import { parseStagesConfig, type StagesConfig } from '../../src/settings/stages.js';
import { repoRoot } from '../support/action.js';

const SHOP = join(repoRoot, 'examples/shop');
const CONFIG_FILE = 'examples/shop/kubestage.yml';
const configText = readFileSync(join(repoRoot, CONFIG_FILE), 'utf8');
const config: StagesConfig = parseStagesConfig(configText, CONFIG_FILE);
const stage = (name: string) => config.stages.find((s) => s.name === name);

describe('examples/shop/kubestage.yml', () => {
  test('development → testing → production over the shop overlays, testing and production protected', () => {
    expect(
      config.stages.map((s) => [s.name, s.namespace, s.manifests, s.url, s.requires, s.protected]),
    ).toEqual([
      [
        'development',
        'development',
        'examples/shop/overlays/development',
        'https://dev.shop.example.com',
        undefined,
        false,
      ],
      [
        'testing',
        'testing',
        'examples/shop/overlays/testing',
        'https://test.shop.example.com',
        'development',
        true,
      ],
      [
        'production',
        'production',
        'examples/shop/overlays/production',
        'https://shop.example.com',
        'testing',
        true,
      ],
    ]);
    for (const s of config.stages) {
      expect(existsSync(join(repoRoot, s.manifests, 'kustomization.yaml'))).toBe(true);
      expect(s.marker).toBeTruthy();
    }
  });

  test('every stage smoke-checks /healthz and /api/products, the latter with a p95 limit over many requests', () => {
    for (const s of config.stages) {
      expect(s.smoke.map((c) => c.path)).toEqual(['/healthz', '/api/products']);
      const products = s.smoke[1]!;
      expect(products.requests).toBeGreaterThanOrEqual(10);
      expect(products.p95Ms).toBeLessThanOrEqual(800);
      expect(products.body).toBe('T-shirt');
    }
    // The API really serves what the smoke check looks for.
    expect(readFileSync(join(SHOP, 'api/server.js'), 'utf8')).toContain("'T-shirt'");
  });

  test('production is frozen over the weekend (Berlin time) and open during the week', () => {
    const windows = stage('production')!.freeze;
    // Saturday noon and Friday 17:00 in Berlin (CET, UTC+1) are inside; Wednesday and Monday 09:00 are not.
    expect(activeFreeze(windows, new Date('2026-12-05T11:00:00Z'))?.reason).toBe('weekend freeze');
    expect(activeFreeze(windows, new Date('2026-12-04T16:00:00Z'))).toBeDefined();
    expect(activeFreeze(windows, new Date('2026-12-02T11:00:00Z'))).toBeUndefined();
    expect(activeFreeze(windows, new Date('2026-12-07T08:00:00Z'))).toBeUndefined();
    expect(stage('development')!.freeze).toEqual([]);
    expect(stage('testing')!.freeze).toEqual([]);
  });

  test('the JSON Schema editors use accepts the file', () => {
    const schema = JSON.parse(readFileSync(join(repoRoot, 'schema/kubestage.schema.json'), 'utf8')) as object;
    const validate = new Ajv2020({ allErrors: true, strict: true, strictRequired: false }).compile(schema);
    expect(validate(parse(configText))).toBe(true);
    expect(validate.errors ?? null).toBeNull();
  });
});

// ---- the Makefile ---------------------------------------------------------------------------

const TARGETS = [
  'dev-deploy',
  'test-plan',
  'test-promote',
  'prod-plan',
  'prod-promote',
  'prod-status',
  'prod-rollback',
  'status',
] as const;

/** Words of a shell command line: quotes and backslashes resolved; stops at an unquoted | ; & or >. */
function shellWords(line: string): string[] {
  const words: string[] = [];
  let word: string | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (c === "'" || c === '"') {
      const end = line.indexOf(c, i + 1);
      if (end < 0) throw new Error(`unbalanced ${c} in: ${line}`);
      word = (word ?? '') + line.slice(i + 1, end);
      i = end;
    } else if (c === '\\') {
      word = (word ?? '') + (line[++i] ?? '');
    } else if (/\s/.test(c)) {
      if (word !== undefined) words.push(word);
      word = undefined;
    } else if ('|;&>'.includes(c)) {
      break;
    } else {
      word = (word ?? '') + c;
    }
  }
  if (word !== undefined) words.push(word);
  return words;
}

/**
 * The kubestage command line of one `make -n` line, read by the CLI's own parser (which refuses any
 * flag the registry does not list for the command) and checked against the stages file.
 */
function checkedInvocation(line: string): Invocation {
  const words = shellWords(line);
  if (words[0] !== 'npx' || words[1] !== 'kubestage') throw new Error(`not a kubestage command: ${line}`);
  const inv = parseArgs(words.slice(2));
  if (!inv.command) throw new Error(`no command in: ${line}`);
  const flags = commandFlags(inv.command).map((f) => f.name);
  for (const w of words.slice(2).filter((w) => w.startsWith('--'))) {
    const name = w.slice(2).split('=')[0]!;
    if (!flags.includes(name)) throw new Error(`--${name} is not a flag of kubestage ${inv.command}`);
  }
  const config = inv.inputs[INPUT.config];
  if (config !== undefined && config !== CONFIG_FILE) {
    throw new Error(`--config is "${config}", not ${CONFIG_FILE}`);
  }
  for (const name of [INPUT.environment, INPUT.from, INPUT.to] as const) {
    const value = inv.inputs[name];
    if (value !== undefined && !stage(value)) {
      throw new Error(`--${name} "${value}" is not a stage of ${CONFIG_FILE}`);
    }
  }
  return inv;
}

function dryRun(target: string, vars: string[] = []): string[] {
  const out = execFileSync('make', ['-n', '-s', '-C', SHOP, target, ...vars], {
    encoding: 'utf8',
    env: { ...process.env, MAKEFLAGS: '' },
  });
  return out.split('\n').filter((l) => l.startsWith('npx kubestage '));
}

describe('examples/shop/Makefile', () => {
  const vars = ['TAG=1.4.2', 'REASON=hotfix INC-7, approved on the call', 'REVISION=3'];
  const lines = Object.fromEntries(TARGETS.map((t) => [t, dryRun(t, vars)]));

  test.each(TARGETS)('make -n %s runs one kubestage command the CLI accepts', (target) => {
    expect(lines[target]).toHaveLength(1);
    const inv = checkedInvocation(lines[target]![0]!);
    expect(Object.keys(REGISTRY)).toContain(inv.command);
  });

  test('each target runs the command and stages its name says', () => {
    const got = Object.fromEntries(
      TARGETS.map((t) => {
        const inv = checkedInvocation(lines[t]![0]!);
        const i = inv.inputs;
        return [t, [inv.command, i[INPUT.environment] ?? i[INPUT.to] ?? null, i[INPUT.from] ?? null]];
      }),
    );
    expect(got).toEqual({
      'dev-deploy': ['deploy', 'development', null],
      'test-plan': ['plan', 'testing', 'development'],
      'test-promote': ['promote', 'testing', 'development'],
      'prod-plan': ['plan', 'production', 'testing'],
      'prod-promote': ['promote', 'production', 'testing'],
      'prod-status': ['status', null, null],
      'prod-rollback': ['rollback', 'production', null],
      status: ['status', null, null],
    });
    const deploy = checkedInvocation(lines['dev-deploy']![0]!);
    expect(deploy.inputs[INPUT.images]).toBe(
      'ghcr.io/kubestage/example-web=ghcr.io/acme/shop-web:1.4.2\nghcr.io/kubestage/example-api=ghcr.io/acme/shop-api:1.4.2',
    );
    expect(checkedInvocation(lines['prod-promote']![0]!).inputs[INPUT.approvalBypass]).toBe(
      'hotfix INC-7, approved on the call',
    );
    expect(checkedInvocation(lines['prod-rollback']![0]!).inputs[INPUT.revision]).toBe('3');
  });

  test('the image names the deploy target maps are the ones the shop manifests use', () => {
    const base = ['web.yaml', 'api.yaml'].map((f) => readFileSync(join(SHOP, 'base', f), 'utf8')).join('\n');
    const deploy = checkedInvocation(lines['dev-deploy']![0]!);
    for (const line of (deploy.inputs[INPUT.images] ?? '').split('\n')) {
      expect(base).toContain(`image: ${line.split('=')[0]!}`);
    }
  });

  test('the checker refuses a flag the command does not have, and a stage the file does not name', () => {
    expect(() => checkedInvocation('npx kubestage promote --target testing')).toThrow(
      'Unknown flag --target for `kubestage promote`',
    );
    expect(() => checkedInvocation('npx kubestage plan --environment production')).toThrow(
      'Unknown flag --environment for `kubestage plan`',
    );
    expect(() => checkedInvocation('npx kubestage rollback --environment staging')).toThrow(
      '--environment "staging" is not a stage of examples/shop/kubestage.yml',
    );
  });

  test('a promotion from a terminal without REASON stops before running kubestage, saying what to set', () => {
    const r = spawnSync('make', ['-s', '-C', SHOP, 'prod-promote', 'KUBESTAGE=echo would run'], {
      encoding: 'utf8',
      env: { ...process.env, MAKEFLAGS: '' },
    });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('Set REASON');
    expect(r.stderr).toContain('make prod-promote REASON="hotfix INC-7');
    expect(r.stdout).not.toContain('would run');
  });
});
