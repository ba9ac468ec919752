// `preview` and `cleanup` end to end over the emulators: what a user sees on the PR, in the cluster and
// in the step's result.
import { join } from 'node:path';
import { pullRequestEvent, sharedDir, webhookExample } from '../support/action.js';
import { type Bed, EXAMPLE_IMAGES, REPO, SHA_A, SHA_B, startBed } from '../support/bed.js';
import { appManifests, makeWorkspace, removeFile, writeFiles } from '../support/workspace.js';

let bed: Bed;
beforeEach(async () => {
  bed = await startBed();
});
afterEach(async () => {
  await bed.close();
});

function openPull(number: number, headSha = SHA_A) {
  return bed.github.state.addPull({
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

/** Runs `fn` once, when the first object of `kind` appears in `namespace` (while a run deploys). */
function onFirstCreated(apiVersion: string, kind: string, namespace: string, fn: () => void): () => void {
  const type = bed.kube.store.findTypeByKind(apiVersion, kind)!;
  let done = false;
  return bed.kube.store.subscribe((ev) => {
    if (done || ev.type !== 'ADDED' || ev.type_ !== type || ev.object.metadata.namespace !== namespace)
      return;
    done = true;
    fn();
  });
}

/** GitHub's workflow_run example, as it arrives for a run in the given state. */
function workflowRun(action: 'requested' | 'completed', conclusion: string | null) {
  const payload = webhookExample('workflow_run', action);
  const run = payload.workflow_run as Record<string, unknown>;
  run.conclusion = conclusion;
  return { payload, run };
}

afterEach(() => {
  // Every GitHub request kubestage made must be valid according to GitHub's OpenAPI description.
  expect(bed.github.invalidRequests()).toEqual([]);
});

test('preview deploys the example app into pr-<n>, routes the host, comments the URL once and reports success', async () => {
  openPull(7);
  const { result, log } = await bed.run({ payload: event(7), inputs: { images: EXAMPLE_IMAGES } });
  expect(log.warnings).toEqual([]);
  expect(result.failure).toBeUndefined();
  expect(result.ok).toBe(true);
  expect(result.outputs.namespace).toBe('pr-7');
  expect(result.outputs.url).toBe('https://pr-7.preview.example.com');
  // The app's 6 objects and the preview's isolation: ResourceQuota, LimitRange, NetworkPolicy.
  expect(Number(result.outputs.applied)).toBe(9);
  expect(JSON.parse(result.outputs.images)).toEqual({
    'ghcr.io/kubestage/example-web': 'ghcr.io/acme/shop-web:pr-7-a1a1a1a',
    'ghcr.io/kubestage/example-api': 'ghcr.io/acme/shop-api:pr-7-a1a1a1a',
  });

  const ns = bed.object('v1', 'Namespace', undefined, 'pr-7')!;
  expect(ns.metadata.labels).toMatchObject({
    'app.kubernetes.io/managed-by': 'kubestage',
    'kubestage.dev/repo': 'acme.shop',
    'kubestage.dev/environment': 'preview',
    'kubestage.dev/pr': '7',
    'kubestage.dev/instance': 'pr-7',
  });
  expect(ns.metadata.annotations?.['kubestage.dev/head-sha']).toBe(SHA_A);
  expect(ns.metadata.annotations?.['kubestage.dev/url']).toBe('https://pr-7.preview.example.com');
  expect(Date.parse(ns.metadata.annotations?.['kubestage.dev/expires-at'] ?? '')).toBeGreaterThan(Date.now());

  const web = bed.object('apps/v1', 'Deployment', 'pr-7', 'web')!;
  const spec = web.spec as { template: { spec: { containers: { image: string }[] } } };
  expect(spec.template.spec.containers[0].image).toBe('ghcr.io/acme/shop-web:pr-7-a1a1a1a');
  expect((web.status as { availableReplicas?: number }).availableReplicas).toBe(1);
  expect(web.metadata.managedFields?.some((m) => m.manager === 'kubestage' && m.operation === 'Apply')).toBe(
    true,
  );
  const ingress = bed.object('networking.k8s.io/v1', 'Ingress', 'pr-7', 'web')!;
  expect(JSON.stringify(ingress.spec)).toContain('pr-7.preview.example.com');
  expect(JSON.stringify(ingress.spec)).not.toContain('shop.example.com"');

  const comments = bed.markerComments(7);
  expect(comments).toHaveLength(1);
  expect(comments[0].body).toContain('https://pr-7.preview.example.com');
  expect(comments[0].body).toContain('a1a1a1a');
  expect(comments[0].body).toContain('ghcr.io/acme/shop-web:pr-7-a1a1a1a');
  expect(comments[0].body).toContain('https://github.com/acme/shop/actions/runs/777');

  const [deployment] = bed.github.state.deployments(REPO);
  expect(deployment).toMatchObject({ sha: SHA_A, environment: 'preview' });
  const statuses = bed.github.state.deploymentStatuses(REPO, deployment.id);
  // Up within seconds: no "deploying" status or comment is written first (each write costs a second
  // of GitHub's pacing); a slow release announces itself (see 'a slow preview says it is deploying').
  expect(statuses.map((s) => s.state)).toEqual(['success']);
  expect(statuses[0].environmentUrl).toBe('https://pr-7.preview.example.com');
  expect(statuses[0].logUrl).toBe('https://github.com/acme/shop/actions/runs/777');
  expect(result.summary).toContain('| Deployment/web | created |');

  // The namespace records how the run ended and where its comment and deployment are (records codec).
  const record = bed.object('v1', 'Namespace', undefined, 'pr-7')!.metadata.annotations!;
  expect(record['kubestage.dev/state']).toBe('ready');
  expect(record['kubestage.dev/comment-id']).toBe(result.outputs['comment-id']);
  expect(record['kubestage.dev/deployment-id']).toBe(String(deployment.id));
  expect(record['kubestage.dev/comment-id']).toBe(String(comments[0].id));
});

test('a re-run whose workloads are already ready finishes without leaving a watch open', async () => {
  const ws = makeWorkspace(
    appManifests({
      extra: `apiVersion: apps/v1
kind: StatefulSet
metadata: { name: db }
spec:
  serviceName: db
  selector: { matchLabels: { app: db } }
  template:
    metadata: { labels: { app: db } }
    spec: { containers: [{ name: db, image: example/db:1, volumeMounts: [{ name: data, mountPath: /data }] }] }
  volumeClaimTemplates:
    - metadata: { name: data }
      spec: { accessModes: [ReadWriteOnce], resources: { requests: { storage: 1Gi } } }
---
apiVersion: batch/v1
kind: Job
metadata: { name: seed }
spec:
  template:
    spec: { restartPolicy: Never, containers: [{ name: seed, image: example/seed:1 }] }
`,
    }),
  );
  openPull(34);
  const inputs = { manifests: 'k8s' };
  expect((await bed.run({ payload: event(34), workspace: ws, inputs })).result.ok).toBe(true);
  // Same commit again (a re-run, a label): everything is ready at once, so watchers are stopped
  // while still connecting. An unclosed one kept the job alive until wait-timeout.
  const again = await bed.run({ payload: event(34), workspace: ws, inputs });
  expect(again.result.ok).toBe(true);
  await new Promise((r) => setTimeout(r, 300));
  expect(bed.kube.openWatches()).toBe(0);
  // The StatefulSet controller's claim carries our labels (kustomize labels templates) but kubestage
  // did not apply it: the re-run's prune must leave the database's volume alone.
  const claim = bed.object('v1', 'PersistentVolumeClaim', 'pr-34', 'data-db-0');
  expect(claim?.metadata.labels?.['kubestage.dev/instance']).toBe('pr-34');
  expect(again.result.summary).not.toContain('PersistentVolumeClaim/data-db-0');
});

test('a second push updates the preview in place: the same comment, the new image', async () => {
  const pull = openPull(8);
  const first = await bed.run({ payload: event(8), inputs: { images: EXAMPLE_IMAGES } });
  expect(first.result.ok).toBe(true);
  const commentId = first.result.outputs['comment-id'];

  pull.headSha = SHA_B;
  const second = await bed.run({
    payload: event(8, 'synchronize', SHA_B),
    inputs: { images: EXAMPLE_IMAGES },
  });
  expect(second.result.ok).toBe(true);
  expect(second.result.outputs['comment-id']).toBe(commentId);

  const comments = bed.markerComments(8);
  expect(comments).toHaveLength(1);
  expect(comments[0].body).toContain('b2b2b2b');
  expect(comments[0].body).not.toContain('a1a1a1a');
  const web = bed.object('apps/v1', 'Deployment', 'pr-8', 'web')!;
  expect(JSON.stringify(web.spec)).toContain('ghcr.io/acme/shop-web:pr-8-b2b2b2b');
  expect(
    bed.object('v1', 'Namespace', undefined, 'pr-8')!.metadata.annotations?.['kubestage.dev/head-sha'],
  ).toBe(SHA_B);
  // The PR's deployment list shows only the newest commit as live.
  const states = bed.github.state.deployments(REPO).map((d) => [d.sha, d.latestState]);
  expect(states).toEqual([
    [SHA_A, 'inactive'],
    [SHA_B, 'success'],
  ]);
});

test('an object removed from the manifests is pruned; objects kubestage did not create stay', async () => {
  const ws = makeWorkspace(
    appManifests({
      extra:
        'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: feature-flags\ndata:\n  NEW_CHECKOUT: "true"\n',
    }),
  );
  openPull(9);
  const first = await bed.run({ payload: event(9), workspace: ws, inputs: { manifests: 'k8s' } });
  expect(first.result.ok).toBe(true);
  expect(bed.object('v1', 'ConfigMap', 'pr-9', 'feature-flags')).toBeDefined();

  // Someone adds an object by hand: it carries no kubestage label, so prune must leave it alone.
  const cm = bed.kube.store.findTypeByKind('v1', 'ConfigMap')!;
  bed.kube.store.create(cm, {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'debug-notes', namespace: 'pr-9' },
    data: {},
  });

  removeFile(ws, 'k8s/extra.yaml');
  writeFiles(ws, { 'k8s/kustomization.yaml': 'resources:\n  - app.yaml\n' });
  const second = await bed.run({
    payload: event(9, 'synchronize'),
    workspace: ws,
    inputs: { manifests: 'k8s' },
  });
  expect(second.result.ok).toBe(true);
  expect(bed.object('v1', 'ConfigMap', 'pr-9', 'feature-flags')).toBeUndefined();
  expect(bed.object('v1', 'ConfigMap', 'pr-9', 'debug-notes')).toBeDefined();
  expect(bed.object('apps/v1', 'Deployment', 'pr-9', 'web')).toBeDefined();
  expect(second.result.summary).toContain('Pruned (no longer rendered): `ConfigMap/feature-flags`');
});

test('an image that cannot be pulled fails the step and names ImagePullBackOff in the comment', async () => {
  const ws = makeWorkspace(appManifests({ image: 'registry.example.com/team/does-not-exist:1.0' }));
  openPull(10);
  const { result } = await bed.run({
    payload: event(10),
    workspace: ws,
    inputs: { manifests: 'k8s', 'wait-timeout': '15' },
  });
  expect(result.ok).toBe(false);
  expect(result.failure).toMatch(/Deployment\/web/);
  expect(result.failure).toMatch(/ImagePullBackOff|ErrImagePull|ProgressDeadlineExceeded/);
  const [comment] = bed.markerComments(10);
  expect(comment.body).toMatch(/ImagePullBackOff|ErrImagePull/);
  expect(comment.body).toContain('does-not-exist');
  const [deployment] = bed.github.state.deployments(REPO);
  expect(bed.github.state.deploymentStatuses(REPO, deployment.id).map((s) => s.state)).toEqual(['failure']);
  // The job summary carries the diagnostics too (the comment may be off or forbidden).
  expect(result.summary).toContain('Why it failed');
  expect(result.summary).toMatch(/ImagePullBackOff|ErrImagePull/);
});

test('a guard violation is refused before any write reaches the cluster, every offending object named', async () => {
  const ws = makeWorkspace(
    appManifests({
      extra: `apiVersion: v1
kind: Namespace
metadata:
  name: sneaky
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: make-me-admin
roleRef: { apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin }
subjects: [{ kind: ServiceAccount, name: default, namespace: default }]
---
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: fast
provisioner: rancher.io/local-path
---
apiVersion: node.k8s.io/v1
kind: RuntimeClass
metadata:
  name: gvisor
handler: runsc
`,
    }),
  );
  openPull(11);
  const before = bed.kube.requests.length;
  const { result } = await bed.run({ payload: event(11), workspace: ws, inputs: { manifests: 'k8s' } });
  expect(result.ok).toBe(false);
  expect(result.failure).toMatch(/Namespace\/pr-11|Namespace\/sneaky/);
  expect(result.failure).toContain('ClusterRoleBinding/make-me-admin');
  // Kinds every cluster serves are refused for their scope, not as unknown kinds.
  expect(result.failure).toMatch(/StorageClass\/fast[^\n]*is cluster-scoped/);
  expect(result.failure).toMatch(/RuntimeClass\/gvisor[^\n]*is cluster-scoped/);
  const writes = bed.kube.requests.slice(before).filter((r) => r.method !== 'GET');
  expect(writes).toEqual([]);
  expect(bed.object('v1', 'Namespace', undefined, 'pr-11')).toBeUndefined();
  expect(bed.markerComments(11)[0].body).toContain('make-me-admin');
});

test('a pod that could reach the node is refused before any write; the namespace enforces Pod Security', async () => {
  const privileged = `apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: node-agent
spec:
  selector: { matchLabels: { app: agent } }
  template:
    metadata: { labels: { app: agent } }
    spec:
      hostPID: true
      containers:
        - name: agent
          image: example/agent:1
          securityContext: { privileged: true }
          volumeMounts: [{ name: root, mountPath: /host }]
      volumes: [{ name: root, hostPath: { path: / } }]
`;
  const ws = makeWorkspace(appManifests({ extra: privileged }));
  openPull(31);
  const before = bed.kube.requests.length;
  const refused = await bed.run({ payload: event(31), workspace: ws, inputs: { manifests: 'k8s' } });
  expect(refused.result.ok).toBe(false);
  expect(refused.result.failure).toContain('DaemonSet/node-agent: spec.template.spec.hostPID is true');
  expect(refused.result.failure).toContain('containers[name=agent].securityContext.privileged is true');
  expect(refused.result.failure).toContain('volumes[name=root] is a hostPath volume');
  expect(refused.result.failure).toContain('set the pod-security input to "privileged"');
  expect(bed.kube.requests.slice(before).filter((r) => r.method !== 'GET')).toEqual([]);

  // The same app without the agent deploys, into a namespace the API server enforces Baseline on.
  const ok = await bed.run({ payload: event(31), inputs: { images: EXAMPLE_IMAGES } });
  expect(ok.result.ok).toBe(true);
  expect(bed.object('v1', 'Namespace', undefined, 'pr-31')!.metadata.labels).toMatchObject({
    'pod-security.kubernetes.io/enforce': 'baseline',
  });
});

test('pod-security: privileged lets a repository opt out, and says so on the namespace', async () => {
  const ws = makeWorkspace(
    appManifests({
      extra:
        'apiVersion: v1\nkind: Pod\nmetadata:\n  name: debug\nspec:\n  hostNetwork: true\n  containers: [{ name: d, image: example/debug:1 }]\n',
    }),
  );
  openPull(32);
  const { result } = await bed.run({
    payload: event(32),
    workspace: ws,
    inputs: { manifests: 'k8s', 'pod-security': 'privileged' },
  });
  expect(result.failure).toBeUndefined();
  expect(
    bed.object('v1', 'Namespace', undefined, 'pr-32')!.metadata.labels?.[
      'pod-security.kubernetes.io/enforce'
    ],
  ).toBe('privileged');
});

test('a pr-<n> namespace that belongs to someone else is refused, naming both owners', async () => {
  const nsType = bed.kube.store.findTypeByKind('v1', 'Namespace')!;
  bed.kube.store.create(nsType, {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: {
      name: 'pr-12',
      labels: { 'app.kubernetes.io/managed-by': 'kubestage', 'kubestage.dev/repo': 'other.repo' },
    },
  });
  openPull(12);
  const { result } = await bed.run({ payload: event(12), inputs: { images: EXAMPLE_IMAGES } });
  expect(result.ok).toBe(false);
  expect(result.failure).toContain('other.repo');
  expect(result.failure).toContain('acme.shop');
  expect(bed.objects('apps/v1', 'Deployment', 'pr-12')).toEqual([]);
});

test('cleanup deletes the namespace, verifies it is gone, and marks the comment and deployment; a second cleanup is a no-op', async () => {
  openPull(13);
  const preview = await bed.run({ payload: event(13), inputs: { images: EXAMPLE_IMAGES } });
  expect(preview.result.ok).toBe(true);
  bed.github.state.setPullState(REPO, 13, 'closed', true);

  const first = await bed.run({ payload: event(13, 'closed'), inputs: { command: 'cleanup' } });
  expect(first.result.ok).toBe(true);
  expect(bed.object('v1', 'Namespace', undefined, 'pr-13')).toBeUndefined();
  expect(Number(first.result.outputs['objects-removed'])).toBeGreaterThanOrEqual(6);
  const [comment] = bed.markerComments(13);
  expect(comment.body).toMatch(/destroyed/i);
  expect(comment.body).toContain(first.result.outputs['objects-removed']);
  const [deployment] = bed.github.state.deployments(REPO);
  expect(bed.github.state.deploymentStatuses(REPO, deployment.id).at(-1)?.state).toBe('inactive');

  const second = await bed.run({ payload: event(13, 'closed'), inputs: { command: 'cleanup' } });
  expect(second.result.ok).toBe(true);
  expect(second.log.text()).toMatch(/already gone/);
  expect(bed.markerComments(13)).toHaveLength(1);
});

test('cleanup of a namespace held by a finalizer fails and names the object and its finalizer', async () => {
  const ws = makeWorkspace(
    appManifests({
      extra:
        'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: held\n  finalizers: ["example.com/hold"]\ndata: {}\n',
    }),
  );
  openPull(14);
  expect((await bed.run({ payload: event(14), workspace: ws, inputs: { manifests: 'k8s' } })).result.ok).toBe(
    true,
  );
  const { result } = await bed.run({
    payload: event(14, 'closed'),
    workspace: ws,
    inputs: { command: 'cleanup', manifests: 'k8s', 'wait-timeout': '1' },
  });
  expect(result.ok).toBe(false);
  expect(result.failure).toContain('ConfigMap/held');
  expect(result.failure).toContain('example.com/hold');
  const [comment] = bed.markerComments(14);
  expect(comment.body).toContain('Preview teardown stuck');
  expect(comment.body).toContain('example.com/hold');
  expect(bed.object('v1', 'Namespace', undefined, 'pr-14')?.status).toMatchObject({ phase: 'Terminating' });
});

test('cleanup never deletes a namespace kubestage does not own, whatever the template says', async () => {
  const nsType = bed.kube.store.findTypeByKind('v1', 'Namespace')!;
  bed.kube.store.create(nsType, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'production-15' } });
  openPull(15);
  const { result } = await bed.run({
    payload: event(15, 'closed'),
    inputs: { command: 'cleanup', 'namespace-template': 'production-{number}' },
  });
  expect(result.ok).toBe(false);
  expect(result.failure).toContain('namespace "production-15" is not managed by kubestage');
  expect(bed.object('v1', 'Namespace', undefined, 'production-15')).toBeDefined();
  // A template naming one fixed namespace is refused before anything is looked up.
  await expect(
    bed.run({
      payload: event(15, 'closed'),
      inputs: { command: 'cleanup', 'namespace-template': 'production' },
    }),
  ).rejects.toThrow('contains neither {number} nor {branch}');
});

