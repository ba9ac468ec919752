// Fault injection of the Kubernetes API emulator, observed over real HTTP.
import { EMULATOR_TOKEN, startKubeEmulator, type KubeEmulator } from './index.js';

let emu: KubeEmulator;
const headers = { authorization: `Bearer ${EMULATOR_TOKEN}` };
beforeEach(async () => {
  emu = await startKubeEmulator();
});
afterEach(async () => {
  await emu.close();
});

async function status(path = '/api/v1/namespaces/default/configmaps'): Promise<number | 'dropped'> {
  try {
    const res = await fetch(emu.httpUrl + path, { headers });
    await res.text();
    return res.status;
  } catch {
    return 'dropped';
  }
}

describe('faults', () => {
  it('failNext answers 429 with Retry-After and a TooManyRequests Status, then serves again', async () => {
    emu.faults.retryAfterSeconds = 2;
    emu.faults.failNext(2, { method: 'GET', pathPattern: /configmaps/, status: 429 });
    expect(await status('/api/v1/namespaces')).toBe(200); // not matched by the rule
    const res = await fetch(emu.httpUrl + '/api/v1/namespaces/default/configmaps', { headers });
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBe('2');
    expect(await res.json()).toMatchObject({
      kind: 'Status',
      reason: 'TooManyRequests',
      code: 429,
      details: { retryAfterSeconds: 2 },
    });
    expect(await status()).toBe(429);
    expect(await status()).toBe(200);
    expect(emu.faults.injected.map((f) => f.kind)).toEqual([429, 429]);
  });

  it('drop destroys the connection; 500 and 503 answer real Statuses', async () => {
    emu.faults.failNext(1, { status: 'drop' });
    emu.faults.failNext(1, { status: 500 });
    emu.faults.failNext(1, { status: 503 });
    expect(await status()).toBe('dropped');
    const r500 = await fetch(emu.httpUrl + '/api/v1/namespaces', { headers });
    expect(r500.status).toBe(500);
    expect(await r500.json()).toMatchObject({ reason: 'InternalError' });
    const r503 = await fetch(emu.httpUrl + '/api/v1/namespaces', { headers });
    expect(r503.status).toBe(503);
    expect(await r503.json()).toMatchObject({ reason: 'ServiceUnavailable' });
    expect(await status()).toBe(200);
  });

  it('random shares are reproducible from the seed and never fail more than maxConsecutive in a row', async () => {
    const run = async () => {
      emu.faults.seed(42);
      const out: (number | 'dropped')[] = [];
      for (let i = 0; i < 30; i++) out.push(await status());
      return out;
    };
    emu.faults.shares = { tooManyRequests: 0.3, serverError: 0.1, unavailable: 0.1, drop: 0.1 };
    emu.faults.maxConsecutive = 2;
    const first = await run();
    const second = await run();
    expect(second).toEqual(first);
    expect(first.filter((s) => s !== 200).length).toBeGreaterThan(5);
    expect(first.filter((s) => s === 200).length).toBeGreaterThan(5);
    let streak = 0;
    for (const s of first) {
      streak = s === 200 ? 0 : streak + 1;
      expect(streak).toBeLessThanOrEqual(2);
    }
    emu.faults.reset();
    expect(await status()).toBe(200);
  });

  it('latency applies to every request and can change at runtime', async () => {
    emu.options.latencyMs = 120;
    let t = Date.now();
    expect(await status()).toBe(200);
    expect(Date.now() - t).toBeGreaterThanOrEqual(110);
    emu.options.latencyMs = 0;
    t = Date.now();
    await status();
    expect(Date.now() - t).toBeLessThan(110);
  });

  it('logs every request with its status', async () => {
    await status('/api/v1/namespaces/nope');
    expect(emu.requests.at(-1)).toEqual({
      method: 'GET',
      path: '/api/v1/namespaces/nope',
      query: '',
      status: 404,
    });
  });
});
