// The OCI distribution client kubestage needs: resolve an image tag to the manifest digest the
// registry serves for it, so a stage always runs a digest. Node's global fetch, no other dependency.
//
// One request per tag in the common case: HEAD /v2/<repository>/manifests/<tag>, digest from
// Docker-Content-Digest (registries send it on HEAD; when one does not, GET and hash the body).
// Authentication follows the registry's 401 challenge, as docker does:
//   - `Bearer realm=…,service=…,scope=…` (ghcr.io, Docker Hub, most clouds): GET a token from the
//     realm, anonymously or with Basic credentials from the docker config; accept `token` or
//     `access_token`; retry with `Authorization: Bearer`.
//   - `Basic realm=…` (ECR-style and htpasswd-protected distribution registries): retry with the
//     config's Basic credentials.
//
// Scheme: https for every registry, except plain http for loopback registries (localhost,
// 127.0.0.0/8, [::1]) — docker treats those as insecure registries by default — and for the
// hosts listed in KUBESTAGE_INSECURE_REGISTRIES (comma-separated host or host:port; a bare host
// matches every port), the equivalent of docker's `insecure-registries`.
//
// Nothing secret is logged or put into an error message: not the credentials, not the tokens.
import { createHash } from 'node:crypto';
import type { Logger } from '../logger.js';
import { splitImageRef } from '../model/images.js';
import { retry } from '../retry.js';
import { parseChallenges, type Challenge } from './challenge.js';
import { credentialsFor, type RegistryCredentials } from './credentials.js';
import { DOCKER_HUB_REGISTRY, parseReference, type ImageReference } from './reference.js';

export { parseReference, DOCKER_HUB_REGISTRY, type ImageReference } from './reference.js';

export const INSECURE_REGISTRIES_ENV = 'KUBESTAGE_INSECURE_REGISTRIES';

/** What the manifest HEAD accepts, so a multi-platform image resolves to its index digest. */
export const MANIFEST_MEDIA_TYPES = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.docker.distribution.manifest.v2+json',
] as const;

const DEFAULT_TIMEOUT_MS = 30_000;
const CONCURRENCY = 4;
const SHA256 = /^sha256:[a-f0-9]{64}$/;

export interface ResolveOptions {
  env: NodeJS.ProcessEnv;
  logger?: Logger;
  signal?: AbortSignal;
  /** Per HTTP request (default 30 s). */
  timeoutMs?: number;
}

export interface ResolvedImage {
  /** The reference as given. */
  ref: string;
  /** The reference without tag and digest, as given. */
  name: string;
  /** `sha256:…`, the manifest (or index) digest the registry serves. */
  digest: string;
  /** `${name}@${digest}`. */
  pinned: string;
  /** The registry host[:port] asked (Docker Hub as registry-1.docker.io). */
  registry: string;
}

export type RegistryErrorKind =
  'invalid-reference' | 'not-found' | 'denied' | 'unreachable' | 'rate-limited' | 'protocol' | 'config';

export class RegistryError extends Error {
  constructor(
    readonly kind: RegistryErrorKind,
    message: string,
    /** Worth another try (network trouble, 5xx, 429). */
    readonly retryable = false,
  ) {
    super(message);
    this.name = 'RegistryError';
  }
}

/** The base URL of a registry's API: see the scheme rule at the top of this file. */
export function registryBaseUrl(host: string, env: NodeJS.ProcessEnv): string {
  return `${plainHttpAllowed(host, env) ? 'http' : 'https'}://${host}`;
}

function hostname(host: string): string {
  if (host.startsWith('[')) return host.slice(0, host.indexOf(']') + 1).toLowerCase();
  const colon = host.lastIndexOf(':');
  return (colon >= 0 ? host.slice(0, colon) : host).toLowerCase();
}

