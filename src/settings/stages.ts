// The stage configuration file, `.github/kubestage.yml`: which environments a build is promoted
// through, in which namespace each lives, how it is checked and when it is frozen. Read once, checked
// completely: every problem is reported at once, each as `file:line:col: key.path: what is wrong and
// what to write instead`, the way a compiler reports errors.
import { readFile, realpath } from 'node:fs/promises';
import { isAbsolute, posix, relative, resolve, sep } from 'node:path';
import {
  isAlias,
  isMap,
  isScalar,
  isSeq,
  LineCounter,
  parseDocument,
  type Document,
  type Node as YamlNode,
  type Pair,
} from 'yaml';
import { CronError, isValidTimeZone, parseCron, wallClockToInstant } from '../model/cron.js';
import { parseDuration } from '../model/duration.js';
import type { FreezeWindow } from '../model/freeze.js';
import { LABEL_MANAGED_BY } from '../model/labels.js';
import { POD_SECURITY_LEVELS, type PodSecurityLevel } from '../render/pod-security.js';
import { MAX_DURATION_SECONDS, SettingsError } from './inputs.js';

export type { FreezeWindow } from '../model/freeze.js';

export const DEFAULT_STAGES_FILE = '.github/kubestage.yml';

export const SMOKE_METHODS = ['GET', 'HEAD'] as const;
export type SmokeMethod = (typeof SMOKE_METHODS)[number];

export interface SmokeCheck {
  method: SmokeMethod;
  /** Starts with `/`; may carry a query string. Appended to the stage's url. */
  path: string;
  status: number;
  requests: number;
  p95Ms: number;
  /** Text every answer's body must contain. */
  body?: string;
  /** Per request. */
  timeoutMs: number;
}

export interface StageConfig {
  name: string;
  githubEnvironment: string;
  namespace: string;
  /** Relative to the repository root, normalised, never outside it. */
  manifests: string;
  /** Without a trailing slash. */
  url?: string;
  requires?: string;
  protected: boolean;
  smoke: SmokeCheck[];
  freeze: FreezeWindow[];
  /** Rollout budget: not done in this long counts as failed. */
  timeoutMs: number;
  /** Revisions kept, 1..100. */
  history: number;
  autoRollback: boolean;
  labels: Record<string, string>;
  marker?: string;
  injectEnvironment: boolean;
  podSecurity: PodSecurityLevel;
}

export interface StagesConfig {
  /** The file as the user named it (relative to the workspace), for messages. */
  file: string;
  stages: StageConfig[];
}

/** Every key the file may contain, per level. The JSON Schema has exactly these (a test checks). */
export const CONFIG_KEYS = {
  root: ['$schema', 'environments'],
  environment: [
    'name',
    'github-environment',
    'namespace',
    'manifests',
    'url',
    'requires',
    'protected',
    'smoke',
    'freeze',
    'timeout',
    'history',
    'auto-rollback',
    'labels',
    'marker',
    'inject-environment',
    'pod-security',
  ],
  smoke: ['path', 'method', 'status', 'requests', 'p95-ms', 'body', 'timeout'],
  freeze: ['from', 'to', 'cron', 'duration', 'tz', 'reason'],
} as const;

/** Defaults as written in the file (the schema's `default`s match these; a test checks). */
export const STAGE_DEFAULTS = {
  timeout: '10m',
  history: 10,
  'auto-rollback': true,
  'inject-environment': true,
  'pod-security': 'baseline',
} as const;

export const SMOKE_DEFAULTS = {
  method: 'GET',
  status: 200,
  requests: 1,
  'p95-ms': 500,
  timeout: '10s',
} as const;

export const LIMITS = {
  history: [1, 100],
  requests: [1, 1000],
  status: [100, 599],
  p95Ms: [1, 600_000],
  /** Per smoke request, seconds. */
  smokeTimeoutSeconds: 600,
  markerCodePoints: 16,
} as const;

export const MINIMAL_EXAMPLE = `environments:
  - name: development
    namespace: development
    manifests: deploy/overlays/development
  - name: production
    namespace: production
    manifests: deploy/overlays/production
    requires: development`;

/** Thrown for a missing or invalid stage configuration; `problems` holds one line per problem. */
export class StagesConfigError extends SettingsError {
  constructor(
    message: string,
    readonly problems: string[],
  ) {
    super(message);
    this.name = 'StagesConfigError';
  }
}

// ---- reading the YAML tree with positions ------------------------------------------------------

interface Problem {
  offset: number;
  path: string;
  message: string;
}

type Entry = { key: YamlNode; value: YamlNode | null; path: string };

class Reader {
  readonly problems: Problem[] = [];

  constructor(private readonly doc: Document) {}

  add(
    at: YamlNode | null | undefined,
    fallback: YamlNode | null | undefined,
    path: string,
    message: string,
  ): void {
    const offset = at?.range?.[0] ?? fallback?.range?.[0] ?? 0;
    this.problems.push({ offset, path, message });
  }

