// The Kubernetes API emulator over real HTTP: selectors, pagination, error Statuses, server-side
// apply conflicts, deletion (cascade, finalizers, namespace termination), CRDs, watch replay.
import { EMULATOR_TOKEN, startKubeEmulator, type KubeEmulator } from './index.js';

interface Reply {
  status: number;
  headers: Headers;
  body: Record<string, unknown> & {
    items?: Record<string, unknown>[];
    metadata?: Record<string, unknown>;
    message?: string;
    reason?: string;
    details?: {
      causes?: { reason?: string; field?: string; message?: string }[];
      name?: string;
      kind?: string;
      group?: string;
    };
  };
}

let emu: KubeEmulator;
const AUTH = { authorization: `Bearer ${EMULATOR_TOKEN}` };

async function api(
  method: string,
  path: string,
  body?: unknown,
  contentType = 'application/json',
): Promise<Reply> {
  const res = await fetch(emu.httpUrl + path, {
    method,
    headers: { ...AUTH, ...(body === undefined ? {} : { 'Content-Type': contentType }) },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return {
    status: res.status,
    headers: res.headers,
    body: text.startsWith('{') ? JSON.parse(text) : { text },
  };
}

async function namespace(name: string): Promise<void> {
  const r = await api('POST', '/api/v1/namespaces', {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name },
  });
  expect(r.status).toBe(201);
}

function cm(name: string, labels: Record<string, string> = {}, extra: Record<string, unknown> = {}) {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, labels, ...extra }, data: { k: name } };
}

function names(r: Reply): string[] {
  return (r.body.items ?? []).map((i) => (i.metadata as { name: string }).name);
}

async function eventually(check: () => Promise<boolean>, what: string, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`timed out waiting for ${what}`);
}

beforeEach(async () => {
  emu = await startKubeEmulator({ namespaceDeletionDelayMs: 20, watchHistoryLimit: 50 });
});
afterEach(async () => {
  await emu.close();
});

describe('list', () => {
  beforeEach(async () => {
    await namespace('sel');
    await api('POST', '/api/v1/namespaces/sel/configmaps', cm('a', { tier: 'web', env: 'prod' }));
    await api('POST', '/api/v1/namespaces/sel/configmaps', cm('b', { tier: 'db', env: 'prod' }));
    await api('POST', '/api/v1/namespaces/sel/configmaps', cm('c', { tier: 'web' }));
    await api('POST', '/api/v1/namespaces/default/configmaps', cm('d', { tier: 'web' }));
    // Every namespace starts with the root CA bundle (as on a real cluster); out of the way here.
    for (const ns of ['sel', 'default'])
      await api('DELETE', `/api/v1/namespaces/${ns}/configmaps/kube-root-ca.crt`);
  });

  it.each([
    ['tier=web', ['a', 'c']],
    ['tier==web', ['a', 'c']],
    ['tier!=web', ['b']],
    ['tier in (web, db),env', ['a', 'b']],
    ['tier notin (db)', ['a', 'c']],
    ['env', ['a', 'b']],
    ['!env', ['c']],
    ['tier=web,!env', ['c']],
  ])('label selector %s', async (sel, want) => {
    const r = await api('GET', `/api/v1/namespaces/sel/configmaps?labelSelector=${encodeURIComponent(sel)}`);
    expect(r.status).toBe(200);
    expect(names(r)).toEqual(want);
  });

  it('field selectors on name and namespace, across namespaces', async () => {
    expect(
      names(
        await api(
          'GET',
          '/api/v1/configmaps?labelSelector=tier%3Dweb&fieldSelector=metadata.namespace%3Ddefault',
        ),
      ),
    ).toEqual(['d']);
    expect(
      names(await api('GET', '/api/v1/namespaces/sel/configmaps?fieldSelector=metadata.name%3Db')),
    ).toEqual(['b']);
    expect(
      names(await api('GET', '/api/v1/namespaces/sel/configmaps?fieldSelector=metadata.name!%3Db')),
    ).toEqual(['a', 'c']);
    const bad = await api('GET', '/api/v1/namespaces/sel/configmaps?fieldSelector=spec.foo%3Dx');
    expect(bad.status).toBe(400);
    expect(bad.body.message).toBe('field label not supported: spec.foo');
  });

  it('paginates with limit and continue, reporting what remains', async () => {
    const first = await api('GET', '/api/v1/namespaces/sel/configmaps?limit=2');
    expect(names(first)).toEqual(['a', 'b']);
    expect(first.body.metadata?.remainingItemCount).toBe(1);
    const token = first.body.metadata?.continue as string;
    expect(token).toBeTruthy();
    const second = await api(
      'GET',
      `/api/v1/namespaces/sel/configmaps?limit=2&continue=${encodeURIComponent(token)}`,
    );
    expect(names(second)).toEqual(['c']);
    expect(second.body.metadata?.continue).toBeUndefined();
    expect(second.body.metadata?.resourceVersion).toBe(first.body.metadata?.resourceVersion);
  });

  it('built-in list items carry no kind, as a real server sends them', async () => {
    const r = await api('GET', '/api/v1/namespaces/sel/configmaps');
    expect(r.body.kind).toBe('ConfigMapList');
    expect(r.body.items?.[0].kind).toBeUndefined();
  });
});

