// The JSON Schema editors use and the parser kubestage runs must describe the same file: the same keys
// at every level, the same defaults, and the same verdict on the issue's example and on bad files.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { parse } from 'yaml';
import {
  CONFIG_KEYS,
  parseStagesConfig,
  SMOKE_DEFAULTS,
  STAGE_DEFAULTS,
  StagesConfigError,
} from '../../../src/settings/stages.js';
import { ISSUE_EXAMPLE } from './stages-example.js';

interface SchemaNode {
  properties?: Record<string, SchemaNode & { default?: unknown }>;
  $defs?: Record<string, SchemaNode>;
  additionalProperties?: unknown;
  description?: string;
}

const schema = JSON.parse(
  readFileSync(join(process.cwd(), 'schema/kubestage.schema.json'), 'utf8'),
) as SchemaNode;
const ajv = new Ajv2020({ allErrors: true, strict: true, strictRequired: false });
const validate = ajv.compile(schema);

const levels = {
  root: schema,
  environment: schema.$defs?.environment,
  smoke: schema.$defs?.smoke,
  freeze: schema.$defs?.freeze,
};

function schemaAccepts(text: string): boolean {
  return validate(parse(text)) === true;
}

function parserAccepts(text: string): boolean {
  try {
    parseStagesConfig(text, 'kubestage.yml');
    return true;
  } catch (e) {
    if (e instanceof StagesConfigError) return false;
    throw e;
  }
}

const stage = (extra: string): string =>
  `environments:\n  - name: dev\n    namespace: dev\n    manifests: deploy/dev\n    url: https://dev.example.com\n${extra}`;