  deref(node: unknown): YamlNode | null {
    if (isAlias(node)) {
      const target = node.resolve(this.doc);
      return (target as YamlNode | undefined) ?? null;
    }
    return (node as YamlNode | null) ?? null;
  }

  /** A mapping's entries by key; unknown keys are reported with the nearest known one. */
  map(
    node: YamlNode | null,
    path: string,
    known: readonly string[],
    what: string,
  ): Map<string, Entry> | undefined {
    const out = new Map<string, Entry>();
    if (!isMap(node)) {
      this.add(node, null, path, `${describe(node)}; expected ${what} (keys: ${known.join(', ')})`);
      return undefined;
    }
    for (const pair of node.items as Pair<unknown, unknown>[]) {
      const keyNode = this.deref(pair.key);
      const key = isScalar(keyNode) ? keyNode.value : undefined;
      if (typeof key !== 'string') {
        this.add(
          keyNode,
          node,
          path,
          `the key ${describe(keyNode)} is not a name; keys are: ${known.join(', ')}`,
        );
        continue;
      }
      const entryPath = joinPath(path, key);
      if (!known.includes(key)) {
        const near = nearest(key, known);
        this.add(
          keyNode,
          node,
          entryPath,
          `unknown key "${key}"; ${near ? `did you mean ${near}? ` : ''}(known keys here: ${known.join(', ')})`,
        );
        continue;
      }
      out.set(key, { key: keyNode as YamlNode, value: this.deref(pair.value), path: entryPath });
    }
    return out;
  }

  string(e: Entry, expected: string): string | undefined {
    if (isScalar(e.value) && typeof e.value.value === 'string') {
      if (e.value.value.trim() !== '') return e.value.value;
      this.add(e.value, e.key, e.path, `is empty; expected ${expected}`);
      return undefined;
    }
    const quote =
      isScalar(e.value) && (typeof e.value.value === 'number' || typeof e.value.value === 'boolean');
    this.add(
      e.value,
      e.key,
      e.path,
      `${describe(e.value)}; expected ${expected}${quote ? ` (quote it: "${String((e.value as { value: unknown }).value)}")` : ''}`,
    );
    return undefined;
  }

  integer(e: Entry, [min, max]: readonly [number, number], expected: string): number | undefined {
    if (isScalar(e.value) && typeof e.value.value === 'number' && Number.isInteger(e.value.value)) {
      const n = e.value.value;
      if (n >= min && n <= max) return n;
      this.add(e.value, e.key, e.path, `${n} is out of range; expected ${expected} from ${min} to ${max}`);
      return undefined;
    }
    this.add(
      e.value,
      e.key,
      e.path,
      `${describe(e.value)}; expected ${expected}, a whole number from ${min} to ${max}`,
    );
    return undefined;
  }

  boolean(e: Entry): boolean | undefined {
    if (isScalar(e.value) && typeof e.value.value === 'boolean') return e.value.value;
    this.add(e.value, e.key, e.path, `${describe(e.value)}; expected true or false`);
    return undefined;
  }

  /** A duration (`10m`, `90s`, `1h30m`, or a number of seconds) in milliseconds. */
  duration(e: Entry, maxSeconds: number): number | undefined {
    const scalar = isScalar(e.value) ? e.value.value : undefined;
    const text = typeof scalar === 'number' && Number.isInteger(scalar) ? String(scalar) : scalar;
    if (typeof text !== 'string') {
      this.add(
        e.value,
        e.key,
        e.path,
        `${describe(e.value)}; expected a duration such as "90s", "10m" or "1h30m"`,
      );
      return undefined;
    }
    let seconds: number;
    try {
      seconds = parseDuration(text, 'value');
    } catch (err) {
      this.add(e.value, e.key, e.path, (err as Error).message.replace(/^value: /, ''));
      return undefined;
    }
    if (seconds <= 0 || seconds > maxSeconds) {
      this.add(
        e.value,
        e.key,
        e.path,
        `"${text}" is out of range; expected a duration longer than 0 and at most ${maxSeconds >= 86400 ? `${Math.floor(maxSeconds / 86400)} days` : `${maxSeconds}s`}, e.g. "90s", "10m" or "1h30m"`,
      );
      return undefined;
    }
    return seconds * 1000;
  }
}

function describe(node: YamlNode | null | undefined): string {
  if (node === null || node === undefined) return 'is empty';
  if (isMap(node)) return 'is a mapping';
  if (isSeq(node)) return 'is a list';
  if (isScalar(node)) {
    const v = node.value;
    if (v === null) return 'is empty';
    if (typeof v === 'string') return `"${v}" is text`;
    if (typeof v === 'number') return `${v} is a number`;
    if (typeof v === 'boolean') return `${v} is a boolean`;
  }
  return 'is not a plain value';
}

function joinPath(path: string, key: string): string {
  const part = /^[A-Za-z_$][\w$-]*$/.test(key) ? key : `["${key}"]`;
  if (path === '') return part;
  return part.startsWith('[') ? `${path}${part}` : `${path}.${part}`;
}

