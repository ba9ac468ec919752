// Pod Security admission over real HTTP: namespace labels enforce baseline/restricted; a violating
// pod is refused with the real 403, a controller's pod shows as the ReplicaSet's FailedCreate, and
// warn labels (and enforce, for workloads) add `Warning: 299 - "would violate PodSecurity …"`.
import { EMULATOR_TOKEN, startKubeEmulator, type KObject, type KubeEmulator } from './index.js';

let emu: KubeEmulator;
beforeAll(async () => {
  emu = await startKubeEmulator({ controllers: { readyDelayMs: 10, timeScale: 0.001 } });
  await api('POST', '/api/v1/namespaces', {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name: 'locked', labels: { 'pod-security.kubernetes.io/enforce': 'baseline' } },
  });
  await api('POST', '/api/v1/namespaces', {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name: 'watched', labels: { 'pod-security.kubernetes.io/warn': 'restricted' } },
  });
});
afterAll(async () => {
  await emu.close();
});

async function api(method: string, path: string, body?: unknown) {
  const res = await fetch(emu.httpUrl + path, {
    method,
    headers: { authorization: `Bearer ${EMULATOR_TOKEN}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return {
    status: res.status,
    warning: res.headers.get('warning'),
    body: (await res.json()) as KObject & { message?: string; items?: KObject[] },
  };
}

const privileged = { name: 'app', image: 'nginx:1.27', securityContext: { privileged: true } };
const PRIVILEGED = 'privileged (container "app" must not set securityContext.privileged=true)';

test('a pod that violates the enforced level is refused with the real 403', async () => {
  const r = await api('POST', '/api/v1/namespaces/locked/pods', {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'web-abc' },
    spec: { containers: [privileged] },
  });
  expect(r.status).toBe(403);
  expect(r.body).toMatchObject({
    kind: 'Status',
    status: 'Failure',
    reason: 'Forbidden',
    code: 403,
    message: `pods "web-abc" is forbidden: violates PodSecurity "baseline:latest": ${PRIVILEGED}`,
    details: { name: 'web-abc', kind: 'pods' },
  });
  const hostly = await api('POST', '/api/v1/namespaces/locked/pods', {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'agent' },
    spec: {
      hostNetwork: true,
      containers: [{ name: 'a', image: 'x:1', ports: [{ containerPort: 80, hostPort: 8080 }] }],
      volumes: [{ name: 'root', hostPath: { path: '/' } }],
    },
  });
  expect(hostly.body.message).toBe(
    'pods "agent" is forbidden: violates PodSecurity "baseline:latest": host namespaces (hostNetwork=true), hostPath volumes (volume "root"), hostPort (container "a" uses hostPort 8080)',
  );
});

test("a Deployment's violating pods: 201 with a warning, then ReplicaFailure/FailedCreate on the ReplicaSet and Deployment", async () => {
  const r = await api('POST', '/apis/apps/v1/namespaces/locked/deployments', {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web' },
    spec: {
      selector: { matchLabels: { app: 'web' } },
      template: { metadata: { labels: { app: 'web' } }, spec: { containers: [privileged] } },
    },
  });
  expect(r.status).toBe(201);
  expect(r.warning).toBe(
    `299 - "would violate PodSecurity \\"baseline:latest\\": ${PRIVILEGED.replace(/"/g, '\\"')}"`,
  );
  const deadline = Date.now() + 5000;
  let rs: KObject | undefined;
  while (Date.now() < deadline) {
    rs = (await api('GET', '/apis/apps/v1/namespaces/locked/replicasets')).body.items?.[0];
    if ((rs?.status as { conditions?: unknown[] } | undefined)?.conditions) break;
    await new Promise((res) => setTimeout(res, 10));
  }
  const rsName = rs!.metadata.name!;
  const message = `pods "${rsName}-" is forbidden: violates PodSecurity "baseline:latest": ${PRIVILEGED}`;
  expect((rs!.status as { conditions: unknown[] }).conditions).toEqual([
    expect.objectContaining({ type: 'ReplicaFailure', status: 'True', reason: 'FailedCreate', message }),
  ]);
  const events =
    (await api('GET', `/api/v1/namespaces/locked/events?fieldSelector=involvedObject.name=${rsName}`)).body
      .items ?? [];
  expect(events.find((e) => e.reason === 'FailedCreate')).toMatchObject({
    type: 'Warning',
    message: `Error creating: ${message}`,
    source: { component: 'replicaset-controller' },
  });
  expect((await api('GET', '/api/v1/namespaces/locked/pods')).body.items).toEqual([]);
  let d: KObject | undefined;
  while (Date.now() < deadline) {
    d = (await api('GET', '/apis/apps/v1/namespaces/locked/deployments/web')).body;
    if (
      (d.status as { conditions?: { type: string }[] } | undefined)?.conditions?.some(
        (c) => c.type === 'ReplicaFailure',
      )
    )
      break;
    await new Promise((res) => setTimeout(res, 10));
  }
  expect((d!.status as { conditions: unknown[] }).conditions).toContainEqual(
    expect.objectContaining({ type: 'ReplicaFailure', status: 'True', reason: 'FailedCreate', message }),
  );
});

test('a warn label adds the would-violate warning and lets the pod in', async () => {
  const r = await api('POST', '/api/v1/namespaces/watched/pods', {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'plain' },
    spec: { containers: [{ name: 'app', image: 'nginx:1.27' }] },
  });
  expect(r.status).toBe(201);
  expect(r.warning).toBe(
    '299 - "would violate PodSecurity \\"restricted:latest\\": allowPrivilegeEscalation != false (container \\"app\\" must set securityContext.allowPrivilegeEscalation=false), unrestricted capabilities (container \\"app\\" must set securityContext.capabilities.drop=[\\"ALL\\"]), runAsNonRoot != true (pod or container \\"app\\" must set securityContext.runAsNonRoot=true), seccompProfile (pod or container \\"app\\" must set securityContext.seccompProfile.type to \\"RuntimeDefault\\" or \\"Localhost\\")"',
  );
  // A pod that meets the restricted level gets no warning.
  const ok = await api('POST', '/api/v1/namespaces/watched/pods', {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'hardened' },
    spec: {
      securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } },
      containers: [
        {
          name: 'app',
          image: 'nginx:1.27',
          securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
        },
      ],
    },
  });
  expect(ok.status).toBe(201);
  expect(ok.warning).toBeNull();
});
