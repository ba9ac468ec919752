// Entry point of the Kubernetes API emulator: an HTTPS server on 127.0.0.1 (random port) that real
// kubectl and real @kubernetes/client-node accept, plus simulated controllers, fault injection and
// a kubeconfig file pointing at it. A second, plain-HTTP listener serves the same API to tests that
// send raw requests (kubectl sends no credentials over plain HTTP, so it is not for kubeconfigs).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Authenticator } from './auth.js';
import { BUILTIN_TYPES, emulatorNode, type NodeOptions } from './builtins.js';
import { NODE_NAME } from './controllers/runtime.js';
import { VERSION_INFO } from './discovery.js';
import { startControllers, type ControllerOptions, type Controllers } from './controllers.js';
import { Faults } from './faults.js';
import { KubeApiServer, type RequestRecord } from './server.js';
import { Store } from './store.js';
import { CA_CERT, SERVER_CERT, SERVER_KEY } from './tls.js';

export type { NodeOptions, Taint } from './builtins.js';
export { Faults, type FaultKind, type FaultRule, type FaultShares } from './faults.js';
export type { RequestRecord } from './server.js';
export type { Controllers, ControllerOptions } from './controllers.js';
export { Store, type KObject, type ResourceType } from './store.js';

export interface KubeEmulatorOptions {
  /** Where to write the kubeconfig; default a new temp dir. */
  dir?: string;
  /** Delay before every answer (ms); mutable at runtime through `emulator.options`. */
  latencyMs?: number;
  /** How long an emptied Terminating namespace lingers before it is gone (ms, default 50). */
  namespaceDeletionDelayMs?: number;
  controllers?: Partial<ControllerOptions>;
  /**
   * The registry's answer for a tagged image (`sha256:…`, or undefined when unknown), read by the
   * kubelet when a container starts, for a realistic imageID; e.g. the registry emulator's `lookup`.
   * Without it (or when it returns undefined) the imageID digest is made up from the reference.
   */
  imageDigests?: (image: string) => string | undefined;
  /** The nodes pods are scheduled onto (default: one, as kind has). */
  nodes?: NodeOptions;
  /** How many past changes a watch can resume from before it gets 410 Expired (default 20000). */
  watchHistoryLimit?: number;
}

export interface KubeEmulator {
  /** https://127.0.0.1:PORT, what the kubeconfig names (certificate signed by `CA_CERT`). */
  url: string;
  /** The same API over plain HTTP, for raw test requests (send `Authorization: Bearer …` yourself). */
  httpUrl: string;
  kubeconfigPath: string;
  /** The kubeconfig as YAML text. */
  kubeconfig: string;
  store: Store;
  controllers: Controllers;
  faults: Faults;
  /** The bearer tokens the API server accepts: `auth.addToken(t)`, `auth.revokeToken(t)`. */
  auth: Pick<Authenticator, 'addToken' | 'revokeToken'>;
  /** Mutable at runtime (latencyMs, namespaceDeletionDelayMs). */
  options: KubeEmulatorOptions;
  /** Every request served: for tests that assert e.g. that no write happened. */
  requests: RequestRecord[];
  /** Watch streams open right now. */
  openWatches(): number;
  close(): Promise<void>;
}

export const EMULATOR_CONTEXT = 'kubestage-emulator';
export const EMULATOR_TOKEN = 'kubestage-emulator-token';
export const SYSTEM_NAMESPACES = ['default', 'kube-system', 'kube-public', 'kube-node-lease'];

export { CA_CERT, ADMIN_CLIENT_CERT, ADMIN_CLIENT_KEY, ROGUE_CLIENT_CERT, ROGUE_CLIENT_KEY } from './tls.js';

/** A kubeconfig for `url`; an https URL gets the cluster CA, as kind's kubeconfig does. */
export function kubeconfigYaml(url: string, namespace = 'default', token = EMULATOR_TOKEN): string {
  const tls = url.startsWith('https:');
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    `- name: ${EMULATOR_CONTEXT}`,
    '  cluster:',
    `    server: ${url}`,
    tls
      ? `    certificate-authority-data: ${Buffer.from(CA_CERT).toString('base64')}`
      : // Plain HTTP: client-node only allows it with this flag set; kubectl ignores the flag for http.
        '    insecure-skip-tls-verify: true',
    'users:',
    `- name: ${EMULATOR_CONTEXT}`,
    '  user:',
    `    token: ${token}`,
    'contexts:',
    `- name: ${EMULATOR_CONTEXT}`,
    '  context:',
    `    cluster: ${EMULATOR_CONTEXT}`,
    `    user: ${EMULATOR_CONTEXT}`,
    `    namespace: ${namespace}`,
    `current-context: ${EMULATOR_CONTEXT}`,
    '',
  ].join('\n');
}