describe('errors as Status objects', () => {
  beforeEach(() => namespace('errs'));

  it('AlreadyExists, Conflict on a stale resourceVersion, NotFound', async () => {
    const created = await api('POST', '/api/v1/namespaces/errs/configmaps', cm('x'));
    const dup = await api('POST', '/api/v1/namespaces/errs/configmaps', cm('x'));
    expect(dup.status).toBe(409);
    expect(dup.body).toMatchObject({
      kind: 'Status',
      apiVersion: 'v1',
      status: 'Failure',
      reason: 'AlreadyExists',
      message: 'configmaps "x" already exists',
      details: { name: 'x', kind: 'configmaps' },
      code: 409,
    });
    const rv = (created.body.metadata as { resourceVersion: string }).resourceVersion;
    expect(
      (
        await api('PUT', '/api/v1/namespaces/errs/configmaps/x', {
          ...cm('x'),
          metadata: { name: 'x', resourceVersion: rv },
          data: { v: '2' },
        })
      ).status,
    ).toBe(200);
    const stale = await api('PUT', '/api/v1/namespaces/errs/configmaps/x', {
      ...cm('x'),
      metadata: { name: 'x', resourceVersion: rv },
    });
    expect(stale.status).toBe(409);
    expect(stale.body.reason).toBe('Conflict');
    expect(stale.body.message).toBe(
      'Operation cannot be fulfilled on configmaps "x": the object has been modified; please apply your changes to the latest version and try again',
    );
    const missing = await api('GET', '/apis/apps/v1/namespaces/errs/deployments/web');
    expect(missing.status).toBe(404);
    expect(missing.body.message).toBe('deployments.apps "web" not found');
    expect(missing.body.details).toEqual({ name: 'web', group: 'apps', kind: 'deployments' });
  });

  it('Invalid names with the real wording, per kind', async () => {
    const bad = await api('POST', '/api/v1/namespaces/errs/configmaps', cm('Bad_Name'));
    expect(bad.status).toBe(422);
    expect(bad.body.message).toBe(
      "ConfigMap \"Bad_Name\" is invalid: metadata.name: Invalid value: \"Bad_Name\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
    );
    expect(bad.body.details?.causes).toEqual([
      expect.objectContaining({ reason: 'FieldValueInvalid', field: 'metadata.name' }),
    ]);
    const ns = await api('POST', '/api/v1/namespaces', {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: 'a.b' },
    });
    expect(ns.status).toBe(422);
    expect(ns.body.message).toContain('a lowercase RFC 1123 label must consist of');
    const svc = await api('POST', '/api/v1/namespaces/errs/services', {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: '1svc' },
      spec: { ports: [{ port: 80 }] },
    });
    expect(svc.status).toBe(422);
    expect(svc.body.message).toContain('a DNS-1035 label must consist of');
  });

  it('BadRequest for a namespace or kind that disagrees with the URL; 404 for a missing namespace', async () => {
    const ns = await api('POST', '/api/v1/namespaces/errs/configmaps', cm('y', {}, { namespace: 'other' }));
    expect(ns.status).toBe(400);
    expect(ns.body.message).toBe(
      'the namespace of the provided object does not match the namespace sent on the request',
    );
    const kind = await api('POST', '/api/v1/namespaces/errs/configmaps', {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'z' },
    });
    expect(kind.status).toBe(400);
    const missing = await api('POST', '/api/v1/namespaces/nowhere/configmaps', cm('y'));
    expect(missing.status).toBe(404);
    expect(missing.body.message).toBe('namespaces "nowhere" not found');
    const method = await api('DELETE', '/api/v1/namespaces');
    expect(method.status).toBe(405);
    expect(method.body.reason).toBe('MethodNotAllowed');
  });

  it('dryRun=All validates and answers but stores nothing', async () => {
    const r = await api('POST', '/api/v1/namespaces/errs/configmaps?dryRun=All', cm('dry'));
    expect(r.status).toBe(201);
    expect((r.body.metadata as { uid?: string }).uid).toBeTruthy();
    expect((await api('GET', '/api/v1/namespaces/errs/configmaps/dry')).status).toBe(404);
    const writes = emu.requests.filter((q) => q.method === 'POST' && q.path.endsWith('/configmaps'));
    expect(writes.map((w) => [w.status, w.query])).toEqual([[201, '?dryRun=All']]);
  });
});

