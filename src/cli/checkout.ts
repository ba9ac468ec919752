// What the CLI learns from the machine it runs on: the repository (`--repo`, else the checkout's origin
// remote), where that checkout is, who is running it, and a GitHub token.
import { execFileSync } from 'node:child_process';
import { SettingsError } from '../settings/inputs.js';

export interface RepoRef {
  owner: string;
  repo: string;
  /** The Git host, when known from a URL (github.com, or a GitHub Enterprise Server host). */
  host?: string;
}

export interface LocalCheckout extends RepoRef {
  /** The git top-level of the current directory, else the current directory. */
  workspace: string;
}

const OWNER_NAME = /^([A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)\/([A-Za-z0-9._-]+)$/;

/**
 * owner and name from a remote URL: `https://github.com/o/r.git`, `ssh://git@host:22/o/r.git`,
 * `git@github.com:o/r.git`, and the same on a GitHub Enterprise Server host. undefined for anything else.
 */
export function parseRemoteUrl(url: string): RepoRef | undefined {
  const u = url.trim();
  let host: string;
  let path: string;
  const scp = /^(?:[^@/\s]+@)?([^:/\s]+):(?!\/)(\S+)$/.exec(u);
  if (scp && !u.includes('://')) {
    host = scp[1] ?? '';
    path = scp[2] ?? '';
  } else {
    let parsed: URL;
    try {
      parsed = new URL(u);
    } catch {
      return undefined;
    }
    if (!['https:', 'http:', 'ssh:', 'git:', 'git+ssh:', 'ssh+git:'].includes(parsed.protocol))
      return undefined;
    host = parsed.hostname;
    path = decodeURIComponent(parsed.pathname);
  }
  const m = /^\/?([^/]+\/[^/]+?)(?:\.git)?\/?$/.exec(path);
  const ref = m?.[1] ? OWNER_NAME.exec(m[1]) : null;
  if (!ref?.[1] || !ref[2]) return undefined;
  return { owner: ref[1], repo: ref[2], host: host.toLowerCase() };
}

/** `--repo owner/name` (a repository URL also does). */
export function parseRepoFlag(value: string): RepoRef {
  const m = OWNER_NAME.exec(value.trim());
  const ref = m?.[1] && m[2] ? { owner: m[1], repo: m[2] } : parseRemoteUrl(value);
  if (!ref) {
    throw new SettingsError(`The flag --repo is "${value}"; expected OWNER/NAME, e.g. --repo acme/shop.`);
  }
  return ref;
}

/** The repository and its checkout: `--repo`, else the origin remote of the git checkout in `cwd`. */
export function localCheckout(
  cwd: string,
  env: NodeJS.ProcessEnv,
  repoFlag: string | undefined,
): LocalCheckout {
  const workspace = toolOutput('git', ['rev-parse', '--show-toplevel'], cwd, env) || cwd;
  if (repoFlag !== undefined) return { ...parseRepoFlag(repoFlag), workspace };
  const origin = toolOutput('git', ['remote', 'get-url', 'origin'], cwd, env);
  if (!origin) {
    throw new SettingsError(
      `Which repository? No --repo given, and ${cwd} is not in a git checkout with an "origin" remote. Pass --repo OWNER/NAME, or run kubestage inside the repository's checkout.`,
    );
  }
  const ref = parseRemoteUrl(origin);
  if (!ref) {
    throw new SettingsError(
      `Which repository? The origin remote of ${workspace} is "${origin}", which is not a GitHub URL (https://github.com/OWNER/NAME or git@github.com:OWNER/NAME.git). Pass --repo OWNER/NAME.`,
    );
  }
  return { ...ref, workspace };
}

/** GitHub's REST API: GITHUB_API_URL, else the usual one of a GitHub Enterprise Server remote, else api.github.com. */
export function githubApiUrl(env: NodeJS.ProcessEnv, host: string | undefined): string | undefined {
  if (env.GITHUB_API_URL) return env.GITHUB_API_URL;
  return host && host !== 'github.com' ? `https://${host}/api/v3` : undefined;
}

/** A GitHub token: GITHUB_TOKEN, GH_TOKEN, else what the GitHub CLI is logged in with; undefined for none. */
export function findGitHubToken(
  env: NodeJS.ProcessEnv,
  host: string | undefined,
): { token: string; source: string } | undefined {
  for (const name of ['GITHUB_TOKEN', 'GH_TOKEN']) {
    const token = env[name]?.trim();
    if (token) return { token, source: `$${name}` };
  }
  const args = ['auth', 'token', ...(host && host !== 'github.com' ? ['--hostname', host] : [])];
  const token = toolOutput('gh', args, undefined, env);
  return token ? { token, source: '`gh auth token`' } : undefined;
}

/** Who runs this, as recorded on what it changes: GITHUB_ACTOR, else git's user.name, else $USER. */
export function localActor(env: NodeJS.ProcessEnv, cwd: string): string | undefined {
  return env.GITHUB_ACTOR || toolOutput('git', ['config', 'user.name'], cwd, env) || env.USER || undefined;
}

/** A tool's trimmed stdout; undefined when it is not installed, fails or prints nothing. */
function toolOutput(
  cmd: string,
  args: string[],
  cwd: string | undefined,
  env: NodeJS.ProcessEnv,
): string | undefined {
  try {
    const out = execFileSync(cmd, args, {
      cwd,
      env,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
      timeout: 10_000,
    });
    return out.trim() || undefined;
  } catch {
    return undefined;
  }
}
