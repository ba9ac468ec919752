// Every preview's isolation over the emulators: the ResourceQuota, LimitRange and NetworkPolicy kubestage
// creates (with the configured values, removed when turned off), a PR's own NetworkPolicy that would widen
// it refused before any write, and Secrets copied in from allowed namespaces, never shown.
import { pullRequestEvent } from '../support/action.js';
import { REPO, startBed, type Bed } from '../support/bed.js';
import { appManifests, makeWorkspace } from '../support/workspace.js';

const SHA = 'c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3';
const PASSWORD = 'staging-db-password-Zq81x';

let bed: Bed;
beforeEach(async () => {
  bed = await startBed();
});
afterEach(async () => {
  expect(bed.github.invalidRequests()).toEqual([]);
  await bed.close();
});

function preview(
  n: number,
  ws: string,
  inputs: Record<string, string> = {},
  action: 'opened' | 'synchronize' = 'opened',
) {
  const pull = { repo: REPO, number: n, headSha: SHA, headRef: `feature/${n}`, title: `PR ${n}` };
  if (action === 'opened') bed.github.state.addPull(pull);
  return bed.run({
    payload: pullRequestEvent({ action, ...pull }),
    workspace: ws,
    inputs: { manifests: 'k8s', ...inputs },
  });
}

type Spec = Record<string, unknown>;
const spec = (o: object | undefined): Spec => ((o as { spec?: unknown } | undefined)?.spec ?? {}) as Spec;

test('a preview gets a ResourceQuota, a LimitRange and a NetworkPolicy with the defaults; configured values replace them', async () => {
  const ws = makeWorkspace(appManifests());
  const { result } = await preview(7, ws);
  expect(result.failure).toBeUndefined();
  const quota = bed.object('v1', 'ResourceQuota', 'pr-7', 'kubestage-preview');
  expect(spec(quota).hard).toEqual({
    'requests.cpu': '2',
    'requests.memory': '4Gi',
    'limits.cpu': '4',
    'limits.memory': '8Gi',
    pods: '20',
    'services.loadbalancers': '0',
    'services.nodeports': '0',
    persistentvolumeclaims: '5',
    'requests.storage': '20Gi',
  });
  expect(spec(bed.object('v1', 'LimitRange', 'pr-7', 'kubestage-preview')).limits).toEqual([
    {
      type: 'Container',
      default: { cpu: '200m', memory: '256Mi' },
      defaultRequest: { cpu: '50m', memory: '64Mi' },
    },
  ]);
  const policy = spec(bed.object('networking.k8s.io/v1', 'NetworkPolicy', 'pr-7', 'kubestage-preview'));
  expect(policy.policyTypes).toEqual(['Ingress', 'Egress']);
  expect(policy.ingress).toEqual([
    {
      from: [
        { podSelector: {} },
        { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'ingress-nginx' } } },
      ],
    },
  ]);
  const egress = JSON.stringify(policy.egress);
  expect(egress).toContain('169.254.0.0/16');
  expect(egress).toContain('"k8s-app":"kube-dns"');
  // Labelled ours, so prune and cleanup handle them with the rest.
  expect(quota?.metadata.labels?.['kubestage.dev/instance']).toBe('pr-7');

  // Configured values, and a part turned off: the next push replaces and prunes.
  const again = await preview(
    7,
    ws,
    { quota: 'requests.cpu=1,pods=5', limits: 'off', 'network-policy': 'false' },
    'synchronize',
  );
  expect(again.result.failure).toBeUndefined();
  expect(spec(bed.object('v1', 'ResourceQuota', 'pr-7', 'kubestage-preview')).hard).toEqual({
    'requests.cpu': '1',
    pods: '5',
  });
  expect(bed.object('v1', 'LimitRange', 'pr-7', 'kubestage-preview')).toBeUndefined();
  expect(bed.object('networking.k8s.io/v1', 'NetworkPolicy', 'pr-7', 'kubestage-preview')).toBeUndefined();
});

test("a PR's NetworkPolicy that admits other namespaces is refused before any write, unless allowed", async () => {
  const extra = `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: open-door
spec:
  podSelector: {}
  ingress:
    - from:
        - namespaceSelector: {}
  egress:
    - {}
`;
  const ws = makeWorkspace(appManifests({ extra }));
  const before = bed.kube.requests.length;
  const { result } = await preview(8, ws);
  expect(result.ok).toBe(false);
  expect(result.failure).toContain('NetworkPolicy/open-door');
  expect(result.failure).toContain('spec.ingress[0].from[0].namespaceSelector reaches other namespaces');
  expect(result.failure).toContain('spec.egress[0] has no "to"');
  expect(result.failure).toContain('allow: network-policies');
  expect(bed.kube.requests.slice(before).filter((r) => r.method !== 'GET')).toEqual([]);
  const allowed = await preview(9, ws, { allow: 'network-policies' });
  expect(allowed.result.failure).toBeUndefined();
  expect(bed.object('networking.k8s.io/v1', 'NetworkPolicy', 'pr-9', 'open-door')).toBeDefined();
});

