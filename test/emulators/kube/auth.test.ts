// Authentication of the Kubernetes API emulator over real HTTP: tokens are checked as a real API
// server checks them, and anonymous requests get only the public-info paths.
import { EMULATOR_TOKEN, startKubeEmulator, type KubeEmulator } from './index.js';

let emu: KubeEmulator;
beforeEach(async () => {
  emu = await startKubeEmulator();
});
afterEach(async () => {
  await emu.close();
});

async function get(path: string, authorization?: string): Promise<{ status: number; body: unknown }> {
  const res = await fetch(emu.httpUrl + path, { headers: authorization ? { authorization } : {} });
  const text = await res.text();
  return { status: res.status, body: text.startsWith('{') ? JSON.parse(text) : text };
}

const UNAUTHORIZED = {
  kind: 'Status',
  apiVersion: 'v1',
  metadata: {},
  status: 'Failure',
  message: 'Unauthorized',
  reason: 'Unauthorized',
  code: 401,
};

describe('authentication', () => {
  it('accepts the kubeconfig token and answers a wrong one with the real 401 Status', async () => {
    expect((await get('/api/v1/namespaces', `Bearer ${EMULATOR_TOKEN}`)).status).toBe(200);
    const wrong = await get('/api/v1/namespaces', 'Bearer not-a-token');
    expect(wrong).toEqual({ status: 401, body: UNAUTHORIZED });
    // Basic auth is gone since 1.19: not understood is unauthorized too.
    expect((await get('/api', `Basic ${Buffer.from('admin:admin').toString('base64')}`)).status).toBe(401);
    // Even the public paths refuse a bad token: authentication comes before authorization.
    expect((await get('/version', 'Bearer not-a-token')).status).toBe(401);
  });

  it('tokens can be added and revoked at runtime', async () => {
    emu.auth.addToken('ci-deployer-token', 'system:serviceaccount:ci:deployer');
    expect((await get('/api/v1/namespaces/default/pods', 'Bearer ci-deployer-token')).status).toBe(200);
    emu.auth.revokeToken('ci-deployer-token');
    expect(await get('/api/v1/namespaces/default/pods', 'Bearer ci-deployer-token')).toEqual({
      status: 401,
      body: UNAUTHORIZED,
    });
    emu.auth.revokeToken(EMULATOR_TOKEN);
    expect((await get('/api', `Bearer ${EMULATOR_TOKEN}`)).status).toBe(401);
  });

  it('anonymous requests may read /version and /healthz; anything else is the RBAC 403', async () => {
    expect((await get('/version')).status).toBe(200);
    expect(await get('/healthz')).toEqual({ status: 200, body: 'ok' });
    expect(await get('/api')).toEqual({
      status: 403,
      body: {
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Failure',
        message: 'forbidden: User "system:anonymous" cannot get path "/api"',
        reason: 'Forbidden',
        details: {},
        code: 403,
      },
    });
    const list = await get('/api/v1/namespaces/default/configmaps');
    expect(list.status).toBe(403);
    expect((list.body as { message: string }).message).toBe(
      'configmaps is forbidden: User "system:anonymous" cannot list resource "configmaps" in API group "" in the namespace "default"',
    );
  });
});
