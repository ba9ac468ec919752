import { createServer, type Server } from 'node:http';
import { probeUrl } from '../../../src/kube/probe.js';
import type { Logger } from '../../../src/logger.js';

const logger: Logger = { info: () => {}, warning: () => {}, debug: () => {} };

describe('probeUrl (real HTTP on localhost)', () => {
  let server: Server;
  let url: string;
  let hits = 0;
  let healthyAfter = 0;
  beforeAll(async () => {
    server = createServer((req, res) => {
      hits++;
      if (req.url === '/healthz' && hits > healthyAfter) res.writeHead(200).end('ok');
      else res.writeHead(req.url === '/healthz' ? 503 : 404).end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const addr = server.address() as { port: number };
    url = `http://127.0.0.1:${addr.port}/`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));
  beforeEach(() => {
    hits = 0;
  });

  test('retries until the path answers 2xx', async () => {
    healthyAfter = 2;
    const res = await probeUrl(url, {
      path: '/healthz',
      timeoutMs: 10_000,
      attempts: 5,
      logger,
      sleep: async () => {},
    });
    expect(res).toEqual({ ok: true, status: 200 });
    expect(hits).toBe(3);
  });

  test('reports the last status when attempts run out', async () => {
    const res = await probeUrl(url, {
      path: 'missing',
      timeoutMs: 10_000,
      attempts: 3,
      logger,
      sleep: async () => {},
    });
    expect(res).toEqual({ ok: false, status: 404 });
    expect(hits).toBe(3);
  });

  test('reports a connection error', async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as { port: number }).port;
    await new Promise<void>((r) => closed.close(() => r()));
    const res = await probeUrl(`http://127.0.0.1:${port}`, {
      path: '/',
      timeoutMs: 2000,
      attempts: 2,
      logger,
      sleep: async () => {},
    });
    expect(res.ok).toBe(false);
    expect(res.error).toMatch(/ECONNREFUSED/);
  });
});
