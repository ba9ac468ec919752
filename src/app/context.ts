// What every command knows about the run it is part of: which repository, where its files are, how to
// link back to the run, the event (of any kind), and the clock. Built once by main.ts (from the
// Actions environment) or cli.ts (from the local checkout and flags).
import { readEvent, type EventContext } from '../settings/event.js';
import { INPUT, parsePrNumber, SettingsError, type InputReader } from '../settings/inputs.js';

export interface RunContext {
  owner: string;
  repo: string;
  /** Where the repository is checked out (GITHUB_WORKSPACE, or the CLI's repository root). */
  workspace: string;
  /** The Actions run's page; absent outside Actions. */
  runUrl?: string;
  /** GITHUB_RUN_ID: whose approvals a promotion reads and whose job deployment it reports on. */
  runId?: number;
  /** GitHub's REST API (GITHUB_API_URL); absent means api.github.com. */
  apiUrl?: string;
  event: EventContext;
  /** Replaceable in tests; every time a run records or shows comes from here. */
  now: () => Date;
  /** Aborted when the run is cancelled (SIGINT/SIGTERM): commands finish up and say so. */
  signal?: AbortSignal;
}

/** The context of a GitHub Actions run, from its environment variables and event payload. */
export function actionContext(
  input: InputReader,
  env: NodeJS.ProcessEnv,
  now = () => new Date(),
): RunContext {
  const repository = env.GITHUB_REPOSITORY ?? '';
  const [owner, repo] = repository.split('/');
  if (!owner || !repo) {
    throw new SettingsError(
      `GITHUB_REPOSITORY is "${repository}", expected "owner/repo". kubestage runs inside GitHub Actions, which sets it.`,
    );
  }
  const serverUrl = env.GITHUB_SERVER_URL || 'https://github.com';
  const runId = env.GITHUB_RUN_ID;
  return {
    owner,
    repo,
    workspace: env.GITHUB_WORKSPACE || process.cwd(),
    runUrl: runId ? `${serverUrl}/${repository}/actions/runs/${runId}` : undefined,
    runId: runId && /^[0-9]+$/.test(runId) ? Number(runId) : undefined,
    apiUrl: env.GITHUB_API_URL || undefined,
    event: readEvent(env, input(INPUT.prNumber) ?? ''),
    now,
  };
}

/** The context of a CLI run: the local checkout, the person running it, and `--pr`. */
export function cliContext(
  input: InputReader,
  local: Pick<RunContext, 'owner' | 'repo' | 'workspace' | 'apiUrl'> & { actor?: string },
  now = () => new Date(),
): RunContext {
  const pr = input(INPUT.prNumber).trim();
  return {
    owner: local.owner,
    repo: local.repo,
    workspace: local.workspace,
    apiUrl: local.apiUrl,
    event: { name: 'cli', prNumber: pr ? parsePrNumber(pr) : undefined, actor: local.actor },
    now,
  };
}
