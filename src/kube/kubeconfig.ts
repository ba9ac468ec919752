// Finding and loading the kubeconfig (action input as YAML, base64 or a path; $KUBECONFIG; in-cluster)
// and checking it is usable, without ever letting a credential from it reach the log.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { delimiter, isAbsolute, resolve } from 'node:path';
import { KubeConfig, type User } from '@kubernetes/client-node';

export interface LoadKubeConfigInput {
  /** Kubeconfig content (YAML), the same base64-encoded, or a path to a file. */
  kubeconfig?: string;
  env?: NodeJS.ProcessEnv;
  /** Relative paths are resolved against this (GITHUB_WORKSPACE). */
  workspace?: string;
  /** Called with every secret found in the kubeconfig; main.ts passes core.setSecret. */
  mask?: (secret: string) => void;
}

export interface LoadedKubeConfig {
  kc: KubeConfig;
  source: string;
}

const IN_CLUSTER_TOKEN = '/var/run/secrets/kubernetes.io/serviceaccount/token';

/** Finds the kubeconfig: input (YAML, base64 or path), then $KUBECONFIG, then in-cluster. */
export function loadKubeConfig(input: LoadKubeConfigInput): LoadedKubeConfig {
  const env = input.env ?? process.env;
  const mask = input.mask ?? (() => undefined);
  const raw = input.kubeconfig?.trim() ?? '';
  const kc = new KubeConfig();
  let source: string;

  if (raw !== '') {
    if (looksLikeYaml(raw)) {
      source = 'input (YAML)';
      loadFromContent(kc, raw, source);
    } else if (isReadableFile(resolvePath(raw, input.workspace))) {
      const path = resolvePath(raw, input.workspace);
      source = `file ${path}`;
      loadFromContent(kc, readFileSync(path, 'utf8'), source);
    } else {
      const decoded = decodeBase64(raw);
      if ((decoded === undefined || !looksLikeYaml(decoded)) && looksLikePath(raw)) {
        const path = resolvePath(raw, input.workspace);
        throw new Error(
          `the kubeconfig input names the file ${path}, which ${existsSync(path) ? 'is not a readable file' : 'does not exist'}` +
            (isAbsolute(raw) || raw.startsWith('~/')
              ? ''
              : ` (relative paths are resolved against the workspace ${input.workspace ?? process.cwd()})`) +
            '; check the path and that an earlier step wrote the file, or pass the kubeconfig content itself (e.g. `${{ secrets.KUBECONFIG }}`)',
        );
      }
      if (decoded === undefined || !looksLikeYaml(decoded)) {
        // Never echo the value: a mangled secret is still a secret.
        throw new Error(
          `the kubeconfig input is neither a readable file path, base64, nor YAML (${raw.length} characters, not shown); ` +
            'pass the kubeconfig file content (e.g. `${{ secrets.KUBECONFIG }}`), the same base64-encoded ' +
            '(`base64 -w0 ~/.kube/config`), or a path to a file that exists in the workspace',
        );
      }
      mask(raw);
      source = 'input (base64)';
      loadFromContent(kc, decoded, source);
    }
  } else if (env.KUBECONFIG && env.KUBECONFIG.trim() !== '') {
    source = '$KUBECONFIG';
    const paths = env.KUBECONFIG.split(delimiter).filter((p) => p !== '');
    let loaded = false;
    for (const p of paths) {
      const path = resolvePath(p, input.workspace);
      if (!isReadableFile(path)) continue;
      const one = new KubeConfig();
      loadFromContent(one, readFileSync(path, 'utf8'), `$KUBECONFIG file ${path}`);
      if (!loaded) {
        kc.loadFromString(one.exportConfig());
        loaded = true;
      } else {
        kc.mergeConfig(one, true);
      }
    }
    if (!loaded) {
      throw new Error(
        `no file named in $KUBECONFIG (${paths.join(delimiter)}) is readable; ` +
          'check the path, or pass the kubeconfig through the `kubeconfig` input instead',
      );
    }
  } else if (env.KUBERNETES_SERVICE_HOST && existsSync(IN_CLUSTER_TOKEN)) {
    source = 'in-cluster';
    kc.loadFromCluster();
  } else {
    throw new Error(
      'no kubeconfig: the `kubeconfig` input is empty, $KUBECONFIG is not set and this is not running ' +
        'inside a cluster; store your kubeconfig as a repository secret and pass it as `kubeconfig: ${{ secrets.KUBECONFIG }}`',
    );
  }

  for (const secret of secretsOf(kc)) mask(secret);
  moveServerCredentials(kc);
  allowPlainHttp(kc);
  validate(kc, source);
  return { kc, source };
}