test('the marker comment is found behind 300 other comments and updated, not duplicated', async () => {
  openPull(16);
  bed.github.state.addComments(REPO, 16, 150, (i) => `discussion ${i}`);
  expect((await bed.run({ payload: event(16), inputs: { images: EXAMPLE_IMAGES } })).result.ok).toBe(true);
  bed.github.state.addComments(REPO, 16, 300, (i) => `more discussion ${i}`);
  expect(
    (await bed.run({ payload: event(16, 'synchronize'), inputs: { images: EXAMPLE_IMAGES } })).result.ok,
  ).toBe(true);
  expect(bed.github.state.comments(REPO, 16)).toHaveLength(451);
  expect(bed.markerComments(16)).toHaveLength(1);
});

test('a PR from a fork whose token cannot comment still deploys, with a warning', async () => {
  bed.github.state.setToken('ghs_readonly_fork_token', { permissions: 'read' });
  openPull(17);
  const { result, log } = await bed.run({
    payload: event(17),
    token: 'ghs_readonly_fork_token',
    inputs: { images: EXAMPLE_IMAGES },
  });
  expect(result.ok).toBe(true);
  expect(bed.object('apps/v1', 'Deployment', 'pr-17', 'web')).toBeDefined();
  expect(log.warnings.join('\n')).toMatch(/fork|read-only|not accessible/i);
  expect(bed.markerComments(17)).toHaveLength(0);
  expect(result.outputs['comment-id']).toBe('');
});

