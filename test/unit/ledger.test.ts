import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { parseAllDocuments } from 'yaml';
import {
  decodeRevision,
  encodeRevision,
  MAX_SECRET_BYTES,
  nextRevisionNumber,
  previousSucceeded,
  revisionSecretName,
  summaryOf,
  toPrune,
  type Revision,
  type RevisionResult,
  type RevisionSecret,
  type RevisionSummary,
} from '../../src/model/ledger.js';
import type { KubeObject } from '../../src/model/kube-object.js';
import {
  LABEL_ENVIRONMENT,
  LABEL_INSTANCE,
  LABEL_MANAGED_BY,
  LABEL_REPO,
  REVISION_SECRET_TYPE,
} from '../../src/model/labels.js';
import { repoRoot } from '../support/kube-target.js';

const DIGEST = `sha256:${'a'.repeat(64)}`;

function revision(over: Partial<Revision> = {}): Revision {
  return {
    stage: 'production',
    number: 3,
    kind: 'promote',
    from: 'testing',
    commit: 'f'.repeat(40),
    ref: 'refs/heads/main',
    images: [{ name: 'ghcr.io/acme/web', ref: `ghcr.io/acme/web@${DIGEST}` }],
    actor: 'octocat',
    approvers: [{ user: 'alice', environment: 'production', comment: 'ship it' }],
    runUrl: 'https://github.com/acme/shop/actions/runs/42',
    result: 'deploying',
    startedAt: new Date('2025-03-01T10:00:00.000Z'),
    manifests: [
      {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'web', namespace: 'production', labels: { app: 'web' } },
        spec: {
          replicas: 3,
          template: { spec: { containers: [{ name: 'web', image: `ghcr.io/acme/web@${DIGEST}` }] } },
        },
      },
    ],
    ...over,
  };
}

const LABELS = {
  [LABEL_MANAGED_BY]: 'kubestage',
  [LABEL_REPO]: 'acme.shop',
  [LABEL_ENVIRONMENT]: 'production',
  [LABEL_INSTANCE]: 'production',
};

function asSecret(o: KubeObject, namespace = 'production'): RevisionSecret {
  return { ...o, metadata: { ...o.metadata, namespace } } as RevisionSecret;
}

describe('revision Secret names', () => {
  test.each([
    ['production', 1, 'kubestage.v1.production.v1'],
    ['dev-eu-1', 120, 'kubestage.v1.dev-eu-1.v120'],
  ])('stage %s revision %d is %s', (stage, n, name) => {
    expect(revisionSecretName(stage, n)).toBe(name);
  });

  test('a stage name that is not a DNS label is refused with the fix', () => {
    expect(() => revisionSecretName('Prod_EU', 1)).toThrow(
      /stage name "Prod_EU" is not a DNS label .*rename the environment in \.github\/kubestage\.yml/,
    );
  });

  test('a revision number below 1 is refused', () => {
    expect(() => revisionSecretName('production', 0)).toThrow(/must be a whole number ≥ 1, not 0/);
  });
});

