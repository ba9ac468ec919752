// The cluster a contract test runs against: a real one when KUBESTAGE_TEST_KUBECONFIG names a
// kubeconfig (CI on kind), otherwise a fresh Kubernetes API emulator. Scenarios create their own
// uniquely named namespaces through `namespace()`, so they are safe on a shared real cluster, and
// `cleanup()` deletes exactly those.
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startKubeEmulator, type KubeEmulator, type KubeEmulatorOptions } from '../emulators/kube/index.js';

/** The repository root (…/main). */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface KubeTarget {
  kubeconfigPath: string;
  /** The emulator, when not running against a real cluster. */
  emulator?: KubeEmulator;
  real: boolean;
  /** A fresh namespace name (DNS label), registered for cleanup; the namespace is not created. */
  namespace(prefix?: string): string;
  kubectl(args: string[], opts?: KubectlOptions): Promise<KubectlResult>;
  /** Deletes the namespaces handed out, then stops the emulator. */
  cleanup(): Promise<void>;
}

export interface KubectlOptions {
  input?: string;
  timeoutMs?: number;
}

export interface KubectlResult {
  code: number;
  stdout: string;
  stderr: string;
}

let counter = 0;

export async function kubeTarget(emulatorOptions: KubeEmulatorOptions = {}): Promise<KubeTarget> {
  const realConfig = process.env.KUBESTAGE_TEST_KUBECONFIG;
  const emulator = realConfig ? undefined : await startKubeEmulator(emulatorOptions);
  const kubeconfigPath = realConfig ?? emulator!.kubeconfigPath;
  // A private discovery cache: kubectl caches per host:port, and a stale cache from an earlier
  // emulator on a recycled port would hide CRDs registered in this run.
  const cacheDir = mkdtempSync(join(tmpdir(), 'kubestage-kubectl-cache-'));
  const handedOut: string[] = [];
  const run = (args: string[], opts: KubectlOptions = {}) => runKubectl(kubeconfigPath, cacheDir, args, opts);
  return {
    kubeconfigPath,
    emulator,
    real: !!realConfig,
    namespace(prefix = 'ct') {
      const name = `${prefix}-${process.pid % 10000}-${Date.now().toString(36).slice(-5)}-${counter++}`;
      handedOut.push(name);
      return name;
    },
    kubectl: run,
    async cleanup() {
      if (handedOut.length) {
        await run(['delete', 'namespace', '--ignore-not-found', '--wait=false', ...handedOut], {
          timeoutMs: 30_000,
        });
      }
      await emulator?.close();
    },
  };
}

export function runKubectl(
  kubeconfigPath: string,
  cacheDir: string,
  args: string[],
  opts: KubectlOptions = {},
): Promise<KubectlResult> {
  return new Promise((resolvePromise) => {
    const child = execFile(
      'kubectl',
      [`--kubeconfig=${kubeconfigPath}`, `--cache-dir=${cacheDir}`, ...args],
      {
        timeout: opts.timeoutMs ?? 60_000,
        maxBuffer: 64 * 1024 * 1024,
        env: { ...process.env, KUBECONFIG: kubeconfigPath },
      },
      (err, stdout, stderr) => {
        const code = err
          ? typeof (err as { code?: unknown }).code === 'number'
            ? (err as { code: number }).code
            : 1
          : 0;
        resolvePromise({ code, stdout: String(stdout), stderr: String(stderr) });
      },
    );
    if (opts.input !== undefined) child.stdin?.end(opts.input);
    else child.stdin?.end();
  });
}

/**
 * Starts a long-running kubectl (e.g. `get --watch`) and collects its output until `until` sees
 * what it waits for or the time runs out; then kills it.
 */
export function streamKubectl(
  target: KubeTarget,
  args: string[],
  until: (stdout: string) => boolean,
  timeoutMs = 20_000,
): Promise<{ stdout: string; stderr: string; matched: boolean }> {
  return new Promise((resolvePromise) => {
    const child = spawn('kubectl', [`--kubeconfig=${target.kubeconfigPath}`, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let settled = false;
    const finish = (matched: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      child.kill('SIGTERM');
      resolvePromise({ stdout, stderr, matched });
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      if (until(stdout)) finish(true);
    });
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', () => finish(until(stdout)));
  });
}