/** The known key closest to `key` by edit distance, if it is plausibly a typo of it. */
export function nearest(key: string, known: readonly string[]): string | undefined {
  const norm = (s: string): string => s.toLowerCase().replace(/[-_\s]/g, '');
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const k of known) {
    // A prefix ("p95" for "p95-ms") is as good a hint as a one-letter typo.
    const d =
      norm(k) === norm(key)
        ? 0
        : key.length >= 3 && norm(k).startsWith(norm(key))
          ? 1
          : editDistance(key.toLowerCase(), k);
    if (d < bestDistance) {
      best = k;
      bestDistance = d;
    }
  }
  return best !== undefined && bestDistance <= Math.max(2, Math.floor(key.length / 3)) ? best : undefined;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = row;
  }
  return prev[b.length];
}

// ---- value rules --------------------------------------------------------------------------------

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const LABEL_NAME = /^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

function dnsLabelProblem(value: string): string | undefined {
  if (value.length > 63) return `"${value}" is ${value.length} characters long (the limit is 63)`;
  if (!DNS_LABEL.test(value)) {
    return `"${value}" is not a DNS label: use 1–63 lower-case letters, digits and "-", starting and ending with a letter or digit (e.g. "${slug(value)}")`;
  }
  return undefined;
}

function slug(value: string): string {
  return (
    value
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 63) || 'staging'
  );
}

function labelKeyProblem(key: string): string | undefined {
  const slash = key.indexOf('/');
  const prefix = slash >= 0 ? key.slice(0, slash) : undefined;
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  if (prefix !== undefined && (prefix.length > 253 || !DNS_SUBDOMAIN.test(prefix))) {
    return `"${key}" has the prefix "${prefix}", which is not a lower-case DNS subdomain (e.g. "example.com/team")`;
  }
  if (name === '' || name.length > 63 || !LABEL_NAME.test(name)) {
    return `"${key}" is not a label key: the name part must be 1–63 letters, digits, "-", "_" or ".", starting and ending with a letter or digit, optionally after a DNS prefix and "/" (e.g. "team" or "example.com/team")`;
  }
  if (prefix === 'kubestage.dev' || prefix?.endsWith('.kubestage.dev')) {
    return `"${key}" is under kubestage.dev/, which kubestage sets itself; choose another prefix (e.g. "example.com/${name}")`;
  }
  if (key === LABEL_MANAGED_BY) {
    return `"${key}" is set by kubestage to "kubestage" (it marks what kubestage may change); choose another key`;
  }
  return undefined;
}

function labelValueProblem(value: string): string | undefined {
  if (value.length > 63 || !LABEL_NAME.test(value)) {
    return `"${value}" is not a label value: at most 63 letters, digits, "-", "_" or ".", starting and ending with a letter or digit (or empty)`;
  }
  return undefined;
}

const TIME =
  /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(\.\d+)?)?)?(?:([Zz])|([+-])(\d{2}):(\d{2}))?$/;

/**
 * An RFC 3339 time (`2026-12-24T00:00:00Z`, `…+01:00`); without an offset (`2026-12-24T00:00`,
 * `2026-12-24`) it is wall-clock time in `tz` (default UTC). Returns an error text on failure.
 */
export function parseFreezeTime(text: string, tz: string | undefined): Date | string {
  const m = TIME.exec(text.trim());
  const format =
    'expected an RFC 3339 time such as "2026-12-24T00:00:00Z" (or without the offset, read in tz)';
  if (!m) return `"${text}" is not a time; ${format}`;
  const [, y, mo, d, h = '0', mi = '0', s = '0', frac = '', z, sign, oh, om] = m;
  const wall = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s));
  const back = new Date(wall);
  if (
    back.getUTCFullYear() !== Number(y) ||
    back.getUTCMonth() !== Number(mo) - 1 ||
    back.getUTCDate() !== Number(d) ||
    back.getUTCHours() !== Number(h) ||
    back.getUTCMinutes() !== Number(mi) ||
    back.getUTCSeconds() !== Number(s) ||
    (sign && (Number(oh) > 23 || Number(om) > 59))
  ) {
    return `"${text}" is not a calendar time (a field is out of range); ${format}`;
  }
  const ms = frac ? Math.round(Number(frac) * 1000) : 0;
  if (z) return new Date(wall + ms);
  if (sign) return new Date(wall + ms - (sign === '-' ? -1 : 1) * (Number(oh) * 60 + Number(om)) * 60_000);
  return new Date(wallClockToInstant(wall, tz ?? 'UTC') + ms);
}

// ---- the file ------------------------------------------------------------------------------------