test('a same-namespace NetworkPolicy of the PR is fine', async () => {
  const extra = `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: web-only
spec:
  podSelector: { matchLabels: { app: web } }
  ingress:
    - from:
        - podSelector: { matchLabels: { app: api } }
`;
  const { result } = await preview(10, makeWorkspace(appManifests({ extra })));
  expect(result.failure).toBeUndefined();
});

test('a Secret copied in from an allowed namespace: labelled ours, its values never in the log, summary or comment', async () => {
  bed.kube.store.create(bed.kube.store.findTypeByKind('v1', 'Namespace')!, {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name: 'staging' },
  });
  bed.kube.store.create(bed.kube.store.findTypeByKind('v1', 'Secret')!, {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: 'db-credentials', namespace: 'staging' },
    type: 'Opaque',
    data: {
      password: Buffer.from(PASSWORD).toString('base64'),
      user: Buffer.from('shop').toString('base64'),
    },
  });
  const ws = makeWorkspace(appManifests());
  const inputs = { 'copy-secrets': 'staging/db-credentials', 'copy-secrets-from': 'staging' };
  const { result, log, masked } = await preview(11, ws, inputs);
  expect(result.failure).toBeUndefined();
  const copy = bed.object('v1', 'Secret', 'pr-11', 'db-credentials') as { data?: Record<string, string> } & {
    metadata: { labels?: Record<string, string>; annotations?: Record<string, string> };
  };
  expect(Buffer.from(copy.data?.password ?? '', 'base64').toString()).toBe(PASSWORD);
  expect(copy.metadata.labels?.['app.kubernetes.io/managed-by']).toBe('kubestage');
  expect(copy.metadata.annotations?.['kubestage.dev/copied-from']).toBe('staging/db-credentials');
  expect(masked).toContain(PASSWORD);
  const comment = bed.markerComments(11)[0]?.body ?? '';
  for (const text of [log.text(), result.summary, comment, JSON.stringify(result.outputs)])
    expect(text).not.toContain(PASSWORD);

  // Not from an allowed namespace: refused before anything, naming the fix.
  await expect(
    preview(12, ws, { 'copy-secrets': 'kube-system/admin-token', 'copy-secrets-from': 'staging' }),
  ).rejects.toThrow('namespace "kube-system" is not one `copy-secrets-from` allows (staging)');
  expect(bed.object('v1', 'Namespace', undefined, 'pr-12')).toBeUndefined();

  // A Secret that does not exist.
  const missing = await preview(13, ws, { 'copy-secrets': 'staging/nope', 'copy-secrets-from': 'staging' });
  expect(missing.result.failure).toContain('Secret staging/nope (copy-secrets) does not exist');
});

test('bad isolation inputs name the value and the fix', async () => {
  const ws = makeWorkspace(appManifests());
  // Refused while the options are read: before any request to the cluster or GitHub.
  await expect(preview(14, ws, { quota: 'requests.gpu=1' })).rejects.toThrow(
    '"requests.gpu", which is not a ResourceQuota resource',
  );
  await expect(preview(15, ws, { limits: 'limits.cpu=lots' })).rejects.toThrow(
    'limits.cpu="lots", which is not a quantity',
  );
  await expect(preview(16, ws, { 'egress-deny': '169.254.169.254' })).rejects.toThrow(
    '"169.254.169.254", which is not a CIDR',
  );
  expect(bed.kube.requests).toEqual([]);
});

test('a workload over the quota fails fast, with the quota message in the comment', async () => {
  const ws = makeWorkspace(appManifests());
  const started = Date.now();
  const { result } = await preview(17, ws, { quota: 'requests.cpu=10m,pods=5', 'wait-timeout': '60' });
  expect(result.ok).toBe(false);
  expect(Date.now() - started).toBeLessThan(30_000);
  // The headline (the step's error) names the quota, not only the rollout's deadline.
  expect(result.failure).toContain('exceeded quota: kubestage-preview');
  const comment = bed.markerComments(17)[0]?.body ?? '';
  for (const text of [result.summary, comment]) {
    expect(text).toContain('exceeded quota: kubestage-preview');
    expect(text).toContain('requested: requests.cpu=50m');
    expect(text).toContain('limited: requests.cpu=10m');
  }
});
