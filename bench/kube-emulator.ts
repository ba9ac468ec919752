// The promotion bench's API server: the Kubernetes emulator alone, in its own process (as an API
// server runs, so neither client shares its CPU), with workloads that become ready at once —
// no pull or start delay, probe delays and progress deadlines scaled by --time-scale — so that a
// stage change's rollout wait is as short as the emulator allows and what remains is our own work.
// Prints "ready <kubeconfig path>" once it serves.
import { parseArgs } from 'node:util';
import { startKubeEmulator } from '../test/emulators/kube/index.js';

const { values } = parseArgs({
  options: {
    dir: { type: 'string' },
    'latency-ms': { type: 'string', default: '0' },
    'time-scale': { type: 'string', default: '0.001' },
  },
});
if (!values.dir) {
  console.error('bench/kube-emulator.ts: --dir DIR is required (where the kubeconfig is written)');
  process.exit(2);
}
const kube = await startKubeEmulator({
  dir: values.dir,
  latencyMs: Number(values['latency-ms']),
  namespaceDeletionDelayMs: 20,
  controllers: { readyDelayMs: 0, timeScale: Number(values['time-scale']) },
});
console.log(`ready ${kube.kubeconfigPath}`);
const stop = async () => {
  await kube.close();
  process.exit(0);
};
process.on('SIGINT', () => void stop());
process.on('SIGTERM', () => void stop());