/** Parses and validates the stage configuration; throws StagesConfigError listing every problem. */
export function parseStagesConfig(text: string, file: string): StagesConfig {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const r = new Reader(doc);
  const format = (p: Problem): string => {
    const { line, col } = lineCounter.linePos(p.offset);
    return `${file}:${line}:${col}: ${p.path ? `${p.path}: ` : ''}${p.message}`;
  };
  const fail = (): never => {
    const lines = [...r.problems].sort((a, b) => a.offset - b.offset).map(format);
    const message =
      lines.length === 1
        ? lines[0]
        : `${file} has ${lines.length} problems:\n${lines.map((l) => `  ${l}`).join('\n')}`;
    throw new StagesConfigError(message, lines);
  };

  if (doc.errors.length > 0) {
    for (const e of doc.errors) {
      const hint = /alias|anchor/i.test(e.message)
        ? ' (a value starting with "*" or "&" must be quoted, e.g. cron: "* * * * *")'
        : '';
      r.problems.push({ offset: e.pos[0], path: '', message: `invalid YAML: ${e.message}${hint}` });
    }
    fail();
  }
  const root = r.deref(doc.contents);
  if (root === null || (isScalar(root) && root.value === null)) {
    r.problems.push({
      offset: 0,
      path: 'environments',
      message: `is missing (the file is empty); list the stages in promotion order, e.g.\n${MINIMAL_EXAMPLE}`,
    });
    fail();
  }
  const top = r.map(root, '', CONFIG_KEYS.root, 'a mapping with an `environments` list');
  if (!top) return fail();
  const schemaEntry = top.get('$schema');
  if (schemaEntry) r.string(schemaEntry, 'the URL or path of the JSON Schema');
  const envEntry = top.get('environments');
  if (!envEntry) {
    r.add(
      root,
      null,
      'environments',
      `is missing; list the stages in promotion order, e.g.\n${MINIMAL_EXAMPLE}`,
    );
    return fail();
  }
  if (!isSeq(envEntry.value) || envEntry.value.items.length === 0) {
    r.add(
      envEntry.value,
      envEntry.key,
      'environments',
      `${isSeq(envEntry.value) ? 'is an empty list' : describe(envEntry.value)}; expected a list of stages, each "- name: …" with namespace and manifests`,
    );
    return fail();
  }

  const stages: { config: StageConfig; entries: Map<string, Entry> }[] = [];
  envEntry.value.items.forEach((item, i) => {
    const parsed = parseStage(r, r.deref(item), `environments[${i}]`);
    if (parsed) stages.push(parsed);
  });
  if (r.problems.length === 0) crossCheck(r, stages);
  if (r.problems.length > 0) fail();
  return { file, stages: stages.map((s) => s.config) };
}

