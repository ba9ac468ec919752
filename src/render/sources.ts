// What kustomize may read: a COPY of the repository's own files, never the runner's disk. A pull request
// (a fork's, on a self-hosted runner next to other checkouts) controls every kustomization it renders, and
// kustomize follows symlinks and lets a kustomization load other kustomizations anywhere (`resources:
// ../../elsewhere`), fetch URLs and run Helm. So before kustomize runs:
//
// 1. Every kustomization reachable from the manifests directory is read, and each path it names is judged:
//    a URL or remote base, Helm, a path outside the repository, a file outside its kustomization's own
//    directory, or a path through a symlink that leaves the repository is refused, all of them together,
//    naming the file, the field, the value and why.
// 2. The directories of those kustomizations (or, for plain manifests, the files) are copied into the
//    render's temp dir as regular files. A symlink is followed only when it stays inside the repository (a
//    symlinked directory becomes a relative link inside the copy, so kustomize resolves `..` as it would in
//    the checkout); one that leaves it is refused. `.git` and `node_modules` are skipped, and the copy is
//    capped in files and bytes.
// kustomize then runs with LoadRestrictionsRootOnly on the copy, so it reads only what was copied.
import {
  copyFile,
  link,
  lstat,
  mkdir,
  readdir,
  readFile,
  readlink,
  realpath,
  stat,
  symlink,
} from 'node:fs/promises';
import path from 'node:path';
import { CORE_SCHEMA, load } from 'js-yaml';

export const KUSTOMIZATION_FILES = ['kustomization.yaml', 'kustomization.yml', 'Kustomization'];
const MANIFEST_EXTENSIONS = new Set(['.yaml', '.yml', '.json']);
/** Never copied: they hold no manifests and can be huge. */
const SKIPPED_DIRS = new Set(['.git', '.hg', '.svn', 'node_modules']);

/** Bounds on the copy: kustomize inputs are text, a directory beyond these is not a manifests directory. */
export const COPY_LIMITS = { files: 20_000, bytes: 256 * 1024 * 1024 };

export interface SourceViolation {
  /** The file (workspace-relative) that names the path, or the `manifests` input. */
  file: string;
  /** The field inside it, e.g. `resources[0]`, `configMapGenerator[1].files[0]`. */
  field: string;
  value: string;
  /** Why, and the fix. */
  reason: string;
}

/** The manifests reference something outside the repository; nothing was rendered or sent. */
export class SourceError extends Error {
  constructor(
    message: string,
    readonly violations: SourceViolation[],
  ) {
    super(message);
    this.name = 'SourceError';
  }
}

export interface SourceCopy {
  /** The copy of the manifests directory: a kustomization's directory, or plain manifests with a generated kustomization. */
  dir: string;
  /** Set when the directory has no kustomization: its top-level manifests (copied), for a generated one to list. */
  plainManifests?: string[];
  /** The copy's root, which stands for the workspace in kustomize's messages. */
  root: string;
  /** The workspace's real path, which the copy's root maps back to. */
  workspace: string;
  files: number;
  bytes: number;
}

interface Walk {
  workspace: string;
  violations: SourceViolation[];
  refuse(file: string, field: string, value: string, reason: string): void;
}

/**
 * Copies what kustomize needs to render `manifests` into `into` (which must not exist yet), refusing every
 * reference that leaves the repository. `skip` names directories never to copy (the render's own temp dir,
 * when it sits inside the workspace). Throws SourceError listing every refusal.
 */
