// Lifecycle hooks end to end over the emulators: Jobs annotated kubestage.dev/hook run before the
// workloads (pre-deploy), after they are ready (post-deploy) and before cleanup deletes the namespace
// (pre-delete); what a user sees on the PR, in the summary and in the cluster.
import { cpSync } from 'node:fs';
import { join } from 'node:path';
import { planHooks, recordedPreDeleteHooks } from '../../src/steps/hooks.js';
import { pullRequestEvent, repoRoot } from '../support/action.js';
import { type Bed, EXAMPLE_IMAGES, REPO, SHA_A, SHA_B, startBed } from '../support/bed.js';
import { appManifests, makeWorkspace, writeFiles } from '../support/workspace.js';

let bed: Bed;
beforeEach(async () => {
  bed = await startBed();
});
afterEach(async () => {
  expect(bed.github.invalidRequests()).toEqual([]);
  await bed.close();
});

/** The database password of the render: must never be shown. */
const PASSWORD = 'Xk9-pw-7f3d2a91-secret';

const SECRET = `apiVersion: v1
kind: Secret
metadata: { name: db }
stringData: { password: ${PASSWORD} }
`;

/** A hook Job; the emulator's container prints its args ($(VAR) expanded from env) and fails on a `crash` image. */
function hookJob(name: string, phase: string, image: string, args: string[]): string {
  return `---
apiVersion: batch/v1
kind: Job
metadata:
  name: ${name}
  annotations: { kubestage.dev/hook: ${phase} }
spec:
  backoffLimit: 0
  template:
    spec:
      restartPolicy: Never
      containers:
        - name: ${name}
          image: ${image}
          env: [{ name: PGPASSWORD, valueFrom: { secretKeyRef: { name: db, key: password } } }]
          args: ${JSON.stringify(args)}
`;
}

const MIGRATE_OK = hookJob('migrate', 'pre-deploy', 'example/migrate:1', [
  'connecting to db with password $(PGPASSWORD)',
  'migrated 3 tables',
]);

function workspace(...hooks: string[]): string {
  return makeWorkspace(appManifests({ extra: SECRET + hooks.join('') }));
}

function openPull(number: number, headSha = SHA_A) {
  bed.github.state.addPull({
    repo: REPO,
    number,
    headSha,
    headRef: `feature/${number}`,
    title: `PR ${number}`,
  });
}

function event(number: number, action: 'opened' | 'synchronize' | 'closed' = 'opened', headSha = SHA_A) {
  return pullRequestEvent({
    action,
    repo: REPO,
    number,
    headSha,
    headRef: `feature/${number}`,
    title: `PR ${number}`,
  });
}

/** Every object ADDED to `namespace` from now on, as `Kind/name`, in the order the API server stored them. */
function creations(namespace: string): string[] {
  const seen: string[] = [];
  bed.kube.store.subscribe((ev) => {
    if (ev.type === 'ADDED' && ev.object.metadata.namespace === namespace)
      seen.push(`${ev.type_.kind}/${ev.object.metadata.name}`);
  });
  return seen;
}

function preview(ws: string, number: number, extra: Record<string, string> = {}, headSha = SHA_A) {
  return bed.run({
    payload: event(number, headSha === SHA_A ? 'opened' : 'synchronize', headSha),
    workspace: ws,
    inputs: { manifests: 'k8s', ...extra },
  });
}

function everythingShown(r: Awaited<ReturnType<typeof preview>>, pr: number): string {
  return [
    ...bed.markerComments(pr).map((c) => c.body),
    r.result.summary,
    r.result.text,
    JSON.stringify(r.result.json),
  ].join('\n');
}

