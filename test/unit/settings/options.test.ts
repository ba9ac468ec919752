import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { actionContext } from '../../../src/app/context.js';
import { actionInputs, prepareAction } from '../../../src/main.js';
import { SettingsError } from '../../../src/settings/inputs.js';
import { parsePreviewOptions } from '../../../src/settings/preview.js';
import { pullRequestEvent, webhookExample } from '../../support/action.js';

function eventFile(payload: unknown): string {
  const p = join(mkdtempSync(join(tmpdir(), 'kubestage-settings-')), 'event.json');
  writeFileSync(p, JSON.stringify(payload));
  return p;
}

const prPayload = pullRequestEvent({
  action: 'synchronize',
  repo: 'acme/shop',
  number: 3,
  headSha: 'f'.repeat(40),
  headRef: 'feat/x',
});

function env(overrides: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  return {
    GITHUB_REPOSITORY: 'acme/shop',
    GITHUB_EVENT_NAME: 'pull_request',
    GITHUB_EVENT_PATH: eventFile(prPayload),
    GITHUB_RUN_ID: '9',
    ...overrides,
  };
}

function inputs(given: Record<string, string>, e: NodeJS.ProcessEnv) {
  const all: Record<string, string> = {
    command: 'preview',
    domain: 'preview.example.com',
    'github-token': 't',
    ...given,
  };
  return actionInputs((n) => all[n] ?? '', e);
}

/** What main.ts validates before any API call: command, context, the command's options. */
function validate(given: Record<string, string>, overrides: Record<string, string | undefined> = {}) {
  const e = env(overrides);
  return prepareAction(inputs(given, e), e);
}

/** The run context and preview options of a pull_request run. */
function settings(given: Record<string, string>, overrides: Record<string, string | undefined> = {}) {
  const e = env(overrides);
  const input = inputs(given, e);
  const ctx = actionContext(input, e);
  return { ...parsePreviewOptions(input, ctx), ...ctx, event: ctx.event };
}

test('defaults follow action.yml and the PR head (not the merge commit) comes from the event', () => {
  const s = settings({});
  expect(s).toMatchObject({
    manifests: 'k8s',
    naming: {
      namespaceTemplate: 'pr-{number}',
      hostTemplate: '{namespace}.{domain}',
      deploymentEnvironment: 'preview',
      domain: 'preview.example.com',
    },
    waitTimeoutSeconds: 300,
    ttlSeconds: 7 * 86400,
    comment: true,
    deployment: true,
    owner: 'acme',
    repo: 'shop',
    runUrl: 'https://github.com/acme/shop/actions/runs/9',
  });
  expect(s.event).toMatchObject({
    name: 'pull_request',
    action: 'synchronize',
    prNumber: 3,
    headSha: 'f'.repeat(40),
    headRef: 'feat/x',
  });
});

