// NetworkPolicy objects are stored as sent (nothing enforces them), but the API server refuses the
// common mistakes with 422 and the real field paths: a bad ipBlock CIDR, an except outside it, a
// peer that names nothing, an ipBlock beside a selector, an unknown protocol.
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { EMULATOR_TOKEN, startKubeEmulator, type KubeEmulator } from './index.js';

let emu: KubeEmulator;

beforeAll(async () => {
  emu = await startKubeEmulator();
  await post('/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'np' } });
});
afterAll(async () => {
  await emu.close();
});

async function post(path: string, body: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(emu.httpUrl + path, {
    method: 'POST',
    headers: { authorization: `Bearer ${EMULATOR_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

const policy = (name: string, spec: object) =>
  post('/apis/networking.k8s.io/v1/namespaces/np/networkpolicies', {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name },
    spec: { podSelector: {}, ...spec },
  });

test('a valid policy is stored as sent, with policyTypes defaulted', async () => {
  const r = await policy('allow-web', {
    ingress: [
      {
        from: [
          { ipBlock: { cidr: '10.0.0.0/8', except: ['10.1.0.0/16'] } },
          { podSelector: { matchLabels: { app: 'web' } }, namespaceSelector: { matchLabels: { team: 'a' } } },
        ],
        ports: [{ protocol: 'TCP', port: 8080 }],
      },
    ],
    egress: [{ to: [{ ipBlock: { cidr: 'fd00::/8' } }] }],
  });
  expect(r.status).toBe(201);
  expect(r.body.spec).toMatchObject({
    policyTypes: ['Ingress', 'Egress'],
    ingress: [{ from: [{ ipBlock: { cidr: '10.0.0.0/8', except: ['10.1.0.0/16'] } }, {}] }],
  });
});

test('an invalid ipBlock.cidr in a from peer is 422 with the field and the value', async () => {
  const r = await policy('bad-cidr', { ingress: [{ from: [{ ipBlock: { cidr: '10.0.0.0/33' } }] }] });
  expect(r.status).toBe(422);
  expect(r.body).toMatchObject({
    reason: 'Invalid',
    code: 422,
    message:
      'NetworkPolicy.networking.k8s.io "bad-cidr" is invalid: spec.ingress[0].from[0].ipBlock.cidr: Invalid value: "10.0.0.0/33": not a valid CIDR',
    details: {
      causes: [{ reason: 'FieldValueInvalid', field: 'spec.ingress[0].from[0].ipBlock.cidr' }],
    },
  });
  const noMask = await policy('no-mask', { egress: [{ to: [{ ipBlock: { cidr: '192.168.1.1' } }] }] });
  expect(noMask.body.message).toBe(
    'NetworkPolicy.networking.k8s.io "no-mask" is invalid: spec.egress[0].to[0].ipBlock.cidr: Invalid value: "192.168.1.1": not a valid CIDR',
  );
});

test('except outside the cidr, empty peers, ipBlock beside a selector and bad protocols are all named', async () => {
  const r = await policy('many', {
    ingress: [
      {
        from: [
          { ipBlock: { cidr: '10.0.0.0/16', except: ['10.1.0.0/24', '10.0.0.0/16'] } },
          {},
          { ipBlock: { cidr: '10.0.0.0/8' }, podSelector: {} },
        ],
        ports: [{ protocol: 'HTTP', port: 80 }],
      },
    ],
  });
  expect(r.status).toBe(422);
  expect(r.body.message).toBe(
    'NetworkPolicy.networking.k8s.io "many" is invalid: [spec.ingress[0].ports[0].protocol: Unsupported value: "HTTP": supported values: "SCTP", "TCP", "UDP", spec.ingress[0].from[0].ipBlock.except[0]: Invalid value: "10.1.0.0/24": must be a strict subset of `cidr`, spec.ingress[0].from[0].ipBlock.except[1]: Invalid value: "10.0.0.0/16": must be a strict subset of `cidr`, spec.ingress[0].from[1]: Required value: must specify a peer, spec.ingress[0].from[2]: Forbidden: may not specify both ipBlock and another peer]',
  );
});
