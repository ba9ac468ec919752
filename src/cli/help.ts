// `kubestage --help` and `kubestage COMMAND --help`: built from the registry (what each command does,
// which inputs it reads) and INPUT_DOCS (what each input means, its default), so help cannot drift.
import { COMMANDS, REGISTRY, type Command } from '../app/registry.js';
import { GLOBAL_FLAGS, inputFlags, type FlagSpec } from './flags.js';

const EXAMPLES: Record<Command, readonly string[]> = {
  preview: [
    'kubestage preview --pr 42 --domain preview.example.com --manifests k8s/overlays/preview',
    'kubestage preview --pr 42 --domain preview.example.com --images ghcr.io/acme/web=ghcr.io/acme/web --images ghcr.io/acme/api=ghcr.io/acme/api',
  ],
  cleanup: ['kubestage cleanup --pr 42', 'kubestage cleanup --pr 42 --context staging --repo acme/shop'],
  status: ['kubestage status', 'kubestage status --all-repos --output json'],
  deploy: [
    'kubestage deploy --environment development --images ghcr.io/acme/api:1.4.2',
    'kubestage deploy --environment development --images ghcr.io/acme/api@sha256:…',
  ],
  plan: ['kubestage plan --to testing', 'kubestage plan --from testing --to production --output json'],
  promote: [
    'kubestage promote --to testing',
    'kubestage bless testing production --approval-bypass "INC-123 hotfix, approved on the call"',
  ],
  rollback: [
    'kubestage rollback --environment production',
    'kubestage rollback --environment production --revision 7',
  ],
  sweep: ['kubestage sweep --dry-run', 'kubestage sweep --keep-label do-not-sweep --wait-timeout 2m'],
};

const ENVIRONMENT = [
  'Environment:',
  '  GITHUB_TOKEN, GH_TOKEN  GitHub token (else `gh auth token`); without one, PR comments and deployments are skipped',
  '  GITHUB_API_URL          GitHub REST API, for GitHub Enterprise Server (default: https://api.github.com)',
  '  KUBECONFIG              kubeconfig file(s), when --kubeconfig is not given',
];

const EXIT_CODES =
  'Exit codes: 0 ok, 1 the command failed, 2 usage error (unknown command or flag, bad value).';

export function programHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => c.length));
  return [
    'kubestage: a Kubernetes namespace per pull request, and promotion between stages, from your terminal.',
    '',
    'Usage: kubestage COMMAND [flags]',
    '',
    'Commands:',
    ...COMMANDS.map((c) => `  ${c.padEnd(width)}  ${REGISTRY[c].summary}`),
    '',
    'Global flags:',
    ...flagLines(GLOBAL_FLAGS),
    '',
    ...ENVIRONMENT,
    '',
    EXIT_CODES,
    'Run `kubestage help COMMAND` (or `kubestage COMMAND --help`) for its flags and examples.',
    '',
  ].join('\n');
}

export function commandHelp(command: Command): string {
  return [
    `kubestage ${command}: ${REGISTRY[command].summary}`,
    '',
    `Usage: kubestage ${command} ${REGISTRY[command].pullRequest ? '--pr N ' : ''}[flags]`,
    '',
    'Flags:',
    ...flagLines(inputFlags(command)),
    '',
    'Global flags:',
    ...flagLines(GLOBAL_FLAGS),
    '',
    'Examples:',
    ...EXAMPLES[command].map((e) => `  ${e}`),
    '',
    ...ENVIRONMENT,
    '',
    EXIT_CODES,
    '',
  ].join('\n');
}

function flagLines(flags: readonly FlagSpec[]): string[] {
  const usage = flags.map((f) => `--${f.name}${f.arg ? ` ${f.arg}` : ''}`);
  const width = Math.max(...usage.map((u) => u.length));
  return flags.map(
    (f, i) =>
      `  ${(usage[i] ?? '').padEnd(width)}  ${f.help}${f.lines ? ' (repeatable)' : ''} (default: ${f.default || 'none'})`,
  );
}
