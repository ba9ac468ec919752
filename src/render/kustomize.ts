// Renders the user's manifests with the real kustomize through a generated overlay, so the user's files
// are never touched and what we apply is exactly what kustomize would produce.
import { execFile } from 'node:child_process';
import { constants as fsConstants } from 'node:fs';
import { access, mkdir, mkdtemp, realpath, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CORE_SCHEMA, defineScalarTag, dump, loadAll, timestampTag, YAMLException } from 'js-yaml';
import { containerImages, formatImageRef, type ImageOverride } from '../model/images.js';
import { checkKubeObject, type KubeObject } from '../model/kube-object.js';
import { copySources } from './sources.js';

export interface RenderOptions {
  /** The checked-out repository (GITHUB_WORKSPACE). */
  workspace: string;
  /** The kustomize directory, relative to the workspace (or absolute). */
  manifests: string;
  /** Set on every namespaced object by kustomize's namespace transformer. */
  namespace: string;
  images: ImageOverride[];
  /** Put on every object and every pod template, never on selectors (those are immutable on Deployments). */
  labels: Record<string, string>;
  /**
   * Put on every object's own metadata after rendering — deliberately NOT through kustomize's
   * commonAnnotations, which would also stamp pod templates and restart every pod whenever a value
   * such as updated-at changes.
   */
  annotations?: Record<string, string>;
  /** The render command, run with the overlay directory appended. Default: `kustomize build` if on PATH, else `kubectl kustomize`. */
  kustomizeCommand?: string[];
  /** Where the temp dir (the copy of the sources and the overlay) goes (default: the OS temp dir). */
  tempRoot?: string;
}

export interface RenderResult {
  objects: KubeObject[];
  /** The generated kustomization.yaml, for logs and the job summary. */
  overlayYaml: string;
  /** Overrides whose final reference appears in no container: almost always a NAME that does not match the manifests. */
  unusedImages: ImageOverride[];
}

/** kustomize itself failed; `stderr` is its own message, with paths in the copy shown as the workspace's. */
export class KustomizeError extends Error {
  constructor(
    message: string,
    readonly stderr: string,
  ) {
    super(message);
    this.name = 'KustomizeError';
  }
}

const OUTPUT_LIMIT = 256 * 1024 * 1024;

/**
 * Renders `manifests` for one namespace:
 *
 * 1. The repository's files that kustomize can need are COPIED into a fresh temp dir (sources.ts): the
 *    directories of every kustomization reachable from `manifests`, symlinks followed only inside the
 *    repository; a reference that leaves the repository (a path, a symlink, a URL, Helm) is refused
 *    before kustomize runs. A directory without a kustomization but with plain manifests (`*.yaml`,
 *    `*.yml`, `*.json`, top level only, like `kubectl apply -f DIR`) has those files copied and a
 *    generated kustomization listing them.
 * 2. A generated `kustomization.yaml` next to the copy has the copy of `manifests` as its only resource,
 *    setting `namespace`, `images` and `labels` (`includeSelectors: false`, `includeTemplates: true`).
 * 3. kustomize runs on it with LoadRestrictionsRootOnly; its output is parsed, empty documents dropped and
 *    `List`s flattened; paths of the copy in its messages are shown as the workspace's.
 * The temp dir is removed whatever happens.
 */
