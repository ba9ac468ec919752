// The promotion starter workflow: the job chain, the permissions, and every kubestage step's inputs
// read by the command registry's own option parsers (so the template cannot drift from the action).
// actionlint over it runs in test/unit/workflows.test.ts.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { cliContext } from '../../src/app/context.js';
import { isCommand, REGISTRY } from '../../src/app/registry.js';
import { INPUT, OUTPUT, SettingsError, type InputName } from '../../src/settings/inputs.js';
import { repoRoot } from '../support/action.js';

interface Step {
  id?: string;
  uses?: string;
  run?: string;
  with?: Record<string, string>;
}
interface Job {
  needs?: string | string[];
  permissions?: Record<string, string>;
  environment?: { name: string; url: string };
  outputs?: Record<string, string>;
  steps: Step[];
}
interface Workflow {
  on: { push: { branches: string[] } };
  permissions: Record<string, string>;
  jobs: Record<string, Job>;
}

const FILE = 'workflows-templates/kubestage-promote.yml';
const wf = parse(readFileSync(join(repoRoot, FILE), 'utf8')) as Workflow;
const kubestageSteps = (job: Job) => job.steps.filter((s) => s.uses?.startsWith('kubestage/kubestage@'));
/** What the expressions in kubestage steps' inputs evaluate to in a run. */
const EXPRESSIONS: Record<string, string> = {
  'github.repository': 'acme/shop',
  'steps.build.outputs.digest': `sha256:${'ab'.repeat(32)}`,
  'secrets.KUBECONFIG': 'apiVersion: v1\nkind: Config',
};

/** Validates a step's `with:` as the action would: only the command's inputs, each parsed by its parser. */
function validateStep(step: Step): string {
  const inputs = { ...step.with };
  const command = inputs.command ?? '';
  if (!isCommand(command)) throw new Error(`command "${command}" is not a kubestage command`);
  const allowed: string[] = [INPUT.command, INPUT.kubeconfig, INPUT.githubToken, ...REGISTRY[command].inputs];
  for (const name of Object.keys(inputs)) {
    if (!allowed.includes(name)) throw new Error(`input "${name}" is not read by kubestage ${command}`);
  }
  const value = (name: InputName) =>
    (inputs[name] ?? '').replace(/\$\{\{\s*([^}]*?)\s*\}\}/g, (_m, expr: string) => {
      const v = EXPRESSIONS[expr];
      if (v === undefined) throw new Error(`no value for the expression \${{ ${expr} }} in input ${name}`);
      return v;
    });
  const ctx = cliContext(value, { owner: 'acme', repo: 'shop', workspace: repoRoot, apiUrl: 'http://x' });
  REGISTRY[command].prepare(value, ctx); // throws SettingsError on a bad value
  return command;
}

test('on a push to main, with read-only contents, deployment writes and run approvals readable', () => {
  expect(wf.on).toEqual({ push: { branches: ['main'] } });
  expect(wf.permissions).toEqual({ contents: 'read', deployments: 'write', actions: 'read' });
});

test('development → plan-testing → testing → plan-production → production, each needing the one before', () => {
  expect(Object.keys(wf.jobs)).toEqual([
    'development',
    'plan-testing',
    'testing',
    'plan-production',
    'production',
  ]);
  const needs = Object.fromEntries(Object.entries(wf.jobs).map(([k, j]) => [k, j.needs ?? null]));
  expect(needs).toEqual({
    development: null,
    'plan-testing': 'development',
    testing: 'plan-testing',
    'plan-production': 'testing',
    production: 'plan-production',
  });
});

test('every kubestage step passes the options parser of its command, and runs the command the job is for', () => {
  const commands = Object.fromEntries(
    Object.entries(wf.jobs).map(([name, job]) => [name, kubestageSteps(job).map(validateStep)]),
  );
  expect(commands).toEqual({
    development: ['deploy'],
    'plan-testing': ['plan'],
    testing: ['promote'],
    'plan-production': ['plan'],
    production: ['promote'],
  });
  const targets = Object.values(wf.jobs).map((j) => {
    const w = kubestageSteps(j)[0]!.with!;
    return [w.environment ?? null, w.from ?? null, w.to ?? null];
  });
  expect(targets).toEqual([
    ['development', null, null],
    [null, 'development', 'testing'],
    [null, 'development', 'testing'],
    [null, 'testing', 'production'],
    [null, 'testing', 'production'],
  ]);
});

test('development deploys the digest docker/build-push-action just pushed, never a tag', () => {
  const job = wf.jobs.development!;
  const build = job.steps.find((s) => s.id === 'build');
  expect(build?.uses).toMatch(/^docker\/build-push-action@/);
  expect(build?.with?.push).toBe(true);
  const images = kubestageSteps(job)[0]!.with!.images!;
  expect(images.trim()).toBe('app=ghcr.io/${{ github.repository }}@${{ steps.build.outputs.digest }}');
  // The job pushes to ghcr.io: it needs packages: write on top of the workflow's permissions.
  expect(job.permissions).toEqual({ ...wf.permissions, packages: 'write' });
});

test("testing and production run under their GitHub environment, whose url is the promote step's url output", () => {
  for (const stage of ['testing', 'production']) {
    const job = wf.jobs[stage]!;
    expect(job.environment).toEqual({ name: stage, url: `\${{ steps.promote.outputs.${OUTPUT.url} }}` });
    expect(kubestageSteps(job)[0]!.id).toBe('promote');
  }
});

test('the checks can fail: an input the command does not read, and a tag where deploy wants a digest', () => {
  expect(() =>
    validateStep({ uses: 'kubestage/kubestage@v1', with: { command: 'plan', environment: 'testing' } }),
  ).toThrow('input "environment" is not read by kubestage plan');
  const tagged = () =>
    validateStep({
      uses: 'kubestage/kubestage@v1',
      with: { command: 'deploy', environment: 'development', images: 'app=ghcr.io/acme/shop' },
    });
  expect(tagged).toThrow(SettingsError);
  expect(tagged).toThrow('give the tag or the digest to deploy');
});