test('a pre-deploy hook runs to completion after the Secret and before the workloads; its log is in the comment and summary, the password masked', async () => {
  openPull(41);
  const order = creations('pr-41');
  const run = await preview(workspace(MIGRATE_OK), 41);
  expect(run.result.failure).toBeUndefined();
  expect(run.result.ok).toBe(true);

  // The Secret it needs first, then the hook (and its pod), then the app.
  const job = order.indexOf('Job/migrate');
  expect(order.indexOf('Secret/db')).toBeGreaterThanOrEqual(0);
  expect(order.indexOf('Secret/db')).toBeLessThan(job);
  expect(order.indexOf('Deployment/web')).toBeGreaterThan(job);
  expect(order.findIndex((o) => o.startsWith('Pod/migrate-'))).toBeLessThan(order.indexOf('Deployment/web'));
  const live = bed.object('batch/v1', 'Job', 'pr-41', 'migrate')!;
  expect((live.status as { succeeded?: number }).succeeded).toBe(1);
  expect(live.metadata.labels).toMatchObject({
    'app.kubernetes.io/managed-by': 'kubestage',
    'kubestage.dev/instance': 'pr-41',
  });
  // A hook is not a workload to wait for, nor an applied object.
  const json = run.result.json as { workloads: { ref: string }[]; applied: { object: string }[] };
  expect(json.workloads.map((w) => w.ref)).not.toContain('Job/migrate');
  expect(json.applied.map((a) => a.object)).not.toContain('Job/migrate');

  const [comment] = bed.markerComments(41);
  expect(comment.body).toContain('#### Hooks');
  expect(comment.body).toMatch(/\| `Job\/migrate` \| pre-deploy \| ✅ succeeded \| \d/);
  expect(comment.body).toContain('migrated 3 tables');
  expect(comment.body).toContain('connecting to db with password ***');
  expect(run.result.summary).toContain('migrated 3 tables');
  expect(run.result.summary).toContain('<details><summary>Job/migrate (pre-deploy): last');
  expect(everythingShown(run, 41)).not.toContain(PASSWORD);
  expect(run.masked).toContain(PASSWORD);
});

test('a failing pre-deploy hook fails the preview before any workload is applied, with its log tail in the comment', async () => {
  openPull(42);
  const ws = workspace(
    hookJob('migrate', 'pre-deploy', 'example/crash-migrate:1', [
      'connecting with $(PGPASSWORD)',
      'ERROR: relation "orders" already exists',
    ]),
  );
  const run = await preview(ws, 42);
  expect(run.result.ok).toBe(false);
  expect(run.result.failure).toMatch(
    /^The pre-deploy hook Job\/migrate failed: BackoffLimitExceeded: Job has reached the specified backoff limit/,
  );
  expect(bed.object('apps/v1', 'Deployment', 'pr-42', 'web')).toBeUndefined();
  expect(bed.object('v1', 'Secret', 'pr-42', 'db')).toBeDefined(); // what the hook needed was applied

  const [comment] = bed.markerComments(42);
  expect(comment.body).toContain('❌ Preview failed');
  expect(comment.body).toMatch(/\| `Job\/migrate` \| pre-deploy \| ❌ failed: BackoffLimitExceeded/);
  expect(comment.body).toContain('<details open><summary>Job/migrate (pre-deploy): last');
  expect(comment.body).toContain('ERROR: relation "orders" already exists');
  expect(comment.body).toContain('Error: cannot start migrate: simulated crash');
  expect(comment.body).toContain('connecting with ***');
  expect(everythingShown(run, 42)).not.toContain(PASSWORD);
  const [deployment] = bed.github.state.deployments(REPO);
  expect(bed.github.state.deploymentStatuses(REPO, deployment.id).at(-1)?.state).toBe('failure');
});

test('a pre-deploy hook that hangs times out within wait-timeout and the workloads are never applied', async () => {
  openPull(43);
  const ws = workspace(hookJob('migrate', 'pre-deploy', 'example/hang:1', ['waiting for lock on orders']));
  const started = Date.now();
  const run = await preview(ws, 43, { 'wait-timeout': '3' });
  expect(Date.now() - started).toBeLessThan(15_000);
  expect(run.result.ok).toBe(false);
  expect(run.result.failure).toMatch(
    /^The pre-deploy hook Job\/migrate timed out: still running after the run's wait-timeout \(3s in all\)/,
  );
  expect(bed.object('apps/v1', 'Deployment', 'pr-43', 'web')).toBeUndefined();
  const [comment] = bed.markerComments(43);
  expect(comment.body).toContain('⏱️ timed out');
  expect(comment.body).toContain('waiting for lock on orders');
});