describe('patch and server-side apply', () => {
  const deploy = (replicas: number) => ({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'ssa' },
    spec: {
      replicas,
      selector: { matchLabels: { app: 'web' } },
      template: {
        metadata: { labels: { app: 'web' } },
        spec: { containers: [{ name: 'web', image: 'nginx' }] },
      },
    },
  });
  const path = '/apis/apps/v1/namespaces/ssa/deployments/web';
  beforeEach(() => namespace('ssa'));

  it('apply on a missing object creates it; fieldManager is required', async () => {
    const noManager = await api('PATCH', path, deploy(1), 'application/apply-patch+yaml');
    expect(noManager.status).toBe(400);
    expect(noManager.body.message).toBe('fieldManager is required for apply requests');
    const created = await api(
      'PATCH',
      `${path}?fieldManager=kubestage`,
      deploy(1),
      'application/apply-patch+yaml',
    );
    expect(created.status).toBe(201);
    const mf = (created.body.metadata as { managedFields: { manager: string; operation: string }[] })
      .managedFields;
    expect(mf).toEqual([expect.objectContaining({ manager: 'kubestage', operation: 'Apply' })]);
  });

  it('a conflicting apply answers 409 with each field and manager, as the real server words it', async () => {
    await api(
      'POST',
      '/apis/apps/v1/namespaces/ssa/deployments?fieldManager=kubectl-client-side-apply',
      deploy(1),
    );
    const r = await api('PATCH', `${path}?fieldManager=kubestage`, deploy(3), 'application/apply-patch+yaml');
    expect(r.status).toBe(409);
    expect(r.body.reason).toBe('Conflict');
    expect(r.body.message).toBe(
      'Apply failed with 1 conflict: conflict with "kubectl-client-side-apply" using apps/v1: .spec.replicas',
    );
    expect(r.body.details?.causes).toEqual([
      {
        reason: 'FieldManagerConflict',
        message: 'conflict with "kubectl-client-side-apply" using apps/v1',
        field: '.spec.replicas',
      },
    ]);
    const forced = await api(
      'PATCH',
      `${path}?fieldManager=kubestage&force=true`,
      deploy(3),
      'application/apply-patch+yaml',
    );
    expect(forced.status).toBe(200);
    expect((forced.body.spec as { replicas: number }).replicas).toBe(3);
  });

  it('merge, JSON and strategic merge patches; status is ignored on the main resource', async () => {
    await api('POST', '/apis/apps/v1/namespaces/ssa/deployments', deploy(1));
    const merge = await api(
      'PATCH',
      path,
      { metadata: { labels: { a: 'b' } }, status: { replicas: 99 } },
      'application/merge-patch+json',
    );
    expect(merge.status).toBe(200);
    expect((merge.body.metadata as { labels: Record<string, string> }).labels).toEqual({ a: 'b' });
    expect((merge.body.status as { replicas?: number } | undefined)?.replicas).not.toBe(99);
    const json = await api(
      'PATCH',
      path,
      [{ op: 'replace', path: '/spec/replicas', value: 2 }],
      'application/json-patch+json',
    );
    expect((json.body.spec as { replicas: number }).replicas).toBe(2);
    const smp = await api(
      'PATCH',
      path,
      { spec: { template: { spec: { containers: [{ name: 'sidecar', image: 'busybox' }] } } } },
      'application/strategic-merge-patch+json',
    );
    const containers = (
      smp.body.spec as { template: { spec: { containers: { name: string }[] } } }
    ).template.spec.containers.map((c) => c.name);
    expect(containers.sort()).toEqual(['sidecar', 'web']);
  });

  it('scale subresource reads and writes spec.replicas', async () => {
    await api('POST', '/apis/apps/v1/namespaces/ssa/deployments', deploy(1));
    const scale = await api('GET', `${path}/scale`);
    expect(scale.body).toMatchObject({
      kind: 'Scale',
      apiVersion: 'autoscaling/v1',
      spec: { replicas: 1 },
      status: { selector: 'app=web' },
    });
    const patched = await api(
      'PATCH',
      `${path}/scale`,
      { spec: { replicas: 4 } },
      'application/merge-patch+json',
    );
    expect(patched.body).toMatchObject({ kind: 'Scale', spec: { replicas: 4 } });
    expect(((await api('GET', path)).body.spec as { replicas: number }).replicas).toBe(4);
  });
});

