// The stage revision ledger against the Kubernetes emulator over real HTTP: Secrets per revision,
// number races, conflicts, pruning, the current revision and Events that `kubectl describe ns` shows.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HttpMethod } from '@kubernetes/client-node';
import {
  finishRevision,
  listRevisions,
  pruneRevisions,
  readRevision,
  recordEvent,
  setCurrentRevision,
  writeRevision,
} from '../../../src/kube/ledger.js';
import type { KubeClient, RequestOptions } from '../../../src/kube/client.js';
import type { Revision } from '../../../src/model/ledger.js';
import {
  LABEL_ENVIRONMENT,
  LABEL_INSTANCE,
  LABEL_MANAGED_BY,
  LABEL_REPO,
  MANAGED_BY,
} from '../../../src/model/labels.js';
import { runKubectl } from '../../support/kube-target.js';
import { kubeBed, REPO_LABEL, smallApp, type KubeBed } from './setup.js';

const NS = 'production';
const DIGEST = `sha256:${'b'.repeat(64)}`;

const labels = {
  [LABEL_MANAGED_BY]: MANAGED_BY,
  [LABEL_REPO]: REPO_LABEL,
  [LABEL_ENVIRONMENT]: NS,
  [LABEL_INSTANCE]: NS,
};

function newRevision(over: Partial<Revision> = {}): Omit<Revision, 'number'> {
  return {
    stage: NS,
    kind: 'promote',
    from: 'testing',
    commit: 'c'.repeat(40),
    images: [{ name: 'ghcr.io/acme/shop', ref: `ghcr.io/acme/shop@${DIGEST}` }],
    actor: 'octocat',
    approvers: [{ user: 'alice', environment: NS }],
    runUrl: 'https://github.com/acme/shop/actions/runs/9',
    result: 'deploying',
    startedAt: new Date('2025-03-01T10:00:00.000Z'),
    manifests: smallApp(NS, { image: `ghcr.io/acme/shop@${DIGEST}` }),
    ...over,
  };
}

let bed: KubeBed;
beforeEach(async () => {
  bed = await kubeBed();
  await bed.client.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS, labels } });
});
afterEach(() => bed.close());

async function kubectl(args: string[]) {
  const cache = mkdtempSync(join(tmpdir(), 'kubestage-kubectl-cache-'));
  return runKubectl(bed.emu.kubeconfigPath, cache, args);
}

test('a revision written, listed and read back has exactly the manifests applied', async () => {
  const written = await writeRevision(bed.client, NS, newRevision(), labels);
  expect(written.number).toBe(1);
  const stored = bed.stored('v1', 'Secret', 'kubestage.v1.production.v1', NS) as {
    type: string;
    metadata: { labels: Record<string, string> };
  };
  expect(stored.type).toBe('kubestage.dev/revision.v1');
  expect(stored.metadata.labels).toMatchObject({ 'kubestage.dev/stage': NS, 'kubestage.dev/revision': '1' });

  const second = await writeRevision(
    bed.client,
    NS,
    newRevision({ kind: 'deploy', from: undefined }),
    labels,
  );
  expect(second.number).toBe(2);
  expect((await listRevisions(bed.client, NS, NS)).map((s) => [s.number, s.kind, s.result])).toEqual([
    [1, 'promote', 'deploying'],
    [2, 'deploy', 'deploying'],
  ]);
  const read = await readRevision(bed.client, NS, NS, 1);
  expect(read).toEqual(written);
  expect(read.manifests).toEqual(smallApp(NS, { image: `ghcr.io/acme/shop@${DIGEST}` }));
});

test('the revisions of another stage in the same namespace are not listed', async () => {
  await writeRevision(bed.client, NS, newRevision(), labels);
  await writeRevision(bed.client, NS, newRevision({ stage: 'canary' }), labels);
  expect((await listRevisions(bed.client, NS, NS)).map((s) => s.name)).toEqual([
    'kubestage.v1.production.v1',
  ]);
});

test('two runs writing at once get different numbers', async () => {
  const [a, b] = await Promise.all([
    writeRevision(bed.client, NS, newRevision({ actor: 'a' }), labels),
    writeRevision(bed.client, NS, newRevision({ actor: 'b' }), labels),
  ]);
  expect([a.number, b.number].sort()).toEqual([1, 2]);
  const byNumber = new Map((await listRevisions(bed.client, NS, NS)).map((s) => [s.number, s.actor]));
  expect(byNumber.get(a.number)).toBe('a');
  expect(byNumber.get(b.number)).toBe('b');
});