function parseStage(
  r: Reader,
  node: YamlNode | null,
  path: string,
): { config: StageConfig; entries: Map<string, Entry> } | undefined {
  const m = r.map(node, path, CONFIG_KEYS.environment, 'a stage');
  if (!m) return undefined;
  const before = r.problems.length;
  const required = (key: string, example: string): Entry | undefined => {
    const e = m.get(key);
    if (!e)
      r.add(
        node,
        null,
        joinPath(path, key),
        `is missing; every stage needs ${key} (e.g. ${key}: ${example})`,
      );
    return e;
  };

  const nameEntry = required('name', 'production');
  const name = nameEntry ? r.string(nameEntry, 'a stage name such as "production"') : undefined;
  if (nameEntry && name !== undefined) {
    const why = dnsLabelProblem(name);
    if (why)
      r.add(
        nameEntry.value,
        nameEntry.key,
        nameEntry.path,
        `${why}; stage names are used in labels and namespaces`,
      );
  }

  const nsEntry = required('namespace', name ?? 'production');
  const namespace = nsEntry ? r.string(nsEntry, 'a Kubernetes namespace name') : undefined;
  if (nsEntry && namespace !== undefined) {
    const why =
      dnsLabelProblem(namespace) ??
      (namespace === 'default' || namespace.startsWith('kube-')
        ? `"${namespace}" is a namespace Kubernetes itself uses; give the stage its own (e.g. "${name ?? 'production'}")`
        : undefined);
    if (why) r.add(nsEntry.value, nsEntry.key, nsEntry.path, why);
  }

  const manifestsEntry = required('manifests', `deploy/overlays/${name ?? 'production'}`);
  let manifests = manifestsEntry
    ? r.string(manifestsEntry, 'a directory relative to the repository root')
    : undefined;
  if (manifestsEntry && manifests !== undefined) {
    const normal = posix.normalize(manifests.replace(/\\/g, '/')).replace(/\/+$/, '') || '.';
    if (isAbsolute(manifests) || /^[A-Za-z]:/.test(manifests) || manifests.startsWith('/')) {
      r.add(
        manifestsEntry.value,
        manifestsEntry.key,
        manifestsEntry.path,
        `"${manifests}" is an absolute path; write it relative to the repository root (e.g. "deploy/overlays/${name ?? 'production'}")`,
      );
    } else if (normal === '..' || normal.startsWith('../')) {
      r.add(
        manifestsEntry.value,
        manifestsEntry.key,
        manifestsEntry.path,
        `"${manifests}" leads outside the repository; manifests must be inside it (e.g. "deploy/overlays/${name ?? 'production'}")`,
      );
    } else manifests = normal;
  }

  const githubEntry = m.get('github-environment');
  const githubEnvironment = githubEntry ? r.string(githubEntry, 'a GitHub environment name') : name;
  if (
    githubEntry &&
    githubEnvironment !== undefined &&
    (githubEnvironment.length > 255 || CONTROL.test(githubEnvironment))
  ) {
    r.add(
      githubEntry.value,
      githubEntry.key,
      githubEntry.path,
      `"${githubEnvironment}" is not a GitHub environment name (at most 255 characters, no control characters)`,
    );
  }

  const urlEntry = m.get('url');
  let url = urlEntry ? r.string(urlEntry, 'an http(s) URL such as "https://shop.example.com"') : undefined;
  if (urlEntry && url !== undefined) {
    const why = urlProblem(url);
    if (why) {
      r.add(urlEntry.value, urlEntry.key, urlEntry.path, why);
      url = undefined;
    } else url = url.replace(/\/+$/, '');
  }

  const requiresEntry = m.get('requires');
  const requires = requiresEntry
    ? r.string(requiresEntry, 'the name of the stage this one is promoted from')
    : undefined;
  const protectedEntry = m.get('protected');
  const isProtected = protectedEntry ? r.boolean(protectedEntry) : requiresEntry !== undefined;

  const smokeEntry = m.get('smoke');
  const smoke: SmokeCheck[] = [];
  if (smokeEntry) {
    if (!isSeq(smokeEntry.value)) {
      r.add(
        smokeEntry.value,
        smokeEntry.key,
        smokeEntry.path,
        `${describe(smokeEntry.value)}; expected a list of checks, each "- path: /healthz"`,
      );
    } else {
      smokeEntry.value.items.forEach((item, i) => {
        const check = parseSmoke(r, r.deref(item), `${smokeEntry.path}[${i}]`);
        if (check) smoke.push(check);
      });
      if (smokeEntry.value.items.length > 0 && !urlEntry) {
        r.add(
          smokeEntry.key,
          null,
          smokeEntry.path,
          `smoke checks need the stage's url to send requests to; add url: https://… to this stage, or remove smoke`,
        );
      }
    }
  }

  const freezeEntry = m.get('freeze');
  const freeze: FreezeWindow[] = [];
  if (freezeEntry) {
    if (!isSeq(freezeEntry.value)) {
      r.add(
        freezeEntry.value,
        freezeEntry.key,
        freezeEntry.path,
        `${describe(freezeEntry.value)}; expected a list of windows, each with from and to, or cron and duration`,
      );
    } else {
      freezeEntry.value.items.forEach((item, i) => {
        const w = parseFreeze(r, r.deref(item), `${freezeEntry.path}[${i}]`);
        if (w) freeze.push(w);
      });
    }
  }

  const timeoutEntry = m.get('timeout');
  const timeoutMs = timeoutEntry
    ? r.duration(timeoutEntry, MAX_DURATION_SECONDS)
    : parseDuration(STAGE_DEFAULTS.timeout, 'timeout') * 1000;
  const historyEntry = m.get('history');
  const history = historyEntry
    ? r.integer(historyEntry, LIMITS.history, 'the number of revisions to keep')
    : STAGE_DEFAULTS.history;
  const rollbackEntry = m.get('auto-rollback');
  const autoRollback = rollbackEntry ? r.boolean(rollbackEntry) : STAGE_DEFAULTS['auto-rollback'];
  const injectEntry = m.get('inject-environment');
  const injectEnvironment = injectEntry ? r.boolean(injectEntry) : STAGE_DEFAULTS['inject-environment'];

  const podSecurityEntry = m.get('pod-security');
  let podSecurity: PodSecurityLevel = STAGE_DEFAULTS['pod-security'];
  if (podSecurityEntry) {
    const v = r.string(podSecurityEntry, `one of ${POD_SECURITY_LEVELS.join(', ')}`);
    if (v !== undefined) {
      if ((POD_SECURITY_LEVELS as readonly string[]).includes(v)) podSecurity = v as PodSecurityLevel;
      else
        r.add(
          podSecurityEntry.value,
          podSecurityEntry.key,
          podSecurityEntry.path,
          `"${v}" is not allowed; use one of ${POD_SECURITY_LEVELS.join(', ')} (Kubernetes Pod Security levels)`,
        );
    }
  }

  const markerEntry = m.get('marker');
  const marker = markerEntry ? r.string(markerEntry, 'a short text such as "🚀"') : undefined;
  if (
    markerEntry &&
    marker !== undefined &&
    ([...marker].length > LIMITS.markerCodePoints || CONTROL.test(marker))
  ) {
    r.add(
      markerEntry.value,
      markerEntry.key,
      markerEntry.path,
      `"${marker}" is too long or has control characters; a marker is at most ${LIMITS.markerCodePoints} characters on one line, e.g. "🚀"`,
    );
  }

  const labels: Record<string, string> = {};
  const labelsEntry = m.get('labels');
  if (labelsEntry) {
    if (!isMap(labelsEntry.value)) {
      r.add(
        labelsEntry.value,
        labelsEntry.key,
        labelsEntry.path,
        `${describe(labelsEntry.value)}; expected a mapping of label keys to values, e.g. team: shop`,
      );
    } else {
      for (const pair of labelsEntry.value.items as Pair<unknown, unknown>[]) {
        const keyNode = r.deref(pair.key);
        const key = isScalar(keyNode) ? keyNode.value : undefined;
        if (typeof key !== 'string') {
          r.add(
            keyNode,
            labelsEntry.value,
            labelsEntry.path,
            `the label key ${describe(keyNode)}; label keys are text (quote it)`,
          );
          continue;
        }
        const entry: Entry = {
          key: keyNode as YamlNode,
          value: r.deref(pair.value),
          path: joinPath(labelsEntry.path, key),
        };
        const keyWhy = labelKeyProblem(key);
        if (keyWhy) {
          r.add(keyNode, null, entry.path, keyWhy);
          continue;
        }
        if (isScalar(entry.value) && typeof entry.value.value === 'string') {
          const valueWhy = labelValueProblem(entry.value.value);
          if (valueWhy) r.add(entry.value, entry.key, entry.path, valueWhy);
          else labels[key] = entry.value.value;
        } else {
          const v = isScalar(entry.value) ? entry.value.value : undefined;
          r.add(
            entry.value,
            entry.key,
            entry.path,
            `${describe(entry.value)}; label values are text${typeof v === 'number' || typeof v === 'boolean' ? `: quote it ("${String(v)}")` : v === null ? ': write "" for an empty value' : ''}`,
          );
        }
      }
    }
  }

  if (r.problems.length > before) return undefined;
  const config: StageConfig = {
    name: name as string,
    githubEnvironment: githubEnvironment as string,
    namespace: namespace as string,
    manifests: manifests as string,
    ...(url !== undefined ? { url } : {}),
    ...(requires !== undefined ? { requires } : {}),
    protected: isProtected as boolean,
    smoke,
    freeze,
    timeoutMs: timeoutMs as number,
    history: history as number,
    autoRollback: autoRollback as boolean,
    labels,
    ...(marker !== undefined ? { marker } : {}),
    injectEnvironment: injectEnvironment as boolean,
    podSecurity,
  };
  return { config, entries: m };
}