describe('deletion', () => {
  beforeEach(() => namespace('del'));

  async function ownerAndDependent(): Promise<string> {
    const owner = await api('POST', '/api/v1/namespaces/del/configmaps', cm('owner'));
    const uid = (owner.body.metadata as { uid: string }).uid;
    await api(
      'POST',
      '/api/v1/namespaces/del/configmaps',
      cm(
        'dependent',
        {},
        {
          ownerReferences: [
            { apiVersion: 'v1', kind: 'ConfigMap', name: 'owner', uid, blockOwnerDeletion: true },
          ],
        },
      ),
    );
    return uid;
  }

  it('background deletion cascades to dependents', async () => {
    await ownerAndDependent();
    expect((await api('DELETE', '/api/v1/namespaces/del/configmaps/owner')).status).toBe(200);
    await eventually(
      async () => (await api('GET', '/api/v1/namespaces/del/configmaps/dependent')).status === 404,
      'dependent gone',
    );
  });

  it('orphan deletion keeps dependents and drops their owner reference', async () => {
    await ownerAndDependent();
    await api('DELETE', '/api/v1/namespaces/del/configmaps/owner', { propagationPolicy: 'Orphan' });
    await new Promise((r) => setTimeout(r, 50));
    const dep = await api('GET', '/api/v1/namespaces/del/configmaps/dependent');
    expect(dep.status).toBe(200);
    expect((dep.body.metadata as { ownerReferences?: unknown }).ownerReferences).toBeUndefined();
  });

  it('foreground deletion keeps the owner, marked, until its dependents are gone', async () => {
    await ownerAndDependent();
    const r = await api('DELETE', '/api/v1/namespaces/del/configmaps/owner?propagationPolicy=Foreground');
    expect((r.body.metadata as { finalizers: string[] }).finalizers).toContain('foregroundDeletion');
    expect((r.body.metadata as { deletionTimestamp?: string }).deletionTimestamp).toBeTruthy();
    await eventually(
      async () => (await api('GET', '/api/v1/namespaces/del/configmaps/owner')).status === 404,
      'owner gone',
    );
    expect((await api('GET', '/api/v1/namespaces/del/configmaps/dependent')).status).toBe(404);
  });

  it('an object with finalizers stays, marked for deletion, until an update removes them', async () => {
    await api(
      'POST',
      '/api/v1/namespaces/del/configmaps',
      cm('held', {}, { finalizers: ['example.com/hold'] }),
    );
    const del = await api('DELETE', '/api/v1/namespaces/del/configmaps/held');
    expect((del.body.metadata as { deletionTimestamp?: string }).deletionTimestamp).toBeTruthy();
    expect((await api('GET', '/api/v1/namespaces/del/configmaps/held')).status).toBe(200);
    const release = await api(
      'PATCH',
      '/api/v1/namespaces/del/configmaps/held',
      { metadata: { finalizers: null } },
      'application/merge-patch+json',
    );
    expect(release.status).toBe(200);
    expect((await api('GET', '/api/v1/namespaces/del/configmaps/held')).status).toBe(404);
  });

  it('deletecollection removes what the selector matches', async () => {
    await api('POST', '/api/v1/namespaces/del/configmaps', cm('x1', { batch: '1' }));
    await api('POST', '/api/v1/namespaces/del/configmaps', cm('x2', { batch: '1' }));
    await api('POST', '/api/v1/namespaces/del/configmaps', cm('keep', { batch: '2' }));
    expect((await api('DELETE', '/api/v1/namespaces/del/configmaps?labelSelector=batch%3D1')).status).toBe(
      200,
    );
    expect(names(await api('GET', '/api/v1/namespaces/del/configmaps?labelSelector=batch'))).toEqual([
      'keep',
    ]);
  });
});

