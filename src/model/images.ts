// The `images` input: which images in the user's manifests to replace, and with what.

/** One kustomize `images:` entry. `name` is the image as written in the manifests, without tag or digest. */
export interface ImageOverride {
  name: string;
  newName?: string;
  newTag?: string;
  digest?: string;
}

const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const DIGEST = /^sha256:[a-f0-9]{64}$/;
// Docker reference grammar, slightly relaxed: an optional registry host (may have a port, may be
// upper-case), then lower-case path components separated by '/'.
const REGISTRY =
  /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*(?::[0-9]+)?|\[[0-9a-fA-F:]+\](?::[0-9]+)?)$/;
const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;

const EXAMPLE_TAG = 'web=ghcr.io/acme/web:pr-42-abc1234';
const EXAMPLE_DIGEST = `web=ghcr.io/acme/web@sha256:${'0123456789abcdef'.repeat(4)}`;
const EXAMPLES = `Examples: "${EXAMPLE_TAG}", "${EXAMPLE_DIGEST}", or just "ghcr.io/acme/web" to keep the name and use the preview tag`;

/** `pr-<number>-<sha7>`: the tag CI is expected to push for a PR build. */
export function defaultPreviewTag(number: number, sha: string): string {
  if (!Number.isSafeInteger(number) || number <= 0) {
    throw new Error(`Cannot make a preview tag: PR number ${number} is not a positive whole number.`);
  }
  if (!/^[0-9a-fA-F]{7,64}$/.test(sha)) {
    throw new Error(
      `Cannot make a preview tag: commit SHA "${sha}" is not 7–64 hex digits. Pass the PR head SHA (github.event.pull_request.head.sha).`,
    );
  }
  return `pr-${number}-${sha.slice(0, 7).toLowerCase()}`;
}

/** Splits `host:5000/a/b:tag@sha256:…` into name, tag and digest (tag and digest may be absent). */
export function splitImageRef(ref: string): { name: string; tag?: string; digest?: string } {
  let rest = ref;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  // A ':' before the last '/' belongs to a registry port (localhost:5000/web), not to a tag.
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
  }
  return { name: rest, ...(tag !== undefined ? { tag } : {}), ...(digest !== undefined ? { digest } : {}) };
}

/** Why `name` is not a valid image name (without tag/digest), or undefined when it is. */
function imageNameProblem(name: string): string | undefined {
  if (name === '') return 'the image name is empty';
  if (/\s/.test(name)) return 'it contains white space';
  const parts = name.split('/');
  // The first component is a registry host only if it looks like one (has '.' or ':', or is localhost),
  // the same rule docker and kustomize use.
  const hasRegistry =
    parts.length > 1 && (/[.:]/.test(parts[0]) || parts[0] === 'localhost' || parts[0].startsWith('['));
  if (hasRegistry && !REGISTRY.test(parts[0])) return `"${parts[0]}" is not a valid registry host[:port]`;
  for (const part of hasRegistry ? parts.slice(1) : parts) {
    if (!PATH_COMPONENT.test(part)) {
      return part === ''
        ? 'it has an empty path component ("//" or a trailing "/")'
        : `"${part}" is not a valid image path component (lower-case letters, digits, and ".", "_", "-" between them)`;
    }
  }
  return undefined;
}

/**
 * Parses the `images` input, one override per line (blank lines and lines starting with `#` ignored):
 *
 * - `NAME=NEW_NAME:TAG`, `NAME=NEW_NAME@sha256:…` or `NAME=NEW_NAME:TAG@sha256:…` — replace the image
 *   written as NAME in the manifests (without its tag; it may carry a registry with a port, e.g.
 *   `localhost:5000/web`);
 * - `NAME=NEW_NAME` — replace the name and use `defaultTag`;
 * - `NAME` — keep the name and use `defaultTag` (`pr-<number>-<sha7>`).
 *
 * Each NAME may appear once. Errors name the line number, the bad value and show a correct example.
 */
