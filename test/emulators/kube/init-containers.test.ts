// Init containers in the simulated kubelet, as a client sees them: they run in order before the app
// containers, and fail as containers do (Init:ImagePullBackOff, Init:CrashLoopBackOff) while the
// pod stays Pending with Initialized=False.
import { EMULATOR_TOKEN, startKubeEmulator, type KObject, type KubeEmulator } from './index.js';

let emu: KubeEmulator;
beforeAll(async () => {
  emu = await startKubeEmulator({ controllers: { readyDelayMs: 10, timeScale: 0.001 } });
});
afterAll(async () => {
  await emu.close();
});

type Status = {
  phase?: string;
  conditions?: { type: string; status: string; reason?: string; message?: string }[];
  initContainerStatuses?: {
    name: string;
    state: Record<string, { reason?: string; exitCode?: number; startedAt?: string }>;
    lastState: { terminated?: { exitCode: number } };
    restartCount: number;
    ready: boolean;
  }[];
  containerStatuses?: { name: string; state: Record<string, { reason?: string }> }[];
};

async function api(method: string, path: string, body?: unknown, accept = 'application/json') {
  const res = await fetch(emu.httpUrl + path, {
    method,
    headers: { authorization: `Bearer ${EMULATOR_TOKEN}`, 'content-type': 'application/json', accept },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return (await res.json()) as KObject & { rows?: { cells: unknown[] }[] };
}

function pod(name: string, inits: string[]): KObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name },
    spec: {
      initContainers: inits.map((image, i) => ({ name: `init-${i}`, image })),
      containers: [{ name: 'app', image: 'nginx:1.27' }],
    },
  };
}

async function until(name: string, what: string, check: (s: Status) => boolean): Promise<Status> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const s = (await api('GET', `/api/v1/namespaces/default/pods/${name}`)).status as Status;
    if (s && check(s)) return s;
    if (Date.now() > deadline)
      throw new Error(`${name}: timed out waiting for ${what}: ${JSON.stringify(s)}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function printedStatus(name: string): Promise<unknown> {
  const table = await api(
    'GET',
    `/api/v1/namespaces/default/pods/${name}`,
    undefined,
    'application/json;as=Table;v=v1;g=meta.k8s.io',
  );
  return table.rows?.[0]?.cells[2];
}

const cond = (s: Status, type: string) => s.conditions?.find((c) => c.type === type);

test('init containers run in order, then the app containers; the pod becomes Ready', async () => {
  await api('POST', '/api/v1/namespaces/default/pods', pod('ordered', ['busybox:1.36', 'busybox:1.37']));
  const midway = await until('ordered', 'first init done', (s) =>
    Boolean(s.initContainerStatuses?.[0].state.terminated),
  );
  // While the second one has not finished, the app container waits.
  if (!midway.initContainerStatuses?.[1].state.terminated) {
    expect(midway.phase).toBe('Pending');
    expect(midway.containerStatuses?.[0].state.waiting?.reason).toBe('PodInitializing');
    expect(cond(midway, 'Initialized')).toMatchObject({
      status: 'False',
      reason: 'ContainersNotInitialized',
      message: 'containers with incomplete status: [init-1]',
    });
  }
  const done = await until(
    'ordered',
    'Running',
    (s) => s.phase === 'Running' && cond(s, 'Ready')?.status === 'True',
  );
  expect(cond(done, 'Initialized')?.status).toBe('True');
  expect(done.initContainerStatuses?.map((c) => [c.name, c.state.terminated?.reason, c.ready])).toEqual([
    ['init-0', 'Completed', true],
    ['init-1', 'Completed', true],
  ]);
});

test('an init container whose image cannot be pulled: Init:ImagePullBackOff, Pending, Initialized=False', async () => {
  await api('POST', '/api/v1/namespaces/default/pods', pod('nopull', ['ghcr.io/acme/does-not-exist:1']));
  const s = await until(
    'nopull',
    'ImagePullBackOff',
    (x) => x.initContainerStatuses?.[0].state.waiting?.reason === 'ImagePullBackOff',
  );
  expect(s.phase).toBe('Pending');
  expect(cond(s, 'Initialized')).toMatchObject({ status: 'False', reason: 'ContainersNotInitialized' });
  expect(s.containerStatuses?.[0].state.waiting?.reason).toBe('PodInitializing');
  // The kubelet alternates ErrImagePull and ImagePullBackOff; the printed STATUS follows.
  const seen = new Set<unknown>();
  for (let i = 0; i < 100 && !seen.has('Init:ImagePullBackOff'); i++) seen.add(await printedStatus('nopull'));
  expect([...seen].every((x) => x === 'Init:ImagePullBackOff' || x === 'Init:ErrImagePull')).toBe(true);
  expect(seen.has('Init:ImagePullBackOff')).toBe(true);
});

test('an init container that keeps exiting non-zero: Init:CrashLoopBackOff with restarts and the exit code', async () => {
  await api(
    'POST',
    '/api/v1/namespaces/default/pods',
    pod('crashy', ['busybox:1.36', 'ghcr.io/acme/crash-migrate:1']),
  );
  const s = await until(
    'crashy',
    'CrashLoopBackOff with 2 restarts',
    (x) =>
      x.initContainerStatuses?.[1].state.waiting?.reason === 'CrashLoopBackOff' &&
      (x.initContainerStatuses?.[1].restartCount ?? 0) >= 2,
  );
  expect(s.phase).toBe('Pending');
  expect(s.initContainerStatuses?.[1].lastState.terminated?.exitCode).toBe(1);
  expect(s.initContainerStatuses?.[0].state.terminated?.reason).toBe('Completed');
  expect(cond(s, 'Initialized')?.message).toBe('containers with incomplete status: [init-1]');
  // kubectl prints the crash (or, while the init container runs again between back-offs, its progress).
  const printed = new Set<string>();
  for (let i = 0; i < 100 && !['Init:CrashLoopBackOff', 'Init:Error'].some((x) => printed.has(x)); i++)
    printed.add(String(await printedStatus('crashy')));
  expect([...printed].every((x) => ['Init:CrashLoopBackOff', 'Init:Error', 'Init:1/2'].includes(x))).toBe(
    true,
  );
  expect(['Init:CrashLoopBackOff', 'Init:Error'].some((x) => printed.has(x))).toBe(true);
});
