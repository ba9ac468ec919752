// Protobuf bodies: the schema-driven decoder on hand-built messages, and what the real kubectl
// sends for `kubectl create …` decoded into exactly the JSON `--dry-run=client -o json` prints
// (the object a JSON client would send), recorded by a proxy in front of the emulator.
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { EMULATOR_TOKEN, kubeconfigYaml, startKubeEmulator, type KubeEmulator } from './index.js';
import { decodeProtobufObject, PROTOBUF_CONTENT_TYPE } from './protobuf.js';
import { MESSAGES } from './protobuf/schema.js';
import { hasMessage } from './protobuf/decode.js';
import { ApiError } from './status.js';

const execFileP = promisify(execFile);

// ---- a minimal protobuf encoder for hand-built bodies ----
function varint(n: bigint | number): Buffer {
  let v = BigInt.asUintN(64, BigInt(n));
  const out: number[] = [];
  do {
    let b = Number(v & 0x7fn);
    v >>= 7n;
    if (v) b |= 0x80;
    out.push(b);
  } while (v);
  return Buffer.from(out);
}
const vf = (no: number, n: bigint | number | boolean): Buffer =>
  Buffer.concat([varint(no * 8), varint(typeof n === 'boolean' ? Number(n) : n)]);
const bf = (no: number, b: Buffer | string): Buffer => {
  const bytes = typeof b === 'string' ? Buffer.from(b) : b;
  return Buffer.concat([varint(no * 8 + 2), varint(bytes.length), bytes]);
};
const msg = (...parts: Buffer[]): Buffer => Buffer.concat(parts);
const entry = (no: number, k: string, v: Buffer | string): Buffer => bf(no, msg(bf(1, k), bf(2, v)));
const envelope = (apiVersion: string, kind: string, raw: Buffer): Buffer =>
  Buffer.concat([Buffer.from('k8s\0', 'latin1'), bf(1, msg(bf(1, apiVersion), bf(2, kind))), bf(2, raw)]);
const intstr = (no: number, v: number | string): Buffer =>
  bf(no, typeof v === 'number' ? msg(vf(1, 0), vf(2, v), bf(3, '')) : msg(vf(1, 1), vf(2, 0), bf(3, v)));
/** ObjectMeta as gogo writes it: every non-pointer scalar, zero or not, and an empty Time. */
const meta = (name: string, ...extra: Buffer[]): Buffer =>
  msg(
    bf(1, name),
    bf(2, ''),
    bf(3, ''),
    bf(4, ''),
    bf(5, ''),
    bf(6, ''),
    vf(7, 0),
    bf(8, Buffer.alloc(0)),
    ...extra,
  );

describe('protobuf schema', () => {
  it('every table row parses and names a known type', () => {
    for (const name of Object.keys(MESSAGES)) expect(hasMessage(name)).toBe(true);
  });
});