test('a failing post-deploy hook fails the preview once the workloads are ready, with its result and log in the comment', async () => {
  openPull(44);
  const ws = workspace(
    MIGRATE_OK,
    hookJob('e2e', 'post-deploy', 'example/crash-e2e-tests:1', [
      'running 12 tests against http://web',
      'FAIL checkout › total includes tax',
      '11 passed, 1 failed',
    ]),
  );
  const order = creations('pr-44');
  const run = await preview(ws, 44);
  expect(run.result.ok).toBe(false);
  expect(run.result.failure).toMatch(/^The post-deploy hook Job\/e2e failed: BackoffLimitExceeded/);
  // It ran after the app was up.
  expect(order.indexOf('Job/e2e')).toBeGreaterThan(order.indexOf('Deployment/web'));
  const web = bed.object('apps/v1', 'Deployment', 'pr-44', 'web')!;
  expect((web.status as { availableReplicas?: number }).availableReplicas).toBe(1);

  const [comment] = bed.markerComments(44);
  expect(comment.body).toMatch(/\| `Job\/migrate` \| pre-deploy \| ✅ succeeded/);
  expect(comment.body).toMatch(/\| `Job\/e2e` \| post-deploy \| ❌ failed/);
  expect(comment.body).toContain('FAIL checkout › total includes tax');
  expect(comment.body).toContain('11 passed, 1 failed');
  expect(run.result.summary).toContain('11 passed, 1 failed');
});

test('hooks run afresh on every push: the previous Job is deleted and a new one created', async () => {
  openPull(45);
  // A Job that is no hook makes prune look at the Job kind, where the hooks of the earlier run are.
  const plainJob = `---
apiVersion: batch/v1
kind: Job
metadata: { name: warm-cache }
spec:
  template:
    spec: { restartPolicy: Never, containers: [{ name: warm, image: example/warm:1 }] }
`;
  const ws = workspace(MIGRATE_OK, hookJob('e2e', 'post-deploy', 'example/e2e:1', ['12 passed']), plainJob);
  const first = await preview(ws, 45);
  expect(first.result.ok).toBe(true);
  const firstUid = bed.object('batch/v1', 'Job', 'pr-45', 'migrate')!.metadata.uid;
  const firstE2e = bed.object('batch/v1', 'Job', 'pr-45', 'e2e')!.metadata.uid;

  bed.github.state.addPull({ repo: REPO, number: 45, headSha: SHA_B, headRef: 'feature/45', title: 'PR 45' });
  const requestsBefore = bed.kube.requests.length;
  const second = await preview(ws, 45, {}, SHA_B);
  expect(second.result.failure).toBeUndefined();
  const again = bed.object('batch/v1', 'Job', 'pr-45', 'migrate')!;
  expect(again.metadata.uid).not.toBe(firstUid);
  expect((again.status as { succeeded?: number }).succeeded).toBe(1);
  const deletes = bed.kube.requests
    .slice(requestsBefore)
    .filter((r) => r.method === 'DELETE' && r.path.includes('/jobs/migrate'));
  expect(deletes).toHaveLength(1);
  // Prune ran (the namespace existed) and kept the hooks of the earlier run: nothing was pruned.
  expect((second.result.json as { pruned: string[] }).pruned).toEqual([]);
  expect(second.log.text()).not.toMatch(/Pruned|Left Job/);
  expect(bed.object('batch/v1', 'Job', 'pr-45', 'e2e')!.metadata.uid).not.toBe(firstE2e);
  expect(bed.markerComments(45)[0].body).toMatch(/\| `Job\/migrate` \| pre-deploy \| ✅ succeeded/);
});

