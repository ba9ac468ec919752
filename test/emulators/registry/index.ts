// An OCI distribution API emulator (the registry API behind ghcr.io, Docker Hub and the CNCF
// distribution registry), over plain HTTP on 127.0.0.1 and a random port. It answers the way CNCF
// distribution 2.8 does — status codes, the `{"errors":[…]}` body, Docker-Content-Digest,
// Accept-header negotiation, WWW-Authenticate challenges — which the contract test
// (test/contract/registry.test.ts) checks by running the same scenarios against the real one.
//
// Auth modes: 'none'; 'basic' (as distribution with htpasswd: `Basic realm=…` on 401); 'bearer'
// (as ghcr.io and Docker Hub: `Bearer realm=<url>/token,service=<host>,scope=repository:<name>:pull`,
// a token endpoint taking optional Basic credentials, tokens scoped to the repositories and actions
// asked for, so a token for repository A does not read repository B).
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

export const MEDIA = {
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
} as const;

const MANIFEST_TYPES: readonly string[] = [
  MEDIA.ociIndex,
  MEDIA.ociManifest,
  MEDIA.dockerList,
  MEDIA.dockerManifest,
];
const NAME = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/;
const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const DIGEST = /^sha256:[a-f0-9]{64}$/;
const REALM = 'kubestage-emulator';
const TOKEN_TTL_S = 300;

export interface RegistryEmulatorOptions {
  auth?: 'none' | 'basic' | 'bearer';
  /** user → password, for Basic auth to the registry ('basic') or to the token endpoint ('bearer'). */
  users?: Record<string, string>;
  /** Pulls without credentials: an anonymous token may pull ('bearer'), or no credentials needed ('basic'). */
  anonymousPull?: boolean;
}

export interface RegistryRequest {
  method: string;
  /** Path and query. */
  path: string;
  authorization?: string;
}

export interface RegistryEmulator {
  /** http://127.0.0.1:PORT */
  url: string;
  /** 127.0.0.1:PORT, the registry part of image references. */
  host: string;
  close(): Promise<void>;
  /**
   * Stores a manifest (default: a new single-platform OCI image manifest with its own config blob,
   * so every call makes a new digest) under `tag` and returns its digest. A given manifest's
   * blobs must exist already, as in the real registry.
   */
  push(repository: string, tag: string, manifest?: object | string): string;
  /** Points `tag` at a manifest already in the repository. */
  tag(repository: string, tag: string, digest: string): void;
  digestOf(repository: string, tag: string): string | undefined;
  /** For the kube emulator's kubelet: the digest of `<host>/<repository>:<tag>` on this registry. */
  lookup(image: string): string | undefined;
  requests: RegistryRequest[];
}

interface StoredManifest {
  mediaType: string;
  body: Buffer;
}

interface Repo {
  blobs: Map<string, Buffer>;
  manifests: Map<string, StoredManifest>;
  tags: Map<string, string>;
}

