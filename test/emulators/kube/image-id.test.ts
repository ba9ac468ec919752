// The kubelet reports the image digest it pulled as status.containerStatuses[].imageID: the digest
// itself for a digest reference, the registry's answer for a tag (fixed when the container starts,
// so moving the tag later does not change a running pod), a made-up digest when nothing answers.
import { createHash } from 'node:crypto';
import { startRegistryEmulator, type RegistryEmulator } from '../registry/index.js';
import { EMULATOR_TOKEN, startKubeEmulator, type KubeEmulator } from './index.js';

let kube: KubeEmulator;
let registry: RegistryEmulator;
beforeAll(async () => {
  registry = await startRegistryEmulator();
  kube = await startKubeEmulator({
    controllers: { readyDelayMs: 10, timeScale: 0.001 },
    imageDigests: (image) => registry.lookup(image),
  });
});
afterAll(async () => {
  await kube.close();
  await registry.close();
});

interface ContainerStatus {
  name: string;
  imageID: string;
  containerID?: string;
}

async function runPod(name: string, images: string[]): Promise<ContainerStatus[]> {
  const created = await fetch(`${kube.httpUrl}/api/v1/namespaces/default/pods`, {
    method: 'POST',
    headers: { authorization: `Bearer ${EMULATOR_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name },
      spec: { containers: images.map((image, i) => ({ name: `c${i}`, image })) },
    }),
  });
  expect(created.status).toBe(201);
  const deadline = Date.now() + 5000;
  for (;;) {
    const res = await fetch(`${kube.httpUrl}/api/v1/namespaces/default/pods/${name}`, {
      headers: { authorization: `Bearer ${EMULATOR_TOKEN}` },
    });
    const statuses = ((await res.json()) as { status?: { containerStatuses?: ContainerStatus[] } }).status
      ?.containerStatuses;
    if (statuses?.every((s) => s.containerID)) return statuses;
    if (Date.now() > deadline) throw new Error(`${name} did not start: ${JSON.stringify(statuses)}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const madeUp = (image: string) => `sha256:${createHash('sha256').update(image).digest('hex')}`;

test('a tagged image reports the digest the registry served when the container started', async () => {
  const first = registry.push('acme/web', 'pr-7');
  const [before] = await runPod('web-1', [`${registry.host}/acme/web:pr-7`]);
  expect(before.imageID).toBe(`${registry.host}/acme/web@${first}`);

  const second = registry.push('acme/web', 'pr-7'); // the tag moves
  expect(second).not.toBe(first);
  const [fresh] = await runPod('web-2', [`${registry.host}/acme/web:pr-7`]);
  expect(fresh.imageID).toBe(`${registry.host}/acme/web@${second}`);
  // The pod already running keeps the image it pulled.
  const res = await fetch(`${kube.httpUrl}/api/v1/namespaces/default/pods/web-1`, {
    headers: { authorization: `Bearer ${EMULATOR_TOKEN}` },
  });
  const still = ((await res.json()) as { status: { containerStatuses: ContainerStatus[] } }).status;
  expect(still.containerStatuses[0].imageID).toBe(`${registry.host}/acme/web@${first}`);
});

test('a digest reference reports that digest, a tag and digest reference too', async () => {
  const d = `sha256:${'ab'.repeat(32)}`;
  const statuses = await runPod('pinned', [`x/y:tag@${d}`, `${registry.host}/acme/api@${d}`, `nginx@${d}`]);
  expect(statuses.map((s) => s.imageID)).toEqual([
    `x/y@${d}`,
    `${registry.host}/acme/api@${d}`,
    `docker.io/library/nginx@${d}`,
  ]);
});

test('an image no registry answers for gets a made-up digest; a registry port is not a tag', async () => {
  const statuses = await runPod('unknown', [
    'nginx:1.27',
    'localhost:5000/team/web:1.0',
    `${registry.host}/acme/never:1`,
  ]);
  expect(statuses.map((s) => s.imageID)).toEqual([
    `docker.io/library/nginx@${madeUp('nginx:1.27')}`,
    `localhost:5000/team/web@${madeUp('localhost:5000/team/web:1.0')}`,
    `${registry.host}/acme/never@${madeUp(`${registry.host}/acme/never:1`)}`,
  ]);
});