test('cleanup runs the pre-delete hook recorded at preview time before it deletes the namespace', async () => {
  openPull(46);
  const ws = workspace(
    hookJob('drop-schema', 'pre-delete', 'example/psql:16', ['DROP SCHEMA pr_46 CASCADE']),
  );
  const run = await preview(ws, 46);
  expect(run.result.ok).toBe(true);
  // Recorded, not run, at preview time.
  expect(bed.object('batch/v1', 'Job', 'pr-46', 'drop-schema')).toBeUndefined();
  const recorded = bed.object('v1', 'Namespace', undefined, 'pr-46')!.metadata.annotations!;
  expect(JSON.parse(recorded['kubestage.dev/pre-delete-hooks'])[0].metadata.name).toBe('drop-schema');

  const seen: string[] = [];
  bed.kube.store.subscribe((ev) => {
    if (ev.type_.kind === 'Job' && ev.type === 'ADDED') seen.push('job created');
    if (
      ev.type_.kind === 'Namespace' &&
      ev.object.metadata.name === 'pr-46' &&
      ev.object.metadata.deletionTimestamp
    )
      seen.push('namespace deleting');
  });
  bed.github.state.setPullState(REPO, 46, 'closed', true);
  const cleanup = await bed.run({
    payload: event(46, 'closed'),
    workspace: ws,
    inputs: { command: 'cleanup' },
  });
  expect(cleanup.result.failure).toBeUndefined();
  expect(cleanup.result.ok).toBe(true);
  expect(seen.slice(0, 2)).toEqual(['job created', 'namespace deleting']);
  expect(bed.object('v1', 'Namespace', undefined, 'pr-46')).toBeUndefined();
  expect(cleanup.log.text()).toContain('pre-delete hook Job/drop-schema succeeded');
});

test('a failing pre-delete hook keeps the namespace and says how to go on', async () => {
  openPull(47);
  const ws = workspace(
    hookJob('drop-schema', 'pre-delete', 'example/crash-psql:16', [
      'psql postgres://app:$(PGPASSWORD)@shared-db/shop',
      'ERROR: permission denied for schema pr_47',
    ]),
  );
  expect((await preview(ws, 47)).result.ok).toBe(true);
  bed.github.state.setPullState(REPO, 47, 'closed', true);
  const cleanup = await bed.run({
    payload: event(47, 'closed'),
    workspace: ws,
    inputs: { command: 'cleanup' },
  });
  expect(cleanup.result.ok).toBe(false);
  expect(cleanup.result.failure).toContain(
    'The pre-delete hook Job/drop-schema failed: BackoffLimitExceeded',
  );
  expect(cleanup.result.failure).toContain('ERROR: permission denied for schema pr_47');
  expect(cleanup.result.failure).toContain('psql postgres://app:***@shared-db/shop');
  expect(cleanup.result.failure).toContain('re-run cleanup');
  expect(cleanup.result.failure).toContain('kubestage.dev/pre-delete-hooks');
  expect(cleanup.result.failure).not.toContain(PASSWORD);
  const ns = bed.object('v1', 'Namespace', undefined, 'pr-47')!;
  expect(ns.metadata.deletionTimestamp).toBeUndefined();
});

test('a hook annotation with an unknown phase is refused before anything is applied, naming the object, the value and the phases', async () => {
  openPull(48);
  const ws = workspace(hookJob('migrate', 'predeploy', 'example/migrate:1', ['x']));
  const run = await preview(ws, 48);
  expect(run.result.ok).toBe(false);
  expect(run.result.failure).toBe(
    'The render\'s hook annotations are not usable:\n- Job/migrate: kubestage.dev/hook is "predeploy"; use one of "pre-deploy", "post-deploy", "pre-delete"',
  );
  expect(bed.object('v1', 'Namespace', undefined, 'pr-48')).toBeUndefined();
});