describe('decodeProtobufObject', () => {
  it('decodes a Deployment: selector with matchExpressions, IntOrString, Quantity, Time, inlined messages', () => {
    const container = msg(
      bf(1, 'web'),
      bf(2, 'nginx:1.27'),
      bf(3, 'sh'),
      bf(3, '-c'),
      bf(6, msg(bf(1, ''), vf(2, 0), vf(3, 8080), bf(4, 'TCP'), bf(5, ''))),
      bf(7, msg(bf(1, 'A'), bf(2, 'b'))),
      bf(
        7,
        msg(
          bf(1, 'FROM'),
          bf(2, ''),
          bf(3, msg(bf(4, msg(bf(1, msg(bf(1, 'creds'))), bf(2, 'pw'), vf(3, true))))),
        ),
      ),
      bf(8, msg(entry(1, 'cpu', msg(bf(1, '500m'))), entry(2, 'memory', msg(bf(1, '64Mi'))))),
      bf(9, msg(bf(1, 'data'), vf(2, false), bf(3, '/data'), bf(4, ''), bf(6, ''))),
      bf(
        11,
        msg(bf(1, msg(bf(2, msg(bf(1, '/healthz'), intstr(2, 'http'), bf(3, ''), bf(4, 'HTTP'))))), vf(3, 3)),
      ),
      vf(16, false),
      bf(99, 'a field from a newer release'),
    );
    const podSpec = msg(
      bf(1, msg(bf(1, 'data'), bf(2, msg(bf(2, msg(bf(1, ''))))))),
      bf(1, msg(bf(1, 'cfg'), bf(2, msg(bf(19, msg(bf(1, msg(bf(1, 'settings'))), vf(3, 420))))))),
      bf(2, container),
      bf(3, 'Always'),
      vf(4, 30),
      bf(14, msg(vf(2, -1), vf(4, 1000), vf(4, 2000))),
      bf(15, msg(bf(1, 'regcred'))),
    );
    const raw = msg(
      bf(
        1,
        meta('web', entry(11, 'app', 'web'), bf(13, msg(bf(1, 'X'), bf(3, 'x'), bf(4, 'u'), bf(5, 'v1')))),
      ),
      bf(
        2,
        msg(
          vf(1, 2),
          bf(2, msg(entry(1, 'app', 'web'), bf(2, msg(bf(1, 'tier'), bf(2, 'In'), bf(3, 'a'), bf(3, 'b'))))),
          bf(3, msg(bf(1, meta('', entry(11, 'app', 'web'))), bf(2, podSpec))),
          bf(4, msg(bf(1, 'RollingUpdate'), bf(2, msg(intstr(1, 0), intstr(2, '25%'))))),
          vf(5, 0),
          vf(7, false),
        ),
      ),
      bf(3, msg(vf(1, 0), vf(2, 0))),
    );
    const obj = decodeProtobufObject(envelope('apps/v1', 'Deployment', raw));
    expect(obj).toEqual({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: {
        name: 'web',
        creationTimestamp: null,
        labels: { app: 'web' },
        ownerReferences: [{ apiVersion: 'v1', kind: 'X', name: 'x', uid: 'u' }],
      },
      spec: {
        replicas: 2,
        selector: {
          matchLabels: { app: 'web' },
          matchExpressions: [{ key: 'tier', operator: 'In', values: ['a', 'b'] }],
        },
        template: {
          metadata: { creationTimestamp: null, labels: { app: 'web' } },
          spec: {
            volumes: [
              { name: 'data', emptyDir: {} },
              { name: 'cfg', configMap: { name: 'settings', defaultMode: 420 } },
            ],
            containers: [
              {
                name: 'web',
                image: 'nginx:1.27',
                command: ['sh', '-c'],
                ports: [{ containerPort: 8080, protocol: 'TCP' }],
                env: [
                  { name: 'A', value: 'b' },
                  { name: 'FROM', valueFrom: { secretKeyRef: { name: 'creds', key: 'pw', optional: true } } },
                ],
                resources: { limits: { cpu: '500m' }, requests: { memory: '64Mi' } },
                volumeMounts: [{ name: 'data', mountPath: '/data' }],
                readinessProbe: {
                  httpGet: { path: '/healthz', port: 'http', scheme: 'HTTP' },
                  timeoutSeconds: 3,
                },
              },
            ],
            restartPolicy: 'Always',
            terminationGracePeriodSeconds: 30,
            securityContext: { runAsUser: -1, supplementalGroups: [1000, 2000] },
            imagePullSecrets: [{ name: 'regcred' }],
          },
        },
        strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: '25%' } },
      },
      status: {},
    });
    // JSON key order follows the Go structs (the tables), not the wire.
    expect(Object.keys((obj.spec as Record<string, unknown>) ?? {})).toEqual([
      'replicas',
      'selector',
      'template',
      'strategy',
    ]);
  });

  it('reads packed repeated varints and creation timestamps', () => {
    const raw = msg(
      bf(1, meta('p', bf(9, msg(vf(1, 1_700_000_000), vf(2, 5))))),
      bf(2, msg(bf(2, msg(bf(1, 'c'))), bf(14, msg(bf(4, Buffer.concat([varint(1), varint(300)])))))),
    );
    const obj = decodeProtobufObject(envelope('v1', 'Pod', raw));
    expect(obj.metadata.deletionTimestamp).toBe('2023-11-14T22:13:20Z');
    expect(obj.spec).toEqual({
      containers: [{ name: 'c' }],
      securityContext: { supplementalGroups: [1, 300] },
    });
  });

  it('keeps the Namespace, ConfigMap and Secret decoding', () => {
    const secret = decodeProtobufObject(
      envelope('v1', 'Secret', msg(bf(1, meta('s')), entry(2, 'pw', 'hunter2'), bf(3, 'Opaque'))),
    );
    expect(secret).toEqual({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 's', creationTimestamp: null },
      data: { pw: Buffer.from('hunter2').toString('base64') },
      type: 'Opaque',
    });
    const cm = decodeProtobufObject(envelope('v1', 'ConfigMap', msg(bf(1, meta('c')), entry(2, 'a', 'b'))));
    expect(cm.data).toEqual({ a: 'b' });
  });

  it('answers 415 for a kind without a schema, 400 for a body without the envelope', () => {
    const unknown = () => decodeProtobufObject(envelope('storage.k8s.io/v1', 'StorageClass', meta('x')));
    expect(unknown).toThrow(ApiError);
    try {
      unknown();
    } catch (e) {
      expect((e as ApiError).status.code).toBe(415);
      expect((e as ApiError).status.message).toContain('got storage.k8s.io/v1 StorageClass');
    }
    try {
      decodeProtobufObject(Buffer.from('{}'));
    } catch (e) {
      expect((e as ApiError).status.code).toBe(400);
    }
  });

  it('rejects a field with the wrong wire type', () => {
    const raw = msg(bf(1, meta('d')), bf(2, msg(bf(1, 'two'))));
    expect(() => decodeProtobufObject(envelope('apps/v1', 'Deployment', raw))).toThrow(/wire type 2/);
  });
});