export async function renderManifests(opts: RenderOptions): Promise<RenderResult> {
  const dir = path.resolve(opts.workspace, opts.manifests);
  await checkManifestsDir(dir, opts);
  const command = opts.kustomizeCommand ?? (await defaultKustomizeCommand());
  if (command.length === 0) throw new Error('kustomizeCommand is empty; give e.g. ["kubectl", "kustomize"].');

  const tempRoot = opts.tempRoot ?? tmpdir();
  const work = await realpath(await mkdtemp(path.join(tempRoot, 'kubestage-render-')));
  try {
    const sources = await copySources({
      workspace: opts.workspace,
      manifests: opts.manifests,
      into: path.join(work, 'repo'),
      skip: [work],
    });
    if (sources.plainManifests) await writePlainKustomization(sources.dir, sources.plainManifests, opts);
    const overlayDir = path.join(work, 'overlay');
    await mkdir(overlayDir);
    const overlayYaml = overlayKustomization(overlayDir, sources.dir, opts);
    await writeFile(path.join(overlayDir, 'kustomization.yaml'), overlayYaml);

    const toUser = (text: string): string =>
      text.split(sources.root).join(sources.workspace).split(overlayDir).join('<kubestage overlay>');
    const stdout = await runKustomize(command, overlayDir, dir, toUser);
    const objects = parseRendered(stdout, command).map((o) => withAnnotations(o, opts.annotations));
    return { objects, overlayYaml, unusedImages: findUnusedImages(objects, opts.images) };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

async function checkManifestsDir(dir: string, opts: RenderOptions): Promise<void> {
  const info = await stat(dir).catch(() => undefined);
  if (info === undefined) {
    throw new Error(
      `Manifests directory "${opts.manifests}" does not exist (looked for ${dir} in workspace ${opts.workspace}). ` +
        'Check the "manifests" input (it is relative to the repository root) and that the job ran actions/checkout first.',
    );
  }
  if (!info.isDirectory()) {
    throw new Error(
      `Manifests path "${opts.manifests}" (${dir}) is a file, not a directory. ` +
        'Point the "manifests" input at the directory holding kustomization.yaml.',
    );
  }
}

async function writePlainKustomization(copy: string, files: string[], opts: RenderOptions): Promise<void> {
  if (files.length === 0) {
    throw new Error(
      `Manifests directory "${opts.manifests}" (${path.resolve(opts.workspace, opts.manifests)}) has no kustomization.yaml and no *.yaml, *.yml or *.json manifests. ` +
        'Point the "manifests" input at your Kubernetes manifests, or create a kustomization.yaml there, e.g.:\n' +
        'apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - deployment.yaml\n  - service.yaml',
    );
  }
  await writeFile(
    path.join(copy, 'kustomization.yaml'),
    dump({ apiVersion: 'kustomize.config.k8s.io/v1beta1', kind: 'Kustomization', resources: files }),
  );
}

function overlayKustomization(overlayDir: string, base: string, opts: RenderOptions): string {
  // Both in the render's temp dir: always reachable by a relative path, which is all kustomize takes.
  const relative = path.relative(overlayDir, base);
  const kustomization: Record<string, unknown> = {
    apiVersion: 'kustomize.config.k8s.io/v1beta1',
    kind: 'Kustomization',
    resources: [relative.split(path.sep).join('/')],
    namespace: opts.namespace,
  };
  if (opts.images.length > 0) kustomization.images = opts.images.map((i) => ({ ...i }));
  if (Object.keys(opts.labels).length > 0) {
    kustomization.labels = [{ pairs: { ...opts.labels }, includeSelectors: false, includeTemplates: true }];
  }
  return (
    "# Generated by kubestage; a copy of the repository's own files is referenced, never the files themselves.\n" +
    dump(kustomization)
  );
}

/** `kustomize build` when a standalone kustomize is on PATH (usually newer), else `kubectl kustomize`. */
export async function defaultKustomizeCommand(): Promise<string[]> {
  return (await findOnPath('kustomize')) ? ['kustomize', 'build'] : ['kubectl', 'kustomize'];
}

async function findOnPath(program: string): Promise<boolean> {
  const dirs = (process.env.PATH ?? '').split(path.delimiter).filter((d) => d !== '');
  const names = process.platform === 'win32' ? [`${program}.exe`, `${program}.cmd`] : [program];
  for (const d of dirs) {
    for (const n of names) {
      try {
        await access(path.join(d, n), fsConstants.X_OK);
        return true;
      } catch {
        // not here; keep looking
      }
    }
  }
  return false;
}

function runKustomize(
  command: string[],
  overlayDir: string,
  userDir: string,
  toUser: (text: string) => string,
): Promise<string> {
  const [program, ...args] = command;
  const shown = [...command, '<overlay>'].join(' ');
  return new Promise((resolve, reject) => {
    execFile(
      program,
      // The default, said out loud: a kustomization may read files only from its own directory tree.
      [...args, '--load-restrictor', 'LoadRestrictionsRootOnly', overlayDir],
      { maxBuffer: OUTPUT_LIMIT, encoding: 'utf8', windowsHide: true },
      (error, stdout, stderr) => {
        if (error === null) {
          resolve(stdout);
          return;
        }
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
          reject(
            new KustomizeError(
              `Cannot run "${program}": it is not installed or not on PATH. ` +
                'kubestage renders manifests with the kustomize built into kubectl (≥ 1.24) or a kustomize (≥ 4.5) binary: ' +
                'add a step such as `azure/setup-kubectl@v4` before it.',
              stderr,
            ),
          );
          return;
        }
        const message = readableKustomizeError(toUser(stderr.trim() || error.message));
        if (/unknown field "includeTemplates"|unknown command "kustomize"/.test(message)) {
          // Our generated overlay, not the user's files, is what this kustomize cannot read.
          reject(
            new KustomizeError(
              `The kustomize in "${shown}" is too old for kubestage's generated overlay (${message.split('\n')[0]}). ` +
                'kubestage needs kubectl ≥ 1.24 (kustomize ≥ 4.5): update kubectl on the runner, e.g. with `azure/setup-kubectl@v4`.',
              toUser(stderr),
            ),
          );
          return;
        }
        reject(
          new KustomizeError(
            `kustomize failed to render ${userDir} (${shown}, exit ${String(error.code ?? error.signal)}):\n${message}\n` +
              "This is kustomize's own message about your kustomization (or a file it references); " +
              'reproduce it locally with "kubectl kustomize ' +
              userDir +
              '".',
            readableKustomizeError(toUser(stderr)),
          ),
        );
      },
    );
  });
}

/**
 * kustomize's message as a person should read it: without kubectl's klog prefix
 * (`E1130 19:20:47.96 25226 run.go:72] "command failed" err="…"`), with the quoting undone, and with
 * secretGenerator/configMapGenerator literals redacted — kustomize quotes a malformed literal whole
 * (`invalid literal source DB_PASSWORD:hunter2`), and this text reaches the log, the summary and the PR.
 */
export function readableKustomizeError(text: string): string {
  return text
    .split('\n')
    .map((line) => {
      const klog = /^[EWIF]\d{4} [\d:.]+\s+\d+ [\w.-]+:\d+\] "command failed" err="(.*)"\s*$/.exec(line);
      return klog
        ? (klog[1] ?? '').replace(/\\"/g, '"').replace(/\\\\/g, '\\')
        : line.replace(/^error: /, '');
    })
    .join('\n')
    .replace(/literal sources \[[^\]]*\]/g, 'literal sources [<redacted>]')
    .replace(/invalid literal source [^,\n]*/g, 'invalid literal source <redacted>');
}

