// The command line, read: `kubestage COMMAND [--flag value | --flag=value | --switch[=false]]…`. Each
// command takes the flags of the inputs its registry entry lists, under the action's input names, plus
// the global flags; anything else is a usage error that lists the valid ones.
import { COMMANDS, isCommand, REGISTRY, type Command } from '../app/registry.js';
import { INPUT, INPUT_DOCS, SettingsError, type InputName } from '../settings/inputs.js';

export interface FlagSpec {
  /** Without the dashes. */
  name: string;
  help: string;
  /** Shown as `default: …` in `--help`. */
  default: string;
  /** The value's placeholder; absent for a true/false switch. */
  arg?: string;
  /** Repeatable; the values are joined with newlines. */
  lines?: true;
  /** The action input it sets. */
  input?: InputName;
}

export const OUTPUT_FORMATS = ['text', 'json'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

/** Flags every command takes. */
export const GLOBAL_FLAGS: readonly FlagSpec[] = [
  {
    name: 'kubeconfig',
    help: 'kubeconfig file',
    default: '$KUBECONFIG, else ~/.kube/config',
    arg: 'PATH',
    input: INPUT.kubeconfig,
  },
  { name: 'context', help: 'kubeconfig context to use', default: 'its current-context', arg: 'NAME' },
  {
    name: 'repo',
    help: 'the GitHub repository',
    default: 'the origin remote of this checkout',
    arg: 'OWNER/NAME',
  },
  { name: 'output', help: 'what to print on stdout: text or json', default: 'text', arg: 'FORMAT' },
  { name: 'verbose', help: 'also print debug messages (and stack traces)', default: 'false' },
  { name: 'help', help: 'show this help', default: 'false' },
];

/** The CLI's name for an input: the same as the action's, but `--pr` for `pr-number`. */
export function flagName(input: InputName): string {
  return input === INPUT.prNumber ? 'pr' : input;
}

/** The flags of a command's own inputs, in registry order. */
export function inputFlags(command: Command): FlagSpec[] {
  return REGISTRY[command].inputs.map((input) => ({ name: flagName(input), input, ...INPUT_DOCS[input] }));
}

/** Every flag a command takes: its inputs, then the global ones. */
export function commandFlags(command: Command): FlagSpec[] {
  return [...inputFlags(command), ...GLOBAL_FLAGS];
}

export interface Invocation {
  /** Absent: no command given (`kubestage`, `kubestage --help`). */
  command?: Command;
  help: boolean;
  verbose: boolean;
  output: OutputFormat;
  context?: string;
  repo?: string;
  /** The inputs given as flags, by input name. */
  inputs: Partial<Record<InputName, string>>;
}

const HELP_HINT = 'Run `kubestage --help` for the commands and their flags.';

/** Reads argv (without node and the script). Throws SettingsError (exit 2) on anything it does not know. */
export function parseArgs(args: readonly string[]): Invocation {
  const argv = expandAliases(args);
  const { command, rest } = findCommand(argv);
  const specs = command ? commandFlags(command) : GLOBAL_FLAGS;
  const where = command ? `kubestage ${command}` : 'kubestage';
  const given = new Map<string, string>();
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i] ?? '';
    if (!arg.startsWith('--') || arg === '--') {
      throw new SettingsError(
        `Unexpected argument "${arg}" for \`${where}\`: flags are written --name value or --name=value. ${HELP_HINT}`,
      );
    }
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq < 0 ? undefined : eq);
    const spec = specs.find((s) => s.name === name);
    if (!spec) {
      throw new SettingsError(
        `Unknown flag --${name} for \`${where}\`. Valid flags: ${specs.map((s) => `--${s.name}`).join(', ')}.` +
          (command ? '' : ` ${HELP_HINT}`),
      );
    }
    let value: string;
    if (eq >= 0) value = arg.slice(eq + 1);
    else if (!spec.arg) value = 'true';
    else {
      const next = rest[i + 1];
      if (next === undefined || next.startsWith('--')) {
        throw new SettingsError(
          `The flag --${name} needs a value (${spec.arg}), e.g. --${name}=${spec.arg}.`,
        );
      }
      value = next;
      i++;
    }
    const before = given.get(name);
    given.set(name, spec.lines && before !== undefined ? `${before}\n${value}` : value);
  }

  const inputs: Partial<Record<InputName, string>> = {};
  for (const spec of specs) {
    const value = given.get(spec.name);
    if (spec.input && value !== undefined) inputs[spec.input] = value;
  }
  return {
    command,
    help: switchOn(given, 'help'),
    verbose: switchOn(given, 'verbose'),
    output: outputFormat(given.get('output')),
    context: given.get('context'),
    repo: given.get('repo'),
    inputs,
  };
}