export async function copySources(opts: {
  workspace: string;
  manifests: string;
  into: string;
  skip?: string[];
}): Promise<SourceCopy> {
  const workspace = await realpath(opts.workspace);
  const violations: SourceViolation[] = [];
  const walk: Walk = {
    workspace,
    violations,
    refuse: (file, field, value, reason) => violations.push({ file, field, value, reason }),
  };
  const given = path.resolve(opts.workspace, opts.manifests);
  const dir = await realpath(given);
  if (!inside(workspace, dir)) {
    walk.refuse(
      'the `manifests` input',
      'manifests',
      opts.manifests,
      `resolves through a symlink to ${dir}, outside the repository; point \`manifests\` at a real directory of the repository`,
    );
    throw sourceError(violations);
  }
  const copy = new Copier(workspace, opts.into, [...(opts.skip ?? [])], walk);
  let plainManifests: string[] | undefined;
  if (await kustomizationIn(dir)) {
    const roots = await kustomizationDirs(dir, walk);
    if (violations.length) throw sourceError(violations);
    for (const root of roots) await copy.tree(root);
  } else {
    plainManifests = await copy.plainManifests(dir);
  }
  if (violations.length) throw sourceError(violations);
  return {
    dir: path.join(opts.into, path.relative(workspace, dir)),
    plainManifests,
    root: opts.into,
    workspace,
    files: copy.files,
    bytes: copy.bytes,
  };
}

function sourceError(violations: SourceViolation[]): SourceError {
  const n = violations.length;
  return new SourceError(
    `Refusing to render the preview: ${n} reference${n === 1 ? '' : 's'} in the manifests reach${n === 1 ? 'es' : ''} ` +
      'outside the repository or what kustomize may load (nothing was rendered or sent to the cluster):\n' +
      violations.map((v) => `  - ${v.file}: ${v.field} is "${v.value}": ${v.reason}`).join('\n') +
      '\nA preview renders only the repository’s own files: a pull request must not read the runner’s disk, other ' +
      'checkouts or the network through kustomize.',
    violations,
  );
}

export async function kustomizationIn(dir: string): Promise<string | undefined> {
  const names = new Set(await readdir(dir));
  return KUSTOMIZATION_FILES.find((f) => names.has(f));
}

function inside(root: string, p: string): boolean {
  const rel = path.relative(root, p);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

const shown = (workspace: string, p: string): string =>
  path.relative(workspace, p).split(path.sep).join('/') || '.';

/**
 * URLs and remote bases kustomize would fetch: schemes (http, https, ssh, file, git::), scp-like `git@host:`,
 * `gh:`, and `host.tld/…` that names no local path.
 */
export function isRemoteReference(value: string, existsLocally: boolean): boolean {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value) || /^(git::|git@|gh:)/i.test(value)) return true;
  if (existsLocally) return false;
  return (
    /^[a-z0-9-]+(\.[a-z0-9-]+)+(:\d+)?\//i.test(value) || /[?&](ref|version|timeout|submodules)=/.test(value)
  );
}

type Json = Record<string, unknown>;
const asObject = (v: unknown): Json => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : {});
const asList = (v: unknown): unknown[] => (Array.isArray(v) ? v : v === undefined || v === null ? [] : [v]);

/** Fields whose entries may be kustomizations (directories) or files. */
const BASE_FIELDS = ['resources', 'bases', 'components', 'generators', 'transformers', 'validators'];
/** Fields that name files (plain strings). */
const FILE_LIST_FIELDS = ['crds', 'configurations', 'patchesStrategicMerge'];
/** Fields holding a list of objects with a `path`. */
const PATH_LIST_FIELDS = ['patches', 'patchesJson6902', 'replacements'];
const HELM_FIELDS = ['helmCharts', 'helmChartInflationGenerator', 'helmGlobals'];

