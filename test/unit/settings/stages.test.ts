import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  loadStagesConfig,
  parseStagesConfig,
  stageNamed,
  StagesConfigError,
  type StagesConfig,
} from '../../../src/settings/stages.js';
import { ISSUE_EXAMPLE } from './stages-example.js';

const FILE = '.github/kubestage.yml';

/** A stage block with the three required keys, for building bad files. */
const stage = (name: string, extra = ''): string =>
  `  - name: ${name}\n    namespace: ${name}\n    manifests: deploy/${name}\n${extra}`;

function errorOf(text: string): StagesConfigError {
  try {
    parseStagesConfig(text, FILE);
  } catch (e) {
    if (e instanceof StagesConfigError) return e;
    throw e;
  }
  throw new Error('expected the configuration to be refused');
}

describe('parseStagesConfig', () => {
  it("reads the issue's example with every default filled in", () => {
    const config = parseStagesConfig(ISSUE_EXAMPLE, FILE);
    expect(config.file).toBe(FILE);
    expect(config.stages.map((s) => [s.name, s.requires, s.protected])).toEqual([
      ['development', undefined, false],
      ['testing', 'development', true],
      ['production', 'testing', true],
    ]);
    const [dev, , prod] = config.stages;
    expect(dev).toEqual({
      name: 'development',
      githubEnvironment: 'development',
      namespace: 'development',
      manifests: 'deploy/overlays/development',
      url: 'https://dev.shop.example.com',
      protected: false,
      smoke: [
        { method: 'GET', path: '/healthz', status: 200, requests: 1, p95Ms: 500, timeoutMs: 10_000 },
        { method: 'GET', path: '/api/products', status: 200, requests: 20, p95Ms: 500, timeoutMs: 10_000 },
      ],
      freeze: [],
      timeoutMs: 600_000,
      history: 10,
      autoRollback: true,
      labels: {},
      injectEnvironment: true,
      podSecurity: 'baseline',
    });
    expect(prod.freeze).toEqual([
      { reason: 'holidays', from: new Date('2026-12-24T00:00:00Z'), to: new Date('2026-12-27T00:00:00Z') },
      { reason: 'weekend', cron: '0 16 * * 5', durationMs: 64 * 3_600_000 },
    ]);
  });

  it('reads every optional key', () => {
    const config = parseStagesConfig(
      `# yaml-language-server: $schema=../schema/kubestage.schema.json
$schema: ../schema/kubestage.schema.json
environments:
  - name: dev
    namespace: shop-dev
    manifests: ./deploy/overlays/../dev/
    github-environment: Development
    url: http://dev.shop.example.com:8080/shop/
    protected: true
    timeout: 1h30m
    history: 100
    auto-rollback: false
    labels: { team: shop, example.com/cost-center: "42", empty: "" }
    marker: "🧪"
    inject-environment: false
    pod-security: restricted
    smoke:
      - { path: "/api?limit=5", method: HEAD, status: 302, requests: 1000, p95-ms: 1, timeout: 90 }
      - { path: /healthz, body: ok, timeout: 2m }
    freeze:
      - { from: "2026-12-24", to: "2026-12-27T12:00", tz: Europe/Berlin }
      - { from: "2026-12-31T23:00:00+01:00", to: "2027-01-01T01:00:00.5Z" }
      - { cron: "0 18 * * fri", duration: 2d14h, tz: America/New_York }
  - name: prod
    namespace: shop-prod
    manifests: deploy/prod
    requires: dev
    protected: false
`,
      FILE,
    );
    const [dev, prod] = config.stages;
    expect(dev).toMatchObject({
      githubEnvironment: 'Development',
      manifests: 'deploy/dev',
      url: 'http://dev.shop.example.com:8080/shop',
      protected: true,
      timeoutMs: 5_400_000,
      history: 100,
      autoRollback: false,
      labels: { team: 'shop', 'example.com/cost-center': '42', empty: '' },
      marker: '🧪',
      injectEnvironment: false,
      podSecurity: 'restricted',
    });
    expect(dev.smoke).toEqual([
      { method: 'HEAD', path: '/api?limit=5', status: 302, requests: 1000, p95Ms: 1, timeoutMs: 90_000 },
      {
        method: 'GET',
        path: '/healthz',
        status: 200,
        requests: 1,
        p95Ms: 500,
        body: 'ok',
        timeoutMs: 120_000,
      },
    ]);
    expect(dev.freeze).toEqual([
      // Times without an offset are Berlin wall-clock time (CET, UTC+1 in December).
      {
        reason: 'freeze 2026-12-23T23:00:00.000Z → 2026-12-27T11:00:00.000Z',
        tz: 'Europe/Berlin',
        from: new Date('2026-12-23T23:00:00Z'),
        to: new Date('2026-12-27T11:00:00Z'),
      },
      {
        reason: 'freeze 2026-12-31T22:00:00.000Z → 2027-01-01T01:00:00.500Z',
        from: new Date('2026-12-31T22:00:00Z'),
        to: new Date('2027-01-01T01:00:00.500Z'),
      },
      {
        reason: 'freeze (cron "0 18 * * fri")',
        tz: 'America/New_York',
        cron: '0 18 * * fri',
        durationMs: 62 * 3_600_000,
      },
    ]);
    expect(prod).toMatchObject({ requires: 'dev', protected: false, githubEnvironment: 'prod' });
    expect(prod.url).toBeUndefined();
  });

  // Each bad file and the exact line a user reads: file:line:col: key path: what is wrong, what to write.
  it.each([
    [
      'a smoke method that writes',
      `environments:\n${stage('dev', '    url: https://dev.example.com\n    smoke:\n      - { path: /x, method: POST }\n')}`,
      `${FILE}:7:29: environments[0].smoke[0].method: "POST" is not allowed; smoke checks are read-only: use GET or HEAD`,
    ],
    [
      'a lower-case method',
      `environments:\n${stage('dev', '    url: https://dev.example.com\n    smoke:\n      - path: /x\n        method: get\n')}`,
      `${FILE}:8:17: environments[0].smoke[0].method: "get" is not allowed; smoke checks are read-only: use GET or HEAD (upper case: "GET")`,
    ],
    [
      'a misspelt key',
      `environments:\n${stage('dev', '    url: https://dev.example.com\n    smoke:\n      - { path: /x, p95: 300 }\n')}`,
      `${FILE}:7:21: environments[0].smoke[0].p95: unknown key "p95"; did you mean p95-ms? (known keys here: path, method, status, requests, p95-ms, body, timeout)`,
    ],
    [
      'a camel-cased key',
      `environments:\n${stage('dev', '    autoRollback: false\n')}`,
      `${FILE}:5:5: environments[0].autoRollback: unknown key "autoRollback"; did you mean auto-rollback?`,
    ],
    [
      'an unknown top-level key',
      `environment:\n${stage('dev')}`,
      `${FILE}:1:1: environment: unknown key "environment"; did you mean environments?`,
    ],
    [
      'an empty file',
      '',
      `${FILE}:1:1: environments: is missing (the file is empty); list the stages in promotion order`,
    ],
    [
      'an empty list',
      'environments: []\n',
      `${FILE}:1:15: environments: is an empty list; expected a list of stages`,
    ],
    [
      'a missing namespace',
      'environments:\n  - name: dev\n    manifests: deploy/dev\n',
      `${FILE}:2:5: environments[0].namespace: is missing; every stage needs namespace (e.g. namespace: dev)`,
    ],
    [
      'a stage name that is not a DNS label',
      'environments:\n  - name: Dev_Stage\n    namespace: dev\n    manifests: deploy\n',
      `${FILE}:2:11: environments[0].name: "Dev_Stage" is not a DNS label: use 1–63 lower-case letters, digits and "-", starting and ending with a letter or digit (e.g. "dev-stage")`,
    ],
    [
      'the kube-system namespace',
      'environments:\n  - name: dev\n    namespace: kube-system\n    manifests: deploy\n',
      `${FILE}:3:16: environments[0].namespace: "kube-system" is a namespace Kubernetes itself uses; give the stage its own (e.g. "dev")`,
    ],
    [
      'the default namespace',
      'environments:\n  - name: dev\n    namespace: default\n    manifests: deploy\n',
      `${FILE}:3:16: environments[0].namespace: "default" is a namespace Kubernetes itself uses`,
    ],
    [
      'manifests outside the repository',
      'environments:\n  - name: dev\n    namespace: dev\n    manifests: deploy/../../other\n',
      `${FILE}:4:16: environments[0].manifests: "deploy/../../other" leads outside the repository`,
    ],
    [
      'absolute manifests',
      'environments:\n  - name: dev\n    namespace: dev\n    manifests: /srv/deploy\n',
      `${FILE}:4:16: environments[0].manifests: "/srv/deploy" is an absolute path; write it relative to the repository root`,
    ],
    [
      'a url with credentials',
      `environments:\n${stage('dev', '    url: https://user:secret@dev.example.com\n')}`,
      `${FILE}:5:10: environments[0].url: "https://user:secret@dev.example.com" has credentials in it`,
    ],
    [
      'a url that is not http',
      `environments:\n${stage('dev', '    url: ftp://dev.example.com\n')}`,
      `${FILE}:5:10: environments[0].url: "ftp://dev.example.com" uses ftp:; only http and https are allowed`,
    ],
    [
      'a url with a query',
      `environments:\n${stage('dev', '    url: https://dev.example.com/?x=1\n')}`,
      `${FILE}:5:10: environments[0].url: "https://dev.example.com/?x=1" has a query string`,
    ],
    [
      'smoke checks without a url',
      `environments:\n${stage('dev', '    smoke:\n      - path: /healthz\n')}`,
      `${FILE}:5:5: environments[0].smoke: smoke checks need the stage's url to send requests to; add url: https://… to this stage, or remove smoke`,
    ],
    [
      'a smoke path without a slash',
      `environments:\n${stage('dev', '    url: https://dev.example.com\n    smoke:\n      - path: healthz\n')}`,
      `${FILE}:7:15: environments[0].smoke[0].path: "healthz" is not a path on the stage's url: start it with a single "/"`,
    ],
    [
      'too many requests',
      `environments:\n${stage('dev', '    url: https://dev.example.com\n    smoke:\n      - { path: /x, requests: 5000 }\n')}`,
      `${FILE}:7:31: environments[0].smoke[0].requests: 5000 is out of range; expected the number of requests from 1 to 1000`,
    ],
    [
      'a status as text',
      `environments:\n${stage('dev', '    url: https://dev.example.com\n    smoke:\n      - { path: /x, status: ok }\n')}`,
      `${FILE}:7:29: environments[0].smoke[0].status: "ok" is text; expected an HTTP status, a whole number from 100 to 599`,
    ],
    [
      'a body check on HEAD',
      `environments:\n${stage('dev', '    url: https://dev.example.com\n    smoke:\n      - { path: /x, method: HEAD, body: ok }\n')}`,
      `${FILE}:7:35: environments[0].smoke[0].body: a HEAD answer has no body to check; use method: GET, or remove body`,
    ],
    [
      'a per-request timeout over 10 minutes',
      `environments:\n${stage('dev', '    url: https://dev.example.com\n    smoke:\n      - { path: /x, timeout: 1h }\n')}`,
      `${FILE}:7:30: environments[0].smoke[0].timeout: "1h" is out of range; expected a duration longer than 0 and at most 600s`,
    ],
    [
      'a fractional timeout',
      `environments:\n${stage('dev', '    timeout: 1.5h\n')}`,
      `${FILE}:5:14: environments[0].timeout: "1.5h" is not a duration: fractions are not supported, use a smaller unit (1h30m, not 1.5h).`,
    ],
    [
      'a zero timeout',
      `environments:\n${stage('dev', '    timeout: 0s\n')}`,
      `${FILE}:5:14: environments[0].timeout: "0s" is out of range; expected a duration longer than 0 and at most 366 days`,
    ],
    [
      'history out of range',
      `environments:\n${stage('dev', '    history: 0\n')}`,
      `${FILE}:5:14: environments[0].history: 0 is out of range; expected the number of revisions to keep from 1 to 100`,
    ],
    [
      'a YAML 1.1 boolean',
      `environments:\n${stage('dev', '    auto-rollback: yes\n')}`,
      `${FILE}:5:20: environments[0].auto-rollback: "yes" is text; expected true or false`,
    ],
    [
      'an unknown pod security level',
      `environments:\n${stage('dev', '    pod-security: strict\n')}`,
      `${FILE}:5:19: environments[0].pod-security: "strict" is not allowed; use one of privileged, baseline, restricted`,
    ],
    [
      'a label under kubestage.dev/',
      `environments:\n${stage('dev', '    labels:\n      kubestage.dev/environment: prod\n')}`,
      `${FILE}:6:7: environments[0].labels["kubestage.dev/environment"]: "kubestage.dev/environment" is under kubestage.dev/, which kubestage sets itself`,
    ],
    [
      'the managed-by label',
      `environments:\n${stage('dev', '    labels:\n      app.kubernetes.io/managed-by: helm\n')}`,
      `${FILE}:6:7: environments[0].labels["app.kubernetes.io/managed-by"]: "app.kubernetes.io/managed-by" is set by kubestage to "kubestage"`,
    ],
    [
      'a label key with a space',
      `environments:\n${stage('dev', '    labels:\n      "cost center": shop\n')}`,
      `${FILE}:6:7: environments[0].labels["cost center"]: "cost center" is not a label key`,
    ],
    [
      'a numeric label value',
      `environments:\n${stage('dev', '    labels:\n      tier: 1\n')}`,
      `${FILE}:6:13: environments[0].labels.tier: 1 is a number; label values are text: quote it ("1")`,
    ],
    [
      'a label value that is too long',
      `environments:\n${stage('dev', `    labels:\n      team: ${'a'.repeat(64)}\n`)}`,
      `${FILE}:6:13: environments[0].labels.team: "${'a'.repeat(64)}" is not a label value: at most 63 letters`,
    ],
    [
      'a long marker',
      `environments:\n${stage('dev', '    marker: "[development stage]"\n')}`,
      `${FILE}:5:13: environments[0].marker: "[development stage]" is too long or has control characters; a marker is at most 16 characters`,
    ],
    [
      'an invalid cron naming the field',
      `environments:\n${stage('dev', '    freeze:\n      - { cron: "0 16 * * 9", duration: 1h }\n')}`,
      `${FILE}:6:17: environments[0].freeze[0].cron: cron "0 16 * * 9": the day-of-week field "9" has 9, out of range 0–7 (0 and 7 are both Sunday)`,
    ],
    [
      'an unquoted cron starting with *',
      `environments:\n${stage('dev', '    freeze:\n      - cron: * * * * *\n        duration: 1h\n')}`,
      `${FILE}:6:15: invalid YAML:`,
    ],
    [
      'a cron without a duration',
      `environments:\n${stage('dev', '    freeze:\n      - { cron: "0 16 * * 5" }\n')}`,
      `${FILE}:6:9: environments[0].freeze[0].duration: is missing; a window has either from + to`,
    ],
    [
      'a window mixing both shapes',
      `environments:\n${stage('dev', '    freeze:\n      - { from: "2026-01-01", to: "2026-01-02", cron: "0 0 * * *", duration: 1h }\n')}`,
      `${FILE}:6:11: environments[0].freeze[0]: mixes from/to with cron/duration`,
    ],
    [
      'a window that ends before it starts',
      `environments:\n${stage('dev', '    freeze:\n      - { from: "2026-12-27T00:00:00Z", to: "2026-12-24T00:00:00Z" }\n')}`,
      `${FILE}:6:45: environments[0].freeze[0].to: "2026-12-24T00:00:00.000Z" is not after from ("2026-12-27T00:00:00.000Z"); a window must end after it starts`,
    ],
    [
      'an impossible date',
      `environments:\n${stage('dev', '    freeze:\n      - { from: "2026-02-30T00:00:00Z", to: "2026-03-02T00:00:00Z" }\n')}`,
      `${FILE}:6:17: environments[0].freeze[0].from: "2026-02-30T00:00:00Z" is not a calendar time (a field is out of range)`,
    ],
    [
      'a time that is not RFC 3339',
      `environments:\n${stage('dev', '    freeze:\n      - { from: "24.12.2026", to: "2026-12-27" }\n')}`,
      `${FILE}:6:17: environments[0].freeze[0].from: "24.12.2026" is not a time; expected an RFC 3339 time such as "2026-12-24T00:00:00Z"`,
    ],
    [
      'an unknown time zone',
      `environments:\n${stage('dev', '    freeze:\n      - { cron: "0 16 * * 5", duration: 64h, tz: Europe/Atlantis }\n')}`,
      `${FILE}:6:50: environments[0].freeze[0].tz: "Europe/Atlantis" is not a time zone; use an IANA name such as "Europe/Berlin"`,
    ],
    [
      'requires naming a missing stage',
      `environments:\n${stage('dev')}${stage('prod', '    requires: test\n')}`,
      `${FILE}:8:15: environments[1].requires: "test" is not a stage in this file; (stages: dev, prod)`,
    ],
    [
      'requires with a typo',
      `environments:\n${stage('development')}${stage('prod', '    requires: developmnet\n')}`,
      `${FILE}:8:15: environments[1].requires: "developmnet" is not a stage in this file; did you mean development? (stages: development, prod)`,
    ],
    [
      'a stage requiring itself',
      `environments:\n${stage('dev', '    requires: dev\n')}`,
      `${FILE}:5:15: environments[0].requires: "dev" is this stage itself`,
    ],
    [
      'a cycle',
      `environments:\n${stage('a', '    requires: b\n')}${stage('b', '    requires: a\n')}`,
      `${FILE}:5:15: environments[0].requires: "b" makes a cycle (a → b → a); the first stage must not have requires`,
    ],
    [
      'two stages with one namespace',
      `environments:\n${stage('dev')}  - name: test\n    namespace: dev\n    manifests: deploy/test\n`,
      `${FILE}:6:16: environments[1].namespace: "dev" is already the namespace of stage "dev"; each stage needs its own`,
    ],
    [
      'two stages with one name',
      `environments:\n${stage('dev')}  - name: dev\n    namespace: dev2\n    manifests: deploy/test\n`,
      `${FILE}:5:11: environments[1].name: "dev" is already the name of stage "dev"; each stage needs its own`,
    ],
    [
      'GitHub environments differing only in case',
      `environments:\n${stage('dev', '    github-environment: Shop\n')}${stage('prod', '    github-environment: shop\n')}`,
      `${FILE}:9:25: environments[1].github-environment: "shop" is already the GitHub environment of stage "dev" (GitHub environment names ignore case)`,
    ],
    [
      'a duplicated key',
      'environments:\n  - name: dev\n    name: dev2\n    namespace: dev\n    manifests: deploy\n',
      `${FILE}:3:5: invalid YAML: Map keys must be unique`,
    ],
  ])('refuses %s with the line, key and fix', (_what, text, expected) => {
    const error = errorOf(text);
    expect(error.problems[0]).toContain(expected);
    expect(error.message).toContain(expected);
  });

  it('reports every problem at once, in file order', () => {
    const error = errorOf(
      `environments:\n${stage('dev', '    history: 500\n    url: https://dev.example.com\n    smoke:\n      - { path: /x, method: PUT }\n')}${stage('prod', '    requires: dev\n    protected: maybe\n')}`,
    );
    expect(error.message.split('\n')[0]).toBe(`${FILE} has 3 problems:`);
    expect(error.problems).toEqual([
      `${FILE}:5:14: environments[0].history: 500 is out of range; expected the number of revisions to keep from 1 to 100`,
      `${FILE}:8:29: environments[0].smoke[0].method: "PUT" is not allowed; smoke checks are read-only: use GET or HEAD`,
      `${FILE}:13:16: environments[1].protected: "maybe" is text; expected true or false`,
    ]);
  });

  it('shows a minimal example when environments is missing', () => {
    const error = errorOf('$schema: x\n');
    expect(error.message).toContain(
      `${FILE}:1:1: environments: is missing; list the stages in promotion order, e.g.\nenvironments:\n  - name: development`,
    );
    // The example it shows is itself a valid configuration.
    const example = error.message.slice(error.message.indexOf('environments:\n'));
    expect(parseStagesConfig(example, FILE).stages.map((s) => s.name)).toEqual(['development', 'production']);
  });
});

