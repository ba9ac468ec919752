// What a user reads when the kubeconfig leads somewhere wrong: one line that names what answered,
// which identity, and what to do — never an HTTP dump, never a credential.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pullRequestEvent } from '../support/action.js';
import { EMULATOR_TOKEN } from '../emulators/kube/index.js';
import { REPO, startBed, type Bed } from '../support/bed.js';
import { makeWorkspace, appManifests } from '../support/workspace.js';

const SHA = 'a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1';

let bed: Bed;
let server: Server | undefined;
beforeEach(async () => {
  bed = await startBed();
});
afterEach(async () => {
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  server = undefined;
  await bed.close();
});

/** A local HTTP server answering every request with `status`, `type` and `body`. */
async function answering(status: number, type: string, body: string): Promise<string> {
  server = createServer((_req, res) => {
    res.writeHead(status, { 'content-type': type });
    res.end(body);
  });
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function kubeconfig(
  server: string,
  user: Record<string, unknown> = { token: 'a-token-that-is-rejected' },
): string {
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'Config',
    'current-context': 'ci',
    contexts: [{ name: 'ci', context: { cluster: 'c', user: 'deployer' } }],
    clusters: [{ name: 'c', cluster: { server } }],
    users: [{ name: 'deployer', user }],
  });
}

async function preview(kubeconfigInput: string, number: number) {
  const ws = makeWorkspace(appManifests());
  bed.github.state.addPull({ repo: REPO, number, headSha: SHA, headRef: `feature/${number}` });
  return bed.run({
    payload: pullRequestEvent({
      action: 'opened',
      repo: REPO,
      number,
      headSha: SHA,
      headRef: `feature/${number}`,
    }),
    workspace: ws,
    inputs: { kubeconfig: kubeconfigInput, manifests: 'k8s' },
  });
}

test('a server that is not a Kubernetes API is named as such, with what answered', async () => {
  const url = await answering(404, 'text/html', '<html><body><h1>Not Found</h1>nginx</body></html>');
  const { result } = await preview(kubeconfig(url), 60);
  expect(result.ok).toBe(false);
  expect(result.failure).toContain(`${url} is not a Kubernetes API server: GET /api answered HTTP 404`);
  expect(result.failure).toContain('a text/html reply: "Not Found nginx"');
  expect(result.failure).not.toMatch(/CRD|<html>/);
});

test('rejected credentials (401) are one line naming the user, the context and what to do', async () => {
  const url = await answering(
    401,
    'application/json',
    JSON.stringify({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'Unauthorized',
      reason: 'Unauthorized',
      code: 401,
    }),
  );
  const { result, log } = await preview(kubeconfig(url), 61);
  expect(result.ok).toBe(false);
  expect(result.failure).toContain(
    `the Kubernetes API server at ${url} rejected the credentials of kubeconfig user "deployer" (context "ci"): HTTP 401 Unauthorized`,
  );
  expect(result.failure).toContain('refresh the kubeconfig');
  for (const text of [
    result.failure ?? '',
    result.summary,
    log.text(),
    bed.markerComments(61)[0]?.body ?? '',
  ])
    expect(text).not.toMatch(/HTTP-Code|Headers|a-token-that-is-rejected/);
});

test("a missing exec plugin shows the kubeconfig's installHint", async () => {
  const url = await answering(404, 'text/plain', 'unused');
  const { result } = await preview(
    kubeconfig(url, {
      exec: {
        apiVersion: 'client.authentication.k8s.io/v1beta1',
        command: 'kubestage-no-such-credential-plugin',
        installHint: 'Install the acme-auth plugin: https://example.com/acme-auth',
      },
    }),
    62,
  );
  expect(result.ok).toBe(false);
  expect(result.failure).toContain('exec plugin "kubestage-no-such-credential-plugin", which failed');
  expect(result.failure).toContain('Install the acme-auth plugin: https://example.com/acme-auth');
});

test('a kubeconfig path that does not exist is named', async () => {
  const { result } = await preview('.kube/ci-config.yaml', 63).catch((e: Error) => ({
    result: { ok: false, failure: e.message },
  }));
  expect(result.ok).toBe(false);
  expect(result.failure).toMatch(
    /the kubeconfig input names the file .*\/\.kube\/ci-config\.yaml, which does not exist/,
  );
});

test("a password in the kubeconfig's server URL is masked and never printed", async () => {
  // The emulator's kubeconfig, its server URL carrying a password (kubectl-style basic auth URLs).
  const emulatorServer = bed.kube.kubeconfig.match(/server: (\S+)/)?.[1] ?? '';
  expect(emulatorServer).toMatch(/^https?:\/\//);
  const withPassword = bed.kube.kubeconfig.replace(
    /server: (https?):\/\/([^\s]+)/,
    'server: $1://admin:s3cr3t-server-pass@$2',
  );
  expect(withPassword).toContain('s3cr3t-server-pass');
  const dir = makeWorkspace({});
  writeFileSync(join(dir, 'kubeconfig'), withPassword);
  const { masked, log, result } = await preview(join(dir, 'kubeconfig'), 64);
  expect(masked).toContain('s3cr3t-server-pass');
  for (const text of [log.text(), result.summary, result.failure ?? ''])
    expect(text).not.toContain('s3cr3t-server-pass');
  // The credentials go in a header, not the URL (fetch refuses URLs with credentials): it works.
  expect(result.failure).toBeUndefined();
  expect(log.text()).toContain(`API server ${emulatorServer}`);
});

test('an expired token on the real-protocol emulator: the preview fails in one line, nothing written', async () => {
  const ws = makeWorkspace(appManifests());
  bed.github.state.addPull({ repo: REPO, number: 65, headSha: SHA, headRef: 'feature/65' });
  bed.kube.auth.revokeToken(EMULATOR_TOKEN);
  const { result } = await bed.run({
    payload: pullRequestEvent({
      action: 'opened',
      repo: REPO,
      number: 65,
      headSha: SHA,
      headRef: 'feature/65',
    }),
    workspace: ws,
    inputs: { manifests: 'k8s' },
  });
  expect(result.ok).toBe(false);
  expect(result.failure).toMatch(
    /rejected the credentials of kubeconfig user "[^"]+" \(context "[^"]+"\): HTTP 401/,
  );
  expect(result.failure).not.toMatch(/HTTP-Code|Headers|kubestage-emulator-token/);
  expect(bed.object('v1', 'Namespace', undefined, 'pr-65')).toBeUndefined();
  expect(bed.github.state.deployments(REPO)).toEqual([]);
});
