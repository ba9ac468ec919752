// The Kubernetes protobuf bodies kubectl's typed clients send: `kubectl create
// deployment|service|job|cronjob|ingress|role|…` POST `application/vnd.kubernetes.protobuf`, not
// JSON. The wire format is the runtime.Unknown envelope ("k8s\0" magic, TypeMeta 1, raw 2)
// around the object's message; protobuf/schema.ts holds the messages (field numbers of
// k8s.io/api generated.proto) and protobuf/decode.ts turns them into the JSON object a JSON client
// would have sent. Kinds without a schema answer 415 with a hint.
import { decodeMessage, readFields, type WireField } from './protobuf/decode.js';
import { KINDS } from './protobuf/schema.js';
import { ApiError, failure } from './status.js';
import type { KObject } from './store.js';

export const PROTOBUF_CONTENT_TYPE = 'application/vnd.kubernetes.protobuf';

const fields = readFields;
const str = (f: WireField | undefined): string | undefined => f?.bytes?.toString('utf8');

/** The runtime.Unknown envelope: TypeMeta (1: apiVersion 1, kind 2) and the raw object (2). */
function unwrap(body: Buffer): { apiVersion: string; kind: string; raw: Buffer } {
  if (body.length < 4 || body.subarray(0, 4).toString('latin1') !== 'k8s\0') {
    throw new ApiError(failure(400, 'BadRequest', 'protobuf body without the k8s envelope'));
  }
  const unknown = fields(body.subarray(4));
  const typeMeta = fields(unknown.find((f) => f.no === 1)?.bytes ?? Buffer.alloc(0));
  return {
    apiVersion: str(typeMeta.find((f) => f.no === 1)) ?? '',
    kind: str(typeMeta.find((f) => f.no === 2)) ?? '',
    raw: unknown.find((f) => f.no === 2)?.bytes ?? Buffer.alloc(0),
  };
}

/** The raw object bytes of a runtime.Unknown envelope. */
function unwrapUnknown(body: Buffer): Buffer {
  return unwrap(body).raw;
}

/** Decodes a protobuf-encoded built-in object (see protobuf/schema.ts); other kinds are a 415. */
export function decodeProtobufObject(body: Buffer): KObject {
  const { apiVersion, kind, raw } = unwrap(body);
  const message = KINDS[`${apiVersion} ${kind}`];
  if (!message) {
    throw new ApiError(
      failure(
        415,
        'UnsupportedMediaType',
        `the Kubernetes API emulator reads protobuf bodies only for the built-in kinds kubectl create sends (got ${apiVersion} ${kind}); send JSON (e.g. kubectl apply) instead`,
      ),
    );
  }
  const { metadata, ...rest } = decodeMessage(message, raw);
  return { kind, apiVersion, metadata: (metadata ?? {}) as KObject['metadata'], ...rest };
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