export async function startKubeEmulator(opts: KubeEmulatorOptions = {}): Promise<KubeEmulator> {
  const options: KubeEmulatorOptions = { namespaceDeletionDelayMs: 50, ...opts };
  const store = new Store({ historyLimit: options.watchHistoryLimit });
  for (const t of BUILTIN_TYPES) store.registerType(t);
  const faults = new Faults();
  // The server reads latency and deletion delay through this object, so runtime changes apply.
  const api = new KubeApiServer(store, faults, options);
  api.auth.addToken(EMULATOR_TOKEN);
  const nsType = store.findType('', 'v1', 'namespaces')!;
  for (const name of SYSTEM_NAMESPACES)
    api.seed(nsType, { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
  // The API server's own Service, present in every real cluster.
  api.seed(store.findType('', 'v1', 'services')!, {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name: 'kubernetes',
      namespace: 'default',
      labels: { component: 'apiserver', provider: 'kubernetes' },
    },
    spec: {
      type: 'ClusterIP',
      clusterIP: '10.96.0.1',
      clusterIPs: ['10.96.0.1'],
      ports: [{ name: 'https', port: 443, protocol: 'TCP', targetPort: 6443 }],
    },
  });
  for (let i = 0; i < (options.nodes?.count ?? 1); i++) {
    const name = i === 0 ? NODE_NAME : `${NODE_NAME}-${i + 1}`;
    store.create(
      store.findType('', 'v1', 'nodes')!,
      emulatorNode(name, VERSION_INFO.gitVersion, options.nodes, i),
    );
    // The node's heartbeat lease, as `kubectl describe node` shows it.
    store.create(store.findType('coordination.k8s.io', 'v1', 'leases')!, {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name, namespace: 'kube-node-lease' },
      spec: {
        holderIdentity: name,
        leaseDurationSeconds: 40,
        renewTime: new Date().toISOString().replace(/Z$/, '000Z'),
      },
    });
  }
  // kind's default StorageClass (local-path-provisioner): claims bind when a pod uses them.
  store.create(store.findType('storage.k8s.io', 'v1', 'storageclasses')!, {
    apiVersion: 'storage.k8s.io/v1',
    kind: 'StorageClass',
    metadata: {
      name: 'standard',
      annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' },
    },
    provisioner: 'rancher.io/local-path',
    reclaimPolicy: 'Delete',
    volumeBindingMode: 'WaitForFirstConsumer',
  });
  const controllers = startControllers(store, {
    ...options.controllers,
    ...(options.imageDigests ? { imageDigests: options.imageDigests } : {}),
  });
  api.podLogs = controllers;

  const sockets = new Set<Socket>();
  const handle = (req: IncomingMessage, res: ServerResponse) => void api.handle(req, res);
  const track = (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  };
  // The API server asks for a client certificate and judges it itself (401 if the CA did not sign it).
  const tlsServer = createTlsServer(
    {
      key: SERVER_KEY,
      cert: SERVER_CERT,
      ca: CA_CERT,
      requestCert: true,
      rejectUnauthorized: false,
      keepAlive: true,
      noDelay: true,
    },
    handle,
  );
  const plainServer: Server = createServer({ keepAlive: true, noDelay: true }, handle);
  tlsServer.on('secureConnection', track);
  plainServer.on('connection', track);
  const listen = async (server: Server) => {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const address = server.address();
    if (address === null || typeof address === 'string')
      throw new Error('kube emulator: no TCP address after listen');
    return address.port;
  };
  const port = await listen(tlsServer);
  const url = `https://127.0.0.1:${port}`;
  const httpUrl = `http://127.0.0.1:${await listen(plainServer)}`;
  api.serverAddress = `127.0.0.1:${port}`;

  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'kubestage-kube-'));
  const kubeconfig = kubeconfigYaml(url);
  const kubeconfigPath = join(dir, 'kubeconfig');
  writeFileSync(kubeconfigPath, kubeconfig, { mode: 0o600 });

  let closed: Promise<void> | undefined;
  return {
    url,
    httpUrl,
    kubeconfigPath,
    kubeconfig,
    store,
    controllers,
    faults,
    auth: api.auth,
    options,
    requests: api.requests,
    openWatches: () => api.openWatches,
    close() {
      closed ??= (async () => {
        controllers.stop();
        api.close();
        const done = [tlsServer, plainServer].map(
          (server) => new Promise<void>((resolve) => server.close(() => resolve())),
        );
        tlsServer.closeAllConnections();
        plainServer.closeAllConnections();
        for (const s of sockets) s.destroy();
        await Promise.all(done);
      })();
      return closed;
    },
  };
}