function looksLikeYaml(s: string): boolean {
  // A kubeconfig always names its clusters; a one-line path or base64 blob never contains a newline
  // plus a key like this.
  return (
    /(^|\n)\s*(apiVersion|clusters|kind|current-context)\s*:/.test(s) || /^\s*\{[\s\S]*"clusters"/.test(s)
  );
}

/**
 * A value meant as a file path (so naming it helps and reveals nothing): short, one line, and shaped
 * like a path or a kubeconfig file name. Base64 can hold "/", but not these shapes.
 */
function looksLikePath(s: string): boolean {
  if (s.length > 1024 || /\s/.test(s)) return false;
  return /^(\/|\.{1,2}\/|~\/)/.test(s) || /(\.(ya?ml|json|conf|kubeconfig)|(^|\/)(kube)?config)$/i.test(s);
}

/** The server URL without a password (`https://user:***@host`), for logs and messages. */
export function displayServer(server: string): string {
  try {
    const u = new URL(server);
    if (!u.password) return server;
    u.password = '***';
    return u.toString().replace(/\/$/, server.endsWith('/') ? '/' : '');
  } catch {
    return server.replace(/\/\/([^/@:]+):[^/@]+@/, '//$1:***@');
  }
}

function resolvePath(p: string, workspace: string | undefined): string {
  if (p.startsWith('~/')) return resolve(process.env.HOME ?? '', p.slice(2));
  return isAbsolute(p) ? p : resolve(workspace ?? process.cwd(), p);
}

function isReadableFile(path: string): boolean {
  try {
    return path.length < 4096 && !path.includes('\n') && statSync(path).isFile();
  } catch {
    return false;
  }
}

function decodeBase64(s: string): string | undefined {
  const compact = s.replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(compact)) return undefined;
  const decoded = Buffer.from(compact, 'base64').toString('utf8');
  return decoded.includes('\uFFFD') ? undefined : decoded;
}

function loadFromContent(kc: KubeConfig, content: string, source: string): void {
  try {
    kc.loadFromString(content);
  } catch (e) {
    // YAML parser messages quote the offending line, which may hold a token: report only where.
    const err = e as { reason?: unknown; mark?: { line?: number; column?: number }; name?: string };
    const where =
      err.mark?.line !== undefined
        ? ` at line ${err.mark.line + 1}, column ${(err.mark.column ?? 0) + 1}`
        : '';
    const reason =
      typeof err.reason === 'string'
        ? err.reason
        : err.name === 'YAMLException'
          ? 'invalid YAML'
          : String((e as Error).message ?? e);
    // No `cause`: the parser's error quotes kubeconfig content, which must never reach the log.
    // eslint-disable-next-line preserve-caught-error
    throw new Error(
      `could not parse the kubeconfig from ${source}: ${reason}${where}; ` +
        'check that the secret holds a complete kubeconfig (`kubectl config view --raw --minify`)',
    );
  }
}

function secretsOf(kc: KubeConfig): string[] {
  const out: string[] = [];
  const add = (v: unknown): void => {
    if (typeof v === 'string' && v.trim().length >= 4) out.push(v);
  };
  for (const u of kc.getUsers() as User[]) {
    add(u.token);
    add(u.password);
    add(u.keyData);
    add(u.certData);
    const cfg = (u.authProvider as { config?: Record<string, unknown> } | undefined)?.config ?? {};
    for (const key of ['access-token', 'id-token', 'refresh-token', 'client-secret', 'token']) add(cfg[key]);
    const execEnv = (u.exec as { env?: { name?: string; value?: unknown }[] } | undefined)?.env ?? [];
    for (const e of execEnv) add(e.value);
  }
  // A password in a server URL (https://user:pass@host) is a credential too.
  for (const c of kc.getClusters()) {
    try {
      add(decodeURIComponent(new URL(c.server).password));
    } catch {
      // Not a URL: validate() reports it.
    }
  }
  return out;
}

/**
 * A server URL with a user and password (`https://admin:pass@host`): fetch refuses such URLs, so the
 * credentials move to the users of that cluster that have none of their own (as basic auth, which is
 * what the URL meant), and the server keeps only its address.
 */
function moveServerCredentials(kc: KubeConfig): void {
  const moved = new Map<string, { username: string; password: string }>();
  kc.clusters = kc.clusters.map((c) => {
    let u: URL;
    try {
      u = new URL(c.server);
    } catch {
      return c;
    }
    if (!u.username && !u.password) return c;
    moved.set(c.name, { username: decodeURIComponent(u.username), password: decodeURIComponent(u.password) });
    u.username = '';
    u.password = '';
    return { ...c, server: u.toString().replace(/\/$/, '') };
  });
  if (!moved.size) return;
  const userCluster = new Map(kc.contexts.map((ctx) => [ctx.user, ctx.cluster]));
  kc.users = kc.users.map((user) => {
    const creds = moved.get(userCluster.get(user.name) ?? '');
    const hasOwn =
      user.token || user.certData || user.certFile || user.exec || user.authProvider || user.username;
    return creds && !hasOwn ? { ...user, ...creds } : user;
  });
}

/**
 * client-node refuses an `http://` server unless insecure-skip-tls-verify is set, although there is
 * no TLS to verify; kubectl accepts such kubeconfigs (`kubectl proxy`, local API servers), so do we.
 */
export function allowPlainHttp(kc: KubeConfig): void {
  if (kc.clusters.some((c) => c.server.startsWith('http:') && !c.skipTLSVerify)) {
    kc.clusters = kc.clusters.map((c) => (c.server.startsWith('http:') ? { ...c, skipTLSVerify: true } : c));
  }
}

function validate(kc: KubeConfig, source: string): void {
  const ctxName = kc.getCurrentContext();
  if (!ctxName) {
    throw new Error(
      `the kubeconfig from ${source} has no current-context; set one (\`kubectl config use-context NAME\`) before storing it`,
    );
  }
  const ctx = kc.getContextObject(ctxName);
  if (!ctx) {
    throw new Error(
      `the kubeconfig from ${source} names current-context "${ctxName}" but defines no such context`,
    );
  }
  const cluster = kc.getCurrentCluster();
  if (!cluster) {
    throw new Error(
      `the kubeconfig from ${source}: context "${ctxName}" refers to cluster "${ctx.cluster}", which is not defined`,
    );
  }
}