describe('stageNamed', () => {
  const config: StagesConfig = parseStagesConfig(ISSUE_EXAMPLE, FILE);

  it('finds a stage by name', () => {
    expect(stageNamed(config, 'testing').namespace).toBe('testing');
  });

  it('lists the stages there are for an unknown name', () => {
    expect(() => stageNamed(config, 'qa')).toThrow(
      'There is no stage "qa" in .github/kubestage.yml. The stages there are: development, testing, production.',
    );
    expect(() => stageNamed(config, 'prod')).toThrow(
      'There is no stage "prod" in .github/kubestage.yml; did you mean "production"? The stages there are: development, testing, production.',
    );
  });
});

describe('loadStagesConfig', () => {
  let workspace: string;
  beforeEach(async () => {
    workspace = await mkdtemp(join(tmpdir(), 'kubestage-stages-'));
  });
  afterEach(async () => {
    await rm(workspace, { recursive: true, force: true });
  });

  it('reads .github/kubestage.yml from the workspace and names it in errors', async () => {
    await mkdir(join(workspace, '.github'));
    await writeFile(join(workspace, '.github/kubestage.yml'), ISSUE_EXAMPLE);
    const config = await loadStagesConfig(workspace);
    expect(config.file).toBe('.github/kubestage.yml');
    expect(config.stages).toHaveLength(3);

    await writeFile(join(workspace, 'stages.yml'), 'environments:\n  - name: dev\n');
    await expect(loadStagesConfig(workspace, 'stages.yml')).rejects.toThrow(
      'stages.yml:2:5: environments[0].namespace: is missing',
    );
  });

  it('says where it looked, with an example, when the file is missing', async () => {
    const error = await loadStagesConfig(workspace).catch((e: Error) => e);
    expect(error).toBeInstanceOf(StagesConfigError);
    expect((error as Error).message).toContain(
      `No stage configuration: looked for .github/kubestage.yml in the workspace (${join(workspace, '.github/kubestage.yml')})`,
    );
    expect((error as Error).message).toContain(
      'environments:\n  - name: development\n    namespace: development',
    );
  });

  it('refuses a path outside the workspace, directly or through a link', async () => {
    await expect(loadStagesConfig(workspace, '../kubestage.yml')).rejects.toThrow(
      'The stage configuration path "../kubestage.yml" leads outside the workspace',
    );
    await expect(loadStagesConfig(workspace, '/etc/passwd')).rejects.toThrow('leads outside the workspace');
    const outside = await mkdtemp(join(tmpdir(), 'kubestage-outside-'));
    try {
      await writeFile(join(outside, 'kubestage.yml'), ISSUE_EXAMPLE);
      await symlink(join(outside, 'kubestage.yml'), join(workspace, 'linked.yml'));
      await expect(loadStagesConfig(workspace, 'linked.yml')).rejects.toThrow(
        `The stage configuration "linked.yml" is a link to ${join(outside, 'kubestage.yml')}, outside the workspace`,
      );
    } finally {
      await rm(outside, { recursive: true, force: true });
    }
  });

  it('says so when the path is a directory', async () => {
    await mkdir(join(workspace, '.github/kubestage.yml'), { recursive: true });
    await expect(loadStagesConfig(workspace)).rejects.toThrow('is a directory; it must be a YAML file');
  });
});