describe('encodeRevision / decodeRevision', () => {
  test('the Secret is typed, labelled and summarised, and reads back to the same revision', () => {
    const rev = revision({ smoke: { p95: 120, requests: 50 }, bypass: { reason: 'hotfix' } });
    const secret = encodeRevision(rev, LABELS);
    expect(secret).toMatchObject({
      apiVersion: 'v1',
      kind: 'Secret',
      type: REVISION_SECRET_TYPE,
      metadata: {
        name: 'kubestage.v1.production.v3',
        labels: {
          'app.kubernetes.io/managed-by': 'kubestage',
          'kubestage.dev/repo': 'acme.shop',
          'kubestage.dev/environment': 'production',
          'kubestage.dev/stage': 'production',
          'kubestage.dev/revision': '3',
          'kubestage.dev/revision-kind': 'promote',
          'kubestage.dev/result': 'deploying',
        },
        annotations: {
          'kubestage.dev/commit': 'f'.repeat(40),
          'kubestage.dev/ref': 'refs/heads/main',
          'kubestage.dev/images': JSON.stringify({ 'ghcr.io/acme/web': `ghcr.io/acme/web@${DIGEST}` }),
          'kubestage.dev/actor': 'octocat',
          'kubestage.dev/approvers': 'alice',
          'kubestage.dev/from': 'testing',
          'kubestage.dev/started-at': '2025-03-01T10:00:00.000Z',
          'kubestage.dev/run-url': 'https://github.com/acme/shop/actions/runs/42',
        },
      },
    });
    // The instance label selects what the app's prune may delete: the ledger never carries it.
    expect(secret.metadata.labels).not.toHaveProperty(LABEL_INSTANCE);
    expect(decodeRevision(asSecret(secret))).toEqual(rev);
  });

  test('data.revision is base64 of gzip of JSON', () => {
    const secret = encodeRevision(revision(), LABELS);
    const raw = Buffer.from((secret.data as Record<string, string>).revision, 'base64');
    expect(raw.subarray(0, 2)).toEqual(Buffer.from([0x1f, 0x8b]));
  });

  test('a long failure message is one short line in the annotation, whole in the data', () => {
    const message = `image pull failed:\n${'x'.repeat(1000)}`;
    const secret = encodeRevision(revision({ result: 'failed', message }), LABELS);
    const annotation = secret.metadata.annotations!['kubestage.dev/message'];
    expect(annotation.length).toBeLessThanOrEqual(300);
    expect(annotation).toMatch(/^image pull failed: x+…$/);
    expect(decodeRevision(asSecret(secret)).message).toBe(message);
  });

  const corruptions: [string, (s: RevisionSecret) => void, RegExp][] = [
    ['a foreign type', (s) => (s.type = 'Opaque'), /its type is "Opaque", not "kubestage.dev\/revision.v1"/],
    ['no data', (s) => delete s.data, /it has no data.revision/],
    ['data that is not base64', (s) => (s.data = { revision: 'not base64!' }), /data.revision is not base64/],
    [
      'data that is not gzip',
      (s) => (s.data = { revision: Buffer.from('plain').toString('base64') }),
      /data.revision is not gzip'd data \(incorrect header check\)/,
    ],
    [
      'gzip that is not JSON',
      (s) => (s.data = { revision: gzipSync('{nope').toString('base64') }),
      /data.revision is not JSON/,
    ],
    [
      'JSON without manifests',
      (s) =>
        (s.data = {
          revision: gzipSync(JSON.stringify({ ...revision(), manifests: undefined })).toString('base64'),
        }),
      /data.revision has no manifests list/,
    ],
    [
      'an unknown result',
      (s) =>
        (s.data = { revision: gzipSync(JSON.stringify({ ...revision(), result: 'ok' })).toString('base64') }),
      /data.revision has result "ok", not one of deploying, succeeded, failed, rolled-back, superseded/,
    ],
    [
      'a number label that disagrees with the data',
      (s) => (s.metadata.labels!['kubestage.dev/revision'] = '4'),
      /its kubestage.dev\/revision label says 4 but its data is revision 3/,
    ],
  ];
  test.each(corruptions)('%s is an error naming the Secret, what is wrong and the fix', (_, damage, what) => {
    const s = asSecret(encodeRevision(revision(), LABELS));
    damage(s);
    let message = '';
    try {
      decodeRevision(s);
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(
      /^Secret "kubestage.v1.production.v3" in namespace "production" is not a readable kubestage revision: /,
    );
    expect(message).toMatch(what);
    expect(message).toMatch(/kubectl -n production delete secret kubestage.v1.production.v3/);
  });

  test('a revision too large for a Secret is refused, naming its size and largest objects', () => {
    // Random bytes do not compress: 1.2 MB of them cannot fit.
    const blob = randomBytes(1_200_000).toString('base64');
    const big: KubeObject = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'assets' },
      data: { blob },
    };
    expect(() => encodeRevision(revision({ manifests: [...revision().manifests, big] }), LABELS)).toThrow(
      /^revision 3 of stage "production" is 1\.\d\d MiB gzip'd \(\d+ bytes\), more than the 1048576 bytes \(1 MiB\) a Kubernetes Secret may hold.*the largest: ConfigMap\/assets \(1\.\d\d MiB\), Deployment\/web/,
    );
  });

  test('Online Boutique, rendered by kustomize, fits in one revision with its manifests intact', () => {
    const dir = join(repoRoot, '..', 'shared', 'fixtures', 'online-boutique');
    const yaml = execFileSync('kubectl', ['kustomize', dir], {
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
    });
    const manifests = parseAllDocuments(yaml)
      .map((d) => d.toJS() as KubeObject | null)
      .filter((o): o is KubeObject => o !== null);
    expect(manifests.length).toBeGreaterThan(20);
    const secret = encodeRevision(revision({ manifests }), LABELS);
    const bytes = Buffer.from((secret.data as Record<string, string>).revision, 'base64').length;
    expect(bytes).toBeLessThan(MAX_SECRET_BYTES);
    expect(decodeRevision(asSecret(secret)).manifests).toEqual(manifests);
  });
});

