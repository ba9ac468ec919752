// The registry scenarios against the real CNCF distribution registry (Debian's docker-registry,
// started here on a free 127.0.0.1 port with filesystem storage in a temp dir; a second instance
// with htpasswd Basic auth) and against our emulator: the emulator is proven against the real thing.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRegistryEmulator, type RegistryEmulator } from '../emulators/registry/index.js';
import { registryScenarios, type RegistryTarget } from '../emulators/registry/scenarios.js';

const BINARY = process.env.KUBESTAGE_DOCKER_REGISTRY ?? '/usr/bin/docker-registry';
const HTPASSWD = spawnSync('bash', ['-c', 'command -v htpasswd'], { encoding: 'utf8' }).stdout.trim();
const USER = { name: 'ci-bot', password: 'pa55-word' };
const inCI = Boolean(process.env.CI);

const missing = !existsSync(BINARY)
  ? `${BINARY} is not installed: apt-get install docker-registry (Debian's CNCF distribution registry), or run .ci/run, which installs it`
  : undefined;
const missingHtpasswd =
  HTPASSWD === ''
    ? 'htpasswd is not on PATH: apt-get install apache2-utils (it writes the bcrypt users file the registry reads)'
    : undefined;

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

interface RealRegistry {
  target: RegistryTarget;
  stop(): Promise<void>;
}

async function startReal(auth: 'none' | 'basic'): Promise<RealRegistry> {
  const dir = mkdtempSync(join(tmpdir(), 'kubestage-distribution-'));
  const port = await freePort();
  const lines = [
    'version: 0.1',
    'log:',
    '  level: warn',
    'storage:',
    '  filesystem:',
    `    rootdirectory: ${join(dir, 'data')}`,
    '  delete:',
    '    enabled: true',
    'http:',
    `  addr: 127.0.0.1:${port}`,
  ];
  if (auth === 'basic') {
    const hash = spawnSync(HTPASSWD, ['-Bbn', USER.name, USER.password], { encoding: 'utf8' });
    if (hash.status !== 0) throw new Error(`htpasswd failed: ${hash.stderr}`);
    writeFileSync(join(dir, 'htpasswd'), hash.stdout);
    lines.push('auth:', '  htpasswd:', '    realm: kubestage-contract', `    path: ${join(dir, 'htpasswd')}`);
  }
  writeFileSync(join(dir, 'config.yml'), lines.join('\n') + '\n');
  const child: ChildProcess = spawn(BINARY, ['serve', join(dir, 'config.yml')], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`docker-registry exited with ${child.exitCode}: ${stderr}`);
    try {
      const res = await fetch(`${url}/v2/`);
      if (res.status === 200 || res.status === 401) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline)
      throw new Error(`docker-registry did not answer on ${url} within 15 s: ${stderr}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    target: {
      label: 'distribution',
      url,
      host: `127.0.0.1:${port}`,
      auth,
      ...(auth === 'basic' ? { user: USER } : {}),
    },
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

async function startEmulated(
  auth: 'none' | 'basic',
): Promise<{ target: RegistryTarget; emulator: RegistryEmulator }> {
  const emulator = await startRegistryEmulator(
    auth === 'basic' ? { auth: 'basic', users: { [USER.name]: USER.password } } : { auth: 'none' },
  );
  return {
    emulator,
    target: {
      label: 'emulator',
      url: emulator.url,
      host: emulator.host,
      auth,
      ...(auth === 'basic' ? { user: USER } : {}),
    },
  };
}

describe.each(['emulator', 'distribution'] as const)('registry scenarios against the %s', (kind) => {
  const targets: Partial<Record<'none' | 'basic', RegistryTarget>> = {};
  const stops: (() => Promise<void>)[] = [];
  const unavailable = kind === 'distribution' ? missing : undefined;

  beforeAll(async () => {
    if (unavailable !== undefined) {
      if (inCI) return;
      console.log(`Skipping the real-registry contract scenarios: ${unavailable}.`);
      return;
    }
    for (const auth of ['none', 'basic'] as const) {
      if (kind === 'distribution' && auth === 'basic' && missingHtpasswd !== undefined) {
        if (!inCI) console.log(`Skipping the real-registry basic-auth scenarios: ${missingHtpasswd}.`);
        continue;
      }
      if (kind === 'distribution') {
        const real = await startReal(auth);
        targets[auth] = real.target;
        stops.push(real.stop);
      } else {
        const { target, emulator } = await startEmulated(auth);
        targets[auth] = target;
        stops.push(() => emulator.close());
      }
    }
  });
  afterAll(async () => {
    await Promise.all(stops.map((s) => s()));
  });

  test.each(registryScenarios.map((s) => [s.name, s] as const))('%s', async (_name, scenario) => {
    if (unavailable !== undefined) {
      if (inCI) throw new Error(`The contract test needs the real registry in CI: ${unavailable}.`);
      return;
    }
    const target = targets[scenario.auth];
    if (target === undefined) {
      if (inCI) throw new Error(`The contract test needs htpasswd in CI: ${missingHtpasswd}.`);
      return;
    }
    await scenario.run(target);
  });
});