export function parseImages(input: string, defaultTag: string): ImageOverride[] {
  if (!TAG.test(defaultTag)) {
    throw new Error(
      `The default image tag "${defaultTag}" is not a valid tag (letters, digits, "_", "." and "-", starting with a letter, digit or "_", at most 128 characters), e.g. "pr-42-abc1234".`,
    );
  }
  const out: ImageOverride[] = [];
  const seen = new Map<string, number>();
  input.split(/\r?\n/).forEach((rawLine, index) => {
    const lineNo = index + 1;
    const line = rawLine.trim();
    if (line === '' || line.startsWith('#')) return;
    const fail = (why: string): never => {
      throw new Error(`images, line ${lineNo} "${line}": ${why}. ${EXAMPLES}.`);
    };
    const eq = line.indexOf('=');
    const name = (eq < 0 ? line : line.slice(0, eq)).trim();
    const target = eq < 0 ? undefined : line.slice(eq + 1).trim();

    const nameParts = splitImageRef(name);
    if (nameParts.tag !== undefined || nameParts.digest !== undefined) {
      fail(
        `NAME "${name}" carries a ${nameParts.digest !== undefined ? 'digest' : 'tag'}; write the image as in your manifests but without its tag or digest ("${nameParts.name}"), since kustomize matches images by name`,
      );
    }
    const nameProblem = imageNameProblem(name);
    if (nameProblem !== undefined) fail(`NAME "${name}" is not a valid image name: ${nameProblem}`);
    const earlier = seen.get(name);
    if (earlier !== undefined) fail(`"${name}" was already given on line ${earlier}; give each image once`);
    seen.set(name, lineNo);

    if (target === undefined) {
      out.push({ name, newTag: defaultTag });
      return;
    }
    if (target === '') fail(`nothing after "="; give the new image, or drop "=" to keep the name "${name}"`);
    const parts = splitImageRef(target);
    const newNameProblem = imageNameProblem(parts.name);
    if (newNameProblem !== undefined)
      fail(`new image "${parts.name}" is not a valid image name: ${newNameProblem}`);
    if (parts.tag !== undefined && !TAG.test(parts.tag)) {
      fail(
        `tag "${parts.tag}" is not valid (letters, digits, "_", "." and "-", starting with a letter, digit or "_", at most 128 characters)`,
      );
    }
    if (parts.digest !== undefined && !DIGEST.test(parts.digest)) {
      fail(
        `digest "${parts.digest}" is not valid; it must be "sha256:" followed by 64 lower-case hex digits`,
      );
    }
    const override: ImageOverride = { name };
    if (parts.name !== name) override.newName = parts.name;
    if (parts.tag !== undefined) override.newTag = parts.tag;
    else if (parts.digest === undefined) override.newTag = defaultTag;
    if (parts.digest !== undefined) override.digest = parts.digest;
    out.push(override);
  });
  return out;
}

/**
 * The reference a container ends up with, as kustomize writes it: `newName` (or `name`), then `:tag`,
 * then `@digest` (kustomize keeps both when both are given; the digest is what the runtime pulls).
 */
export function formatImageRef(o: ImageOverride): string {
  return `${o.newName ?? o.name}${o.newTag !== undefined ? `:${o.newTag}` : ''}${o.digest !== undefined ? `@${o.digest}` : ''}`;
}

/** Every container image in pod specs anywhere in the objects (Deployments, CronJobs, Pods, CRDs with pod templates). */
export function containerImages(objects: readonly object[]): Set<string> {
  const found = new Set<string>();
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) {
      node.forEach(visit);
      return;
    }
    if (typeof node !== 'object' || node === null) return;
    for (const [key, value] of Object.entries(node)) {
      if (
        (key === 'containers' || key === 'initContainers' || key === 'ephemeralContainers') &&
        Array.isArray(value)
      ) {
        for (const c of value) {
          const image = (c as { image?: unknown } | null)?.image;
          if (typeof image === 'string') found.add(image);
        }
      }
      visit(value);
    }
  };
  objects.forEach(visit);
  return found;
}