describe('namespace termination', () => {
  it('a deleted namespace is Terminating, refuses new content with 403, then disappears', async () => {
    await namespace('pr-7');
    await api('POST', '/api/v1/namespaces/pr-7/configmaps', cm('c'));
    const del = await api('DELETE', '/api/v1/namespaces/pr-7');
    expect(del.status).toBe(200);
    expect(del.body.status).toMatchObject({ phase: 'Terminating' });
    expect(del.body.spec).toEqual({ finalizers: ['kubernetes'] });
    const refused = await api('POST', '/api/v1/namespaces/pr-7/configmaps', cm('late'));
    expect(refused.status).toBe(403);
    expect(refused.body.reason).toBe('Forbidden');
    expect(refused.body.message).toBe(
      'configmaps "late" is forbidden: unable to create new content in namespace pr-7 because it is being terminated',
    );
    await eventually(
      async () => (await api('GET', '/api/v1/namespaces/pr-7')).status === 404,
      'namespace gone',
    );
    expect((await api('GET', '/api/v1/namespaces/pr-7')).body.message).toBe('namespaces "pr-7" not found');
  });

  it('content with a finalizer keeps the namespace stuck Terminating, with the real conditions', async () => {
    await namespace('stuck');
    await api(
      'POST',
      '/api/v1/namespaces/stuck/configmaps',
      cm('held', {}, { finalizers: ['example.com/hold'] }),
    );
    await api('DELETE', '/api/v1/namespaces/stuck');
    let conditions: { type: string; status: string; reason: string; message: string }[] = [];
    await eventually(async () => {
      const ns = await api('GET', '/api/v1/namespaces/stuck');
      conditions = (ns.body.status as { conditions?: typeof conditions }).conditions ?? [];
      return conditions.some((c) => c.type === 'NamespaceFinalizersRemaining' && c.status === 'True');
    }, 'conditions');
    expect(conditions).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          type: 'NamespaceContentRemaining',
          status: 'True',
          reason: 'SomeResourcesRemain',
          message: 'Some resources are remaining: configmaps has 1 resource instances',
        }),
        expect.objectContaining({
          type: 'NamespaceFinalizersRemaining',
          status: 'True',
          reason: 'SomeFinalizersRemain',
          message:
            'Some content in the namespace has finalizers remaining: example.com/hold in 1 resource instances',
        }),
      ]),
    );
    await new Promise((r) => setTimeout(r, 100));
    expect((await api('GET', '/api/v1/namespaces/stuck')).status).toBe(200);
    await api(
      'PATCH',
      '/api/v1/namespaces/stuck/configmaps/held',
      { metadata: { finalizers: [] } },
      'application/merge-patch+json',
    );
    await eventually(
      async () => (await api('GET', '/api/v1/namespaces/stuck')).status === 404,
      'namespace gone after release',
    );
  });
  it('a second DELETE of a namespace still Terminating is refused 409, as the real registry does', async () => {
    await namespace('twice');
    await api(
      'POST',
      '/api/v1/namespaces/twice/configmaps',
      cm('held', {}, { finalizers: ['example.com/hold'] }),
    );
    expect((await api('DELETE', '/api/v1/namespaces/twice')).status).toBe(200);
    const again = await api('DELETE', '/api/v1/namespaces/twice');
    expect(again.status).toBe(409);
    expect(again.body.reason).toBe('Conflict');
    expect(again.body.message).toBe(
      'Operation cannot be fulfilled on namespaces "twice": The system is ensuring all content is removed from this namespace.  Upon completion, this namespace will automatically be purged by the system.',
    );
    await api(
      'PATCH',
      '/api/v1/namespaces/twice/configmaps/held',
      { metadata: { finalizers: [] } },
      'application/merge-patch+json',
    );
  });
});