test.each([
  ['a ready preview', 18, 'ghcr.io/kubestage/example-web'],
  ['a failing preview', 26, 'registry.example.com/team/does-not-exist:1.0'],
])('a PR closed while %s deployed is cleaned up instead of left behind', async (_what, pr, image) => {
  const ws = makeWorkspace(appManifests({ image }));
  openPull(pr);
  const stop = onFirstCreated('apps/v1', 'Deployment', `pr-${pr}`, () =>
    bed.github.state.setPullState(REPO, pr, 'closed'),
  );
  try {
    const { result, log } = await bed.run({
      payload: event(pr),
      workspace: ws,
      inputs: { manifests: 'k8s' },
    });
    expect(log.text()).toMatch(/closed while/);
    expect(result.ok).toBe(true);
    expect(bed.object('v1', 'Namespace', undefined, `pr-${pr}`)).toBeUndefined();
  } finally {
    stop();
  }
});

test('a preview whose health-path does not answer fails with the URL and the reason', async () => {
  openPull(28);
  // localhost:443 has no listener here: the probe is refused, on the loopback address only.
  const { result } = await bed.run({
    payload: event(28),
    inputs: {
      images: EXAMPLE_IMAGES,
      'host-template': 'localhost',
      'health-path': '/healthz',
      'wait-timeout': '3',
    },
  });
  expect(result.ok).toBe(false);
  expect(result.failure).toContain('The health check failed: GET https://localhost/healthz');
  expect(result.summary).toContain('does not answer');
  expect(bed.markerComments(28)[0].body).toContain('https://localhost/healthz');
});