/** The kustomization directories reachable from `start` (real paths), judging every path each one names. */
async function kustomizationDirs(start: string, walk: Walk): Promise<string[]> {
  const seen = new Set<string>([start]);
  const queue = [start];
  for (let dir = queue.shift(); dir !== undefined; dir = queue.shift()) {
    const name = await kustomizationIn(dir);
    if (name === undefined) continue; // kustomize says so itself, about the copy
    const file = shown(walk.workspace, path.join(dir, name));
    let doc: Json;
    try {
      doc = asObject(load(await readFile(path.join(dir, name), 'utf8'), { schema: CORE_SCHEMA }));
    } catch {
      continue; // unreadable YAML: kustomize's own message about it is clearer than ours
    }
    const judge = (field: string, value: unknown, base: boolean): Promise<string | undefined> =>
      typeof value === 'string' ? judgePath(walk, dir, file, field, value, base) : Promise.resolve(undefined);

    for (const field of HELM_FIELDS) {
      if (doc[field] !== undefined)
        walk.refuse(
          file,
          field,
          JSON.stringify(doc[field]).slice(0, 80),
          'Helm charts are not rendered in previews (a chart is loaded from outside the repository and can read the runner’s files); ' +
            'commit the chart’s output (`helm template … > manifests.yaml`) and list that file in `resources`',
        );
    }
    for (const field of BASE_FIELDS) {
      for (const [i, v] of asList(doc[field]).entries()) {
        const target = await judge(`${field}[${i}]`, v, true);
        if (target !== undefined && !seen.has(target) && (await isDirectory(target))) {
          seen.add(target);
          queue.push(target);
        }
      }
    }
    for (const field of FILE_LIST_FIELDS) {
      for (const [i, v] of asList(doc[field]).entries()) await judge(`${field}[${i}]`, v, false);
    }
    for (const field of PATH_LIST_FIELDS) {
      for (const [i, v] of asList(doc[field]).entries())
        await judge(`${field}[${i}].path`, asObject(v).path, false);
    }
    await judge('openapi.path', asObject(doc.openapi).path, false);
    for (const field of ['configMapGenerator', 'secretGenerator']) {
      for (const [i, g] of asList(doc[field]).entries()) {
        const gen = asObject(g);
        for (const [j, f] of asList(gen.files).entries()) {
          // `key=path` or `path`
          const value = typeof f === 'string' ? f.slice(f.indexOf('=') + 1) : f;
          await judge(`${field}[${i}].files[${j}]`, value, false);
        }
        for (const [j, f] of asList(gen.envs).entries()) await judge(`${field}[${i}].envs[${j}]`, f, false);
        await judge(`${field}[${i}].env`, gen.env, false);
      }
    }
  }
  return [...seen];
}

/**
 * Judges one path a kustomization in `dir` names; returns its real path when it is a local path kustomize
 * may read. `base`: the field may name another kustomization (a directory anywhere in the repository);
 * otherwise the path must stay inside `dir`, as kustomize's LoadRestrictionsRootOnly demands.
 */
async function judgePath(
  walk: Walk,
  dir: string,
  file: string,
  field: string,
  value: string,
  base: boolean,
): Promise<string | undefined> {
  if (value.includes('\n')) return undefined; // an inline patch or plugin configuration, not a path
  const resolved = path.resolve(dir, value);
  const real = await realpath(resolved).catch(() => undefined);
  if (isRemoteReference(value, real !== undefined)) {
    walk.refuse(
      file,
      field,
      value,
      'is a URL or remote base, which kustomize would fetch from the network (or a local git repository on the runner); ' +
        'vendor what you need into the repository and reference it by a relative path',
    );
    return undefined;
  }
  if (!inside(walk.workspace, resolved)) {
    walk.refuse(
      file,
      field,
      value,
      `resolves to ${resolved}, outside the repository; a preview may load only the repository’s own files — move it into the repository`,
    );
    return undefined;
  }
  if (real === undefined) return undefined; // missing: kustomize names it
  if (!inside(walk.workspace, real)) {
    walk.refuse(
      file,
      field,
      value,
      `goes through a symlink to ${real}, outside the repository; commit the file itself instead of a link to it`,
    );
    return undefined;
  }
  const isDir = await isDirectory(real);
  if (!(base && isDir) && !inside(dir, resolved)) {
    walk.refuse(
      file,
      field,
      value,
      `is outside the kustomization’s own directory ${shown(walk.workspace, dir)}/; kustomize loads files only from the ` +
        'kustomization’s directory tree — move the file under it, or make its directory a kustomization and list it in `resources`',
    );
    return undefined;
  }
  return real;
}

async function isDirectory(p: string): Promise<boolean> {
  return (await stat(p).catch(() => undefined))?.isDirectory() ?? false;
}