describe('immutable fields on update', () => {
  const job = (image: string) => ({
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name: 'migrate' },
    spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'm', image }] } } },
  });

  it("a Job's template cannot change: 422 Invalid naming spec.template, for merge patch and apply", async () => {
    await namespace('imm');
    expect((await api('POST', '/apis/batch/v1/namespaces/imm/jobs', job('a:1'))).status).toBe(201);
    const patched = await api(
      'PATCH',
      '/apis/batch/v1/namespaces/imm/jobs/migrate',
      { spec: { template: { spec: { containers: [{ name: 'm', image: 'a:2' }] } } } },
      'application/merge-patch+json',
    );
    expect(patched.status).toBe(422);
    expect(patched.body.reason).toBe('Invalid');
    expect(patched.body.message).toMatch(
      /^Job\.batch "migrate" is invalid: spec\.template: Invalid value: core\.PodTemplateSpec.*: field is immutable$/,
    );
    expect(patched.body.details?.causes).toEqual([
      expect.objectContaining({ reason: 'FieldValueInvalid', field: 'spec.template' }),
    ]);
    const applied = await api(
      'PATCH',
      '/apis/batch/v1/namespaces/imm/jobs/migrate?fieldManager=kubestage&force=true',
      JSON.stringify(job('a:3')),
      'application/apply-patch+yaml',
    );
    expect(applied.status).toBe(422);
    // Other fields (and the status subresource) stay writable.
    const labelled = await api(
      'PATCH',
      '/apis/batch/v1/namespaces/imm/jobs/migrate',
      { metadata: { labels: { a: 'b' } }, spec: { suspend: true } },
      'application/merge-patch+json',
    );
    expect(labelled.status).toBe(200);
  });

  it('a StatefulSet update outside the mutable fields is Forbidden', async () => {
    await namespace('imm');
    const sts = (storage: string, image: string) => ({
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: { name: 'db' },
      spec: {
        serviceName: 'db',
        selector: { matchLabels: { app: 'db' } },
        template: { metadata: { labels: { app: 'db' } }, spec: { containers: [{ name: 'db', image }] } },
        volumeClaimTemplates: [
          { metadata: { name: 'data' }, spec: { resources: { requests: { storage } } } },
        ],
      },
    });
    expect((await api('POST', '/apis/apps/v1/namespaces/imm/statefulsets', sts('1Gi', 'pg:16'))).status).toBe(
      201,
    );
    const url = '/apis/apps/v1/namespaces/imm/statefulsets/db?fieldManager=kubestage&force=true';
    const refused = await api(
      'PATCH',
      url,
      JSON.stringify(sts('2Gi', 'pg:16')),
      'application/apply-patch+yaml',
    );
    expect(refused.status).toBe(422);
    expect(refused.body.message).toBe(
      `StatefulSet.apps "db" is invalid: spec: Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden`,
    );
    expect(refused.body.details?.causes).toEqual([
      expect.objectContaining({ reason: 'FieldValueForbidden', field: 'spec' }),
    ]);
    const ok = await api('PATCH', url, JSON.stringify(sts('1Gi', 'pg:17')), 'application/apply-patch+yaml');
    expect(ok.status).toBe(200);
  });
});

