// Registry scenarios run, unchanged, against the emulator and against the real CNCF distribution
// registry (test/contract/registry.test.ts): pushes go through the registry's HTTP API, lookups
// through kubestage's own client, and raw requests check status codes, error codes and headers.
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveDigest, RegistryError } from '../../../src/registry/client.js';
import { recordingLogger } from '../../support/logger.js';

export interface RegistryTarget {
  /** "emulator" or "distribution 2.8.2". */
  label: string;
  /** http://127.0.0.1:PORT */
  url: string;
  /** 127.0.0.1:PORT */
  host: string;
  auth: 'none' | 'basic';
  /** For 'basic': a user the registry knows. */
  user?: { name: string; password: string };
}

export interface RegistryScenario {
  name: string;
  /** Which auth mode the target must run in. */
  auth: 'none' | 'basic';
  run(t: RegistryTarget): Promise<void>;
}

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';
const ACCEPT_ALL = [
  OCI_INDEX,
  OCI_MANIFEST,
  'application/vnd.docker.distribution.manifest.list.v2+json',
  DOCKER_MANIFEST,
].join(', ');

const sha256 = (b: Buffer | string) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const unique = (prefix: string) => `${prefix}${randomBytes(4).toString('hex')}`;

function basic(t: RegistryTarget): Record<string, string> {
  return t.user
    ? { Authorization: `Basic ${Buffer.from(`${t.user.name}:${t.user.password}`).toString('base64')}` }
    : {};
}

/** A DOCKER_CONFIG environment as docker/login-action leaves it (or none, for anonymous). */
export function dockerEnv(host: string, user?: { name: string; password: string }): NodeJS.ProcessEnv {
  const dir = mkdtempSync(join(tmpdir(), 'kubestage-docker-'));
  const auths = user
    ? { [host]: { auth: Buffer.from(`${user.name}:${user.password}`).toString('base64') } }
    : {};
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ auths }));
  return { DOCKER_CONFIG: dir, HOME: dir };
}

/** Uploads a blob the way docker push does (POST, then a monolithic PUT ?digest=). */
export async function uploadBlob(t: RegistryTarget, repository: string, content: Buffer): Promise<string> {
  const digest = sha256(content);
  const start = await fetch(`${t.url}/v2/${repository}/blobs/uploads/`, {
    method: 'POST',
    headers: basic(t),
  });
  expect(start.status).toBe(202);
  const location = new URL(start.headers.get('location')!, t.url);
  location.searchParams.set('digest', digest);
  const put = await fetch(location, {
    method: 'PUT',
    headers: { ...basic(t), 'Content-Type': 'application/octet-stream' },
    body: content,
  });
  expect(put.status).toBe(201);
  expect(put.headers.get('docker-content-digest')).toBe(digest);
  return digest;
}

export async function putManifest(
  t: RegistryTarget,
  repository: string,
  reference: string,
  mediaType: string,
  manifest: object,
): Promise<string> {
  const body = JSON.stringify(manifest);
  const res = await fetch(`${t.url}/v2/${repository}/manifests/${reference}`, {
    method: 'PUT',
    headers: { ...basic(t), 'Content-Type': mediaType },
    body,
  });
  expect({ status: res.status, body: await res.text() }).toEqual({ status: 201, body: '' });
  const digest = res.headers.get('docker-content-digest');
  expect(digest).toBe(sha256(body));
  return digest!;
}

/** Pushes a new single-platform image (a fresh config blob, so a fresh digest) under `tag`. */
export async function pushImage(
  t: RegistryTarget,
  repository: string,
  tag: string,
  mediaType: string = OCI_MANIFEST,
): Promise<string> {
  const config = Buffer.from(
    JSON.stringify({
      architecture: 'amd64',
      os: 'linux',
      config: { Labels: { build: unique('') } },
      rootfs: { type: 'layers', diff_ids: [] },
    }),
  );
  const configDigest = await uploadBlob(t, repository, config);
  const configType =
    mediaType === OCI_MANIFEST
      ? 'application/vnd.oci.image.config.v1+json'
      : 'application/vnd.docker.container.image.v1+json';
  return putManifest(t, repository, tag, mediaType, {
    schemaVersion: 2,
    mediaType,
    config: { mediaType: configType, digest: configDigest, size: config.length },
    layers: [],
  });
}

async function failure(p: Promise<unknown>): Promise<RegistryError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof RegistryError) return e;
    throw e;
  }
  throw new Error('expected the lookup to fail');
}