test('a lost number race is retried with the next number', async () => {
  await writeRevision(bed.client, NS, newRevision(), labels);
  // Another run creates revision 2 between our list and our create: its POST answers 409 first.
  const original = bed.client.request.bind(bed.client);
  let raced = false;
  bed.client.request = (async (method: HttpMethod, path: string, ro?: RequestOptions) => {
    if (method === HttpMethod.POST && path.endsWith('/secrets') && !raced) {
      raced = true;
      await original(method, path, ro); // the other run's identical create, under the same number
    }
    return original(method, path, ro);
  }) as KubeClient['request'];
  const ours = await writeRevision(bed.client, NS, newRevision({ actor: 'late' }), labels);
  expect(ours.number).toBe(3);
  expect(bed.emu.requests.filter((r) => r.method === 'POST' && r.status === 409)).toHaveLength(1);
});

test('finishing a revision records the outcome in data, labels and annotations, even while someone else edits it', async () => {
  await writeRevision(bed.client, NS, newRevision(), labels);
  const name = 'kubestage.v1.production.v1';
  // Someone annotates the Secret between our read and our update: our PUT meets 409 Conflict.
  const original = bed.client.request.bind(bed.client);
  let edited = false;
  bed.client.request = (async (method: HttpMethod, path: string, ro?: RequestOptions) => {
    if (method === HttpMethod.PUT && path.endsWith(`/secrets/${name}`) && !edited) {
      edited = true;
      await original(HttpMethod.PATCH, path, {
        body: { metadata: { annotations: { 'team.example.com/note': 'checked' } } },
        contentType: 'application/merge-patch+json',
      });
    }
    return original(method, path, ro);
  }) as KubeClient['request'];

  const finishedAt = new Date('2025-03-01T10:04:00.000Z');
  const done = await finishRevision(bed.client, NS, NS, 1, {
    result: 'succeeded',
    message: 'smoke passed',
    smoke: { requests: 20, p95Ms: 85 },
    finishedAt,
    url: 'https://shop.example.com',
    deploymentId: 31,
  });
  expect(edited).toBe(true);
  expect(bed.emu.requests.filter((r) => r.method === 'PUT' && r.status === 409)).toHaveLength(1);
  expect(done).toMatchObject({ result: 'succeeded', finishedAt, deploymentId: 31 });

  const stored = bed.stored('v1', 'Secret', name, NS) as {
    metadata: { labels: Record<string, string>; annotations: Record<string, string> };
  };
  expect(stored.metadata.labels['kubestage.dev/result']).toBe('succeeded');
  expect(stored.metadata.annotations).toMatchObject({
    'team.example.com/note': 'checked',
    'kubestage.dev/finished-at': '2025-03-01T10:04:00.000Z',
    'kubestage.dev/message': 'smoke passed',
    'kubestage.dev/url': 'https://shop.example.com',
  });
  const read = await readRevision(bed.client, NS, NS, 1);
  expect(read).toMatchObject({ result: 'succeeded', smoke: { requests: 20, p95Ms: 85 }, finishedAt });
  expect(read.manifests).toEqual(newRevision().manifests);
});

test('prune keeps the newest revisions, the current one and the newest succeeded one', async () => {
  // 1 succeeded (current: a rollback went back to it), 2 succeeded, 3..6 failed.
  for (const result of ['succeeded', 'succeeded', 'failed', 'failed', 'failed', 'failed'] as const) {
    const rev = await writeRevision(bed.client, NS, newRevision(), labels);
    await finishRevision(bed.client, NS, NS, rev.number, { result, finishedAt: new Date() });
  }
  const deleted = await pruneRevisions(bed.client, NS, NS, 3, 1);
  expect(deleted).toEqual([
    'kubestage.v1.production.v3',
    'kubestage.v1.production.v4',
    'kubestage.v1.production.v5',
  ]);
  expect((await listRevisions(bed.client, NS, NS)).map((s) => s.number)).toEqual([1, 2, 6]);
  expect(await pruneRevisions(bed.client, NS, NS, 3, 1)).toEqual([]);
});

test('reading a revision that is not there lists the ones there are', async () => {
  await writeRevision(bed.client, NS, newRevision(), labels);
  await finishRevision(bed.client, NS, NS, 1, { result: 'succeeded', finishedAt: new Date() });
  await writeRevision(bed.client, NS, newRevision(), labels);
  await expect(readRevision(bed.client, NS, NS, 7)).rejects.toThrow(
    'stage "production" has no revision 7 (no Secret kubestage.v1.production.v7 in namespace "production"); ' +
      'its revisions are 1 (succeeded), 2 (deploying). Older revisions are pruned beyond the configured history',
  );
});

