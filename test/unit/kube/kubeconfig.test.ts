import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadKubeConfig } from '../../../src/kube/kubeconfig.js';

const TOKEN = 'sekret-token-0123456789';
const KEY = 'LS0tLS1CRUdJTiBQUklWQVRFIEtFWS0tLS0tCmZha2UKLS0tLS1FTkQgUFJJVkFURSBLRVktLS0tLQo=';
const yaml = `apiVersion: v1
kind: Config
clusters:
- name: c
  cluster:
    server: https://k8s.example.com:6443
    insecure-skip-tls-verify: true
users:
- name: u
  user:
    token: ${TOKEN}
- name: cert
  user:
    client-key-data: ${KEY}
    client-certificate-data: Q0VSVERBVEE=
contexts:
- name: ctx
  context:
    cluster: c
    user: u
    namespace: ns1
current-context: ctx
`;

describe('loadKubeConfig', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kubestage-kc-'));

  test('reads YAML content and masks every token, key and certificate', () => {
    const masked: string[] = [];
    const { kc, source } = loadKubeConfig({ kubeconfig: yaml, env: {}, mask: (s) => masked.push(s) });
    expect(source).toBe('input (YAML)');
    expect(kc.getCurrentCluster()?.server).toBe('https://k8s.example.com:6443');
    expect(masked).toEqual(expect.arrayContaining([TOKEN, KEY, 'Q0VSVERBVEE=']));
  });

  test('reads base64 content and masks the encoded blob too', () => {
    const b64 = Buffer.from(yaml).toString('base64');
    const masked: string[] = [];
    const { source, kc } = loadKubeConfig({ kubeconfig: b64, env: {}, mask: (s) => masked.push(s) });
    expect(source).toBe('input (base64)');
    expect(kc.getCurrentUser()?.token).toBe(TOKEN);
    expect(masked).toEqual(expect.arrayContaining([b64, TOKEN, KEY]));
  });

  test('reads a path relative to the workspace', () => {
    writeFileSync(join(dir, 'kubeconfig.yaml'), yaml);
    const masked: string[] = [];
    const { source } = loadKubeConfig({
      kubeconfig: 'kubeconfig.yaml',
      workspace: dir,
      env: {},
      mask: (s) => masked.push(s),
    });
    expect(source).toBe(`file ${join(dir, 'kubeconfig.yaml')}`);
    expect(masked).toContain(TOKEN);
  });

  test('falls back to $KUBECONFIG', () => {
    writeFileSync(join(dir, 'env-kubeconfig'), yaml);
    const { source, kc } = loadKubeConfig({ env: { KUBECONFIG: join(dir, 'env-kubeconfig') } });
    expect(source).toBe('$KUBECONFIG');
    expect(kc.getCurrentContext()).toBe('ctx');
  });

  test('rejects garbage without echoing it', () => {
    const garbage = 'not a kubeconfig: %%% ' + TOKEN;
    const run = () => loadKubeConfig({ kubeconfig: garbage.replace(':', ''), env: {} });
    expect(run).toThrow(/neither a readable file path, base64, nor YAML/);
    try {
      run();
    } catch (e) {
      expect((e as Error).message).not.toContain(TOKEN);
    }
  });

  test('a YAML syntax error names the source and line but not the content', () => {
    const broken = `apiVersion: v1\nclusters:\n- name: c\n  cluster: [\n    token: ${TOKEN}\n`;
    try {
      loadKubeConfig({ kubeconfig: broken, env: {} });
      throw new Error('expected a failure');
    } catch (e) {
      const msg = (e as Error).message;
      expect(msg).toMatch(/could not parse the kubeconfig from input \(YAML\)/);
      expect(msg).not.toContain(TOKEN);
    }
  });

  test('a context naming a missing cluster is reported with the source', () => {
    const bad = yaml.replace('cluster: c\n    user', 'cluster: nope\n    user');
    expect(() => loadKubeConfig({ kubeconfig: bad, env: {} })).toThrow(/input \(YAML\).*cluster "nope"/);
  });

  test('nothing configured at all says how to fix it', () => {
    expect(() => loadKubeConfig({ env: {} })).toThrow(/no kubeconfig.*secrets\.KUBECONFIG/);
  });
});