async function raw(t: RegistryTarget, path: string, init: RequestInit = {}) {
  const res = await fetch(`${t.url}${path}`, {
    ...init,
    headers: { ...basic(t), ...(init.headers as Record<string, string>) },
  });
  const text = await res.text();
  let code: string | undefined;
  try {
    code = (JSON.parse(text) as { errors?: { code: string }[] }).errors?.[0]?.code;
  } catch {
    code = undefined;
  }
  return { status: res.status, code, headers: res.headers, text };
}

export const registryScenarios: RegistryScenario[] = [
  {
    name: 'a tag resolves to the digest the push returned',
    auth: 'none',
    async run(t) {
      const repo = unique('acme/api');
      const digest = await pushImage(t, repo, '1.0.0');
      const logger = recordingLogger();
      const got = await resolveDigest(`${t.host}/${repo}:1.0.0`, { env: dockerEnv(t.host), logger });
      expect(got).toEqual({
        ref: `${t.host}/${repo}:1.0.0`,
        name: `${t.host}/${repo}`,
        digest,
        pinned: `${t.host}/${repo}@${digest}`,
        registry: t.host,
      });
      expect(logger.lines).toContain(`Resolved ${t.host}/${repo}:1.0.0 to ${digest}`);
    },
  },
  {
    name: 'a moved tag resolves to the new digest',
    auth: 'none',
    async run(t) {
      const repo = unique('acme/web');
      const first = await pushImage(t, repo, 'stable');
      const env = dockerEnv(t.host);
      expect((await resolveDigest(`${t.host}/${repo}:stable`, { env })).digest).toBe(first);
      const second = await pushImage(t, repo, 'stable');
      expect(second).not.toBe(first);
      expect((await resolveDigest(`${t.host}/${repo}:stable`, { env })).digest).toBe(second);
    },
  },
  {
    name: 'a Docker schema 2 manifest and an OCI index resolve to their own digests',
    auth: 'none',
    async run(t) {
      const repo = unique('acme/multi');
      const docker = await pushImage(t, repo, 'docker', DOCKER_MANIFEST);
      const child = await pushImage(t, repo, 'child');
      const childSize = (
        await raw(t, `/v2/${repo}/manifests/${child}`, { headers: { Accept: OCI_MANIFEST } })
      ).text.length;
      const index = await putManifest(t, repo, 'multi', OCI_INDEX, {
        schemaVersion: 2,
        mediaType: OCI_INDEX,
        manifests: [
          {
            mediaType: OCI_MANIFEST,
            digest: child,
            size: childSize,
            platform: { os: 'linux', architecture: 'amd64' },
          },
        ],
      });
      const env = dockerEnv(t.host);
      expect((await resolveDigest(`${t.host}/${repo}:docker`, { env })).digest).toBe(docker);
      expect((await resolveDigest(`${t.host}/${repo}:multi`, { env })).digest).toBe(index);
    },
  },
  {
    name: 'an unknown tag is reported with the image, the tag and the fix',
    auth: 'none',
    async run(t) {
      const repo = unique('acme/api');
      await pushImage(t, repo, '1.0.0');
      const e = await failure(resolveDigest(`${t.host}/${repo}:1.2.3`, { env: dockerEnv(t.host) }));
      expect(e.kind).toBe('not-found');
      expect(e.message).toBe(
        `Tag 1.2.3 of ${t.host}/${repo} does not exist in the registry (${t.host}); push it first (check that the build job pushed this tag), or pass the digest, e.g. ${t.host}/${repo}@sha256:….`,
      );
      const missingRepo = await failure(
        resolveDigest(`${t.host}/${unique('nobody/')}x:1`, { env: dockerEnv(t.host) }),
      );
      expect(missingRepo.kind).toBe('not-found');
    },
  },
  {
    name: 'a digest reference needs no registry answer',
    auth: 'none',
    async run(t) {
      const digest = sha256(randomBytes(16));
      const got = await resolveDigest(`${t.host}/acme/never-pushed:1.0@${digest}`, {
        env: dockerEnv(t.host),
      });
      expect(got.pinned).toBe(`${t.host}/acme/never-pushed@${digest}`);
    },
  },
  {
    name: 'the wire protocol: status codes, error codes and headers',
    auth: 'none',
    async run(t) {
      const repo = unique('acme/wire');
      const digest = await pushImage(t, repo, 'v1');
      const head = await raw(t, `/v2/${repo}/manifests/v1`, {
        method: 'HEAD',
        headers: { Accept: ACCEPT_ALL },
      });
      expect([
        head.status,
        head.headers.get('docker-content-digest'),
        head.headers.get('content-type'),
        head.text,
      ]).toEqual([200, digest, OCI_MANIFEST, '']);
      expect(head.headers.get('docker-distribution-api-version')).toBe('registry/2.0');
      const noAccept = await raw(t, `/v2/${repo}/manifests/v1`);
      expect([noAccept.status, noAccept.code]).toEqual([404, 'MANIFEST_UNKNOWN']);
      expect(noAccept.text).toContain('accept header does not support OCI manifests');
      expect((await raw(t, `/v2/${repo}/manifests/v2`, { headers: { Accept: ACCEPT_ALL } })).code).toBe(
        'MANIFEST_UNKNOWN',
      );
      const headMissing = await raw(t, `/v2/${repo}/manifests/v2`, {
        method: 'HEAD',
        headers: { Accept: ACCEPT_ALL },
      });
      expect([headMissing.status, headMissing.text]).toEqual([404, '']);
      const byDigest = await raw(t, `/v2/${repo}/manifests/${digest}`, { headers: { Accept: OCI_MANIFEST } });
      expect([byDigest.status, sha256(byDigest.text)]).toEqual([200, digest]);
      const missingBlob = await raw(t, `/v2/${repo}/manifests/broken`, {
        method: 'PUT',
        headers: { 'Content-Type': OCI_MANIFEST },
        body: JSON.stringify({
          schemaVersion: 2,
          mediaType: OCI_MANIFEST,
          config: {
            mediaType: 'application/vnd.oci.image.config.v1+json',
            digest: sha256('nothing'),
            size: 7,
          },
          layers: [],
        }),
      });
      expect([missingBlob.status, missingBlob.code]).toEqual([400, 'MANIFEST_BLOB_UNKNOWN']);
      expect([
        (
          await raw(t, `/v2/${repo}/manifests/bad`, {
            method: 'PUT',
            headers: { 'Content-Type': OCI_MANIFEST },
            body: 'nope',
          })
        ).code,
      ]).toEqual(['MANIFEST_INVALID']);
      const start = await raw(t, `/v2/${repo}/blobs/uploads/`, { method: 'POST' });
      const location = new URL(start.headers.get('location')!, t.url);
      location.searchParams.set('digest', sha256('other'));
      const wrong = await raw(t, `${location.pathname}${location.search}`, {
        method: 'PUT',
        body: 'content',
      });
      expect([wrong.status, wrong.code]).toEqual([400, 'DIGEST_INVALID']);
      const blob = await raw(t, `/v2/${repo}/blobs/${sha256('absent')}`);
      expect([blob.status, blob.code]).toEqual([404, 'BLOB_UNKNOWN']);
      const tags = await raw(t, `/v2/${unique('nobody/')}x/tags/list`);
      expect([tags.status, tags.code]).toEqual([404, 'NAME_UNKNOWN']);
    },
  },
  {
    name: 'basic auth: the challenge, anonymous refusal, wrong password, the docker config login',
    auth: 'basic',
    async run(t) {
      const anon = await fetch(`${t.url}/v2/`);
      expect(anon.status).toBe(401);
      expect(anon.headers.get('www-authenticate')).toMatch(/^Basic realm="[^"]+"$/);
      expect(((await anon.json()) as { errors: { code: string }[] }).errors[0].code).toBe('UNAUTHORIZED');

      const repo = unique('acme/private');
      const digest = await pushImage(t, repo, '2.0.0');
      const ref = `${t.host}/${repo}:2.0.0`;
      expect((await resolveDigest(ref, { env: dockerEnv(t.host, t.user) })).digest).toBe(digest);

      const none = await failure(resolveDigest(ref, { env: dockerEnv(t.host) }));
      expect(none.kind).toBe('denied');
      expect(none.message).toContain(`The registry ${t.host} refused access to ${repo} (HTTP 401)`);
      expect(none.message).toContain(
        `run docker/login-action with registry: ${t.host} in the job before kubestage (or "docker login ${t.host}")`,
      );

      const wrong = { name: t.user!.name, password: 'not-the-password' };
      const bad = await failure(resolveDigest(ref, { env: dockerEnv(t.host, wrong) }));
      expect(bad.kind).toBe('denied');
      expect(bad.message).toContain('(HTTP 401 after authenticating)');
      expect(bad.message).toContain(`(user "${t.user!.name}")`);
      expect(bad.message).not.toContain('not-the-password');
    },
  },
];
