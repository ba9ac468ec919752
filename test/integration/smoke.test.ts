// Smoke checks against real HTTP servers on 127.0.0.1: slow answers, flaky 503s, a HEAD-only endpoint,
// bodies, redirects, hangs and refused connections — what a freshly deployed stage can do.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startDeadline } from '../../src/model/deadline.js';
import { smokeLines, smokeTable } from '../../src/report/smoke.js';
import type { SmokeCheck } from '../../src/settings/stages.js';
import { runSmoke, SMOKE_CONCURRENCY } from '../../src/steps/smoke.js';
import { recordingLogger } from '../support/logger.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Stage {
  url: string;
  server: Server;
  hits: Map<string, number>;
  methods: string[];
  inFlight: number;
  maxInFlight: number;
}

/** A stage whose routes misbehave in the ways the checks must catch. */
async function startStage(): Promise<Stage> {
  const stage: Stage = {
    url: '',
    server: undefined as unknown as Server,
    hits: new Map(),
    methods: [],
    inFlight: 0,
    maxInFlight: 0,
  };
  const routes: Record<
    string,
    (req: IncomingMessage, res: ServerResponse, n: number) => Promise<void> | void
  > = {
    '/healthz': (_req, res) => void res.end('ok'),
    // Every request takes 60 ms.
    '/slow': async (_req, res) => {
      await sleep(60);
      res.end('slow but fine');
    },
    // 2 of every 20 requests take 150 ms: with nearest rank, rank 19 of 20 is slow, so p95 is.
    '/two-slow': async (_req, res, n) => {
      if (n % 10 === 0) await sleep(150);
      res.end('ok');
    },
    // 1 of every 20 requests takes 150 ms: rank 19 of 20 is fast, so p95 is.
    '/one-slow': async (_req, res, n) => {
      if (n % 20 === 0) await sleep(150);
      res.end('ok');
    },
    // Every 4th request answers 503, as an overloaded pod behind a Service does.
    '/flaky': (_req, res, n) => {
      res.statusCode = n % 4 === 0 ? 503 : 200;
      res.end(res.statusCode === 503 ? 'upstream unavailable' : 'ok');
    },
    '/head-only': (req, res) => {
      res.statusCode = req.method === 'HEAD' ? 200 : 405;
      if (req.method !== 'HEAD') res.setHeader('allow', 'HEAD');
      res.end();
    },
    '/status': (_req, res) => void res.end('{"status":"degraded"}'),
    '/old': (_req, res) => {
      res.writeHead(302, { location: '/healthz' });
      res.end();
    },
    '/hang': () => undefined,
    '/query': (req, res) => void res.end(req.url === '/query?limit=5' ? 'query kept' : `got ${req.url}`),
  };
  stage.server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const n = (stage.hits.get(path) ?? 0) + 1;
    stage.hits.set(path, n);
    stage.methods.push(`${req.method} ${path}`);
    stage.inFlight++;
    stage.maxInFlight = Math.max(stage.maxInFlight, stage.inFlight);
    res.on('close', () => stage.inFlight--);
    const route = routes[path];
    if (!route) {
      res.statusCode = 404;
      res.end('not found');
      return;
    }
    void route(req, res, n);
  });
  await new Promise<void>((r) => stage.server.listen(0, '127.0.0.1', r));
  stage.url = `http://127.0.0.1:${(stage.server.address() as AddressInfo).port}`;
  return stage;
}

const check = (path: string, extra: Partial<SmokeCheck> = {}): SmokeCheck => ({
  method: 'GET',
  path,
  status: 200,
  requests: 1,
  p95Ms: 500,
  timeoutMs: 10_000,
  ...extra,
});

let stage: Stage;
beforeEach(async () => {
  stage = await startStage();
});
afterEach(async () => {
  stage.server.closeAllConnections();
  await new Promise((r) => stage.server.close(r));
});