export function plainHttpAllowed(host: string, env: NodeJS.ProcessEnv): boolean {
  const name = hostname(host);
  if (name === 'localhost' || name === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(name)) return true;
  const listed = (env[INSECURE_REGISTRIES_ENV] ?? '')
    .split(',')
    .map((s) =>
      s
        .trim()
        .replace(/^https?:\/\//i, '')
        .replace(/\/.*$/, '')
        .toLowerCase(),
    )
    .filter((s) => s !== '');
  const full = host.toLowerCase();
  return listed.some((entry) => entry === full || entry === name);
}

function loginCommand(host: string): string {
  return host === DOCKER_HUB_REGISTRY ? 'docker login' : `docker login ${host}`;
}

function loginAdvice(host: string): string {
  const registryInput = host === DOCKER_HUB_REGISTRY ? '' : ` with registry: ${host}`;
  return `run docker/login-action${registryInput} in the job before kubestage (or "${loginCommand(host)}")`;
}

/** A label for the image in messages: the name as given, tag or digest included. */
function display(parsed: ImageReference, name: string): string {
  return parsed.tag !== undefined ? `${name}:${parsed.tag}` : name;
}

/** State shared by the lookups of one run: credentials per host, tokens per host and repository. */
class Session {
  private readonly creds = new Map<string, RegistryCredentials>();
  private readonly authorization = new Map<string, string>();

  constructor(readonly opts: ResolveOptions) {}

  credentials(host: string): RegistryCredentials {
    let c = this.creds.get(host);
    if (c === undefined) {
      try {
        c = credentialsFor(host, this.opts.env);
      } catch (e) {
        throw new RegistryError('config', (e as Error).message);
      }
      this.creds.set(host, c);
    }
    return c;
  }

  cachedAuthorization(host: string, repository: string): string | undefined {
    return this.authorization.get(`${host}/${repository}`);
  }

  remember(host: string, repository: string, value: string): void {
    this.authorization.set(`${host}/${repository}`, value);
  }

  /** fetch with the per-request timeout; network failures become RegistryErrors naming the host. */
  async send(host: string, url: string, init: RequestInit): Promise<Response> {
    const timeoutMs = this.opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = this.opts.signal ? AbortSignal.any([this.opts.signal, timeout]) : timeout;
    try {
      return await fetch(url, {
        ...init,
        signal,
        headers: { 'User-Agent': 'kubestage', ...(init.headers as Record<string, string> | undefined) },
      });
    } catch (e) {
      if (this.opts.signal?.aborted) throw this.opts.signal.reason ?? e;
      if (timeout.aborted) {
        throw new RegistryError(
          'unreachable',
          `The registry ${host} did not answer within ${Math.round(timeoutMs / 1000)} s (${init.method ?? 'GET'} ${url}). Check that the image's registry host is right and reachable from the runner, then re-run.`,
          true,
        );
      }
      const cause = (e as { cause?: { code?: string; message?: string } }).cause;
      const detail = cause?.code ?? cause?.message ?? (e as Error).message;
      const plainHttp =
        url.startsWith('https:') &&
        /wrong version number|EPROTO|packet length too long/i.test(
          `${cause?.code ?? ''} ${cause?.message ?? ''}`,
        );
      const hint = plainHttp
        ? ` It looks like ${host} serves plain HTTP: if you trust that, add "${host}" to ${INSECURE_REGISTRIES_ENV}.`
        : ` Check that the image's registry host "${host}" is right and reachable from the runner (DNS, firewall, proxy), then re-run.`;
      throw new RegistryError(
        'unreachable',
        `Cannot reach the registry ${host} (${url}): ${detail}.${hint}`,
        true,
      );
    }
  }
}

/** Resolves `ref` to the digest its registry serves now; a ref with a digest is returned as is. */
export async function resolveDigest(ref: string, opts: ResolveOptions): Promise<ResolvedImage> {
  return resolveWith(new Session(opts), ref);
}

/**
 * Resolves many references at once (a few requests in flight, one token per repository, each
 * distinct reference asked once), in the order given. Every failure is reported, not just the first.
 */
export async function resolveImages(refs: readonly string[], opts: ResolveOptions): Promise<ResolvedImage[]> {
  const session = new Session(opts);
  const unique = [...new Set(refs)];
  const results = new Map<string, PromiseSettledResult<ResolvedImage>>();
  let next = 0;
  const worker = async () => {
    while (next < unique.length) {
      const ref = unique[next++];
      try {
        results.set(ref, { status: 'fulfilled', value: await resolveWith(session, ref) });
      } catch (e) {
        results.set(ref, { status: 'rejected', reason: e });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, unique.length) }, worker));
  const failures = unique
    .map((ref) => results.get(ref)!)
    .filter((r): r is PromiseRejectedResult => r.status === 'rejected')
    .map((r) => r.reason as unknown);
  if (failures.length === 1) throw failures[0];
  if (failures.length > 1) {
    const abort = failures.find((f) => !(f instanceof RegistryError));
    if (abort !== undefined) throw abort;
    const errors = failures as RegistryError[];
    throw new RegistryError(
      errors[0].kind,
      `${errors.length} images could not be resolved to digests:\n${errors.map((e) => `- ${e.message}`).join('\n')}`,
    );
  }
  return refs.map((ref) => (results.get(ref) as PromiseFulfilledResult<ResolvedImage>).value);
}

