// `npm run emulators -- --dir DIR [--latency-ms N]`: both emulators until interrupted.
import { mkdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { startGitHubEmulator } from './github/index.js';
import { startKubeEmulator } from './kube/index.js';

const { values } = parseArgs({
  options: {
    dir: { type: 'string' },
    'latency-ms': { type: 'string', default: '0' },
    'ready-delay-ms': { type: 'string', default: '500' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (values.help || !values.dir) {
  console.log(`Usage: npm run emulators -- --dir DIR [--latency-ms N] [--ready-delay-ms N]

Starts the Kubernetes API emulator and the GitHub REST emulator on 127.0.0.1 and writes
  DIR/kubeconfig   for kubectl / client-node (export KUBECONFIG=DIR/kubeconfig)
  DIR/github.env   GITHUB_API_URL=… (source it before running the action by hand)
Runs until interrupted (Ctrl-C).`);
  process.exit(values.dir ? 0 : 2);
}
const latencyMs = Number(values['latency-ms']);
const readyDelayMs = Number(values['ready-delay-ms']);
for (const [name, v] of [
  ['--latency-ms', latencyMs],
  ['--ready-delay-ms', readyDelayMs],
] as const) {
  if (!Number.isFinite(v) || v < 0) {
    console.error(`${name} must be a number of milliseconds ≥ 0, got "${v}"`);
    process.exit(2);
  }
}
const dir = resolve(values.dir);
mkdirSync(dir, { recursive: true });
const kube = await startKubeEmulator({ dir, latencyMs, controllers: { readyDelayMs } });
const github = await startGitHubEmulator();
writeFileSync(resolve(dir, 'github.env'), `GITHUB_API_URL=${github.url}\n`);
console.log(`Kubernetes API emulator: ${kube.url}
  kubeconfig: ${kube.kubeconfigPath}   (export KUBECONFIG=${kube.kubeconfigPath})${latencyMs ? `\n  latency: ${latencyMs} ms per request` : ''}
GitHub REST emulator:    ${github.url}
  env file:   ${resolve(dir, 'github.env')}
Press Ctrl-C to stop.`);
const stop = async () => {
  await Promise.allSettled([kube.close(), github.close()]);
  process.exit(0);
};
process.on('SIGINT', () => void stop());
process.on('SIGTERM', () => void stop());