/**
 * The first word that is not a flag or a flag's value is the command; `help COMMAND` is `COMMAND --help`.
 * A flag's value is recognised by the flag taking one in some command, so `--repo a/b status` works.
 */
function findCommand(argv: readonly string[]): { command?: Command; rest: string[] } {
  const takesValue = new Set(
    [...COMMANDS.flatMap(commandFlags), ...GLOBAL_FLAGS].filter((s) => s.arg).map((s) => s.name),
  );
  let at = -1;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    if (!arg.startsWith('--')) {
      at = i;
      break;
    }
    if (!arg.includes('=') && takesValue.has(arg.slice(2))) i++;
  }
  if (at < 0) return { rest: [...argv] };
  const word = argv[at] ?? '';
  const rest = [...argv.slice(0, at), ...argv.slice(at + 1)];
  if (word === 'help') {
    const [topic, ...more] = rest;
    if (topic === undefined) return { rest: ['--help'] };
    if (!topic.startsWith('--')) return { command: commandNamed(topic), rest: [...more, '--help'] };
    return { rest: [...rest, '--help'] };
  }
  return { command: commandNamed(word), rest };
}

function commandNamed(word: string): Command {
  if (isCommand(word)) return word;
  throw new SettingsError(`Unknown command "${word}". Commands: ${COMMANDS.join(', ')}. ${HELP_HINT}`);
}

function switchOn(given: Map<string, string>, name: string): boolean {
  const value = given.get(name);
  if (value === undefined || value === 'false') return false;
  if (value === 'true') return true;
  throw new SettingsError(
    `The flag --${name} is a switch: write --${name} or --${name}=false, not "${value}".`,
  );
}

function outputFormat(value: string | undefined): OutputFormat {
  if (value === undefined) return 'text';
  if ((OUTPUT_FORMATS as readonly string[]).includes(value)) return value as OutputFormat;
  throw new SettingsError(`The flag --output is "${value}"; expected ${OUTPUT_FORMATS.join(' or ')}.`);
}

/** Option parsers speak of "the `ttl` input": on the command line that is the flag --ttl. */
export function inputsAsFlags(message: string): string {
  return message.replace(/\b(the) `([a-z-]+)` input\b/gi, (whole, the: string, name: string) => {
    const input = (Object.values(INPUT) as string[]).find((i) => i === name) as InputName | undefined;
    return input && input !== INPUT.command && input !== INPUT.githubToken
      ? `${the} flag --${flagName(input)}`
      : whole;
  });
}

/**
 * `kubestage bless FROM TO [flags]` (the promotion ceremony's name) is `kubestage promote --from FROM
 * --to TO [flags]`.
 */
export function expandAliases(argv: readonly string[]): readonly string[] {
  const i = argv.indexOf('bless');
  if (i < 0 || (i > 0 && argv[i - 1]?.startsWith('--') && !argv[i - 1]?.includes('='))) return argv;
  const [from, to] = [argv[i + 1], argv[i + 2]];
  if (!from || !to || from.startsWith('--') || to.startsWith('--')) {
    throw new SettingsError(
      'Usage: kubestage bless FROM TO (e.g. `kubestage bless testing production`): promotes FROM into TO.',
    );
  }
  return [...argv.slice(0, i), 'promote', '--from', from, '--to', to, ...argv.slice(i + 3)];
}