async function resolveWith(session: Session, ref: string): Promise<ResolvedImage> {
  let parsed: ImageReference;
  try {
    parsed = parseReference(ref);
  } catch (e) {
    throw new RegistryError('invalid-reference', (e as Error).message);
  }
  const { name } = splitImageRef(ref);
  const done = (digest: string): ResolvedImage => ({
    ref,
    name,
    digest,
    pinned: `${name}@${digest}`,
    registry: parsed.registry,
  });
  if (parsed.digest !== undefined) return done(parsed.digest);
  if (parsed.tag === undefined) {
    throw new RegistryError(
      'invalid-reference',
      `Image "${ref}" has neither a tag nor a digest, so kubestage cannot tell which build to deploy (it does not assume "latest"). Give the tag CI pushed, e.g. "${name}:1.2.3", or the digest, e.g. "${name}@sha256:…".`,
    );
  }
  const digest = await retry(() => manifestDigest(session, parsed, name), {
    attempts: 3,
    baseMs: 250,
    maxMs: 2_000,
    isRetryable: (e) => e instanceof RegistryError && e.retryable && !session.opts.signal?.aborted,
    onRetry: (e, attempt, waitMs) =>
      session.opts.logger?.debug(
        `registry: attempt ${attempt} for ${ref} failed (${(e as Error).message}); retrying in ${waitMs} ms`,
      ),
  });
  session.opts.logger?.info(`Resolved ${ref} to ${digest}`);
  return done(digest);
}

async function manifestDigest(session: Session, parsed: ImageReference, name: string): Promise<string> {
  const { registry: host, repository } = parsed;
  const tag = parsed.tag!;
  const url = `${registryBaseUrl(host, session.opts.env)}/v2/${repository}/manifests/${encodeURIComponent(tag)}`;
  const accept = MANIFEST_MEDIA_TYPES.join(', ');
  const image = display(parsed, name);
  const log = session.opts.logger;

  let authorization = session.cachedAuthorization(host, repository);
  const request = (method: 'HEAD' | 'GET') =>
    session.send(host, url, {
      method,
      headers: { Accept: accept, ...(authorization !== undefined ? { Authorization: authorization } : {}) },
    });

  let res = await request('HEAD');
  log?.debug(`registry: HEAD ${url} → ${res.status}`);
  let authenticated = authorization !== undefined;
  if (res.status === 401 && !authenticated) {
    authorization = await authorize(session, parsed, image, res);
    session.remember(host, repository, authorization);
    authenticated = true;
    res = await request('HEAD');
    log?.debug(`registry: HEAD ${url} (authenticated) → ${res.status}`);
  }
  check(session, parsed, name, res, authenticated);

  const header = res.headers.get('docker-content-digest');
  if (header !== null && SHA256.test(header)) return header;

  // Some registries leave Docker-Content-Digest off a HEAD: the digest is the sha256 of the manifest bytes.
  const got = await request('GET');
  log?.debug(`registry: GET ${url} → ${got.status} (HEAD had no Docker-Content-Digest)`);
  check(session, parsed, name, got, authenticated);
  const body = Buffer.from(await got.arrayBuffer());
  return `sha256:${createHash('sha256').update(body).digest('hex')}`;
}