/** A copy of examples/shop whose preview overlay adds `component` (the README's instructions). */
function shopWith(component: string, files: Record<string, string> = {}): string {
  const ws = makeWorkspace({});
  cpSync(join(repoRoot, 'examples/shop'), join(ws, 'examples/shop'), { recursive: true });
  writeFiles(join(ws, 'examples/shop'), {
    'overlays/preview-hooks/kustomization.yaml': `resources:\n  - ../preview\ncomponents:\n  - ../../components/${component}\n`,
    ...files,
  });
  return ws;
}

test('examples/shop preview-postgres: the database is up before its seed hook, which runs before the api', async () => {
  openPull(50);
  const ws = shopWith('preview-postgres');
  const order = creations('pr-50');
  const run = await bed.run({
    payload: event(50),
    workspace: ws,
    inputs: { manifests: 'examples/shop/overlays/preview-hooks', images: EXAMPLE_IMAGES },
  });
  expect(run.result.failure).toBeUndefined();
  expect(order.indexOf('StatefulSet/postgres')).toBeLessThan(order.indexOf('Job/db-seed'));
  expect(order.indexOf('Job/db-seed')).toBeLessThan(order.indexOf('Deployment/api'));
  const comment = bed.markerComments(50)[0].body;
  expect(comment).toMatch(/\| `Job\/db-seed` \| pre-deploy \| ✅ succeeded/);
  expect(comment).toContain('psql "$DATABASE_URL" -v ON_ERROR_STOP=1 -f /seed/seed.sql');
  expect(everythingShown(run, 50)).not.toContain('preview-only-5f1c9e');
  const api = bed.object('apps/v1', 'Deployment', 'pr-50', 'api')!;
  expect(JSON.stringify(api.spec)).toMatch(/"key":"DATABASE_URL","name":"shop-db-[a-z0-9]+"/);
});

test('examples/shop shared-db-schema: schema pr_<n> is created before the api and dropped by cleanup, credentials masked', async () => {
  openPull(49);
  const adminPassword = 'adm1n-9f8e7d6c5b';
  const ws = shopWith('shared-db-schema', {
    'components/shared-db-schema/shared-db.env': `ADMIN_URL=postgres://preview_admin:${adminPassword}@db.internal:5432/shop\nAPP_URL=postgres://shop_preview:app-5e4d3c2b1a@db.internal:5432/shop\nAPP_ROLE=shop_preview\n`,
  });
  const manifests = 'examples/shop/overlays/preview-hooks';
  const run = await bed.run({
    payload: event(49),
    workspace: ws,
    inputs: { manifests, images: EXAMPLE_IMAGES },
  });
  expect(run.result.failure).toBeUndefined();
  const comment = bed.markerComments(49)[0].body;
  expect(comment).toMatch(/\| `Job\/db-schema-create` \| pre-deploy \| ✅ succeeded/);
  expect(comment).toContain('CREATE SCHEMA IF NOT EXISTS pr_49 AUTHORIZATION $APP_ROLE');
  expect(bed.object('batch/v1', 'Job', 'pr-49', 'db-schema-drop')).toBeUndefined();
  expect(everythingShown(run, 49)).not.toContain(adminPassword);

  bed.github.state.setPullState(REPO, 49, 'closed', true);
  const cleanup = await bed.run({
    payload: event(49, 'closed'),
    workspace: ws,
    inputs: { command: 'cleanup' },
  });
  expect(cleanup.result.failure).toBeUndefined();
  expect(cleanup.log.text()).toContain('pre-delete hook Job/db-schema-drop succeeded');
  expect(cleanup.log.text()).toContain('DROP SCHEMA IF EXISTS pr_49 CASCADE');
  expect(bed.object('v1', 'Namespace', undefined, 'pr-49')).toBeUndefined();
});