describe('schema/kubestage.schema.json', () => {
  it.each(Object.keys(levels) as (keyof typeof levels)[])(
    'has exactly the keys the parser knows at the %s level, each described, nothing else allowed',
    (level) => {
      const node = levels[level];
      expect(node).toBeDefined();
      expect(Object.keys(node?.properties ?? {}).sort()).toEqual([...CONFIG_KEYS[level]].sort());
      expect(node?.additionalProperties).toBe(false);
      for (const [key, prop] of Object.entries(node?.properties ?? {})) {
        expect([key, typeof prop.description]).toEqual([key, 'string']);
      }
    },
  );

  it('declares the same defaults the parser applies', () => {
    const defaults = (node: SchemaNode | undefined): Record<string, unknown> =>
      Object.fromEntries(
        Object.entries(node?.properties ?? {})
          .filter(([, p]) => 'default' in p)
          .map(([k, p]) => [k, p.default]),
      );
    expect(defaults(levels.environment)).toEqual(STAGE_DEFAULTS);
    expect(defaults(levels.smoke)).toEqual(SMOKE_DEFAULTS);
    // And the parser really applies them.
    const [s] = parseStagesConfig(stage('    smoke:\n      - path: /\n'), 'k.yml').stages;
    expect([s.timeoutMs, s.history, s.autoRollback, s.injectEnvironment, s.podSecurity]).toEqual([
      600_000,
      STAGE_DEFAULTS.history,
      STAGE_DEFAULTS['auto-rollback'],
      STAGE_DEFAULTS['inject-environment'],
      STAGE_DEFAULTS['pod-security'],
    ]);
    expect(s.smoke[0]).toMatchObject({
      method: SMOKE_DEFAULTS.method,
      status: SMOKE_DEFAULTS.status,
      requests: SMOKE_DEFAULTS.requests,
      p95Ms: SMOKE_DEFAULTS['p95-ms'],
      timeoutMs: 10_000,
    });
  });

  it("accepts the issue's example, as the parser does", () => {
    expect(validate(parse(ISSUE_EXAMPLE))).toBe(true);
    expect(parserAccepts(ISSUE_EXAMPLE)).toBe(true);
  });

  it.each([
    [
      'every optional key',
      stage(`    github-environment: Dev
    protected: false
    timeout: 1h30m
    history: 3
    auto-rollback: false
    labels: { team: shop, example.com/tier: "1" }
    marker: "🧪"
    inject-environment: false
    pod-security: restricted
    smoke:
      - { path: "/x?y=1", method: HEAD, status: 302, requests: 10, p95-ms: 100, timeout: 5s }
      - { path: /healthz, body: ok }
    freeze:
      - { from: "2026-12-24", to: "2026-12-27T00:00:00+01:00", tz: Europe/Berlin, reason: x }
      - { cron: "@weekly", duration: 600 }
`),
    ],
    ['a $schema key', `$schema: ./schema/kubestage.schema.json\n${stage('')}`],
  ])('accepts %s, as the parser does', (_what, text) => {
    expect([schemaAccepts(text), validate.errors]).toEqual([true, null]);
    expect(parserAccepts(text)).toBe(true);
  });

  // Structural mistakes: both must refuse.
  it.each([
    ['no environments', '$schema: x\n'],
    ['an empty environments list', 'environments: []\n'],
    ['an unknown top-level key', `${stage('')}stages: []\n`],
    ['an unknown stage key', stage('    autoRollback: true\n')],
    ['a missing manifests', 'environments:\n  - name: dev\n    namespace: dev\n'],
    ['a stage name with capitals', stage('').replace('name: dev', 'name: Dev')],
    ['the kube-system namespace', stage('').replace('namespace: dev', 'namespace: kube-system')],
    ['the default namespace', stage('').replace('namespace: dev', 'namespace: default')],
    ['an absolute manifests path', stage('').replace('manifests: deploy/dev', 'manifests: /deploy')],
    ['a non-http url', stage('').replace('https://dev.example.com', 'ftp://dev.example.com')],
    ['a url with a query', stage('').replace('https://dev.example.com', 'https://dev.example.com/?a=1')],
    [
      'smoke without url',
      stage('    smoke:\n      - path: /\n').replace('    url: https://dev.example.com\n', ''),
    ],
    ['a POST smoke check', stage('    smoke:\n      - { path: /, method: POST }\n')],
    ['a smoke path without /', stage('    smoke:\n      - { path: healthz }\n')],
    ['an unknown smoke key', stage('    smoke:\n      - { path: /, p95: 3 }\n')],
    ['a status out of range', stage('    smoke:\n      - { path: /, status: 99 }\n')],
    ['too many requests', stage('    smoke:\n      - { path: /, requests: 1001 }\n')],
    ['a text p95', stage('    smoke:\n      - { path: /, p95-ms: fast }\n')],
    ['a body on HEAD', stage('    smoke:\n      - { path: /, method: HEAD, body: ok }\n')],
    ['a bad duration', stage('    timeout: 5 minutes\n')],
    ['a fractional duration', stage('    timeout: 1.5h\n')],
    ['history over 100', stage('    history: 101\n')],
    ['a text boolean', stage('    auto-rollback: "yes"\n')],
    ['an unknown pod security level', stage('    pod-security: strict\n')],
    ['a kubestage.dev label', stage('    labels: { kubestage.dev/pr: "1" }\n')],
    ['a sub-domain kubestage.dev label', stage('    labels: { x.kubestage.dev/pr: "1" }\n')],
    ['the managed-by label', stage('    labels: { app.kubernetes.io/managed-by: me }\n')],
    ['a bad label key', stage('    labels: { "-team": shop }\n')],
    ['a numeric label value', stage('    labels: { tier: 1 }\n')],
    ['a bad label value', stage('    labels: { team: "shop floor" }\n')],
    ['a long marker', stage(`    marker: "${'x'.repeat(17)}"\n`)],
    ['a freeze window without times', stage('    freeze:\n      - { reason: x }\n')],
    ['a freeze window with only from', stage('    freeze:\n      - { from: "2026-01-01" }\n')],
    ['a cron without duration', stage('    freeze:\n      - { cron: "0 0 * * *" }\n')],
    [
      'a window mixing shapes',
      stage(
        '    freeze:\n      - { from: "2026-01-01", to: "2026-01-02", cron: "0 0 * * *", duration: 1h }\n',
      ),
    ],
    ['a time that is not RFC 3339', stage('    freeze:\n      - { from: "01/01/2026", to: "2026-01-02" }\n')],
    ['a cron with four fields', stage('    freeze:\n      - { cron: "0 0 * *", duration: 1h }\n')],
    [
      'an unknown freeze key',
      stage('    freeze:\n      - { cron: "0 0 * * *", duration: 1h, timezone: UTC }\n'),
    ],
  ])('refuses %s, as the parser does', (_what, text) => {
    expect(schemaAccepts(text)).toBe(false);
    expect(parserAccepts(text)).toBe(false);
  });

  // What a JSON Schema cannot express: only the parser catches these (editors show them on save via
  // the action, not while typing). Listed so that a schema that learns one of them shows up here.
  it.each([
    ['duplicate stage names', `${stage('')}  - name: dev\n    namespace: dev2\n    manifests: d\n`],
    ['requires naming no stage', stage('    requires: nowhere\n')],
    [
      'a requires cycle',
      `${stage('    requires: b\n')}  - name: b\n    namespace: b\n    manifests: d\n    requires: dev\n`,
    ],
    ['manifests escaping with ..', stage('').replace('manifests: deploy/dev', 'manifests: ../deploy')],
    [
      'an unknown time zone',
      stage('    freeze:\n      - { cron: "0 0 * * *", duration: 1h, tz: Mars/Base }\n'),
    ],
    ['an out-of-range cron field', stage('    freeze:\n      - { cron: "0 24 * * *", duration: 1h }\n')],
    [
      'a window ending before it starts',
      stage('    freeze:\n      - { from: "2026-01-02", to: "2026-01-01" }\n'),
    ],
    ['a zero duration', stage('    timeout: 0s\n')],
  ])('leaves %s to the parser', (_what, text) => {
    expect(schemaAccepts(text)).toBe(true);
    expect(parserAccepts(text)).toBe(false);
  });
});
