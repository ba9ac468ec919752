import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readSettings, SettingsError } from '../../src/settings.js';
import { pullRequestEvent, webhookExample } from '../support/action.js';

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

function settings(inputs: Record<string, string>, env: Record<string, string | undefined> = {}) {
  const all = { command: 'preview', domain: 'preview.example.com', 'github-token': 't', ...inputs };
  return readSettings((n) => all[n as keyof typeof all] ?? '', {
    GITHUB_REPOSITORY: 'acme/shop',
    GITHUB_EVENT_NAME: 'pull_request',
    GITHUB_EVENT_PATH: eventFile(prPayload),
    GITHUB_RUN_ID: '9',
    ...env,
  });
}

test('defaults follow action.yml and the PR head (not the merge commit) comes from the event', () => {
  const s = settings({});
  expect(s).toMatchObject({
    command: 'preview',
    manifests: 'k8s',
    namespaceTemplate: 'pr-{number}',
    hostTemplate: 'pr-{number}.{domain}',
    waitTimeoutSeconds: 300,
    ttlSeconds: 7 * 86400,
    comment: true,
    deployment: true,
    deploymentEnvironment: 'preview',
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
  [{ command: 'deploy' }, {}, 'Unknown command "deploy". Valid commands: preview, cleanup'],
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
    'The `domain` input is empty, but `host-template` "pr-{number}.{domain}" uses {domain}',
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
  [{}, { GITHUB_REPOSITORY: '' }, 'GITHUB_REPOSITORY is "", expected "owner/repo"'],
  [{}, { GITHUB_EVENT_NAME: 'push' }, 'triggered by the "push" event, which carries no pull request'],
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
])('bad input %j %j is refused: %s', (inputs, env, message) => {
  expect(() => settings(inputs, env)).toThrow(SettingsError);
  expect(() => settings(inputs, env)).toThrow(message);
});

test('cleanup needs no domain', () => {
  expect(settings({ command: 'cleanup', domain: '' }).command).toBe('cleanup');
});

test('workflow_run takes the PR from the payload when GitHub lists it, else leaves it to the API lookup', () => {
  const payload = webhookExample('workflow_run', 'completed');
  const run = payload.workflow_run as Record<string, unknown>;
  run.head_sha = 'e'.repeat(40);
  run.pull_requests = [{ number: 12, head: { sha: 'e'.repeat(40), ref: 'x' } }];
  expect(
    settings({}, { GITHUB_EVENT_NAME: 'workflow_run', GITHUB_EVENT_PATH: eventFile(payload) }).event,
  ).toMatchObject({
    prNumber: 12,
    headSha: 'e'.repeat(40),
  });
  run.pull_requests = [];
  const fork = settings(
    {},
    { GITHUB_EVENT_NAME: 'workflow_run', GITHUB_EVENT_PATH: eventFile(payload) },
  ).event;
  expect(fork.prNumber).toBeUndefined();
  expect(fork.headSha).toBe('e'.repeat(40));
});

test('workflow_dispatch takes the PR number from the input or the dispatch inputs', () => {
  const env = {
    GITHUB_EVENT_NAME: 'workflow_dispatch',
    GITHUB_EVENT_PATH: eventFile({ inputs: { 'pr-number': '44' } }),
  };
  expect(settings({}, env).event.prNumber).toBe(44);
  expect(settings({ 'pr-number': '#45' }, env).event.prNumber).toBe(45);
});