interface Grant {
  subject?: string;
  access: Map<string, Set<string>>; // repository → actions
  expires: number;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly detail: unknown = null,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

const sha256 = (b: Buffer | string) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

export async function startRegistryEmulator(opts: RegistryEmulatorOptions = {}): Promise<RegistryEmulator> {
  const auth = opts.auth ?? 'none';
  const users = opts.users ?? {};
  const repos = new Map<string, Repo>();
  const uploads = new Map<string, { repository: string; data: Buffer[] }>();
  const tokens = new Map<string, Grant>();
  const requests: RegistryRequest[] = [];
  let host = '';

  const repo = (name: string, create: boolean): Repo | undefined => {
    let r = repos.get(name);
    if (!r && create) {
      r = { blobs: new Map(), manifests: new Map(), tags: new Map() };
      repos.set(name, r);
    }
    return r;
  };

  // --- storing -------------------------------------------------------------------------------

  const storeManifest = (repository: string, reference: string, mediaType: string, body: Buffer): string => {
    if (!MANIFEST_TYPES.includes(mediaType)) {
      throw new HttpError(400, 'MANIFEST_INVALID', 'manifest invalid', { mediaType });
    }
    let doc: {
      schemaVersion?: unknown;
      mediaType?: unknown;
      config?: { digest?: string };
      layers?: { digest?: string }[];
      manifests?: { digest?: string }[];
    };
    try {
      doc = JSON.parse(body.toString('utf8')) as typeof doc;
    } catch {
      throw new HttpError(400, 'MANIFEST_INVALID', 'manifest invalid', {});
    }
    if (doc.schemaVersion !== 2 || (doc.mediaType !== undefined && doc.mediaType !== mediaType)) {
      throw new HttpError(400, 'MANIFEST_INVALID', 'manifest invalid', {});
    }
    const r = repo(repository, true)!;
    const isIndex = mediaType === MEDIA.ociIndex || mediaType === MEDIA.dockerList;
    if (isIndex) {
      for (const m of doc.manifests ?? []) {
        if (!m.digest || !r.manifests.has(m.digest)) {
          throw new HttpError(400, 'MANIFEST_BLOB_UNKNOWN', 'blob unknown to registry', m.digest ?? '');
        }
      }
    } else {
      for (const b of [doc.config, ...(doc.layers ?? [])]) {
        if (!b?.digest || !r.blobs.has(b.digest)) {
          throw new HttpError(400, 'MANIFEST_BLOB_UNKNOWN', 'blob unknown to registry', b?.digest ?? '');
        }
      }
    }
    const digest = sha256(body);
    if (DIGEST.test(reference) && reference !== digest) {
      throw new HttpError(400, 'DIGEST_INVALID', 'provided digest did not match uploaded content', {});
    }
    r.manifests.set(digest, { mediaType, body });
    if (!reference.startsWith('sha256:')) r.tags.set(reference, digest);
    return digest;
  };

  const push = (repository: string, tag: string, manifest?: object | string): string => {
    if (!NAME.test(repository))
      throw new Error(`registry emulator: "${repository}" is not a repository name`);
    if (!TAG.test(tag)) throw new Error(`registry emulator: "${tag}" is not a tag`);
    const r = repo(repository, true)!;
    let text: string;
    if (manifest === undefined) {
      const config = Buffer.from(
        JSON.stringify({
          architecture: 'amd64',
          os: 'linux',
          config: { Labels: { 'dev.kubestage.emulator.build': randomBytes(8).toString('hex') } },
          rootfs: { type: 'layers', diff_ids: [] },
        }),
      );
      r.blobs.set(sha256(config), config);
      text = JSON.stringify({
        schemaVersion: 2,
        mediaType: MEDIA.ociManifest,
        config: { mediaType: MEDIA.ociConfig, digest: sha256(config), size: config.length },
        layers: [],
      });
    } else {
      text = typeof manifest === 'string' ? manifest : JSON.stringify(manifest);
    }
    const mediaType = (JSON.parse(text) as { mediaType?: string }).mediaType ?? MEDIA.ociManifest;
    return storeManifest(repository, tag, mediaType, Buffer.from(text));
  };

  const digestOf = (repository: string, tag: string) => repos.get(repository)?.tags.get(tag);

  // --- auth --------------------------------------------------------------------------------------

  const basicUser = (header: string | undefined): string | undefined | null => {
    // undefined: no Basic credentials; null: wrong ones.
    if (!header?.startsWith('Basic ')) return undefined;
    const decoded = Buffer.from(header.slice(6), 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    const user = decoded.slice(0, colon);
    return colon > 0 && Object.hasOwn(users, user) && users[user] === decoded.slice(colon + 1) ? user : null;
  };

  const unauthorized = (challenge: string, detail: unknown = null) =>
    new HttpError(401, 'UNAUTHORIZED', 'authentication required', detail, { 'WWW-Authenticate': challenge });

  /** Throws unless the request may do `action` on `repository` (undefined: the /v2/ base). */
  const authorize = (req: IncomingMessage, repository: string | undefined, action: 'pull' | 'push') => {
    const header = req.headers.authorization;
    const detail =
      repository === undefined ? null : [{ Type: 'repository', Class: '', Name: repository, Action: action }];
    if (auth === 'none') return;
    if (auth === 'basic') {
      const user = basicUser(header);
      if (typeof user === 'string') return;
      if (user === undefined && opts.anonymousPull && action === 'pull') return;
      throw unauthorized(`Basic realm="${REALM}"`, detail);
    }
    const scope =
      repository === undefined
        ? ''
        : `,scope="repository:${repository}:${action === 'push' ? 'pull,push' : 'pull'}"`;
    const base = `Bearer realm="http://${host}/token",service="${host}"${scope}`;
    const grant = header?.startsWith('Bearer ') ? tokens.get(header.slice(7)) : undefined;
    if (!grant || grant.expires < Date.now()) {
      throw unauthorized(header?.startsWith('Bearer ') ? `${base},error="invalid_token"` : base, detail);
    }
    if (repository === undefined) return;
    if (!grant.access.get(repository)?.has(action))
      throw unauthorized(`${base},error="insufficient_scope"`, detail);
  };

  const issueToken = (req: IncomingMessage, url: URL, res: ServerResponse) => {
    const user = basicUser(req.headers.authorization);
    if (user === null || (req.headers.authorization !== undefined && user === undefined)) {
      throw new HttpError(401, 'UNAUTHORIZED', 'authentication required', null, {
        'WWW-Authenticate': `Basic realm="${REALM}"`,
      });
    }
    if (url.searchParams.get('service') !== host) {
      throw new HttpError(
        400,
        'UNSUPPORTED',
        `service "${url.searchParams.get('service') ?? ''}" is not ${host}`,
      );
    }
    const access = new Map<string, Set<string>>();
    for (const scope of url.searchParams.getAll('scope')) {
      const m = /^repository:([^:]+):([a-z*,]+)$/.exec(scope);
      if (!m) continue;
      const allowed = user !== undefined ? ['pull', 'push'] : opts.anonymousPull ? ['pull'] : [];
      // As a real token server: grant the intersection of what was asked and what is allowed.
      const granted = m[2].split(',').filter((a) => allowed.includes(a));
      if (granted.length) access.set(m[1], new Set(granted));
    }
    const token = randomBytes(24).toString('base64url');
    tokens.set(token, { subject: user, access, expires: Date.now() + TOKEN_TTL_S * 1000 });
    send(
      res,
      200,
      { 'Content-Type': 'application/json' },
      JSON.stringify({
        token,
        access_token: token,
        expires_in: TOKEN_TTL_S,
        issued_at: new Date().toISOString(),
      }),
    );
  };

  // --- HTTP ------------------------------------------------------------------------------------

  const send = (
    res: ServerResponse,
    status: number,
    headers: Record<string, string>,
    body?: Buffer | string,
  ) => {
    const b = body === undefined ? undefined : Buffer.isBuffer(body) ? body : Buffer.from(body);
    res.writeHead(status, {
      'Docker-Distribution-Api-Version': 'registry/2.0',
      ...(b !== undefined && headers['Content-Length'] === undefined
        ? { 'Content-Length': String(b.length) }
        : {}),
      ...headers,
    });
    res.end(res.req.method === 'HEAD' ? undefined : b);
  };

  const readBody = async (req: IncomingMessage): Promise<Buffer> => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    return Buffer.concat(chunks);
  };

  const accepts = (req: IncomingMessage): Set<string> =>
    new Set(
      (req.headers.accept ?? '')
        .split(',')
        .map((s) => s.split(';')[0].trim().toLowerCase())
        .filter((s) => s !== ''),
    );

  const getManifest = (req: IncomingMessage, res: ServerResponse, repository: string, reference: string) => {
    const r = repos.get(repository);
    const byTag = !reference.startsWith('sha256:');
    let digest = byTag ? r?.tags.get(reference) : reference;
    let m = digest !== undefined ? r?.manifests.get(digest) : undefined;
    if (!m || digest === undefined) {
      throw new HttpError(
        404,
        'MANIFEST_UNKNOWN',
        'manifest unknown',
        byTag ? { Tag: reference } : { Name: repository, Revision: reference },
      );
    }
    const ok = accepts(req);
    // Content negotiation as distribution does it: OCI content only for clients that accept it; a
    // Docker manifest list asked by tag by a client that does not accept lists is answered with its
    // linux/amd64 image manifest; a schema 2 manifest to a client that only speaks schema 1 cannot
    // be converted (schema 1 is gone), hence MANIFEST_INVALID.
    if (m.mediaType === MEDIA.ociManifest && !ok.has(MEDIA.ociManifest)) {
      throw new HttpError(
        404,
        'MANIFEST_UNKNOWN',
        'OCI manifest found, but accept header does not support OCI manifests',
      );
    }
    if (m.mediaType === MEDIA.ociIndex && !ok.has(MEDIA.ociIndex)) {
      throw new HttpError(
        404,
        'MANIFEST_UNKNOWN',
        'OCI index found, but accept header does not support OCI indexes',
      );
    }
    if (byTag && m.mediaType === MEDIA.dockerList && !ok.has(MEDIA.dockerList)) {
      const list = JSON.parse(m.body.toString('utf8')) as {
        manifests: { digest: string; platform?: { os?: string; architecture?: string } }[];
      };
      const child = list.manifests.find(
        (d) => d.platform?.os === 'linux' && d.platform.architecture === 'amd64',
      );
      if (!child) throw new HttpError(404, 'MANIFEST_UNKNOWN', 'manifest unknown', null);
      digest = child.digest;
      m = r!.manifests.get(digest)!;
    }
    if (m.mediaType === MEDIA.dockerManifest && !ok.has(MEDIA.dockerManifest) && byTag) {
      throw new HttpError(400, 'MANIFEST_INVALID', 'manifest invalid', {});
    }
    send(
      res,
      200,
      {
        'Content-Type': m.mediaType,
        'Docker-Content-Digest': digest,
        Etag: `"${digest}"`,
        'Content-Length': String(m.body.length),
      },
      m.body,
    );
  };

  const route = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', `http://${host}`);
    const method = req.method ?? 'GET';
    const path = url.pathname;
    if (path === '/token' && method === 'GET' && auth === 'bearer') return issueToken(req, url, res);
    if (path === '/v2/' || path === '/v2') {
      if (method !== 'GET' && method !== 'HEAD')
        throw new HttpError(405, 'UNSUPPORTED', 'The operation is unsupported.');
      authorize(req, undefined, 'pull');
      return send(res, 200, { 'Content-Type': 'application/json; charset=utf-8' }, '{}');
    }
    const m = /^\/v2\/(.+)\/(manifests|blobs|tags)\/(.*)$/.exec(path);
    if (!m) throw new HttpError(404, 'NOT_FOUND', '404 page not found');
    const [, repository, kind, rest] = m;
    if (!NAME.test(repository))
      throw new HttpError(400, 'NAME_INVALID', 'invalid repository name', { name: repository });
    const writes = method === 'PUT' || method === 'POST' || method === 'PATCH' || method === 'DELETE';
    authorize(req, repository, writes ? 'push' : 'pull');

    if (kind === 'tags' && rest === 'list' && method === 'GET') {
      const r = repos.get(repository);
      if (!r)
        throw new HttpError(404, 'NAME_UNKNOWN', 'repository name not known to registry', {
          name: repository,
        });
      return send(
        res,
        200,
        { 'Content-Type': 'application/json; charset=utf-8' },
        JSON.stringify({ name: repository, tags: [...r.tags.keys()] }),
      );
    }

    if (kind === 'manifests') {
      if (!DIGEST.test(rest) && !TAG.test(rest))
        throw new HttpError(400, 'TAG_INVALID', 'manifest tag did not match URI', {});
      if (method === 'GET' || method === 'HEAD') return getManifest(req, res, repository, rest);
      if (method === 'PUT') {
        const body = await readBody(req);
        const digest = storeManifest(
          repository,
          rest,
          (req.headers['content-type'] ?? '').split(';')[0].trim(),
          body,
        );
        return send(res, 201, {
          Location: `http://${host}/v2/${repository}/manifests/${digest}`,
          'Docker-Content-Digest': digest,
          'Content-Length': '0',
        });
      }
      throw new HttpError(405, 'UNSUPPORTED', 'The operation is unsupported.');
    }

    // blobs
    if (rest === 'uploads/' && method === 'POST') {
      const body = await readBody(req);
      const digest = url.searchParams.get('digest');
      if (digest !== null) {
        // Monolithic upload in the POST itself.
        if (sha256(body) !== digest)
          throw new HttpError(400, 'DIGEST_INVALID', 'provided digest did not match uploaded content', {
            Digest: digest,
          });
        repo(repository, true)!.blobs.set(digest, body);
        return send(res, 201, {
          Location: `http://${host}/v2/${repository}/blobs/${digest}`,
          'Docker-Content-Digest': digest,
          'Content-Length': '0',
        });
      }
      const uuid = randomUUID();
      uploads.set(uuid, { repository, data: [] });
      return send(res, 202, {
        Location: `http://${host}/v2/${repository}/blobs/uploads/${uuid}?_state=${randomBytes(12).toString('base64url')}`,
        'Docker-Upload-Uuid': uuid,
        Range: '0-0',
        'Content-Length': '0',
      });
    }
    const upload = /^uploads\/([0-9a-f-]+)$/.exec(rest);
    if (upload) {
      const u = uploads.get(upload[1]);
      if (!u || u.repository !== repository)
        throw new HttpError(404, 'BLOB_UPLOAD_UNKNOWN', 'blob upload unknown to registry', {});
      const body = await readBody(req);
      u.data.push(body);
      const size = u.data.reduce((n, b) => n + b.length, 0);
      if (method === 'PATCH') {
        return send(res, 202, {
          Location: `http://${host}/v2/${repository}/blobs/uploads/${upload[1]}?_state=${randomBytes(12).toString('base64url')}`,
          'Docker-Upload-Uuid': upload[1],
          Range: `0-${Math.max(0, size - 1)}`,
          'Content-Length': '0',
        });
      }
      if (method === 'PUT') {
        const digest = url.searchParams.get('digest') ?? '';
        const all = Buffer.concat(u.data);
        if (!DIGEST.test(digest) || sha256(all) !== digest) {
          throw new HttpError(400, 'DIGEST_INVALID', 'provided digest did not match uploaded content', {
            Digest: digest,
            Reason: {},
          });
        }
        uploads.delete(upload[1]);
        repo(repository, true)!.blobs.set(digest, all);
        return send(res, 201, {
          Location: `http://${host}/v2/${repository}/blobs/${digest}`,
          'Docker-Content-Digest': digest,
          'Content-Length': '0',
        });
      }
      throw new HttpError(405, 'UNSUPPORTED', 'The operation is unsupported.');
    }
    if (DIGEST.test(rest) && (method === 'GET' || method === 'HEAD')) {
      const blob = repos.get(repository)?.blobs.get(rest);
      if (!blob) throw new HttpError(404, 'BLOB_UNKNOWN', 'blob unknown to registry', rest);
      return send(
        res,
        200,
        {
          'Content-Type': 'application/octet-stream',
          'Docker-Content-Digest': rest,
          Etag: `"${rest}"`,
          'Content-Length': String(blob.length),
          'Cache-Control': 'max-age=31536000',
        },
        blob,
      );
    }
    if (kind === 'blobs' && !DIGEST.test(rest) && !rest.startsWith('uploads')) {
      throw new HttpError(400, 'DIGEST_INVALID', 'provided digest did not match uploaded content', {});
    }
    throw new HttpError(405, 'UNSUPPORTED', 'The operation is unsupported.');
  };