/** Copies real files of the workspace to the same relative places under `into`. */
class Copier {
  files = 0;
  bytes = 0;
  private readonly copied = new Set<string>();

  constructor(
    private readonly workspace: string,
    private readonly into: string,
    private readonly skip: string[],
    private readonly walk: Walk,
  ) {}

  private target(real: string): string {
    return path.join(this.into, path.relative(this.workspace, real));
  }

  /** A directory's tree (real path inside the workspace), following symlinks only inside the workspace. */
  async tree(dir: string): Promise<void> {
    const queue = [dir];
    for (let d = queue.shift(); d !== undefined; d = queue.shift()) {
      if (this.copied.has(d) || this.skip.some((s) => inside(s, d))) continue;
      this.copied.add(d);
      await mkdir(this.target(d), { recursive: true });
      const copies: Promise<void>[] = []; // a directory's files at once: the copy is on the render's path
      for (const entry of await readdir(d, { withFileTypes: true })) {
        const from = path.join(d, entry.name);
        if (entry.isDirectory()) {
          if (!SKIPPED_DIRS.has(entry.name)) queue.push(from);
        } else if (entry.isFile()) {
          copies.push(this.file(from, from));
        } else if (entry.isSymbolicLink()) {
          const real = await this.followLink(from);
          if (real === undefined) continue;
          if (await isDirectory(real)) {
            // A link inside the copy, so kustomize resolves `..` from the target's place, as in the checkout.
            await symlink(
              path.relative(path.dirname(this.target(from)), this.target(real)),
              this.target(from),
            );
            queue.push(real);
          } else {
            copies.push(this.file(real, from));
          }
        }
      }
      await Promise.all(copies);
    }
  }

  /** The top-level *.yaml, *.yml and *.json of a directory without a kustomization, plus a kustomization listing them. */
  async plainManifests(dir: string): Promise<string[]> {
    const out = this.target(dir);
    await mkdir(out, { recursive: true });
    const names: string[] = [];
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      if (!MANIFEST_EXTENSIONS.has(path.extname(entry.name).toLowerCase())) continue;
      const from = path.join(dir, entry.name);
      const real = entry.isSymbolicLink() ? await this.followLink(from) : entry.isFile() ? from : undefined;
      if (real === undefined || !(await stat(real)).isFile()) continue;
      await this.file(real, from);
      names.push(entry.name);
    }
    return names.sort();
  }

  /** The real path of a link inside the workspace; undefined (refused, or dangling) otherwise. */
  private async followLink(link: string): Promise<string | undefined> {
    const real = await realpath(link).catch(() => undefined);
    const target = await readlink(link).catch(() => '?');
    const where = real ?? path.resolve(path.dirname(link), target);
    if (!inside(this.workspace, where)) {
      this.walk.refuse(
        shown(this.workspace, link),
        'symlink',
        target,
        `points to ${where}, outside the repository; kustomize would read it from the runner’s disk — commit the file itself, or remove the link`,
      );
      return undefined;
    }
    return real; // undefined when dangling inside the repository: kustomize names it if it is used
  }

  private async file(real: string, at: string): Promise<void> {
    this.files += 1;
    const { size } = await lstat(real);
    this.bytes += size;
    if (this.files > COPY_LIMITS.files || this.bytes > COPY_LIMITS.bytes) {
      throw new Error(
        `The manifests directory holds more than ${COPY_LIMITS.files} files or ${COPY_LIMITS.bytes / 1024 / 1024} MiB ` +
          `(reached at ${shown(this.workspace, at)}). kubestage copies the directories kustomize reads so that nothing ` +
          'outside the repository can be loaded; point the `manifests` input at a directory that holds only Kubernetes ' +
          'manifests (not the repository root), and move large files out of the kustomization directories.',
      );
    }
    // A hard link is a copy that costs no bytes (the same regular file, never a symlink); across file
    // systems, or where the kernel protects hard links, the bytes are copied.
    await link(real, this.target(at)).catch(() => copyFile(real, this.target(at)));
  }
}
