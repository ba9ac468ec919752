import { parseArgs } from '../../src/cli/flags.js';

test('`bless FROM TO` is promote --from FROM --to TO, flags kept', () => {
  const inv = parseArgs(['bless', 'testing', 'production', '--approval-bypass', 'INC-1 on the call']);
  expect(inv.command).toBe('promote');
  expect(inv.inputs).toMatchObject({
    from: 'testing',
    to: 'production',
    'approval-bypass': 'INC-1 on the call',
  });
});

test('global flags before bless stay global', () => {
  const inv = parseArgs(['--context', 'prod', 'bless', 'testing', 'production']);
  expect(inv.command).toBe('promote');
  expect(inv.inputs).toMatchObject({ from: 'testing', to: 'production' });
});
