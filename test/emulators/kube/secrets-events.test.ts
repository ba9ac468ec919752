// What a real API server refuses about Secrets and Events, over real HTTP: data that is not base64
// (400 from the decoder), more than 1 MiB of data, a changed type, and an Event whose namespace
// does not agree with its involved object's (legacyValidateEvent).
import { EMULATOR_TOKEN, startKubeEmulator, type KubeEmulator } from './index.js';

let emu: KubeEmulator;
beforeAll(async () => {
  emu = await startKubeEmulator();
});
afterAll(async () => {
  await emu.close();
});

type Body = Record<string, unknown> & {
  message?: string;
  reason?: string;
  metadata?: Record<string, unknown>;
};

async function api(method: string, path: string, body?: unknown, contentType = 'application/json') {
  const res = await fetch(emu.httpUrl + path, {
    method,
    headers: { authorization: `Bearer ${EMULATOR_TOKEN}`, 'content-type': contentType },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Body };
}

const SECRETS = '/api/v1/namespaces/default/secrets';
const secret = (name: string, data: Record<string, string>, type?: string) => ({
  apiVersion: 'v1',
  kind: 'Secret',
  metadata: { name },
  ...(type ? { type } : {}),
  data,
});

describe('Secrets', () => {
  test('data that is not base64 is refused by the decoder (400), on create and on update', async () => {
    const r = await api('POST', SECRETS, secret('bad64', { key: 'abc!' }));
    expect(r.status).toBe(400);
    expect(r.body).toMatchObject({
      reason: 'BadRequest',
      message: 'Secret in version "v1" cannot be handled as a Secret: illegal base64 data at input byte 3',
    });
    expect((await api('POST', SECRETS, secret('good64', { key: 'YWJj' }))).status).toBe(201);
    const patched = await api(
      'PATCH',
      `${SECRETS}/good64`,
      { data: { key: 'YWJ' } },
      'application/merge-patch+json',
    );
    expect(patched.status).toBe(400);
    expect(patched.body.message).toBe(
      'Secret in version "v1" cannot be handled as a Secret: illegal base64 data at input byte 0',
    );
  });

  test('more than 1 MiB of data is 422 Too long; exactly 1 MiB is accepted', async () => {
    const over = await api(
      'POST',
      SECRETS,
      secret('huge', { blob: Buffer.alloc(1024 * 1024 + 1).toString('base64') }),
    );
    expect(over.status).toBe(422);
    expect(over.body).toMatchObject({
      reason: 'Invalid',
      message: 'Secret "huge" is invalid: data: Too long: must have at most 1048576 bytes',
      details: { causes: [{ reason: 'FieldValueTooLong', field: 'data' }] },
    });
    const limit = await api(
      'POST',
      SECRETS,
      secret('limit', { blob: Buffer.alloc(1024 * 1024).toString('base64') }),
    );
    expect(limit.status).toBe(201);
  });

  test('a data key that is not a config key is 422', async () => {
    const r = await api('POST', SECRETS, secret('keys', { 'a/b': 'YQ==' }));
    expect(r.status).toBe(422);
    expect(r.body.message).toMatch(
      /^Secret "keys" is invalid: data\[a\/b\]: Invalid value: "a\/b": a valid config key/,
    );
  });

  test('the type cannot change after creation (unset means Opaque)', async () => {
    expect(
      (await api('POST', SECRETS, secret('typed', { k: 'YQ==' }, 'kubestage.dev/revision.v1'))).status,
    ).toBe(201);
    const live = (await api('GET', `${SECRETS}/typed`)).body;
    const put = await api('PUT', `${SECRETS}/typed`, {
      ...secret('typed', { k: 'Yg==' }, 'Opaque'),
      metadata: live.metadata,
    });
    expect(put.status).toBe(422);
    expect(put.body.message).toBe(
      'Secret "typed" is invalid: type: Invalid value: "Opaque": field is immutable',
    );
    const untyped = await api('PUT', `${SECRETS}/typed`, {
      ...secret('typed', { k: 'Yg==' }),
      metadata: live.metadata,
    });
    expect(untyped.body.message).toBe(
      'Secret "typed" is invalid: type: Invalid value: "Opaque": field is immutable',
    );
    const same = await api('PUT', `${SECRETS}/typed`, {
      ...secret('typed', { k: 'Yg==' }, 'kubestage.dev/revision.v1'),
      metadata: live.metadata,
    });
    expect(same.status).toBe(200);
  });
});

describe('Events', () => {
  const event = (
    namespace: string,
    involvedNamespace: string | undefined,
    extra: Record<string, unknown> = {},
  ) => ({
    apiVersion: 'v1',
    kind: 'Event',
    metadata: { name: `ev-${Math.random().toString(16).slice(2)}`, namespace },
    involvedObject: {
      apiVersion: 'v1',
      kind: 'Namespace',
      name: 'kube-public',
      ...(involvedNamespace ? { namespace: involvedNamespace } : {}),
    },
    reason: 'Deployed',
    message: 'revision 1',
    type: 'Normal',
    ...extra,
  });
  const post = (ns: string, body: unknown) => api('POST', `/api/v1/namespaces/${ns}/events`, body);
  const MISMATCH =
    /is invalid: involvedObject.namespace: Invalid value: "[^"]*": does not match event.namespace/;

  test('an Event about a cluster-scoped object lives in default, not in another namespace', async () => {
    expect((await post('default', event('default', undefined))).status).toBe(201);
    const elsewhere = await post('kube-public', event('kube-public', undefined));
    expect(elsewhere.status).toBe(422);
    expect(elsewhere.body.message).toMatch(MISMATCH);
  });

  test("an Event about a namespaced object lives in that object's namespace", async () => {
    expect((await post('kube-public', event('kube-public', 'kube-public'))).status).toBe(201);
    const r = await post('default', event('default', 'kube-public'));
    expect(r.status).toBe(422);
    expect(r.body.message).toMatch(MISMATCH);
  });

  test('an Event with an eventTime needs reportingComponent, reportingInstance and action; kube-system may hold cluster events', async () => {
    const eventTime = '2025-03-01T10:00:00.000000Z';
    const bare = await post('default', event('default', undefined, { eventTime }));
    expect(bare.status).toBe(422);
    expect(bare.body.message).toMatch(
      /\[reportingController: Required value, reportingInstance: Required value, action: Required value\]$/,
    );
    const full = {
      eventTime,
      reportingComponent: 'kubestage',
      reportingInstance: 'kubestage',
      action: 'Deployed',
    };
    expect((await post('kube-system', event('kube-system', undefined, full))).status).toBe(201);
    const long = await post('default', event('default', undefined, { ...full, message: 'x'.repeat(1025) }));
    expect(long.body.message).toMatch(/message: Invalid value: "": can have at most 1024 characters$/);
  });
});