test("the preview's own Secret values are masked in the log", async () => {
  const ws = makeWorkspace(
    appManifests({
      extra:
        'apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\nstringData:\n  password: hunter2-very-secret\n' +
        '  POSTGRES_USER: postgres\n  POSTGRES_DB: shop\n  POSTGRES_PORT: "5432"\n  MODE: preview\ndata:\n  token: ' +
        Buffer.from('tok-abcdef-123').toString('base64') +
        '\n',
    }),
  );
  openPull(27);
  const { result, masked } = await bed.run({
    payload: event(27),
    workspace: ws,
    inputs: { manifests: 'k8s' },
  });
  expect(result.ok).toBe(true);
  expect(masked).toEqual(expect.arrayContaining(['hunter2-very-secret', 'tok-abcdef-123']));
  // Values too common to be secrets would blank out ordinary words all over the log and the comment.
  for (const common of ['postgres', 'shop', '5432', 'preview']) expect(masked).not.toContain(common);
});

test('two racing runs for one PR end with the newer commit applied and one comment', async () => {
  const pull = openPull(19, SHA_B); // the PR's head is already the newer commit
  void pull;
  const [older, newer] = await Promise.all([
    bed.run({ payload: event(19, 'synchronize', SHA_A), inputs: { images: EXAMPLE_IMAGES } }),
    bed.run({ payload: event(19, 'synchronize', SHA_B), inputs: { images: EXAMPLE_IMAGES } }),
  ]);
  expect(older.result.ok).toBe(true);
  expect(newer.result.ok).toBe(true);
  expect(older.log.text()).toMatch(/superseded/);
  expect(JSON.stringify(bed.object('apps/v1', 'Deployment', 'pr-19', 'web')!.spec)).toContain(
    ':pr-19-b2b2b2b',
  );
  const comments = bed.markerComments(19);
  expect(comments).toHaveLength(1);
  expect(comments[0].body).toContain('b2b2b2b');
});