function urlProblem(url: string): string | undefined {
  const example = 'e.g. "https://shop.example.com"';
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return `"${url}" is not a URL; write the stage's address with its scheme, ${example}`;
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:')
    return `"${url}" uses ${u.protocol}; only http and https are allowed, ${example}`;
  if (u.username || u.password) {
    return `"${url}" has credentials in it; they would show in logs and summaries: remove them (smoke checks send no credentials)`;
  }
  if (u.search || url.includes('?'))
    return `"${url}" has a query string; give the base address only and put queries in smoke paths`;
  if (u.hash || url.includes('#'))
    return `"${url}" has a fragment (#…); give the base address only, ${example}`;
  return undefined;
}

function parseSmoke(r: Reader, node: YamlNode | null, path: string): SmokeCheck | undefined {
  const m = r.map(node, path, CONFIG_KEYS.smoke, 'a smoke check such as { path: /healthz, status: 200 }');
  if (!m) return undefined;
  const before = r.problems.length;

  const pathEntry = m.get('path');
  let urlPath: string | undefined;
  if (!pathEntry)
    r.add(
      node,
      null,
      joinPath(path, 'path'),
      'is missing; every smoke check needs a path (e.g. path: /healthz)',
    );
  else {
    urlPath = r.string(pathEntry, 'a path starting with "/", e.g. "/healthz"');
    if (
      urlPath !== undefined &&
      (!urlPath.startsWith('/') || urlPath.startsWith('//') || /[\s#]/.test(urlPath) || CONTROL.test(urlPath))
    ) {
      r.add(
        pathEntry.value,
        pathEntry.key,
        pathEntry.path,
        `"${urlPath}" is not a path on the stage's url: start it with a single "/", no spaces or #fragment (e.g. "/healthz" or "/api/products?limit=5")`,
      );
    }
  }

  let method: SmokeMethod = SMOKE_DEFAULTS.method;
  const methodEntry = m.get('method');
  if (methodEntry) {
    const v = r.string(methodEntry, 'GET or HEAD');
    if (v !== undefined) {
      if ((SMOKE_METHODS as readonly string[]).includes(v)) method = v as SmokeMethod;
      else
        r.add(
          methodEntry.value,
          methodEntry.key,
          methodEntry.path,
          `"${v}" is not allowed; smoke checks are read-only: use ${SMOKE_METHODS.join(' or ')}${(SMOKE_METHODS as readonly string[]).includes(v.toUpperCase()) ? ` (upper case: "${v.toUpperCase()}")` : ''}`,
        );
    }
  }
  const statusEntry = m.get('status');
  const status = statusEntry
    ? r.integer(statusEntry, LIMITS.status, 'an HTTP status')
    : SMOKE_DEFAULTS.status;
  const requestsEntry = m.get('requests');
  const requests = requestsEntry
    ? r.integer(requestsEntry, LIMITS.requests, 'the number of requests')
    : SMOKE_DEFAULTS.requests;
  const p95Entry = m.get('p95-ms');
  const p95Ms = p95Entry
    ? r.integer(p95Entry, LIMITS.p95Ms, 'a latency limit in milliseconds')
    : SMOKE_DEFAULTS['p95-ms'];
  const timeoutEntry = m.get('timeout');
  const timeoutMs = timeoutEntry
    ? r.duration(timeoutEntry, LIMITS.smokeTimeoutSeconds)
    : parseDuration(SMOKE_DEFAULTS.timeout, 'timeout') * 1000;
  const bodyEntry = m.get('body');
  const body = bodyEntry ? r.string(bodyEntry, 'text every answer must contain, e.g. "ok"') : undefined;
  if (bodyEntry && body !== undefined && method === 'HEAD') {
    r.add(
      bodyEntry.key,
      null,
      bodyEntry.path,
      'a HEAD answer has no body to check; use method: GET, or remove body',
    );
  }

  if (r.problems.length > before) return undefined;
  return {
    method,
    path: urlPath as string,
    status: status as number,
    requests: requests as number,
    p95Ms: p95Ms as number,
    ...(body !== undefined ? { body } : {}),
    timeoutMs: timeoutMs as number,
  };
}

function parseFreeze(r: Reader, node: YamlNode | null, path: string): FreezeWindow | undefined {
  const m = r.map(node, path, CONFIG_KEYS.freeze, 'a freeze window with from and to, or cron and duration');
  if (!m) return undefined;
  const before = r.problems.length;
  const shape =
    'a window has either from + to (RFC 3339 times, e.g. from: "2026-12-24T00:00:00Z") or cron + duration (e.g. cron: "0 16 * * 5", duration: 64h)';

  const tzEntry = m.get('tz');
  let tz: string | undefined;
  if (tzEntry) {
    tz = r.string(tzEntry, 'an IANA time zone such as "Europe/Berlin"');
    if (tz !== undefined && !isValidTimeZone(tz)) {
      r.add(
        tzEntry.value,
        tzEntry.key,
        tzEntry.path,
        `"${tz}" is not a time zone; use an IANA name such as "Europe/Berlin", "America/New_York" or "UTC"`,
      );
      tz = undefined;
    }
  }
  const reasonEntry = m.get('reason');
  const reason = reasonEntry
    ? r.string(reasonEntry, 'a short reason shown when a promotion is refused, e.g. "holidays"')
    : undefined;

  const fromEntry = m.get('from');
  const toEntry = m.get('to');
  const cronEntry = m.get('cron');
  const durationEntry = m.get('duration');
  const fixed = fromEntry || toEntry;
  const recurring = cronEntry || durationEntry;
  const window: FreezeWindow = { reason: reason ?? '' };
  if (tz !== undefined) window.tz = tz;

  if (fixed && recurring) {
    r.add(
      (fromEntry ?? toEntry)?.key,
      node,
      path,
      `mixes from/to with cron/duration; ${shape}; split it into two windows`,
    );
  } else if (fixed) {
    for (const [key, entry] of [
      ['from', fromEntry],
      ['to', toEntry],
    ] as const) {
      if (!entry) {
        r.add(node, null, joinPath(path, key), `is missing; ${shape}`);
        continue;
      }
      const text = r.string(entry, 'an RFC 3339 time such as "2026-12-24T00:00:00Z"');
      if (text === undefined) continue;
      const t = parseFreezeTime(text, tz);
      if (typeof t === 'string') r.add(entry.value, entry.key, entry.path, t);
      else window[key] = t;
    }
    if (window.from && window.to && window.to.getTime() <= window.from.getTime()) {
      r.add(
        toEntry?.value,
        toEntry?.key,
        joinPath(path, 'to'),
        `"${window.to.toISOString()}" is not after from ("${window.from.toISOString()}"); a window must end after it starts`,
      );
    }
    window.reason ||= `freeze ${window.from?.toISOString() ?? ''} → ${window.to?.toISOString() ?? ''}`;
  } else if (recurring) {
    if (!cronEntry) r.add(node, null, joinPath(path, 'cron'), `is missing; ${shape}`);
    else {
      const expr = r.string(cronEntry, 'a 5-field cron expression such as "0 16 * * 5"');
      if (expr !== undefined) {
        try {
          parseCron(expr);
          window.cron = expr.trim();
        } catch (e) {
          if (!(e instanceof CronError)) throw e;
          r.add(cronEntry.value, cronEntry.key, cronEntry.path, e.message);
        }
      }
    }
    if (!durationEntry) r.add(node, null, joinPath(path, 'duration'), `is missing; ${shape}`);
    else {
      const ms = r.duration(durationEntry, MAX_DURATION_SECONDS);
      if (ms !== undefined) window.durationMs = ms;
    }
    window.reason ||= `freeze (cron "${window.cron ?? ''}")`;
  } else {
    r.add(node, null, path, `has no times; ${shape}`);
  }
  return r.problems.length > before ? undefined : window;
}

/** Rules across stages: unique names, namespaces and GitHub environments; `requires` resolves without cycles. */
function crossCheck(r: Reader, stages: { config: StageConfig; entries: Map<string, Entry> }[]): void {
  const seen = (
    key: 'name' | 'namespace' | 'github-environment',
    value: (c: StageConfig) => string,
    what: string,
  ): void => {
    const first = new Map<string, StageConfig>();
    for (const { config, entries } of stages) {
      const v = value(config);
      const norm = key === 'github-environment' ? v.toLowerCase() : v;
      const earlier = first.get(norm);
      if (earlier) {
        const e = entries.get(key) ?? entries.get('name');
        r.add(
          e?.value,
          e?.key,
          e?.path ?? '',
          `"${v}" is already the ${what} of stage "${earlier.name}"${key === 'github-environment' ? ' (GitHub environment names ignore case)' : ''}; each stage needs its own`,
        );
      } else first.set(norm, config);
    }
  };
  seen('name', (c) => c.name, 'name');
  seen('namespace', (c) => c.namespace, 'namespace');
  seen('github-environment', (c) => c.githubEnvironment, 'GitHub environment');

  const byName = new Map(stages.map((s) => [s.config.name, s.config]));
  const names = stages.map((s) => s.config.name).join(', ');
  const reported = new Set<string>();
  for (const { config, entries } of stages) {
    if (config.requires === undefined) continue;
    const e = entries.get('requires') as Entry;
    if (config.requires === config.name) {
      r.add(
        e.value,
        e.key,
        e.path,
        `"${config.requires}" is this stage itself; name the stage it is promoted from (stages: ${names})`,
      );
      continue;
    }
    if (!byName.has(config.requires)) {
      const near = nearest(config.requires, [...byName.keys()]);
      r.add(
        e.value,
        e.key,
        e.path,
        `"${config.requires}" is not a stage in this file; ${near ? `did you mean ${near}? ` : ''}(stages: ${names})`,
      );
      continue;
    }
    const chain = [config.name];
    let current = byName.get(config.requires);
    while (current && !chain.includes(current.name)) {
      chain.push(current.name);
      current = current.requires !== undefined ? byName.get(current.requires) : undefined;
    }
    if (current && current.name === config.name) {
      const key = [...chain].sort().join(',');
      if (!reported.has(key)) {
        reported.add(key);
        r.add(
          e.value,
          e.key,
          e.path,
          `"${config.requires}" makes a cycle (${[...chain, config.name].join(' → ')}); the first stage must not have requires`,
        );
      }
    }
  }
}

/** The stage called `name`; an unknown name is an error listing the stages there are. */
export function stageNamed(config: StagesConfig, name: string): StageConfig {
  const stage = config.stages.find((s) => s.name === name);
  if (stage) return stage;
  const names = config.stages.map((s) => s.name);
  const near = nearest(name, names);
  throw new SettingsError(
    `There is no stage "${name}" in ${config.file}${near ? `; did you mean "${near}"?` : '.'} The stages there are: ${names.join(', ')}.`,
  );
}

/**
 * Reads and parses the configuration at `path` (relative to the workspace, and inside it). A missing
 * file is an error saying where it looked, with a minimal example to start from.
 */
export async function loadStagesConfig(workspace: string, path = DEFAULT_STAGES_FILE): Promise<StagesConfig> {
  const root = resolve(workspace);
  const full = resolve(root, path);
  const inside = (base: string, p: string): boolean => {
    const rel = relative(base, p);
    return rel !== '' && !rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel);
  };
  if (isAbsolute(path) || !inside(root, full)) {
    throw new StagesConfigError(
      `The stage configuration path "${path}" leads outside the workspace (${root}); give a path inside the repository, e.g. "${DEFAULT_STAGES_FILE}".`,
      [],
    );
  }
  let text: string;
  try {
    // A symbolic link inside the repository must not read a file outside it either.
    const [realRoot, realFull] = await Promise.all([realpath(root), realpath(full)]);
    if (!inside(realRoot, realFull)) {
      throw new StagesConfigError(
        `The stage configuration "${path}" is a link to ${realFull}, outside the workspace (${realRoot}); keep the file in the repository.`,
        [],
      );
    }
    text = await readFile(realFull, 'utf8');
  } catch (e) {
    if (e instanceof StagesConfigError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      throw new StagesConfigError(
        `No stage configuration: looked for ${path} in the workspace (${full}). Promotion needs one; ` +
          `create ${path} listing your stages in order, for example:\n\n${MINIMAL_EXAMPLE}\n`,
        [],
      );
    }
    if (code === 'EISDIR') {
      throw new StagesConfigError(
        `The stage configuration ${path} (${full}) is a directory; it must be a YAML file.`,
        [],
      );
    }
    throw new StagesConfigError(
      `Cannot read the stage configuration ${path} (${full}): ${(e as Error).message}`,
      [],
    );
  }
  return parseStagesConfig(text, path);
}
