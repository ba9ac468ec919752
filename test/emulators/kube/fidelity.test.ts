// Real kubectl against the emulator for three fidelity details: the claims a StatefulSet makes
// from its volumeClaimTemplates, logs of init containers, and the selector a Job gets generated.
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startKubeEmulator, type KubeEmulator } from './index.js';
import type { KObject } from './store.js';

const execFileP = promisify(execFile);

let emu: KubeEmulator;
let cacheDir: string;

beforeAll(async () => {
  emu = await startKubeEmulator({ controllers: { readyDelayMs: 20 } });
  cacheDir = join(mkdtempSync(join(tmpdir(), 'kubestage-fidelity-')), 'cache');
  await kubectl(['create', 'namespace', 'fid']);
});
afterAll(async () => {
  await emu.close();
});

async function kubectl(
  args: string[],
  stdin?: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(
      'kubectl',
      [`--kubeconfig=${emu.kubeconfigPath}`, `--cache-dir=${cacheDir}`, ...args],
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
    child.stdin?.end(stdin ?? '');
  });
}

async function getJson(args: string[]): Promise<KObject> {
  const { stdout } = await execFileP('kubectl', [
    `--kubeconfig=${emu.kubeconfigPath}`,
    `--cache-dir=${cacheDir}`,
    '-n',
    'fid',
    'get',
    ...args,
    '-o',
    'json',
  ]);
  return JSON.parse(stdout) as KObject;
}