test('a run that another run takes over mid-apply stops before its next wave', async () => {
  openPull(30);
  const cm = bed.kube.store.findTypeByKind('v1', 'ConfigMap')!;
  const nsType = bed.kube.store.findTypeByKind('v1', 'Namespace')!;
  let tookOver = false;
  const stop = bed.kube.store.subscribe((ev) => {
    if (tookOver || ev.type !== 'ADDED' || ev.type_ !== cm || ev.object.metadata.namespace !== 'pr-30')
      return;
    tookOver = true;
    // What a newer run does as it starts applying: record its commit on the namespace.
    setImmediate(() => {
      const ns = bed.kube.store.get(nsType, undefined, 'pr-30')!;
      ns.metadata.annotations = { ...ns.metadata.annotations, 'kubestage.dev/head-sha': SHA_B };
      bed.kube.store.update(nsType, ns);
    });
  });
  try {
    const { result, log } = await bed.run({ payload: event(30), inputs: { images: EXAMPLE_IMAGES } });
    expect(result.ok).toBe(true);
    expect(log.text()).toContain('A run for b2b2b2b took over namespace pr-30');
    expect(bed.object('v1', 'ConfigMap', 'pr-30', 'shop-config')).toBeDefined();
    expect(bed.objects('apps/v1', 'Deployment', 'pr-30')).toEqual([]);
    const [deployment] = bed.github.state.deployments(REPO);
    expect(bed.github.state.deploymentStatuses(REPO, deployment.id).at(-1)?.state).toBe('inactive');
  } finally {
    stop();
  }
});

