// Image references as docker reads them: which registry host, which repository, which tag or digest.
import { splitImageRef } from '../model/images.js';

/** Where Docker Hub's registry API lives (what `docker.io/…` and bare names like `nginx` mean). */
export const DOCKER_HUB_REGISTRY = 'registry-1.docker.io';

export interface ImageReference {
  /** The host[:port] the distribution API is served from (Docker Hub normalised to registry-1.docker.io). */
  registry: string;
  /** The repository path on that registry (`library/nginx` for `nginx`). */
  repository: string;
  tag?: string;
  digest?: string;
}

const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const DIGEST = /^sha256:[a-f0-9]{64}$/;
const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const HOST =
  /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*|\[[0-9a-fA-F:]+\])(?::[0-9]{1,5})?$/;
const EXAMPLE = `e.g. "ghcr.io/acme/api:1.2.3" or "ghcr.io/acme/api@sha256:${'0123456789abcdef'.repeat(4)}"`;

export class ReferenceError extends Error {
  constructor(
    readonly ref: string,
    why: string,
  ) {
    super(`Image "${ref}" is not a valid image reference: ${why}; ${EXAMPLE}.`);
    this.name = 'ImageReferenceError';
  }
}

/**
 * Parses `ref` with docker's normalisation: the first path component is a registry host only if it
 * contains "." or ":", is "localhost", or has upper-case letters (as in distribution/reference);
 * otherwise the image is on Docker Hub, where a one-component name lives under `library/`.
 */
export function parseReference(ref: string): ImageReference {
  if (ref.trim() !== ref || ref === '')
    throw new ReferenceError(ref, 'it is empty or has surrounding white space');
  const { name, tag, digest } = splitImageRef(ref);
  const parts = name.split('/');
  const first = parts[0];
  const hasRegistry =
    parts.length > 1 &&
    (/[.:]/.test(first) || first === 'localhost' || first.startsWith('[') || first !== first.toLowerCase());
  let registry = hasRegistry ? first : DOCKER_HUB_REGISTRY;
  const path = hasRegistry ? parts.slice(1) : parts;
  if (hasRegistry && !HOST.test(first))
    throw new ReferenceError(ref, `"${first}" is not a valid registry host[:port]`);
  for (const part of path) {
    if (!PATH_COMPONENT.test(part)) {
      throw new ReferenceError(
        ref,
        part === ''
          ? 'it has an empty path component'
          : `"${part}" is not a valid repository path component (lower-case letters, digits, and ".", "_", "-" between them)`,
      );
    }
  }
  if (registry === 'docker.io' || registry === 'index.docker.io') registry = DOCKER_HUB_REGISTRY;
  const repository =
    registry === DOCKER_HUB_REGISTRY && path.length === 1 ? `library/${path[0]}` : path.join('/');
  if (tag !== undefined && !TAG.test(tag)) {
    throw new ReferenceError(
      ref,
      `tag "${tag}" is not valid (letters, digits, "_", "." and "-", starting with a letter, digit or "_", at most 128 characters)`,
    );
  }
  if (digest !== undefined && !DIGEST.test(digest)) {
    throw new ReferenceError(ref, `digest "${digest}" is not "sha256:" followed by 64 lower-case hex digits`);
  }
  return {
    registry,
    repository,
    ...(tag !== undefined ? { tag } : {}),
    ...(digest !== undefined ? { digest } : {}),
  };
}

/** True for a sha256 content digest as registries and kubelets write it. */
export function isDigest(value: string): boolean {
  return DIGEST.test(value);
}