describe('summaryOf', () => {
  test('reads the summary from labels and annotations without the data', () => {
    const secret = asSecret(
      encodeRevision(
        revision({
          result: 'succeeded',
          finishedAt: new Date('2025-03-01T10:05:00Z'),
          url: 'https://shop.example.com',
          deploymentId: 77,
        }),
        LABELS,
      ),
    );
    delete secret.data;
    expect(summaryOf(secret)).toEqual({
      name: 'kubestage.v1.production.v3',
      stage: 'production',
      number: 3,
      kind: 'promote',
      result: 'succeeded',
      from: 'testing',
      commit: 'f'.repeat(40),
      ref: 'refs/heads/main',
      images: { 'ghcr.io/acme/web': `ghcr.io/acme/web@${DIGEST}` },
      actor: 'octocat',
      approvers: ['alice'],
      startedAt: new Date('2025-03-01T10:00:00Z'),
      finishedAt: new Date('2025-03-01T10:05:00Z'),
      runUrl: 'https://github.com/acme/shop/actions/runs/42',
      url: 'https://shop.example.com',
      deploymentId: 77,
    });
  });

  test('a Secret without a revision number label is named in the error', () => {
    expect(() =>
      summaryOf({
        metadata: {
          name: 'db-password',
          namespace: 'production',
          labels: { 'kubestage.dev/stage': 'production' },
        },
      }),
    ).toThrow(
      'Secret "db-password" in namespace "production" is not a kubestage revision: its kubestage.dev/stage label is "production" and its kubestage.dev/revision label "<unset>"',
    );
  });
});

function history(results: RevisionResult[]): RevisionSummary[] {
  // Shuffled on purpose: callers may pass the API server's order.
  return results
    .map((result, i) => ({
      name: `kubestage.v1.production.v${i + 1}`,
      stage: 'production',
      number: i + 1,
      result,
    }))
    .reverse();
}

describe('numbering, rollback default and pruning', () => {
  test('the next number follows the highest, with gaps left by pruning', () => {
    expect(nextRevisionNumber([])).toBe(1);
    expect(nextRevisionNumber([{ number: 7 }, { number: 3 }])).toBe(8);
  });

  test.each<[string, RevisionResult[], number | undefined, number | undefined]>([
    ['the newest succeeded before the current one', ['succeeded', 'succeeded', 'failed', 'succeeded'], 4, 2],
    ['skipping failed and rolled-back revisions', ['succeeded', 'failed', 'rolled-back', 'succeeded'], 4, 1],
    [
      'older than the newest revision when none is current',
      ['succeeded', 'succeeded', 'deploying'],
      undefined,
      2,
    ],
    ['nothing when no older revision succeeded', ['failed', 'succeeded'], 2, undefined],
    ['nothing for an empty ledger', [], undefined, undefined],
  ])('rollback default: %s', (_, results, current, expected) => {
    expect(previousSucceeded(history(results), current)?.number).toBe(expected);
  });

  test.each<[string, RevisionResult[], number, number | undefined, number[]]>([
    [
      'the oldest beyond keep',
      ['succeeded', 'succeeded', 'succeeded', 'succeeded', 'succeeded'],
      3,
      5,
      [1, 2],
    ],
    ['nothing within keep', ['succeeded', 'succeeded'], 3, 2, []],
    // 1 is current (a rollback restored it and the newer ones failed); 2 is the newest succeeded.
    [
      'never the current nor the newest succeeded',
      ['succeeded', 'succeeded', 'failed', 'failed', 'failed'],
      2,
      1,
      [3, 4, 5],
    ],
    [
      'keep 1 keeps the current and the newest succeeded',
      ['succeeded', 'failed', 'succeeded', 'failed'],
      1,
      4,
      [1, 2],
    ],
  ])('prune: %s', (_, results, keep, current, expected) => {
    expect(toPrune(history(results), keep, current).map((s) => s.number)).toEqual(expected);
  });

  test('a history below 1 is refused', () => {
    expect(() => toPrune([], 0)).toThrow(
      'the number of revisions to keep (history) must be a whole number ≥ 1, not 0',
    );
  });
});