test('workflow_run: the PR is found from the run head SHA, and its head commit is deployed', async () => {
  openPull(20, SHA_B);
  const { payload, run } = workflowRun('completed', 'success');
  run.head_sha = SHA_B;
  run.head_branch = 'feature/20';
  run.pull_requests = []; // as for runs from forks
  const { result } = await bed.run({
    eventName: 'workflow_run',
    payload,
    inputs: { images: EXAMPLE_IMAGES },
  });
  expect(result.ok).toBe(true);
  expect(result.outputs.namespace).toBe('pr-20');
  expect(bed.github.state.deployments(REPO)[0].sha).toBe(SHA_B);
});

test('workflow_run from a fork: GitHub finds no PR for the commit, the fork branch does', async () => {
  bed.github.state.addPull({
    repo: REPO,
    number: 24,
    headSha: SHA_B,
    headRef: 'fix-typo',
    headRepoFullName: 'contributor/shop',
  });
  const { payload, run } = workflowRun('completed', 'success');
  run.head_sha = SHA_B;
  run.head_branch = 'fix-typo';
  run.head_repository = { ...(run.head_repository as object), full_name: 'contributor/shop' };
  run.pull_requests = [];
  const { result } = await bed.run({
    eventName: 'workflow_run',
    payload,
    inputs: { images: EXAMPLE_IMAGES },
  });
  expect(result.failure).toBeUndefined();
  expect(result.outputs.namespace).toBe('pr-24');
  expect(bed.github.requests.map((r) => r.path)).toContain('/repos/acme/shop/pulls');
});

test('workflow_run for an older build stands down when the PR has moved on', async () => {
  openPull(25, SHA_B);
  const { payload, run } = workflowRun('completed', 'success');
  run.head_sha = SHA_A;
  run.pull_requests = [{ number: 25, head: { sha: SHA_A, ref: 'feature/25' } }];
  const before = bed.kube.requests.length;
  const { result, log } = await bed.run({
    eventName: 'workflow_run',
    payload,
    inputs: { images: EXAMPLE_IMAGES },
  });
  expect(result.ok).toBe(true);
  expect(log.text()).toMatch(/superseded/);
  expect(bed.kube.requests.slice(before).filter((r) => r.method !== 'GET')).toEqual([]);
  expect(bed.github.state.deployments(REPO)).toEqual([]);
});

test('workflow_run of a failed build deploys nothing and says why', async () => {
  openPull(29, SHA_B);
  const { payload, run } = workflowRun('completed', 'failure');
  run.head_sha = SHA_B;
  const before = bed.kube.requests.length;
  const { result, log } = await bed.run({
    eventName: 'workflow_run',
    payload,
    inputs: { images: EXAMPLE_IMAGES },
  });
  expect(result.ok).toBe(true);
  expect(log.warnings.join('\n')).toContain('ended with "failure", so there is nothing new to deploy');
  expect(bed.kube.requests.length).toBe(before);
  expect(bed.github.requests).toEqual([]);
});

test('workflow_run for a commit the PR has already moved past stands down, even without pull_requests', async () => {
  openPull(35, SHA_B);
  const { payload, run } = workflowRun('completed', 'success');
  run.head_sha = SHA_A; // built from the older commit
  run.head_branch = 'feature/35';
  run.head_repository = { ...(run.head_repository as object), full_name: REPO };
  run.pull_requests = [];
  const before = bed.kube.requests.length;
  const { result, log } = await bed.run({
    eventName: 'workflow_run',
    payload,
    inputs: { images: EXAMPLE_IMAGES },
  });
  expect(result.failure).toBeUndefined();
  expect(result.ok).toBe(true);
  expect(log.text()).toMatch(/superseded/);
  expect(bed.kube.requests.slice(before).filter((r) => r.method !== 'GET')).toEqual([]);
});

