// The CLI's --help and the option parsers read their defaults from INPUT_DOCS; action.yml documents the
// action's. They must be the same, or the CLI and the action would behave differently.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { INPUT, INPUT_DOCS } from '../../../src/settings/inputs.js';
import { repoRoot } from '../../support/action.js';

const action = parse(readFileSync(join(repoRoot, 'action.yml'), 'utf8')) as {
  inputs: Record<string, { default?: string }>;
};

test('INPUT names exactly the inputs of action.yml', () => {
  expect(Object.values(INPUT).sort()).toEqual(Object.keys(action.inputs).sort());
});

test.each(Object.values(INPUT))('the default of `%s` in INPUT_DOCS is the one in action.yml', (name) => {
  expect(INPUT_DOCS[name].default).toBe(action.inputs[name]?.default ?? '');
});
