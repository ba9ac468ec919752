// Just enough Kubernetes protobuf to read the bodies kubectl's typed clients send: `kubectl create
// namespace|configmap|secret` POST `application/vnd.kubernetes.protobuf`, not JSON. The wire format
// is the runtime.Unknown envelope ("k8s\0" magic, TypeMeta, raw bytes) around the object's message;
// field numbers below are those of k8s.io/api generated.proto. Other kinds answer 415 with a hint.
import { ApiError, failure } from './status.js';
import type { KObject } from './store.js';

export const PROTOBUF_CONTENT_TYPE = 'application/vnd.kubernetes.protobuf';

type Field = { no: number; bytes?: Buffer; varint?: number };

function fields(buf: Buffer): Field[] {
  const out: Field[] = [];
  let i = 0;
  const varint = (): number => {
    let result = 0;
    let shift = 0;
    for (;;) {
      if (i >= buf.length) throw new Error('truncated varint');
      const b = buf[i++];
      result += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return result;
      shift += 7;
    }
  };
  while (i < buf.length) {
    const key = varint();
    const no = Math.floor(key / 8);
    const wire = key & 7;
    if (wire === 0) out.push({ no, varint: varint() });
    else if (wire === 2) {
      const len = varint();
      out.push({ no, bytes: buf.subarray(i, i + len) });
      i += len;
    } else if (wire === 1) i += 8;
    else if (wire === 5) i += 4;
    else throw new Error(`unsupported wire type ${wire}`);
  }
  return out;
}

const str = (f: Field | undefined): string | undefined => f?.bytes?.toString('utf8');

function map(fs: Field[], no: number, value: (b: Buffer) => string): Record<string, string> | undefined {
  const entries = fs.filter((f) => f.no === no && f.bytes);
  if (!entries.length) return undefined;
  const out: Record<string, string> = {};
  for (const e of entries) {
    const kv = fields(e.bytes!);
    out[str(kv.find((f) => f.no === 1)) ?? ''] = value(kv.find((f) => f.no === 2)?.bytes ?? Buffer.alloc(0));
  }
  return out;
}

function objectMeta(b: Buffer | undefined): KObject['metadata'] {
  const fs = fields(b ?? Buffer.alloc(0));
  const meta: KObject['metadata'] = {};
  const set = (k: string, v: unknown) => {
    if (v !== undefined) meta[k] = v;
  };
  set('name', str(fs.find((f) => f.no === 1)));
  set('generateName', str(fs.find((f) => f.no === 2)));
  set('namespace', str(fs.find((f) => f.no === 3)));
  set(
    'labels',
    map(fs, 11, (x) => x.toString('utf8')),
  );
  set(
    'annotations',
    map(fs, 12, (x) => x.toString('utf8')),
  );
  const finalizers = fs.filter((f) => f.no === 14).map((f) => str(f) ?? '');
  if (finalizers.length) meta.finalizers = finalizers;
  return meta;
}

/** The raw object bytes of a runtime.Unknown envelope ("k8s\0" magic, TypeMeta 1, raw 2). */
function unwrapUnknown(body: Buffer): Buffer {
  if (body.length < 4 || body.subarray(0, 4).toString('latin1') !== 'k8s\0') {
    throw new ApiError(failure(400, 'BadRequest', 'protobuf body without the k8s envelope'));
  }
  return fields(body.subarray(4)).find((f) => f.no === 2)?.bytes ?? Buffer.alloc(0);
}

/** Decodes a protobuf-encoded Namespace, ConfigMap or Secret; anything else is a 415. */
export function decodeProtobufObject(body: Buffer): KObject {
  if (body.length < 4 || body.subarray(0, 4).toString('latin1') !== 'k8s\0') {
    throw new ApiError(failure(400, 'BadRequest', 'protobuf body without the k8s envelope'));
  }
  const unknown = fields(body.subarray(4));
  const typeMeta = fields(unknown.find((f) => f.no === 1)?.bytes ?? Buffer.alloc(0));
  const apiVersion = str(typeMeta.find((f) => f.no === 1)) ?? '';
  const kind = str(typeMeta.find((f) => f.no === 2)) ?? '';
  const raw = fields(unknown.find((f) => f.no === 2)?.bytes ?? Buffer.alloc(0));
  const metadata = objectMeta(raw.find((f) => f.no === 1)?.bytes);
  const obj: KObject = { apiVersion, kind, metadata };
  if (apiVersion === 'v1' && kind === 'Namespace') return obj;
  if (apiVersion === 'v1' && kind === 'ConfigMap') {
    const data = map(raw, 2, (x) => x.toString('utf8'));
    const binaryData = map(raw, 3, (x) => x.toString('base64'));
    if (data) obj.data = data;
    if (binaryData) obj.binaryData = binaryData;
    return obj;
  }
  if (apiVersion === 'v1' && kind === 'Secret') {
    const data = map(raw, 2, (x) => x.toString('base64'));
    if (data) obj.data = data;
    const type = str(raw.find((f) => f.no === 3));
    if (type) obj.type = type;
    return obj;
  }
  throw new ApiError(
    failure(
      415,
      'UnsupportedMediaType',
      `the Kubernetes API emulator reads protobuf bodies only for Namespace, ConfigMap and Secret (got ${apiVersion} ${kind}); send JSON (e.g. kubectl apply) instead`,
    ),
  );
}

/**
 * The spec of a SelfSubjectAccessReview sent as protobuf (`kubectl auth can-i`): spec is field 2
 * of the object; ResourceAttributes (1) = namespace 1, verb 2, group 3, version 4, resource 5,
 * subresource 6, name 7; NonResourceAttributes (2) = path 1, verb 2.
 */
export function decodeAccessReviewSpec(body: Buffer): Record<string, unknown> {
  const raw = unwrapUnknown(body);
  const spec = fields(fields(raw).find((f) => f.no === 2)?.bytes ?? Buffer.alloc(0));
  const out: Record<string, unknown> = {};
  const attrs = (b: Buffer | undefined, names: string[]): Record<string, string> => {
    const fs = fields(b ?? Buffer.alloc(0));
    const o: Record<string, string> = {};
    names.forEach((n, i) => {
      const v = str(fs.find((f) => f.no === i + 1));
      if (v) o[n] = v;
    });
    return o;
  };
  const ra = spec.find((f) => f.no === 1)?.bytes;
  if (ra)
    out.resourceAttributes = attrs(ra, [
      'namespace',
      'verb',
      'group',
      'version',
      'resource',
      'subresource',
      'name',
    ]);
  const nra = spec.find((f) => f.no === 2)?.bytes;
  if (nra) out.nonResourceAttributes = attrs(nra, ['path', 'verb']);
  return out;
}