/**
 * YAML 1.2's core schema, which keeps as strings what YAML 1.1 would turn into booleans or dates
 * (`on`, `yes`, `2024-01-01`) and reads `<<` as an ordinary key: the `yaml` package's defaults, which
 * this parser replaced. An explicit `!!timestamp` is still read as a date, as it was there.
 */
const MANIFEST_SCHEMA = CORE_SCHEMA.withTags(
  defineScalarTag(timestampTag.tagName, { ...timestampTag, implicit: false }),
);

/** Parses kustomize's multi-document output: empty documents dropped, `List` kinds flattened. */
export function parseRendered(text: string, command: string[] = ['kustomize']): KubeObject[] {
  let documents: unknown[];
  try {
    documents = loadAll(text, { schema: MANIFEST_SCHEMA });
  } catch (e) {
    if (!(e instanceof YAMLException)) throw e;
    // Worded as before the switch to js-yaml: the document, then line and column, then the excerpt.
    const mark = e.mark;
    const where = mark
      ? ` at line ${mark.line + 1}, column ${mark.column + 1}${mark.snippet ? `:\n\n${mark.snippet}` : ''}`
      : '';
    throw new Error(
      `Could not parse document ${mark ? documentAt(text, mark.line) : 1} of the output of "${command.join(' ')}": ${e.reason}${where}`,
      { cause: e },
    );
  }
  const objects: KubeObject[] = [];
  documents.forEach((value, index) => collect(value, `document ${index + 1}`, objects));
  return objects;
}

/**
 * The document (1-based) that holds a line (0-based). js-yaml stops at the first error without
 * saying which document it was in; a line starting with `---` always starts a document (YAML
 * forbids one inside a scalar), so counting those before the line answers it.
 */
function documentAt(text: string, line: number): number {
  const isStart = (l: string): boolean => /^---(\s|$)/.test(l);
  const before = text.split('\n').slice(0, line);
  const first = before.findIndex(isStart);
  if (first < 0) return 1;
  // Content before the first `---` is a document of its own (kustomize never writes a leading one).
  const bare = before.slice(0, first).some((l) => !/^\s*(#.*)?$/.test(l) && !l.startsWith('%'));
  return before.filter(isStart).length + (bare ? 1 : 0);
}

function collect(value: unknown, where: string, into: KubeObject[]): void {
  if (value === null || value === undefined) return;
  if (isList(value)) {
    value.items.forEach((item, i) => collect(item, `${where}, item ${i + 1}`, into));
    return;
  }
  const checked = checkKubeObject(value);
  if ('problem' in checked) {
    throw new Error(
      `Rendered manifests, ${where}: the object ${checked.problem}. Fix that object in your manifests.`,
    );
  }
  into.push(checked.object);
}

function isList(value: unknown): value is { kind: string; items: unknown[] } {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return typeof v.kind === 'string' && v.kind.endsWith('List') && Array.isArray(v.items);
}

function withAnnotations(o: KubeObject, annotations: Record<string, string> | undefined): KubeObject {
  if (annotations === undefined || Object.keys(annotations).length === 0) return o;
  return { ...o, metadata: { ...o.metadata, annotations: { ...o.metadata.annotations, ...annotations } } };
}

// An override is used when some container now runs exactly the reference it sets. Comparing names
// alone would count an override whose NAME matched nothing as used whenever the manifests (or a
// component) already name its NEW_NAME: kustomize then leaves that container's old tag in place.
function findUnusedImages(objects: KubeObject[], images: ImageOverride[]): ImageOverride[] {
  const running = containerImages(objects);
  return images.filter((i) => !running.has(formatImageRef(i)));
}
