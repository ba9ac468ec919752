// coordination.k8s.io/v1 Lease, as leader election uses it: served and discovered, create of a
// taken name is 409 AlreadyExists, and an update carrying a stale resourceVersion is 409 Conflict
// with the real message — so of two clients (real client-node, over TLS) racing to take the same
// lease with the same resourceVersion, exactly one wins.
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiException, CoordinationV1Api, KubeConfig, type V1Lease } from '@kubernetes/client-node';
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { EMULATOR_TOKEN, startKubeEmulator, type KubeEmulator } from './index.js';

let emu: KubeEmulator;

beforeAll(async () => {
  emu = await startKubeEmulator();
  const ns = await fetch(`${emu.httpUrl}/api/v1/namespaces`, {
    method: 'POST',
    headers: { authorization: `Bearer ${EMULATOR_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'election' } }),
  });
  expect(ns.status).toBe(201);
});
afterAll(async () => {
  await emu.close();
});

function client(): CoordinationV1Api {
  const kc = new KubeConfig();
  kc.loadFromString(emu.kubeconfig);
  return kc.makeApiClient(CoordinationV1Api);
}

function lease(name: string, holder: string, resourceVersion?: string): V1Lease {
  return {
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: { name, namespace: 'election', ...(resourceVersion ? { resourceVersion } : {}) },
    spec: {
      holderIdentity: holder,
      leaseDurationSeconds: 15,
      acquireTime: new Date(),
      renewTime: new Date(),
    },
  };
}

async function failure(
  p: Promise<unknown>,
): Promise<{ code: number; body: { reason?: string; message?: string; code?: number } }> {
  try {
    await p;
  } catch (e) {
    if (e instanceof ApiException) {
      const body = (typeof e.body === 'string' ? JSON.parse(e.body) : e.body) as {
        reason?: string;
        message?: string;
      };
      return { code: e.code, body };
    }
    throw e;
  }
  throw new Error('expected the request to fail');
}

test('leases are discovered and listed with their holder', async () => {
  const res = await fetch(`${emu.httpUrl}/apis/coordination.k8s.io/v1`, {
    headers: { authorization: `Bearer ${EMULATOR_TOKEN}` },
  });
  const list = (await res.json()) as {
    resources: { name: string; kind: string; namespaced: boolean; verbs: string[] }[];
  };
  const leases = list.resources.find((r) => r.name === 'leases');
  expect(leases).toMatchObject({ kind: 'Lease', namespaced: true });
  expect(leases?.verbs).toEqual(
    expect.arrayContaining(['create', 'get', 'list', 'update', 'patch', 'watch', 'delete']),
  );
  await client().createNamespacedLease({ namespace: 'election', body: lease('listed', 'pod-a') });
  const out = await new Promise<string>((resolve, reject) =>
    execFile(
      'kubectl',
      [
        `--kubeconfig=${emu.kubeconfigPath}`,
        `--cache-dir=${join(mkdtempSync(join(tmpdir(), 'kubestage-lease-')), 'cache')}`,
        '-n',
        'election',
        'get',
        'leases',
      ],
      (err, stdout) => (err ? reject(err) : resolve(stdout)),
    ),
  );
  expect(out).toMatch(/^NAME\s+HOLDER\s+AGE\s*$/m);
  expect(out).toMatch(/^listed\s+pod-a\s+\d+s\s*$/m);
});

test('create of a taken name is 409 AlreadyExists', async () => {
  const a = client();
  const b = client();
  const created = await a.createNamespacedLease({ namespace: 'election', body: lease('taken', 'pod-a') });
  expect(created.spec?.holderIdentity).toBe('pod-a');
  const err = await failure(
    b.createNamespacedLease({ namespace: 'election', body: lease('taken', 'pod-b') }),
  );
  expect(err.code).toBe(409);
  expect(err.body).toMatchObject({
    reason: 'AlreadyExists',
    code: 409,
    message: 'leases.coordination.k8s.io "taken" already exists',
  });
  const now = await a.readNamespacedLease({ name: 'taken', namespace: 'election' });
  expect(now.spec?.holderIdentity).toBe('pod-a');
});

test('10 concurrent updates from two clients with the same resourceVersion: exactly one wins, the rest get Conflict', async () => {
  const clients = [client(), client()];
  const first = await clients[0].createNamespacedLease({
    namespace: 'election',
    body: lease('leader', 'nobody'),
  });
  const rv = first.metadata!.resourceVersion!;
  const attempts = Array.from({ length: 10 }, (_, i) =>
    clients[i % 2]
      .replaceNamespacedLease({
        name: 'leader',
        namespace: 'election',
        body: lease('leader', `candidate-${i}`, rv),
      })
      .then(
        (won) => ({ ok: true as const, holder: won.spec?.holderIdentity, rv: won.metadata?.resourceVersion }),
        async (e: unknown) => ({ ok: false as const, ...(await failure(Promise.reject(e))) }),
      ),
  );
  const results = await Promise.all(attempts);
  const winners = results.filter((r) => r.ok);
  const losers = results.filter((r) => !r.ok);
  expect(winners).toHaveLength(1);
  expect(losers).toHaveLength(9);
  for (const l of losers) {
    expect(l).toMatchObject({
      code: 409,
      body: {
        reason: 'Conflict',
        message:
          'Operation cannot be fulfilled on leases.coordination.k8s.io "leader": the object has been modified; please apply your changes to the latest version and try again',
      },
    });
  }
  const stored = await clients[1].readNamespacedLease({ name: 'leader', namespace: 'election' });
  expect(stored.spec?.holderIdentity).toBe(winners[0].holder);
  expect(stored.metadata?.resourceVersion).toBe(winners[0].rv);
  expect(stored.metadata?.resourceVersion).not.toBe(rv);
  // The loser re-reads and retries with the fresh resourceVersion: that succeeds.
  const retried = await clients[0].replaceNamespacedLease({
    name: 'leader',
    namespace: 'election',
    body: lease('leader', 'candidate-late', stored.metadata!.resourceVersion),
  });
  expect(retried.spec?.holderIdentity).toBe('candidate-late');
});
