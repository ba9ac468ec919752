// Readiness timing in the simulated kubelet and ReplicaSet controller: a readiness probe's
// initialDelaySeconds keeps a running container unready, and a workload's minReadySeconds keeps a
// Ready pod from counting as available, both scaled by the controllers' timeScale.
import { startKubeEmulator, type KObject, type KubeEmulator } from './index.js';

let emu: KubeEmulator;
afterEach(async () => {
  await emu.close();
});

function deployment(extra: { minReadySeconds?: number; initialDelaySeconds?: number }): KObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'default' },
    spec: {
      replicas: 1,
      ...(extra.minReadySeconds ? { minReadySeconds: extra.minReadySeconds } : {}),
      selector: { matchLabels: { app: 'web' } },
      template: {
        metadata: { labels: { app: 'web' } },
        spec: {
          containers: [
            {
              name: 'web',
              image: 'nginx:1.27',
              ...(extra.initialDelaySeconds
                ? {
                    readinessProbe: {
                      httpGet: { path: '/', port: 80 },
                      initialDelaySeconds: extra.initialDelaySeconds,
                    },
                  }
                : {}),
            },
          ],
        },
      },
    },
  };
}

type Timeline = { at: number; what: string }[];

/** When (ms after start) each milestone was first seen in the store. */
async function timeline(emulator: KubeEmulator, d: KObject): Promise<Timeline> {
  const seen: Timeline = [];
  const start = Date.now();
  const mark = (what: string) => {
    if (!seen.some((s) => s.what === what)) seen.push({ at: Date.now() - start, what });
  };
  const unsub = emulator.store.subscribe((ev) => {
    const o = ev.object;
    const status = (o.status ?? {}) as Record<string, unknown>;
    if (o.kind === 'Pod') {
      const cs = (status.containerStatuses as { state?: { running?: unknown }; ready?: boolean }[]) ?? [];
      if (cs[0]?.state?.running) mark('running');
      if (cs[0]?.ready) mark('ready');
    }
    if (o.kind === 'ReplicaSet' && status.availableReplicas === 1) mark('available');
  });
  emulator.store.create(emulator.store.findTypeByKind('apps/v1', 'Deployment')!, d);
  const deadline = Date.now() + 10_000;
  while (!seen.some((s) => s.what === 'available') && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 10));
  unsub();
  return seen;
}

const at = (t: Timeline, what: string) => t.find((s) => s.what === what)?.at ?? NaN;

test('readinessProbe.initialDelaySeconds delays Ready after the container runs (scaled)', async () => {
  emu = await startKubeEmulator({ controllers: { readyDelayMs: 10, timeScale: 0.1 } });
  const t = await timeline(emu, deployment({ initialDelaySeconds: 3 }));
  expect(at(t, 'ready') - at(t, 'running')).toBeGreaterThanOrEqual(280);
});

test('minReadySeconds delays availability after Ready (scaled)', async () => {
  emu = await startKubeEmulator({ controllers: { readyDelayMs: 10, timeScale: 0.1 } });
  const t = await timeline(emu, deployment({ minReadySeconds: 4 }));
  expect(at(t, 'available') - at(t, 'ready')).toBeGreaterThanOrEqual(380);
  const rs = emu.store.list(emu.store.findTypeByKind('apps/v1', 'ReplicaSet')!, 'default')[0];
  expect((rs.spec as { minReadySeconds?: number }).minReadySeconds).toBe(4);
});

test('without either, a running container is Ready and available at once', async () => {
  emu = await startKubeEmulator({ controllers: { readyDelayMs: 10, timeScale: 0.1 } });
  const t = await timeline(emu, deployment({}));
  expect(at(t, 'available') - at(t, 'running')).toBeLessThan(200);
});