test('workflow_run that is only requested deploys nothing: the image may not be built yet', async () => {
  openPull(33, SHA_B);
  const { payload, run } = workflowRun('requested', null);
  run.head_sha = SHA_B;
  const { result, log } = await bed.run({
    eventName: 'workflow_run',
    payload,
    inputs: { images: EXAMPLE_IMAGES },
  });
  expect(result.ok).toBe(true);
  expect(log.warnings.join('\n')).toContain('is "requested", not completed');
  expect(bed.github.requests).toEqual([]);
});

test('workflow_dispatch: the pr-number input selects the PR and its head commit', async () => {
  openPull(21, SHA_B);
  const { result } = await bed.run({
    eventName: 'workflow_dispatch',
    payload: { inputs: {}, ref: 'refs/heads/main' },
    inputs: { 'pr-number': '21', images: EXAMPLE_IMAGES },
  });
  expect(result.ok).toBe(true);
  expect(
    bed.object('v1', 'Namespace', undefined, 'pr-21')!.metadata.annotations?.['kubestage.dev/head-sha'],
  ).toBe(SHA_B);
});

test('an images line that matches no image in the manifests fails before any write, listing the images there', async () => {
  openPull(23);
  const before = bed.kube.requests.length;
  const { result } = await bed.run({
    payload: event(23),
    inputs: { images: 'ghcr.io/kubestage/exampel-web=ghcr.io/acme/web' },
  });
  expect(result.ok).toBe(false);
  expect(result.failure).toContain(
    '"ghcr.io/kubestage/exampel-web", which no container in examples/shop/overlays/preview uses',
  );
  expect(result.failure).toContain('ghcr.io/kubestage/example-web');
  expect(bed.kube.requests.slice(before).filter((r) => r.method !== 'GET')).toEqual([]);
  // Nothing was deployed, so there is no GitHub deployment; the comment says why.
  expect(bed.github.state.deployments(REPO)).toEqual([]);
  expect(bed.markerComments(23)[0].body).toContain('Preview failed');
});

test('preview of Online Boutique (11 services) in a PR namespace', async () => {
  openPull(22);
  const { result } = await bed.run({
    payload: event(22),
    workspace: join(sharedDir, 'fixtures'),
    inputs: {
      manifests: 'online-boutique',
      images:
        'us-central1-docker.pkg.dev/online-boutique-ci/microservices-demo/frontend=ghcr.io/acme/frontend',
      'wait-timeout': '30',
      allow: 'load-balancer', // its frontend-external
    },
  });
  expect(result.failure).toBeUndefined();
  expect(result.ok).toBe(true);
  const deployments = bed.objects('apps/v1', 'Deployment', 'pr-22');
  expect(deployments.length).toBeGreaterThanOrEqual(11);
  for (const d of deployments)
    expect((d.status as { availableReplicas?: number }).availableReplicas).toBeGreaterThanOrEqual(1);
  expect(JSON.stringify(bed.object('apps/v1', 'Deployment', 'pr-22', 'frontend')!.spec)).toContain(
    'ghcr.io/acme/frontend:pr-22-a1a1a1a',
  );
});

test('after success the comment and the summary list every image running, not only the overridden ones', async () => {
  openPull(31);
  const { result } = await bed.run({
    payload: event(31),
    inputs: { images: 'ghcr.io/kubestage/example-web=ghcr.io/acme/shop-web' },
  });
  expect(result.ok).toBe(true);
  const running = (name: string) =>
    (
      bed.object('apps/v1', 'Deployment', 'pr-31', name)!.spec as {
        template: { spec: { containers: { image: string }[] } };
      }
    ).template.spec.containers[0].image;
  const [comment] = bed.markerComments(31);
  expect(comment.body).toContain('Preview ready');
  for (const image of [running('web'), running('api')]) {
    expect(comment.body).toContain(image);
    expect(result.summary).toContain(image);
  }
  expect(running('web')).toBe('ghcr.io/acme/shop-web:pr-31-a1a1a1a');
  // The output names every image the deployed workloads run, as action.yml says.
  expect(JSON.parse(result.outputs.images)).toEqual({
    'ghcr.io/kubestage/example-web': 'ghcr.io/acme/shop-web:pr-31-a1a1a1a',
    'ghcr.io/kubestage/example-api': running('api'),
  });
});

test('one expiry: the comment shows the expiry the namespace records, however long the run takes', async () => {
  openPull(32);
  // A clock that moves a minute on every reading: two readings would show two different expiries.
  let t = Date.parse('2026-11-30T10:00:00Z');
  const { result } = await bed.run({
    payload: event(32),
    inputs: { images: EXAMPLE_IMAGES, ttl: '2d' },
    now: () => new Date((t += 60_000)),
  });
  expect(result.ok).toBe(true);
  const recorded = bed.object('v1', 'Namespace', undefined, 'pr-32')!.metadata.annotations![
    'kubestage.dev/expires-at'
  ];
  expect(recorded).toBe('2026-12-02T10:01:00.000Z');
  const [comment] = bed.markerComments(32);
  expect(comment.body).toContain('2026-12-02 10:01 UTC');
  expect(comment.body).not.toMatch(/2026-12-02 10:0[2-9] UTC/);
});