/** Throws the user-facing error for any answer but 200. */
function check(
  session: Session,
  parsed: ImageReference,
  name: string,
  res: Response,
  authenticated: boolean,
): void {
  const host = parsed.registry;
  const image = display(parsed, name);
  if (res.ok) {
    const type = res.headers.get('content-type') ?? '';
    if (/manifest\.v1\+prettyjws|manifest\.v1\+json/.test(type) && type.includes('docker')) {
      throw new RegistryError(
        'protocol',
        `The registry ${host} answered for ${image} with a Docker schema 1 manifest (${type}), which Kubernetes nodes no longer pull. Re-push the image with a current docker/buildx, or pass its digest.`,
      );
    }
    return;
  }
  void res.body?.cancel();
  if (res.status === 404) {
    throw new RegistryError(
      'not-found',
      `Tag ${parsed.tag} of ${name} does not exist in the registry (${host}); push it first (check that the build job pushed this tag), or pass the digest, e.g. ${name}@sha256:….`,
    );
  }
  if (res.status === 401 || res.status === 403)
    throw denied(session, parsed, image, res.status, authenticated);
  if (res.status === 429) {
    const after = res.headers.get('retry-after');
    throw new RegistryError(
      'rate-limited',
      `The registry ${host} is rate-limiting requests (HTTP 429${after ? `, retry after ${after} s` : ''}) while resolving ${image}. ${host === DOCKER_HUB_REGISTRY ? 'Docker Hub limits anonymous pulls: ' : ''}log in to raise the limit (${loginAdvice(host)}), or re-run later.`,
      true,
    );
  }
  if (res.status >= 500) {
    throw new RegistryError(
      'unreachable',
      `The registry ${host} failed with HTTP ${res.status} while resolving ${image}. It is the registry's own error; re-run later, or check the registry's status page.`,
      true,
    );
  }
  throw new RegistryError(
    'protocol',
    `The registry ${host} answered HTTP ${res.status} to the manifest request for ${image}, which kubestage does not expect from an OCI registry. Check that ${host} is a container registry (its API under /v2/).`,
  );
}

function denied(
  session: Session,
  parsed: ImageReference,
  image: string,
  status: number,
  authenticated: boolean,
): RegistryError {
  const host = parsed.registry;
  const creds = session.credentials(host);
  const head = `The registry ${host} refused access to ${parsed.repository} (HTTP ${status}${authenticated ? ' after authenticating' : ''}) while resolving ${image}: the repository is private, does not exist, or the login cannot read it.`;
  let fix: string;
  if (creds.basic) {
    fix = `The credentials for ${host} in ${creds.configPath} (user "${creds.basic.username}") were used and do not grant pull on ${parsed.repository}: check the image name, and that this user or token may read it (for ghcr.io a token with read:packages, or the package's "Manage Actions access" setting), then ${loginAdvice(host)} again.`;
  } else if (creds.helper !== undefined) {
    fix = `The docker config ${creds.configPath} names the credential helper "${creds.helper}" for ${host}, which kubestage does not run: ${loginAdvice(host)} so the credentials are written into the config file, or point DOCKER_CONFIG at a config.json with an "auths" entry for ${host}.`;
  } else if (creds.identityTokenOnly) {
    fix = `The docker config ${creds.configPath} has only an identity token for ${host}, which kubestage does not support: ${loginAdvice(host)} with a username and password or access token.`;
  } else {
    fix = `No credentials for ${host} were found (${creds.configPath ?? 'neither DOCKER_CONFIG nor HOME is set'}): ${loginAdvice(host)}.`;
  }
  return new RegistryError('denied', `${head} ${fix}`);
}