describe('custom resource definitions', () => {
  const crd = {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: 'httproutes.gateway.networking.k8s.io' },
    spec: {
      group: 'gateway.networking.k8s.io',
      names: { kind: 'HTTPRoute', listKind: 'HTTPRouteList', plural: 'httproutes', singular: 'httproute' },
      scope: 'Namespaced',
      versions: [
        {
          name: 'v1',
          served: true,
          storage: true,
          schema: { openAPIV3Schema: { type: 'object' } },
          subresources: { status: {} },
        },
      ],
    },
  };
  const route = {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'HTTPRoute',
    metadata: { name: 'web' },
    spec: { hostnames: ['pr-7.preview.example.com'], rules: [{ backendRefs: [{ name: 'web', port: 80 }] }] },
  };
  const base = '/apis/gateway.networking.k8s.io/v1/namespaces/routes/httproutes';

  it('creating the CRD serves the kind with every verb; deleting it unregisters', async () => {
    await namespace('routes');
    expect((await api('GET', base)).status).toBe(404);
    const c = await api('POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', crd);
    expect(c.status).toBe(201);
    expect((c.body.status as { conditions: { type: string; status: string }[] }).conditions).toEqual(
      expect.arrayContaining([expect.objectContaining({ type: 'Established', status: 'True' })]),
    );
    const disco = await api('GET', '/apis/gateway.networking.k8s.io/v1');
    expect((disco.body.resources as { name: string }[]).map((r) => r.name)).toEqual([
      'httproutes',
      'httproutes/status',
    ]);
    expect(((await api('GET', '/apis')).body.groups as { name: string }[]).map((g) => g.name)).toContain(
      'gateway.networking.k8s.io',
    );

    expect((await api('POST', base, route)).status).toBe(201);
    const changed = { ...route, spec: { ...route.spec, hostnames: ['x.example.com'] } };
    // The creator (manager from the User-Agent) owns hostnames: a plain apply conflicts, force wins.
    expect(
      (await api('PATCH', `${base}/web?fieldManager=kubestage`, changed, 'application/apply-patch+yaml'))
        .status,
    ).toBe(409);
    const applied = await api(
      'PATCH',
      `${base}/web?fieldManager=kubestage&force=true`,
      changed,
      'application/apply-patch+yaml',
    );
    expect(applied.status).toBe(200);
    const merged = await api(
      'PATCH',
      `${base}/web`,
      { metadata: { labels: { a: 'b' } } },
      'application/merge-patch+json',
    );
    expect(merged.status).toBe(200);
    const smp = await api(
      'PATCH',
      `${base}/web`,
      { metadata: { labels: { a: 'c' } } },
      'application/strategic-merge-patch+json',
    );
    expect(smp.status).toBe(415);
    const list = await api('GET', base);
    expect(list.body.kind).toBe('HTTPRouteList');
    expect(list.body.items?.[0]).toMatchObject({ kind: 'HTTPRoute', spec: { hostnames: ['x.example.com'] } });

    expect(
      (
        await api(
          'DELETE',
          '/apis/apiextensions.k8s.io/v1/customresourcedefinitions/httproutes.gateway.networking.k8s.io',
        )
      ).status,
    ).toBe(200);
    expect((await api('GET', base)).status).toBe(404);
    expect((await api('GET', '/apis/gateway.networking.k8s.io/v1')).status).toBe(404);
  });
});

