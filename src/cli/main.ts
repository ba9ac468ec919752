// The CLI: argv, the local checkout and kubeconfig → the same command registry as the action → the
// report on stdout (text or JSON), progress on stderr, and an exit code (0 ok, 1 failed, 2 usage).
import { existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { cancelOnSignals } from '../app/cancel.js';
import { cliContext } from '../app/context.js';
import { createPorts } from '../app/ports.js';
import { REGISTRY, type Command } from '../app/registry.js';
import type { CommandResult } from '../app/result.js';
import type { Logger } from '../logger.js';
import { INPUT, parseBoolean, SettingsError, type InputReader } from '../settings/inputs.js';
import { findGitHubToken, githubApiUrl, localActor, localCheckout } from './checkout.js';
import { inputsAsFlags, parseArgs, type Invocation } from './flags.js';
import { commandHelp, programHelp } from './help.js';
import { terminalGroup, terminalLogger, type CliIo } from './terminal.js';

const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

export async function main(argv: readonly string[], env: NodeJS.ProcessEnv, io: CliIo): Promise<number> {
  let verbose = argv.includes('--verbose');
  try {
    const inv = parseArgs(argv);
    verbose = inv.verbose;
    if (inv.help) {
      io.stdout(inv.command ? commandHelp(inv.command) : programHelp());
      return EXIT.ok;
    }
    if (!inv.command) {
      // Bare `kubestage` is a usage error: the help goes where errors go.
      io.stderr(programHelp());
      return EXIT.usage;
    }
    const result = await runCommand(inv, inv.command, env, io, terminalLogger(io, verbose));
    io.stdout(inv.output === 'json' ? `${JSON.stringify(result.json, null, 2)}\n` : withNewline(result.text));
    if (result.ok) return EXIT.ok;
    io.stderr(`error: ${result.failure ?? `kubestage ${inv.command} failed`}\n`);
    return EXIT.failed;
  } catch (e) {
    if (e instanceof SettingsError) {
      io.stderr(`error: ${inputsAsFlags(e.message)}\n`);
      return EXIT.usage;
    }
    io.stderr(`error: ${e instanceof Error ? e.message : String(e)}\n`);
    if (verbose && e instanceof Error && e.stack) io.stderr(`${e.stack}\n`);
    return EXIT.failed;
  }
}

async function runCommand(
  inv: Invocation,
  command: Command,
  env: NodeJS.ProcessEnv,
  io: CliIo,
  logger: Logger,
): Promise<CommandResult> {
  const checkout = localCheckout(io.cwd, env, inv.repo);
  const github = findGitHubToken(env, checkout.host);
  const publishes = REGISTRY[command].inputs.includes(INPUT.comment);
  if (github) logger.debug(`GitHub token: from ${github.source}`);
  else if (publishes) {
    for (const name of [INPUT.comment, INPUT.deployment]) {
      const given = inv.inputs[name];
      if (given !== undefined && parseBoolean(given, name)) {
        throw new SettingsError(
          `--${name} needs a GitHub token, and there is none: set GITHUB_TOKEN (or GH_TOKEN), or log in with \`gh auth login\`; or leave --${name} out.`,
        );
      }
    }
    logger.info(
      'note: no GitHub token (GITHUB_TOKEN, GH_TOKEN or `gh auth token`): skipping the PR comment and deployment.',
    );
  }
  const input: InputReader = (name) => {
    if (name === INPUT.githubToken) return github?.token ?? '';
    // Without a token, GitHub features are off rather than an error.
    if (!github && (name === INPUT.comment || name === INPUT.deployment)) return 'false';
    return inv.inputs[name] ?? '';
  };
  // Aborted by Ctrl-C once the command runs (the handlers are installed only then).
  const cancelled = new AbortController();
  const ctx = cliContext(
    input,
    {
      owner: checkout.owner,
      repo: checkout.repo,
      workspace: checkout.workspace,
      apiUrl: githubApiUrl(env, checkout.host),
      actor: localActor(env, io.cwd),
    },
    io.now,
  );
  // Every option is validated here, before anything reaches the cluster or GitHub.
  const start = REGISTRY[command].prepare(input, { ...ctx, signal: cancelled.signal });
  const connections = {
    kubeconfig: kubeconfigFile(inv.inputs[INPUT.kubeconfig], env, io.cwd),
    context: inv.context,
    githubToken: github?.token ?? '',
    apiUrl: ctx.apiUrl,
    // $KUBECONFIG's relative paths mean what they mean to kubectl here.
    workspace: io.cwd,
  };
  const ports = createPorts(connections, logger, env, {
    // Nothing to hide a secret from on a terminal; reports are redacted before they are printed.
    mask: () => undefined,
    group: terminalGroup(io),
  });
  // Ctrl-C stops the run where it is and reports it cancelled (a second Ctrl-C exits at once).
  const cancellation = cancelOnSignals(logger);
  cancellation.signal.addEventListener('abort', () => cancelled.abort(), { once: true });
  try {
    return await start(ports);
  } finally {
    cancellation.dispose();
  }
}

/**
 * The kubeconfig file: `--kubeconfig` (relative to the current directory), else '' for $KUBECONFIG (read
 * by loadKubeConfig), else ~/.kube/config; in a pod without either, '' for its service account.
 */
function kubeconfigFile(flag: string | undefined, env: NodeJS.ProcessEnv, cwd: string): string {
  if (flag !== undefined) {
    const path = resolve(cwd, flag.startsWith('~/') ? join(env.HOME ?? '', flag.slice(2)) : flag);
    if (!isFile(path)) {
      throw new SettingsError(
        `The flag --kubeconfig is "${flag}", but ${path} is not a file. Pass the path of a kubeconfig file (e.g. --kubeconfig ~/.kube/config).`,
      );
    }
    return path;
  }
  if (env.KUBECONFIG?.trim()) return '';
  const home = env.HOME ? join(env.HOME, '.kube', 'config') : '';
  if (home && isFile(home)) return home;
  if (env.KUBERNETES_SERVICE_HOST) return '';
  throw new SettingsError(
    `No kubeconfig: --kubeconfig is not given, $KUBECONFIG is not set and ${home || '~/.kube/config'} does not exist. Pass --kubeconfig PATH or set KUBECONFIG to the file kubectl uses.`,
  );
}

function isFile(path: string): boolean {
  return existsSync(path) && statSync(path).isFile();
}

function withNewline(text: string): string {
  return text.endsWith('\n') || text === '' ? text : `${text}\n`;
}
