// Registry credentials from the runner's docker config, exactly where and how `docker login` (and so
// docker/login-action) writes them: $DOCKER_CONFIG/config.json, else $HOME/.docker/config.json, with
//   { "auths": { "ghcr.io": { "auth": base64("user:password") } } }
// (or "username"/"password" fields). Docker Hub's key is "https://index.docker.io/v1/".
// Credential helpers ("credsStore", "credHelpers") are not run: they are programs on the runner
// whose output we would have to trust; when one is configured and no inline "auth" is present, the
// caller says so in its error, with the fix.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DOCKER_HUB_REGISTRY } from './reference.js';

export interface BasicCredentials {
  username: string;
  password: string;
}

export interface RegistryCredentials {
  /** The config file read (absent when there is none). */
  configPath?: string;
  /** Inline credentials for the host, when the config has them. */
  basic?: BasicCredentials;
  /** The credential helper the config names for this host, when it has no inline credentials. */
  helper?: string;
  /** The config has only an identity token (an OAuth refresh token) for this host: not supported. */
  identityTokenOnly?: boolean;
}

interface DockerConfig {
  auths?: Record<string, { auth?: string; username?: string; password?: string; identitytoken?: string }>;
  credsStore?: string;
  credHelpers?: Record<string, string>;
}

const DOCKER_HUB_KEYS = [
  'https://index.docker.io/v1/',
  'index.docker.io',
  'docker.io',
  'registry-1.docker.io',
  'registry.hub.docker.com',
];

/** `https://ghcr.io/v2/` → `ghcr.io`: docker's own normalisation of `auths` keys. */
function keyHost(key: string): string {
  return key
    .replace(/^https?:\/\//i, '')
    .replace(/\/.*$/, '')
    .toLowerCase();
}

export function dockerConfigPath(env: NodeJS.ProcessEnv): string | undefined {
  if (env.DOCKER_CONFIG) return join(env.DOCKER_CONFIG, 'config.json');
  if (env.HOME) return join(env.HOME, '.docker', 'config.json');
  return undefined;
}

export function credentialsFor(host: string, env: NodeJS.ProcessEnv): RegistryCredentials {
  const configPath = dockerConfigPath(env);
  if (configPath === undefined) return {};
  let text: string;
  try {
    text = readFileSync(configPath, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new Error(`Cannot read the docker config ${configPath}: ${(e as Error).message}.`, { cause: e });
  }
  let config: DockerConfig;
  try {
    config = JSON.parse(text) as DockerConfig;
  } catch (e) {
    // The message of a JSON parse error quotes a few characters at most; keep the file's content out.
    throw new Error(
      `The docker config ${configPath} is not valid JSON (${(e as Error).message.replace(/".*"/, '…')}). Run docker/login-action (or "docker login ${host}") again to rewrite it.`,
      { cause: e },
    );
  }
  if (typeof config !== 'object' || config === null) return { configPath };
  const wanted = host.toLowerCase();
  const hub = wanted === DOCKER_HUB_REGISTRY;
  const matches = (key: string) =>
    hub ? DOCKER_HUB_KEYS.includes(key) || DOCKER_HUB_KEYS.includes(keyHost(key)) : keyHost(key) === wanted;

  const out: RegistryCredentials = { configPath };
  for (const [key, entry] of Object.entries(config.auths ?? {})) {
    if (!matches(key) || typeof entry !== 'object' || entry === null) continue;
    if (typeof entry.auth === 'string' && entry.auth !== '') {
      const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon > 0) {
        out.basic = { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
        return out;
      }
    }
    if (typeof entry.username === 'string' && typeof entry.password === 'string' && entry.username !== '') {
      out.basic = { username: entry.username, password: entry.password };
      return out;
    }
    if (typeof entry.identitytoken === 'string' && entry.identitytoken !== '') out.identityTokenOnly = true;
  }
  const helper =
    Object.entries(config.credHelpers ?? {}).find(([key]) => matches(key))?.[1] ?? config.credsStore;
  if (typeof helper === 'string' && helper !== '') out.helper = helper;
  return out;
}