describe('watch', () => {
  async function readEvents(
    path: string,
    count: number,
  ): Promise<{ type: string; object: { metadata?: { name?: string }; code?: number; reason?: string } }[]> {
    const controller = new AbortController();
    const res = await fetch(emu.httpUrl + path, { signal: controller.signal, headers: AUTH });
    const reader = res.body!.getReader();
    const events: { type: string; object: { metadata?: { name?: string } } }[] = [];
    let buf = '';
    try {
      while (events.length < count) {
        const { value, done } = await reader.read();
        if (done) break;
        buf += new TextDecoder().decode(value);
        let nl: number;
        while ((nl = buf.indexOf('\n')) >= 0) {
          events.push(JSON.parse(buf.slice(0, nl)));
          buf = buf.slice(nl + 1);
        }
      }
    } finally {
      controller.abort();
    }
    return events;
  }

  it('replays from a resourceVersion and filters by label', async () => {
    await namespace('w');
    const list = await api('GET', '/api/v1/namespaces/w/configmaps');
    const rv = list.body.metadata?.resourceVersion as string;
    await api('POST', '/api/v1/namespaces/w/configmaps', cm('skip', { pick: 'no' }));
    await api('POST', '/api/v1/namespaces/w/configmaps', cm('take', { pick: 'yes' }));
    await api('DELETE', '/api/v1/namespaces/w/configmaps/take');
    const events = await readEvents(
      `/api/v1/namespaces/w/configmaps?watch=1&resourceVersion=${rv}&labelSelector=pick%3Dyes`,
      2,
    );
    expect(events.map((e) => `${e.type} ${e.object.metadata?.name}`)).toEqual(['ADDED take', 'DELETED take']);
  });

  it('a too-old resourceVersion gets a 410 Expired ERROR event', async () => {
    await namespace('old');
    for (let i = 0; i < 60; i++) await api('POST', '/api/v1/namespaces/old/configmaps', cm(`c${i}`));
    const events = await readEvents('/api/v1/namespaces/old/configmaps?watch=true&resourceVersion=2', 1);
    expect(events[0].type).toBe('ERROR');
    expect(events[0].object).toMatchObject({ kind: 'Status', code: 410, reason: 'Expired' });
  });

  it('timeoutSeconds ends the stream', async () => {
    const started = Date.now();
    const events = await readEvents('/api/v1/namespaces?watch=1&timeoutSeconds=1', 100);
    expect(events.length).toBe(4); // the initial ADDED events of the system namespaces
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
  });
});

describe('pods', () => {
  it('serves pod logs from the simulated kubelet', async () => {
    await namespace('logs');
    await api('POST', '/api/v1/namespaces/logs/pods', {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'p' },
      spec: { containers: [{ name: 'main', image: 'nginx:1.27' }] },
    });
    await eventually(
      async () => (await api('GET', '/api/v1/namespaces/logs/pods/p/log')).status === 200,
      'log available',
    );
    const log = await api('GET', '/api/v1/namespaces/logs/pods/p/log?container=main');
    expect(log.headers.get('content-type')).toContain('text/plain');
    expect(String(log.body.text).length).toBeGreaterThan(0);
    expect((await api('GET', '/api/v1/namespaces/logs/pods/nope/log')).status).toBe(404);
  });
});

test('stringData of a Secret is stored as base64 data, as the API server does', async () => {
  const emu = await startKubeEmulator();
  try {
    const res = await fetch(`${emu.httpUrl}/api/v1/namespaces/default/secrets`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${EMULATOR_TOKEN}` },
      body: JSON.stringify({
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: 's' },
        stringData: { password: 'hunter2' },
        data: { a: 'Yg==' },
      }),
    });
    const body = (await res.json()) as { data: Record<string, string>; stringData?: unknown; type: string };
    expect(res.status).toBe(201);
    expect(body.data).toEqual({ a: 'Yg==', password: Buffer.from('hunter2').toString('base64') });
    expect(body.stringData).toBeUndefined();
    expect(body.type).toBe('Opaque');
  } finally {
    await emu.close();
  }
});