describe('runSmoke', () => {
  it('passes healthy checks and logs one line per check', async () => {
    const logger = recordingLogger();
    const report = await runSmoke(
      `${stage.url}/`,
      [check('/healthz', { body: 'ok' }), check('/query?limit=5', { body: 'query kept' })],
      { logger },
    );
    expect(report.ok).toBe(true);
    expect(report.checks[0]).toMatchObject({
      method: 'GET',
      path: '/healthz',
      url: `${stage.url}/healthz`,
      requests: 1,
      expectedStatus: 200,
      statuses: { '200': 1 },
      errors: 0,
      p95LimitMs: 500,
      ok: true,
    });
    expect(report.checks[0].failure).toBeUndefined();
    expect(logger.lines[0]).toMatch(/^✓ GET \/healthz: 200 ×1, p95 \d+ ms \(limit 500 ms\)$/);
    expect(logger.warnings).toEqual([]);
  });

  it('fails a check whose p95 is over the limit, saying by how much', async () => {
    const logger = recordingLogger();
    const report = await runSmoke(stage.url, [check('/slow', { requests: 8, p95Ms: 30 })], { logger });
    const [r] = report.checks;
    expect(report.ok).toBe(false);
    expect(r.statuses).toEqual({ '200': 8 });
    expect(r.p95Ms).toBeGreaterThanOrEqual(59);
    expect(r.failure).toBe(`p95 ${r.p95Ms} ms > 30 ms over 8 requests`);
    expect(logger.warnings[0]).toContain(`✗ GET /slow: p95 ${r.p95Ms} ms > 30 ms over 8 requests`);
  });

  it('takes p95 by nearest rank: 2 slow of 20 fail it, 1 slow of 20 does not', async () => {
    const report = await runSmoke(
      stage.url,
      [check('/two-slow', { requests: 20, p95Ms: 100 }), check('/one-slow', { requests: 20, p95Ms: 100 })],
      { logger: recordingLogger() },
    );
    const [two, one] = report.checks;
    expect(two.ok).toBe(false);
    expect(two.p95Ms).toBeGreaterThanOrEqual(150);
    expect(two.failure).toMatch(/^p95 \d+ ms > 100 ms over 20 requests$/);
    expect(one.ok).toBe(true);
    expect(one.p95Ms).toBeLessThan(100);
    expect(one.maxMs).toBeGreaterThanOrEqual(150);
  });

  it('fails on any unexpected status, counting them', async () => {
    const report = await runSmoke(stage.url, [check('/flaky', { requests: 20 })], {
      logger: recordingLogger(),
    });
    expect(report.checks[0]).toMatchObject({
      statuses: { '200': 15, '503': 5 },
      ok: false,
      failure: '5 of 20 answered 503 (expected 200)',
    });
  });

  it('sends HEAD when asked, and a GET to a HEAD-only endpoint fails with its status', async () => {
    const report = await runSmoke(stage.url, [check('/head-only', { method: 'HEAD' }), check('/head-only')], {
      logger: recordingLogger(),
    });
    expect(report.checks.map((c) => [c.method, c.ok, c.failure])).toEqual([
      ['HEAD', true, undefined],
      ['GET', false, '1 of 1 answered 405 (expected 200)'],
    ]);
    expect(stage.methods).toEqual(['HEAD /head-only', 'GET /head-only']);
  });

  it('checks the body of every answer', async () => {
    const report = await runSmoke(
      stage.url,
      [check('/status', { body: '"ok"', requests: 3 }), check('/healthz', { body: 'ok' })],
      {
        logger: recordingLogger(),
      },
    );
    expect(report.checks[0]).toMatchObject({
      ok: false,
      failure: 'body does not contain "\\"ok\\"" in 3 of 3 answers',
    });
    expect(report.checks[1].ok).toBe(true);
  });

  it('does not follow redirects: a 302 is a status', async () => {
    const report = await runSmoke(stage.url, [check('/old', { status: 302 }), check('/old')], {
      logger: recordingLogger(),
    });
    expect(report.checks.map((c) => [c.ok, c.failure])).toEqual([
      [true, undefined],
      [false, '1 of 1 answered 302 (expected 200)'],
    ]);
    expect(stage.hits.get('/healthz')).toBeUndefined();
  });

  it('times out each request on its own and counts it as an error', async () => {
    const report = await runSmoke(stage.url, [check('/hang', { requests: 2, timeoutMs: 200 })], {
      logger: recordingLogger(),
    });
    expect(report.checks[0]).toMatchObject({
      requests: 2,
      errors: 2,
      statuses: {},
      p95Ms: null,
      ok: false,
      failure: '2 of 2 got no answer: timed out after 200 ms',
    });
  });

  it('reports a refused connection', async () => {
    const closed = await startStage();
    closed.server.close();
    await new Promise((r) => closed.server.once('close', r));
    const report = await runSmoke(closed.url, [check('/healthz')], { logger: recordingLogger() });
    expect(report.checks[0]).toMatchObject({
      errors: 1,
      ok: false,
      failure: '1 of 1 got no answer: connection refused',
    });
  });

  it(`sends at most ${SMOKE_CONCURRENCY} requests at a time`, async () => {
    await runSmoke(stage.url, [check('/slow', { requests: 16 })], { logger: recordingLogger() });
    expect(stage.hits.get('/slow')).toBe(16);
    expect(stage.maxInFlight).toBe(SMOKE_CONCURRENCY);
  });

  it('stops when the run has no time left, and says so', async () => {
    const report = await runSmoke(stage.url, [check('/healthz', { requests: 3 })], {
      logger: recordingLogger(),
      deadline: startDeadline(0),
    });
    expect(stage.hits.size).toBe(0);
    expect(report.checks[0]).toMatchObject({
      requests: 0,
      ok: false,
      failure: "stopped after 0 of 3 requests: the run's time budget ran out",
    });
  });

  it('stops with the cancellation when the run is cancelled', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('cancelled by SIGINT')), 100);
    await expect(
      runSmoke(stage.url, [check('/hang', { requests: 4 })], {
        logger: recordingLogger(),
        signal: controller.signal,
      }),
    ).rejects.toThrow('cancelled by SIGINT');
  });

  it('renders what a user reads in the log and the job summary', async () => {
    const report = await runSmoke(stage.url, [check('/healthz'), check('/flaky', { requests: 4 })], {
      logger: recordingLogger(),
    });
    const lines = smokeLines(report, { marker: '🧪' });
    expect(lines[0]).toBe('🧪 Smoke checks failed: 1 of 2');
    expect(lines[1]).toMatch(/^🧪 {3}✓ GET \/healthz: 200 ×1, p95 \d+ ms \(limit 500 ms\)$/);
    expect(lines[2]).toMatch(
      /^🧪 {3}✗ GET \/flaky: 1 of 4 answered 503 \(expected 200\) \[200 ×3, 503 ×1; p50 \d+ ms, p95 \d+ ms, max \d+ ms\]$/,
    );
    const table = smokeTable(report);
    expect(table.split('\n')[0]).toBe(
      '| | Check | Requests | Answers (expected) | p50 | p95 | max | Result |',
    );
    expect(table).toMatch(
      /\| ❌ \| `GET \/flaky` \| 4 \| 200 ×3, 503 ×1 \(200\) \| \d+ ms \| \d+ ms \(limit 500 ms\) \| \d+ ms \| 1 of 4 answered 503 \\\(expected 200\\\) \|/,
    );
  });
});