describe('misused hook annotations are refused with the object, the value and the fix', () => {
  const obj = (kind: string, apiVersion: string, annotations: Record<string, string>) => ({
    apiVersion,
    kind,
    metadata: { name: kind.toLowerCase(), annotations },
  });
  test.each([
    [
      'a hook on a Deployment',
      [obj('Deployment', 'apps/v1', { 'kubestage.dev/hook': 'pre-deploy' })],
      'Deployment/deployment (apps/v1): kubestage.dev/hook is only for Jobs (batch/v1), which run to completion; remove the annotation or make it a Job',
    ],
    [
      'a dependency marked "yes"',
      [obj('StatefulSet', 'apps/v1', { 'kubestage.dev/hook-dependency': 'yes' })],
      'StatefulSet/statefulset: kubestage.dev/hook-dependency is "yes"; the only value is "true"',
    ],
    [
      'a dependency with no pre-deploy hook',
      [obj('StatefulSet', 'apps/v1', { 'kubestage.dev/hook-dependency': 'true' })],
      'StatefulSet/statefulset is annotated kubestage.dev/hook-dependency, but no Job is annotated "kubestage.dev/hook: pre-deploy"; remove the annotation (or add the hook).',
    ],
  ])('%s', (_what, objects, message) => {
    expect(() => planHooks(objects)).toThrow(message);
  });

  test('a damaged pre-delete record names the annotation and both ways on', () => {
    for (const text of ['{not json', '[{"kind":"Pod"}]'])
      expect(() => recordedPreDeleteHooks({ 'kubestage.dev/pre-delete-hooks': text })).toThrow(
        /kubestage\.dev\/pre-delete-hooks annotation .*someone edited it\. Remove the annotation to delete the preview without its pre-delete hooks, or re-run preview/,
      );
  });
});

test('sweep and eviction run the pre-delete hooks too, before the namespace goes', async () => {
  const ws = workspace(hookJob('drop-schema', 'pre-delete', 'example/psql:16', ['DROP SCHEMA CASCADE']));
  const order: string[] = [];
  bed.kube.store.subscribe((ev) => {
    if (ev.type_.kind === 'Job' && ev.type === 'ADDED') order.push(`job ${ev.object.metadata.namespace}`);
    if (ev.type_.kind === 'Namespace' && ev.object.metadata.deletionTimestamp && ev.type === 'MODIFIED')
      if (!order.includes(`delete ${ev.object.metadata.name}`))
        order.push(`delete ${ev.object.metadata.name}`);
  });
  // Eviction: PR 51 takes PR 50's slot.
  const cap = { 'max-previews': '1', 'when-full': 'evict' };
  openPull(50);
  expect((await preview(ws, 50, cap)).result.ok).toBe(true);
  openPull(51);
  const evicting = await preview(ws, 51, cap);
  expect(evicting.result.failure).toBeUndefined();

  expect(evicting.log.text()).toContain('pre-delete hook Job/drop-schema succeeded');
  expect(order.indexOf('job pr-50')).toBeGreaterThanOrEqual(0);
  expect(order.indexOf('job pr-50')).toBeLessThan(order.indexOf('delete pr-50'));
  // Sweep: PR 51 merges; the scheduled sweep runs its hook, then deletes.
  bed.github.state.setPullState(REPO, 51, 'closed', true);
  const swept = await bed.run({
    eventName: 'schedule',
    payload: { schedule: '17 3 * * *' },
    workspace: ws,
    inputs: { command: 'sweep' },
  });
  expect(swept.result.failure).toBeUndefined();
  expect(swept.log.text()).toContain('pre-delete hook Job/drop-schema succeeded');
  expect(order.indexOf('job pr-51')).toBeLessThan(order.indexOf('delete pr-51'));
}, 60_000);

test('parallel runs of one commit (a re-run, two workflows) share a running hook instead of deleting it under each other', async () => {
  openPull(60);
  const ws = workspace(MIGRATE_OK);
  const runs = await Promise.all([preview(ws, 60), preview(ws, 60), preview(ws, 60)]);
  for (const r of runs) expect(r.result.failure).toBeUndefined();
  expect(bed.markerComments(60)[0]?.body).toContain('Preview ready');
  const recorded = bed.object('v1', 'Namespace', undefined, 'pr-60')?.metadata.annotations ?? {};
  expect(recorded['kubestage.dev/state']).toBe('ready');
}, 60_000);