describe('what kubectl create sends', () => {
  let emu: KubeEmulator;
  let proxy: Server;
  let kubeconfig: string;
  let cacheDir: string;
  const recorded: { path: string; contentType: string; body: Buffer }[] = [];

  beforeAll(async () => {
    emu = await startKubeEmulator();
    const target = new URL(emu.httpUrl);
    proxy = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        if (req.method === 'POST') {
          recorded.push({ path: req.url ?? '', contentType: req.headers['content-type'] ?? '', body });
        }
        const up = request(
          {
            host: target.hostname,
            port: target.port,
            path: req.url,
            method: req.method,
            // kubectl sends no credentials to a plain-HTTP server; the proxy adds the token.
            headers: { ...req.headers, authorization: `Bearer ${EMULATOR_TOKEN}` },
          },
          (upRes) => {
            res.writeHead(upRes.statusCode ?? 502, upRes.headers);
            upRes.pipe(res);
          },
        );
        up.end(body);
      });
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
    const dir = mkdtempSync(join(tmpdir(), 'kubestage-pb-'));
    kubeconfig = join(dir, 'kubeconfig');
    cacheDir = join(dir, 'cache');
    writeFileSync(kubeconfig, kubeconfigYaml(`http://127.0.0.1:${(proxy.address() as AddressInfo).port}`));
    await kubectl(['create', 'namespace', 'pb']);
  });
  afterAll(async () => {
    await new Promise((r) => proxy.close(r));
    await emu.close();
  });

  async function kubectl(args: string[]): Promise<string> {
    const { stdout } = await execFileP(
      'kubectl',
      [`--kubeconfig=${kubeconfig}`, `--cache-dir=${cacheDir}`, ...args],
      {
        env: { ...process.env, KUBECONFIG: kubeconfig },
      },
    );
    return stdout;
  }

  const cases: [string, string[]][] = [
    ['deployment', ['create', 'deployment', 'web', '--image=nginx:1.27', '--replicas=2', '--port=8080']],
    [
      'deployment, two images',
      ['create', 'deployment', 'multi', '--image=nginx:1.27', '--image=busybox:1.36'],
    ],
    ['clusterip service', ['create', 'service', 'clusterip', 'web', '--tcp=80:8080', '--tcp=443']],
    ['headless service', ['create', 'service', 'clusterip', 'headless', '--clusterip=None', '--tcp=80']],
    ['nodeport service', ['create', 'service', 'nodeport', 'np', '--tcp=80:8080', '--node-port=30080']],
    ['loadbalancer service', ['create', 'service', 'loadbalancer', 'lb', '--tcp=443:8443']],
    ['externalname service', ['create', 'service', 'externalname', 'ext', '--external-name=example.com']],
    ['job', ['create', 'job', 'j', '--image=busybox:1.36', '--', 'echo', 'hi']],
    [
      'cronjob',
      [
        'create',
        'cronjob',
        'c',
        '--image=busybox:1.36',
        '--schedule=*/5 * * * *',
        '--restart=Never',
        '--',
        'echo',
        'hi',
      ],
    ],
    ['serviceaccount', ['create', 'serviceaccount', 'sa']],
    [
      'ingress',
      [
        'create',
        'ingress',
        'web',
        '--class=nginx',
        '--rule=a.example.com/=web:80',
        '--rule=b.example.com/api*=api:http,tls=b-cert',
        '--default-backend=web:80',
        '--annotation=team=web',
      ],
    ],
    ['pdb minAvailable', ['create', 'pdb', 'p', '--selector=app=web', '--min-available=1']],
    [
      'pdb maxUnavailable',
      ['create', 'poddisruptionbudget', 'p2', '--selector=app=web', '--max-unavailable=50%'],
    ],
    [
      'role',
      ['create', 'role', 'r', '--verb=get', '--verb=list', '--resource=pods', '--resource=deployments.apps'],
    ],
    [
      'rolebinding',
      ['create', 'rolebinding', 'rb', '--role=r', '--serviceaccount=pb:sa', '--user=alice', '--group=devs'],
    ],
    ['clusterrole', ['create', 'clusterrole', 'pb-cr', '--verb=get', '--non-resource-url=/logs/*']],
    ['clusterrolebinding', ['create', 'clusterrolebinding', 'pb-crb', '--clusterrole=pb-cr', '--user=bob']],
    ['quota', ['create', 'quota', 'q', '--hard=pods=50', '--scopes=BestEffort']],
    [
      'docker-registry secret',
      [
        'create',
        'secret',
        'docker-registry',
        'reg',
        '--docker-server=r.example.com',
        '--docker-username=u',
        '--docker-password=p',
      ],
    ],
    ['configmap', ['create', 'configmap', 'cfg', '--from-literal=a=b']],
  ];

  it.each(cases)('%s: the protobuf body decodes to the JSON kubectl would send', async (_what, args) => {
    const expected = JSON.parse(
      await kubectl(['-n', 'pb', '--dry-run=client', '-o', 'json', ...args]),
    ) as unknown;
    const before = recorded.length;
    await kubectl(['-n', 'pb', ...args]);
    const posts = recorded.slice(before);
    expect(posts).toHaveLength(1);
    expect(posts[0].contentType).toBe(PROTOBUF_CONTENT_TYPE);
    expect(decodeProtobufObject(posts[0].body)).toEqual(expected);
  });

  it('kubectl run and expose send JSON; the objects they made read back as kubectl wrote them', async () => {
    const before = recorded.length;
    await kubectl([
      '-n',
      'pb',
      'run',
      'solo',
      '--image=nginx:1.27',
      '--port=80',
      '--env=A=B',
      '--labels=app=solo',
    ]);
    await kubectl([
      '-n',
      'pb',
      'expose',
      'deployment',
      'web',
      '--name=web-exposed',
      '--port=80',
      '--target-port=8080',
    ]);
    const types = recorded.slice(before).map((r) => r.contentType);
    expect(types).toEqual(['application/json', 'application/json']);
    const svc = JSON.parse(await kubectl(['-n', 'pb', 'get', 'service', 'web-exposed', '-o', 'json'])) as {
      spec: { ports: { port: number; targetPort: number }[]; selector: Record<string, string> };
    };
    expect(svc.spec.ports[0]).toMatchObject({ port: 80, targetPort: 8080 });
    expect(svc.spec.selector).toEqual({ app: 'web' });
  });
});