  const server = createServer((req, res) => {
    requests.push({
      method: req.method ?? 'GET',
      path: req.url ?? '/',
      ...(req.headers.authorization !== undefined ? { authorization: req.headers.authorization } : {}),
    });
    route(req, res).catch((e: unknown) => {
      if (res.headersSent) return void res.destroy();
      if (e instanceof HttpError) {
        const body =
          e.code === 'NOT_FOUND'
            ? '404 page not found\n'
            : JSON.stringify({ errors: [{ code: e.code, message: e.message, detail: e.detail }] });
        send(
          res,
          e.status,
          {
            'Content-Type':
              e.code === 'NOT_FOUND' ? 'text/plain; charset=utf-8' : 'application/json; charset=utf-8',
            ...e.headers,
          },
          body,
        );
      } else {
        send(
          res,
          500,
          { 'Content-Type': 'application/json; charset=utf-8' },
          JSON.stringify({ errors: [{ code: 'UNKNOWN', message: String(e) }] }),
        );
      }
    });
  });
  const sockets = new Set<Socket>();
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address === 'string')
    throw new Error('registry emulator: no TCP address after listen');
  host = `127.0.0.1:${address.port}`;

  return {
    url: `http://${host}`,
    host,
    requests,
    push,
    tag(repository, tag, digest) {
      const r = repos.get(repository);
      if (!r?.manifests.has(digest))
        throw new Error(`registry emulator: ${repository} has no manifest ${digest}`);
      r.tags.set(tag, digest);
    },
    digestOf,
    lookup(image) {
      if (!image.startsWith(`${host}/`)) return undefined;
      const rest = image.slice(host.length + 1);
      const at = rest.indexOf('@');
      if (at >= 0) return rest.slice(at + 1);
      const colon = rest.lastIndexOf(':');
      return colon < 0 ? digestOf(rest, 'latest') : digestOf(rest.slice(0, colon), rest.slice(colon + 1));
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
