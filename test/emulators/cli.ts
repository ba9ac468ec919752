// `npm run emulators -- --dir DIR [--latency-ms N]`: the Kubernetes, GitHub and registry emulators until interrupted.
import { mkdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { startGitHubEmulator } from './github/index.js';
import { startKubeEmulator } from './kube/index.js';
import { startRegistryEmulator } from './registry/index.js';

/** The token written to github.env; GitHub's emulator answers any other with 401 Bad credentials. */
const DEFAULT_TOKEN = 'ghs_emulator_token_0000000000000000000000';

const { values } = parseArgs({
  options: {
    dir: { type: 'string' },
    'latency-ms': { type: 'string', default: '0' },
    'ready-delay-ms': { type: 'string', default: '500' },
    repo: { type: 'string', multiple: true, default: [] },
    pull: { type: 'string', multiple: true, default: [] },
    token: { type: 'string', default: DEFAULT_TOKEN },
    help: { type: 'boolean', short: 'h' },
  },
});
if (values.help || !values.dir) {
  console.log(`Usage: npm run emulators -- --dir DIR [--latency-ms N] [--ready-delay-ms N]
                     [--repo OWNER/NAME]… [--pull OWNER/NAME#NUMBER@HEAD_SHA[:BRANCH]]…
                     [--token GITHUB_TOKEN]

Starts the Kubernetes API, GitHub REST and OCI registry emulators on 127.0.0.1 and writes
  DIR/kubeconfig   for kubectl / client-node (export KUBECONFIG=DIR/kubeconfig)
  DIR/github.env   GITHUB_API_URL=… GITHUB_TOKEN=… (source it before running the action by hand)
  DIR/registry     the registry's host:port (images named <host:port>/<repo>:<tag>; plain HTTP on
                   loopback; push with any OCI client, the kubelet reports its digests as imageIDs)
--token is the one GitHub token the emulator accepts (default ${DEFAULT_TOKEN}); others get
401 Bad credentials; register more with POST /_emulator/tokens {"token":"…","permissions":"write"}.
--repo and --pull seed the GitHub emulator (GitHub answers 404 for anything that does not exist);
more can be seeded while it runs through its control routes, e.g.
  curl -X POST $GITHUB_API_URL/_emulator/pulls -d '{"repo":"acme/shop","number":2,"headSha":"…","headRef":"feature"}'
  curl $GITHUB_API_URL/_emulator/state
Runs until interrupted (Ctrl-C).`);
  process.exit(values.dir ? 0 : 2);
}
function milliseconds(flag: string, raw: string): number {
  const v = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(v) || v < 0) {
    console.error(`${flag} must be a number of milliseconds ≥ 0, got "${raw}"`);
    process.exit(2);
  }
  return v;
}
const latencyMs = milliseconds('--latency-ms', values['latency-ms']);
const readyDelayMs = milliseconds('--ready-delay-ms', values['ready-delay-ms']);
const pulls = values.pull.map((spec) => {
  const m = /^([^/\s]+\/[^#\s]+)#(\d+)@([0-9a-f]{7,40})(?::(\S+))?$/i.exec(spec);
  if (!m) {
    console.error(
      `--pull "${spec}" is not OWNER/NAME#NUMBER@HEAD_SHA[:BRANCH], e.g. acme/shop#7@1f3e5a7c9b2d4f6a8c0e1a3b5d7f9e2c4a6b8d0f:feature/x`,
    );
    process.exit(2);
  }
  return { repo: m[1], number: Number(m[2]), headSha: m[3], headRef: m[4] ?? `pr-${m[2]}` };
});
const dir = resolve(values.dir);
mkdirSync(dir, { recursive: true });
const registry = await startRegistryEmulator();
const kube = await startKubeEmulator({
  dir,
  latencyMs,
  controllers: { readyDelayMs },
  imageDigests: (image) => registry.lookup(image),
});
const github = await startGitHubEmulator();
github.state.setToken(values.token, { permissions: 'write' });
for (const repo of values.repo) github.state.addRepo(repo);
for (const p of pulls) {
  if (!github.state.repo(p.repo)) github.state.addRepo(p.repo);
  github.state.addPull(p);
}
writeFileSync(resolve(dir, 'github.env'), `GITHUB_API_URL=${github.url}\nGITHUB_TOKEN=${values.token}\n`);
writeFileSync(resolve(dir, 'registry'), `${registry.host}\n`);
console.log(`Kubernetes API emulator: ${kube.url}
  kubeconfig: ${kube.kubeconfigPath}   (export KUBECONFIG=${kube.kubeconfigPath})${latencyMs ? `\n  latency: ${latencyMs} ms per request` : ''}
GitHub REST emulator:    ${github.url}
  env file:   ${resolve(dir, 'github.env')}   (GITHUB_API_URL, GITHUB_TOKEN)
  seeded:     ${github.state.repoNames().join(', ') || '(nothing yet: see --help for --repo/--pull and /_emulator/ routes)'}
OCI registry emulator:   ${registry.url}   (images ${registry.host}/<repo>:<tag>)
Press Ctrl-C to stop.`);
const stop = async () => {
  await Promise.allSettled([kube.close(), github.close(), registry.close()]);
  process.exit(0);
};
process.on('SIGINT', () => void stop());
process.on('SIGTERM', () => void stop());