test('a revision Secret edited by hand is a readable error naming it and the fix', async () => {
  await writeRevision(bed.client, NS, newRevision(), labels);
  await bed.client.request(HttpMethod.PATCH, `/api/v1/namespaces/${NS}/secrets/kubestage.v1.production.v1`, {
    body: { data: { revision: Buffer.from('{"hand":"edited"}').toString('base64') } },
    contentType: 'application/merge-patch+json',
  });
  await expect(readRevision(bed.client, NS, NS, 1)).rejects.toThrow(
    `Secret "kubestage.v1.production.v1" in namespace "production" is not a readable kubestage revision: data.revision is not gzip'd data (incorrect header check). ` +
      'It was edited by hand or damaged; roll back to another revision, or delete it (kubectl -n production delete secret kubestage.v1.production.v1) to drop it from the history',
  );
});

test('a revision too large for a Secret is refused before any request, naming its size', async () => {
  const { randomBytes } = await import('node:crypto');
  const from = bed.emu.requests.length;
  const huge = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'assets', namespace: NS },
    data: { b: randomBytes(1_100_000).toString('base64') },
  };
  await expect(writeRevision(bed.client, NS, newRevision({ manifests: [huge] }), labels)).rejects.toThrow(
    /^revision 1 of stage "production" is 1\.\d\d MiB gzip'd \(\d+ bytes\), more than the 1048576 bytes \(1 MiB\) a Kubernetes Secret may hold/,
  );
  expect(bed.emu.requests.slice(from).filter((r) => r.method === 'POST')).toEqual([]);
});

test('kubectl describe ns shows the current revision; kubectl events lists the events about the stage', async () => {
  await writeRevision(bed.client, NS, newRevision(), labels);
  await setCurrentRevision(bed.client, NS, {
    revision: 1,
    result: 'succeeded',
    commit: 'c'.repeat(40),
    images: { 'ghcr.io/acme/shop': `ghcr.io/acme/shop@${DIGEST}` },
    url: 'https://shop.example.com',
    updatedAt: new Date('2025-03-01T10:05:00.000Z'),
  });
  const described = await kubectl(['describe', 'namespace', NS]);
  expect(described.stderr).toBe('');
  for (const line of [
    'kubestage.dev/revision: 1',
    `kubestage.dev/head-sha: ${'c'.repeat(40)}`,
    'kubestage.dev/result: succeeded',
    'kubestage.dev/updated-at: 2025-03-01T10:05:00.000Z',
    'kubestage.dev/url: https://shop.example.com',
  ])
    expect(described.stdout).toContain(line);

  const recorded = await recordEvent(bed.client, NS, {
    reason: 'Promoted',
    message: 'revision 1 promoted from testing',
    type: 'Normal',
    runUrl: 'https://github.com/acme/shop/actions/runs/9',
  });
  expect(recorded.namespace).toBe(NS);
  expect(recorded.name).toMatch(/^production\.[0-9a-f]+$/);
  await recordEvent(bed.client, NS, {
    reason: 'PromotionRefused',
    message: 'testing is not healthy',
    type: 'Warning',
  });

  const events = await kubectl(['events', '-n', NS, '--for', `namespace/${NS}`]);
  expect(events.stderr).toBe('');
  expect(events.stdout).toMatch(
    /Normal\s+Promoted\s+Namespace\/production\s+revision 1 promoted from testing \(https:\/\/github\.com\/acme\/shop\/actions\/runs\/9\)/,
  );
  expect(events.stdout).toMatch(
    /Warning\s+PromotionRefused\s+Namespace\/production\s+testing is not healthy/,
  );
  const listed = await kubectl([
    'get',
    'events',
    '-n',
    NS,
    '-o',
    'custom-columns=REASON:.reason,SOURCE:.source.component,COUNT:.count',
  ]);
  expect(listed.stdout).toMatch(/Promoted\s+kubestage\s+1/);
});

test('an identity without rights on secrets is told which rights the ledger needs', async () => {
  bed.emu.faults.failNext(1, {
    method: 'POST',
    pathPattern: /\/namespaces\/production\/secrets$/,
    status: 403,
  });
  await expect(writeRevision(bed.client, NS, newRevision(), labels)).rejects.toThrow(
    /^could not record revision 1 of stage "production" in namespace "production": HTTP 403 Forbidden: secrets is forbidden: User "system:serviceaccount:ci:deployer" cannot create resource "secrets" in API group "" in the namespace "production"; the kubeconfig identity needs get, list, create, update and delete on secrets in namespace "production"/,
  );
});

test('an event for a namespace that does not exist says so', async () => {
  await expect(
    recordEvent(bed.client, 'staging', { reason: 'Deployed', message: 'x', type: 'Normal' }),
  ).rejects.toThrow('cannot record event Deployed: namespace "staging" does not exist');
});