test('one deadline: a Job being recreated waits only for what is left of wait-timeout', async () => {
  const job = `apiVersion: batch/v1
kind: Job
metadata:
  name: migrate
spec:
  template:
    spec:
      restartPolicy: Never
      containers:
        - name: migrate
          image: example/migrate:1.0
`;
  const ws = makeWorkspace(appManifests({ extra: job }));
  const pull = openPull(33);
  const inputs = { manifests: 'k8s', images: 'example/migrate', 'wait-timeout': '3' };
  expect((await bed.run({ payload: event(33), workspace: ws, inputs })).result.ok).toBe(true);
  // Something holds the old Job (a finalizer): its recreation for the new commit cannot finish.
  const jobType = bed.kube.store.findTypeByKind('batch/v1', 'Job')!;
  const live = bed.kube.store.get(jobType, 'pr-33', 'migrate')!;
  bed.kube.store.update(jobType, {
    ...live,
    metadata: { ...live.metadata, finalizers: ['example.com/hold'] },
  });
  pull.headSha = SHA_B;

  const started = Date.now();
  const { result } = await bed.run({ payload: event(33, 'synchronize', SHA_B), workspace: ws, inputs });
  const seconds = (Date.now() - started) / 1000;
  expect(result.ok).toBe(false);
  expect(result.failure).toMatch(/Job\/migrate was still being deleted after [0-3]s/);
  // Well under the 60 s the Job recreation used to wait on its own clock.
  expect(seconds).toBeLessThan(20);
});

describe('what the preview claims to run is what runs', () => {
  test('an images line whose NAME matches nothing is refused even when its NEW_NAME is already in the manifests', async () => {
    // The manifests already say ghcr.io/acme/web:1.0; NAME has a typo. kustomize changes nothing, so
    // the old tag would run while the outputs claimed pr-<n>-<sha7>.
    const ws = makeWorkspace(appManifests({ image: 'ghcr.io/acme/web:1.0' }));
    openPull(34);
    const before = bed.kube.requests.length;
    const { result } = await bed.run({
      payload: event(34),
      workspace: ws,
      inputs: { manifests: 'k8s', images: 'ghcr.io/acme/wbe=ghcr.io/acme/web' },
    });
    expect(result.ok).toBe(false);
    expect(result.failure).toContain('"ghcr.io/acme/wbe", which no container in k8s uses');
    expect(result.failure).toContain('Images there after rendering: ghcr.io/acme/web:1.0');
    expect(bed.kube.requests.slice(before).filter((r) => r.method !== 'GET')).toEqual([]);
  });

  test('a render with no objects is refused before it could prune everything', async () => {
    const ws = makeWorkspace({ 'k8s/kustomization.yaml': 'resources: []\n' });
    openPull(35);
    const before = bed.kube.requests.length;
    const { result } = await bed.run({ payload: event(35), workspace: ws, inputs: { manifests: 'k8s' } });
    expect(result.ok).toBe(false);
    expect(result.failure).toContain('k8s renders no objects, so there is nothing to preview');
    expect(bed.kube.requests.slice(before).filter((r) => r.method !== 'GET')).toEqual([]);
  });

  test('images rewritten in the cluster after apply (a mutating policy) fail the preview instead of claiming the PR build', async () => {
    openPull(36);
    const deployments = bed.kube.store.findTypeByKind('apps/v1', 'Deployment')!;
    onFirstCreated('apps/v1', 'Deployment', 'pr-36', () =>
      setImmediate(() => {
        const web = bed.kube.store.get(deployments, 'pr-36', 'web')!;
        const spec = structuredClone(web.spec) as { template: { spec: { containers: { image: string }[] } } };
        spec.template.spec.containers[0].image = 'mirror.example.com/acme/shop-web:pinned';
        bed.kube.store.update(deployments, { ...web, spec } as typeof web);
      }),
    );
    const { result } = await bed.run({ payload: event(36), inputs: { images: EXAMPLE_IMAGES } });
    expect(result.ok).toBe(false);
    expect(result.failure).toContain(
      'Deployment/web runs mirror.example.com/acme/shop-web:pinned, rendered ghcr.io/acme/shop-web:pr-36-a1a1a1a',
    );
    expect(bed.markerComments(36)[0].body).toContain('Preview failed');
  });
});

test('a kustomize error reads as kustomize wrote it, names the user file, and never quotes a generator literal', async () => {
  const ws = makeWorkspace({
    'k8s/kustomization.yaml':
      'resources:\n  - app.yaml\nsecretGenerator:\n  - name: db\n    literals:\n      - DB_PASSWORD:hunter2-very-secret\n',
    'k8s/app.yaml': appManifests()['k8s/app.yaml']!,
  });
  openPull(37);
  const { result, log } = await bed.run({ payload: event(37), workspace: ws, inputs: { manifests: 'k8s' } });
  expect(result.ok).toBe(false);
  expect(result.failure).toContain('invalid literal source <redacted>');
  for (const text of [
    result.failure ?? '',
    result.summary,
    log.text(),
    bed.markerComments(37)[0]?.body ?? '',
  ]) {
    expect(text).not.toContain('hunter2-very-secret');
    expect(text).not.toMatch(/run\.go:\d+\]/);
  }
});