async function eventually(check: () => Promise<boolean>, what: string, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

const stored = (kind: string, name: string): KObject | undefined => {
  const t = emu.store.allTypes().find((x) => x.kind === kind);
  return t ? emu.store.get(t, 'fid', name) : undefined;
};

function statefulSet(name: string, whenDeleted: string): string {
  return `apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: ${name}
  namespace: fid
spec:
  serviceName: ${name}
  replicas: 2
  selector:
    matchLabels:
      app: ${name}
  persistentVolumeClaimRetentionPolicy:
    whenDeleted: ${whenDeleted}
  template:
    metadata:
      labels:
        app: ${name}
    spec:
      containers:
      - name: db
        image: postgres:16
        volumeMounts:
        - name: data
          mountPath: /var/lib/postgresql/data
  volumeClaimTemplates:
  - metadata:
      name: data
      labels:
        tier: storage
    spec:
      accessModes: [ReadWriteOnce]
      resources:
        requests:
          storage: 2Gi
`;
}

describe('StatefulSet volumeClaimTemplates', () => {
  it('creates one Bound claim per ordinal, mounts it, and reuses it for a new pod', async () => {
    expect((await kubectl(['apply', '-f', '-'], statefulSet('db', 'Retain'))).code).toBe(0);
    await eventually(
      async () => (stored('StatefulSet', 'db')?.status as { readyReplicas?: number }).readyReplicas === 2,
      'db ready',
    );
    await eventually(
      async () =>
        ['data-db-0', 'data-db-1'].every(
          (n) => (stored('PersistentVolumeClaim', n)?.status as { phase?: string }).phase === 'Bound',
        ),
      'claims bound',
    );
    const table = await kubectl(['-n', 'fid', 'get', 'pvc']);
    expect(table.stderr).toBe('');
    const lines = table.stdout.trim().split('\n');
    expect(lines[0]).toMatch(
      /^NAME\s+STATUS\s+VOLUME\s+CAPACITY\s+ACCESS MODES\s+STORAGECLASS\s+VOLUMEATTRIBUTESCLASS\s+AGE$/,
    );
    expect(lines[1]).toMatch(
      /^data-db-0\s+Bound\s+pvc-[0-9a-f-]{36}\s+2Gi\s+RWO\s+standard\s+<unset>\s+\d+s$/,
    );
    expect(lines[2]).toMatch(/^data-db-1\s+Bound\s+/);

    const claim = await getJson(['pvc', 'data-db-0']);
    expect(claim.metadata.labels).toEqual({ app: 'db', tier: 'storage' });
    expect(claim.metadata.ownerReferences).toBeUndefined();
    expect(claim.spec).toMatchObject({
      accessModes: ['ReadWriteOnce'],
      resources: { requests: { storage: '2Gi' } },
      volumeName: `pvc-${claim.metadata.uid}`,
    });
    expect(claim.status).toEqual({
      phase: 'Bound',
      accessModes: ['ReadWriteOnce'],
      capacity: { storage: '2Gi' },
    });
    const pod = await getJson(['pod', 'db-0']);
    expect((pod.spec as { volumes?: unknown[] }).volumes).toEqual([
      { name: 'data', persistentVolumeClaim: { claimName: 'data-db-0' } },
    ]);

    // A replaced pod gets the same claim back; the claim is never recreated.
    expect((await kubectl(['-n', 'fid', 'delete', 'pod', 'db-0', '--wait=true'])).code).toBe(0);
    await eventually(async () => {
      const p = stored('Pod', 'db-0');
      return Boolean(p && p.metadata.uid !== pod.metadata.uid);
    }, 'db-0 recreated');
    expect(stored('PersistentVolumeClaim', 'data-db-0')?.metadata.uid).toBe(claim.metadata.uid);

    // Retain: deleting the StatefulSet leaves its claims.
    expect((await kubectl(['-n', 'fid', 'delete', 'statefulset', 'db'])).code).toBe(0);
    await eventually(async () => !stored('Pod', 'db-1'), 'pods gone');
    expect(stored('PersistentVolumeClaim', 'data-db-1')).toBeDefined();
  });

  it('makes the StatefulSet own its claims under whenDeleted: Delete', async () => {
    expect((await kubectl(['apply', '-f', '-'], statefulSet('cache', 'Delete'))).code).toBe(0);
    await eventually(async () => Boolean(stored('PersistentVolumeClaim', 'data-cache-1')), 'claims');
    const sts = stored('StatefulSet', 'cache');
    expect(stored('PersistentVolumeClaim', 'data-cache-0')?.metadata.ownerReferences).toEqual([
      {
        apiVersion: 'apps/v1',
        kind: 'StatefulSet',
        name: 'cache',
        uid: sts?.metadata.uid,
        controller: true,
        blockOwnerDeletion: true,
      },
    ]);
    expect((await kubectl(['-n', 'fid', 'delete', 'statefulset', 'cache'])).code).toBe(0);
    await eventually(
      async () =>
        !stored('PersistentVolumeClaim', 'data-cache-0') && !stored('PersistentVolumeClaim', 'data-cache-1'),
      'claims collected',
    );
  });
});

describe('init container logs', () => {
  it('serves logs of init containers, alone and with --all-containers', async () => {
    const deploy = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: fid
spec:
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      initContainers:
      - name: migrate
        image: ghcr.io/acme/migrate:1
      containers:
      - name: web
        image: nginx:1.27
`;
    expect((await kubectl(['apply', '-f', '-'], deploy)).code).toBe(0);
    expect((await kubectl(['-n', 'fid', 'rollout', 'status', 'deploy/web', '--timeout=20s'])).code).toBe(0);
    const pod = emu.store
      .list(
        emu.store.allTypes().find((x) => x.kind === 'Pod')!,
        'fid',
      )
      .find((p) => p.metadata.labels?.app === 'web');
    const name = pod?.metadata.name ?? '';
    const init = await kubectl(['-n', 'fid', 'logs', name, '-c', 'migrate']);
    expect(init.stderr).toBe('');
    expect(init.stdout).toBe(
      'Starting migrate (image ghcr.io/acme/migrate:1)\nInitializing...\nCompleted successfully\n',
    );
    const all = await kubectl(['-n', 'fid', 'logs', 'deploy/web', '--all-containers', '--prefix']);
    expect(all.stderr).toBe('');
    expect(all.stdout).toContain(`[pod/${name}/migrate] Completed successfully`);
    expect(all.stdout).toContain(`[pod/${name}/web] Ready to serve requests`);
    const wrong = await kubectl(['-n', 'fid', 'logs', name, '-c', 'nope']);
    expect(wrong.stderr).toContain(`container nope is not valid for pod ${name}`);
  });
});

describe('Job selector generation', () => {
  const job = (image: string, extra = '') => `apiVersion: batch/v1
kind: Job
metadata:
  name: migrate
  namespace: fid
spec:
${extra}  backoffLimit: 0
  template:
    metadata:
      labels:
        app: migrate
    spec:
      restartPolicy: Never
      containers:
      - name: migrate
        image: ${image}
`;

  it('selects on the Job uid, labels the template, and stays put on re-apply', async () => {
    expect((await kubectl(['apply', '-f', '-'], job('busybox:1.36'))).code).toBe(0);
    const j = await getJson(['job', 'migrate']);
    const uid = j.metadata.uid ?? '';
    const spec = j.spec as {
      selector?: unknown;
      manualSelector?: boolean;
      template: { metadata: { labels: Record<string, string> } };
    };
    expect(spec.selector).toEqual({ matchLabels: { 'batch.kubernetes.io/controller-uid': uid } });
    expect(spec.manualSelector).toBeUndefined();
    expect(spec.template.metadata.labels).toEqual({
      app: 'migrate',
      'batch.kubernetes.io/controller-uid': uid,
      'batch.kubernetes.io/job-name': 'migrate',
      'controller-uid': uid,
      'job-name': 'migrate',
    });
    await eventually(async () => {
      const pods = emu.store.list(
        emu.store.allTypes().find((x) => x.kind === 'Pod')!,
        'fid',
      );
      return pods.some((p) => p.metadata.labels?.['batch.kubernetes.io/controller-uid'] === uid);
    }, 'job pod labelled');

    // The same manifest again: client-side apply, server-side apply and replace are all no-ops.
    const again = await kubectl(['apply', '-f', '-'], job('busybox:1.36'));
    expect(again.stdout).toMatch(/job.batch\/migrate unchanged/);
    expect(
      (await kubectl(['apply', '--server-side', '--force-conflicts', '-f', '-'], job('busybox:1.36'))).code,
    ).toBe(0);
    const replaced = await kubectl(['replace', '-f', '-'], job('busybox:1.36'));
    expect(replaced.stderr).toBe('');
    expect((await getJson(['job', 'migrate'])).spec).toEqual(j.spec);

    // A new image changes only the template, and says so.
    const changed = await kubectl(
      ['apply', '--server-side', '--force-conflicts', '-f', '-'],
      job('busybox:1.37'),
    );
    expect(changed.code).not.toBe(0);
    expect(changed.stderr).toContain('spec.template: Invalid value');
    expect(changed.stderr).not.toContain('spec.selector');
    expect((await kubectl(['-n', 'fid', 'delete', 'job', 'migrate'])).code).toBe(0);
  });

  it('leaves a Job that brings its own selector alone', async () => {
    const manual = job(
      'busybox:1.36',
      '  manualSelector: true\n  selector:\n    matchLabels:\n      app: migrate\n',
    );
    await eventually(async () => !stored('Job', 'migrate'), 'old job gone');
    expect((await kubectl(['apply', '-f', '-'], manual)).code).toBe(0);
    const spec = (await getJson(['job', 'migrate'])).spec as {
      selector?: unknown;
      template: { metadata: { labels: Record<string, string> } };
    };
    expect(spec.selector).toEqual({ matchLabels: { app: 'migrate' } });
    expect(spec.template.metadata.labels).toEqual({ app: 'migrate' });
  });
});