test.each([
  [
    { command: 'ship' },
    {},
    'Unknown command "ship". Valid commands: preview, cleanup, status, deploy, plan, promote, rollback',
  ],
  [{ command: '' }, {}, 'The `command` input is required'],
  [{ comment: 'maybe' }, {}, 'The `comment` input is "maybe"; expected true or false.'],
  [
    { manifests: '/etc/k8s' },
    {},
    'The `manifests` input "/etc/k8s" must be a directory inside the workspace',
  ],
  [{ manifests: '../other-repo/k8s' }, {}, 'must be a directory inside the workspace'],
  [{ 'health-path': 'healthz' }, {}, 'The `health-path` input "healthz" must start with "/"'],
  [
    { domain: '' },
    {},
    'The `domain` input is empty, but `host-template` "{namespace}.{domain}" uses {domain}',
  ],
  [{ 'github-token': '' }, {}, 'No GitHub token'],
  [{ 'wait-timeout': 'soon' }, {}, 'wait-timeout'],
  [{ 'wait-timeout': '0' }, {}, 'The `wait-timeout` input is "0"; it must be longer than 0'],
  [
    { 'namespace-template': 'pr-{number}-{sha7}' },
    {},
    'uses {sha7}, which would make a new namespace on every push',
  ],
  [
    { 'namespace-template': 'previews' },
    {},
    'contains neither {number} nor {branch}, so every PR would share one namespace',
  ],
  [
    { 'pod-security': 'lenient' },
    {},
    'The `pod-security` input is "lenient"; expected one of privileged, baseline, restricted',
  ],
  [
    { allow: 'load-balancer\nhost-network' },
    {},
    'The `allow` input: "host-network" is not something a preview can be allowed; valid values: node-port, load-balancer,',
  ],
  [{ allow: 'cluster-role:admin' }, {}, 'The `allow` input: "cluster-role:admin" cannot be allowed'],
  [{}, { GITHUB_REPOSITORY: '' }, 'GITHUB_REPOSITORY is "", expected "owner/repo"'],
  [{}, { GITHUB_EVENT_NAME: 'push' }, 'triggered by the "push" event, which carries no pull request'],
  [
    { images: 'web:latest=ghcr.io/acme/web' },
    {},
    'images, line 1 "web:latest=ghcr.io/acme/web": NAME "web:latest" carries a tag',
  ],
  [{ ttl: '400d' }, {}, 'The `ttl` input is "400d"; it may be at most 366 days'],
  [{ 'wait-timeout': '400d' }, {}, 'The `wait-timeout` input is "400d"; it may be at most 366 days'],
  [
    {},
    { GITHUB_EVENT_NAME: 'workflow_dispatch', GITHUB_EVENT_PATH: eventFile({ inputs: {} }) },
    'needs the pull request number',
  ],
  [
    { 'pr-number': 'abc' },
    { GITHUB_EVENT_NAME: 'workflow_dispatch', GITHUB_EVENT_PATH: eventFile({}) },
    'The `pr-number` input is "abc"',
  ],
  [
    {},
    { GITHUB_EVENT_PATH: '/nonexistent/event.json' },
    'Could not read the event payload at GITHUB_EVENT_PATH "/nonexistent/event.json"',
  ],
])('bad input %j %j is refused before any API call: %s', (given, overrides, message) => {
  expect(() => validate(given, overrides)).toThrow(SettingsError);
  expect(() => validate(given, overrides)).toThrow(message);
});

test('cleanup needs no domain', () => {
  expect(validate({ command: 'cleanup', domain: '' }).name).toBe('cleanup');
});

test('status runs from any event, a push or a schedule too', () => {
  for (const name of ['push', 'schedule', 'deployment']) {
    const v = validate(
      { command: 'status' },
      { GITHUB_EVENT_NAME: name, GITHUB_EVENT_PATH: eventFile({}), GITHUB_SHA: 'c'.repeat(40) },
    );
    expect(v.ctx.event).toMatchObject({ name, headSha: 'c'.repeat(40) });
  }
});

test('the github-token input falls back to $GITHUB_TOKEN', () => {
  expect(() => validate({ 'github-token': '' }, { GITHUB_TOKEN: 'from-env' })).not.toThrow();
});

test('workflow_run takes the PR from the payload when GitHub lists it, else leaves it to the API lookup', () => {
  const payload = webhookExample('workflow_run', 'completed');
  const run = payload.workflow_run as Record<string, unknown>;
  run.head_sha = 'e'.repeat(40);
  run.pull_requests = [{ number: 12, head: { sha: 'e'.repeat(40), ref: 'x' } }];
  expect(
    validate({}, { GITHUB_EVENT_NAME: 'workflow_run', GITHUB_EVENT_PATH: eventFile(payload) }).ctx.event,
  ).toMatchObject({
    prNumber: 12,
    headSha: 'e'.repeat(40),
  });
  run.pull_requests = [];
  const fork = validate({}, { GITHUB_EVENT_NAME: 'workflow_run', GITHUB_EVENT_PATH: eventFile(payload) }).ctx
    .event;
  expect(fork.prNumber).toBeUndefined();
  expect(fork.headSha).toBe('e'.repeat(40));
});

test('workflow_dispatch takes the PR number from the input or the dispatch inputs', () => {
  const dispatch = {
    GITHUB_EVENT_NAME: 'workflow_dispatch',
    GITHUB_EVENT_PATH: eventFile({ inputs: { 'pr-number': '44' } }),
  };
  expect(validate({}, dispatch).ctx.event.prNumber).toBe(44);
  expect(validate({ 'pr-number': '#45' }, dispatch).ctx.event.prNumber).toBe(45);
});
