// The example shop's two servers really work together (the images the manifests name are built from them).
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { node24, repoRoot } from '../support/action.js';

const children: ChildProcess[] = [];
afterAll(() => children.forEach((c) => c.kill()));

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

async function start(app: string, env: Record<string, string>): Promise<void> {
  const child = spawn(node24, [join(repoRoot, 'examples', 'shop', app, 'server.js')], {
    env: { ...process.env, ...env },
  });
  children.push(child);
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => d.toString().includes('listening') && resolve());
    child.on('exit', (code) => reject(new Error(`${app} exited with ${code}`)));
  });
}

test('the web page lists the products the API serves, with the greeting from the config', async () => {
  const [apiPort, webPort] = [await freePort(), await freePort()];
  await start('api', { PORT: String(apiPort), GREETING: 'Preview build' });
  await start('web', { PORT: String(webPort), API_URL: `http://127.0.0.1:${apiPort}` });
  expect((await fetch(`http://127.0.0.1:${apiPort}/healthz`)).status).toBe(200);
  expect((await fetch(`http://127.0.0.1:${webPort}/healthz`)).status).toBe(200);
  const page = await (await fetch(`http://127.0.0.1:${webPort}/`)).text();
  expect(page).toContain('<h1>Preview build</h1>');
  expect(page).toContain('T-shirt — $24.00');
});