/** Answers a 401 challenge: the Authorization header value to retry with. */
async function authorize(
  session: Session,
  parsed: ImageReference,
  image: string,
  res: Response,
): Promise<string> {
  void res.body?.cancel();
  const host = parsed.registry;
  const challenges = parseChallenges(res.headers.get('www-authenticate') ?? '');
  const creds = session.credentials(host);
  const bearer = challenges.find((c) => c.scheme === 'bearer' && c.params.realm);
  if (bearer) return `Bearer ${await fetchToken(session, parsed, image, bearer, creds)}`;
  if (challenges.some((c) => c.scheme === 'basic')) {
    if (!creds.basic) throw denied(session, parsed, image, 401, false);
    session.opts.logger?.debug(
      `registry: ${host} asks for Basic credentials; using those of ${creds.configPath}`,
    );
    return `Basic ${Buffer.from(`${creds.basic.username}:${creds.basic.password}`).toString('base64')}`;
  }
  throw new RegistryError(
    'protocol',
    `The registry ${host} answered 401 without a usable WWW-Authenticate challenge (got "${res.headers.get('www-authenticate') ?? 'none'}"), so kubestage cannot tell how to log in. Check that ${host} is an OCI registry.`,
  );
}

async function fetchToken(
  session: Session,
  parsed: ImageReference,
  image: string,
  challenge: Challenge,
  creds: RegistryCredentials,
): Promise<string> {
  const host = parsed.registry;
  let realm: URL;
  try {
    realm = new URL(challenge.params.realm);
  } catch {
    throw new RegistryError(
      'protocol',
      `The registry ${host} named a token service that is not a URL (realm "${challenge.params.realm}").`,
    );
  }
  // Credentials never travel over plain HTTP, except to hosts we already talk plain HTTP to.
  if (
    realm.protocol !== 'https:' &&
    !(realm.protocol === 'http:' && plainHttpAllowed(realm.host, session.opts.env))
  ) {
    throw new RegistryError(
      'protocol',
      `The registry ${host} sends clients to a token service over ${realm.protocol.replace(':', '')} (${realm.origin}); kubestage only asks HTTPS token services, except hosts listed in ${INSECURE_REGISTRIES_ENV}.`,
    );
  }
  if (challenge.params.service) realm.searchParams.set('service', challenge.params.service);
  realm.searchParams.set('scope', challenge.params.scope || `repository:${parsed.repository}:pull`);
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (creds.basic) {
    headers.Authorization = `Basic ${Buffer.from(`${creds.basic.username}:${creds.basic.password}`).toString('base64')}`;
  }
  session.opts.logger?.debug(
    `registry: token for ${parsed.repository} from ${realm.origin}${realm.pathname} (${creds.basic ? `as ${creds.basic.username}` : 'anonymous'})`,
  );
  const res = await session.send(realm.host, realm.toString(), { method: 'GET', headers });
  if (res.status === 401 || res.status === 403) {
    void res.body?.cancel();
    if (creds.basic) {
      throw new RegistryError(
        'denied',
        `The token service of ${host} (${realm.origin}) refused the credentials for ${host} in ${creds.configPath} (user "${creds.basic.username}", HTTP ${res.status}): the password or token is wrong or expired. ${loginAdvice(host)[0].toUpperCase()}${loginAdvice(host).slice(1)} with a valid token.`,
      );
    }
    throw denied(session, parsed, image, res.status, false);
  }
  if (!res.ok) {
    void res.body?.cancel();
    throw new RegistryError(
      'unreachable',
      `The token service of ${host} (${realm.origin}) failed with HTTP ${res.status}. Re-run later.`,
      res.status >= 500 || res.status === 429,
    );
  }
  let body: { token?: unknown; access_token?: unknown };
  try {
    body = (await res.json()) as typeof body;
  } catch {
    throw new RegistryError(
      'protocol',
      `The token service of ${host} (${realm.origin}) answered with something that is not JSON.`,
    );
  }
  const token = typeof body.token === 'string' && body.token !== '' ? body.token : body.access_token;
  if (typeof token !== 'string' || token === '') {
    throw new RegistryError(
      'protocol',
      `The token service of ${host} (${realm.origin}) answered without a "token" or "access_token".`,
    );
  }
  return token;
}
