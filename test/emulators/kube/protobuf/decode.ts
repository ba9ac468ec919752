// A schema-driven protobuf decoder: the wire format (varints, length-delimited fields) read
// against the tables of schema.ts into the JSON object a JSON client would have sent.
import { MESSAGES } from './schema.js';

/** One field as read off the wire. */
export interface WireField {
  no: number;
  wire: number;
  varint?: bigint;
  bytes?: Buffer;
}

/** The fields of a message, in wire order. Fixed 32/64-bit fields are read and skipped. */
export function readFields(buf: Buffer): WireField[] {
  const out: WireField[] = [];
  let i = 0;
  const varint = (): bigint => {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      if (i >= buf.length) throw new Error('truncated varint');
      const b = buf[i++];
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result;
      shift += 7n;
      if (shift > 63n) throw new Error('varint too long');
    }
  };
  while (i < buf.length) {
    const key = varint();
    const no = Number(key >> 3n);
    const wire = Number(key & 7n);
    if (wire === 0) out.push({ no, wire, varint: varint() });
    else if (wire === 2) {
      const len = Number(varint());
      if (i + len > buf.length) throw new Error('truncated length-delimited field');
      out.push({ no, wire, bytes: buf.subarray(i, i + len) });
      i += len;
    } else if (wire === 1) i += 8;
    else if (wire === 5) i += 4;
    else throw new Error(`unsupported wire type ${wire}`);
    if (i > buf.length) throw new Error('truncated fixed-size field');
  }
  return out;
}

type Scalar = 'string' | 'int32' | 'int64' | 'bool' | 'bytes' | 'time' | 'intstr' | 'quantity';
const SCALARS: readonly string[] = [
  'string',
  'int32',
  'int64',
  'bool',
  'bytes',
  'time',
  'intstr',
  'quantity',
];

interface FieldSpec {
  no: number;
  /** JSON name; undefined for an inlined (embedded) message. */
  name?: string;
  /** A scalar kind or a message name. */
  type: string;
  shape: 'single' | 'repeated' | 'map';
  /** Keep zero values (a Go pointer, or a field JSON writes without omitempty). */
  keep: boolean;
}

interface MessageSpec {
  fields: FieldSpec[];
  byNo: Map<number, FieldSpec>;
}

function parseRow(message: string, row: string): FieldSpec {
  const [no, name, rawType, ...flags] = row.split(/\s+/);
  let type = rawType ?? '';
  let shape: FieldSpec['shape'] = 'single';
  if (type.startsWith('[]')) {
    shape = 'repeated';
    type = type.slice(2);
  } else if (type.startsWith('map:')) {
    shape = 'map';
    type = type.slice(4);
  }
  const spec: FieldSpec = {
    no: Number(no),
    name: name === '-' ? undefined : name,
    type,
    shape,
    keep: flags.includes('ptr'),
  };
  const bad = flags.filter((f) => f !== 'ptr');
  if (!Number.isInteger(spec.no) || spec.no <= 0 || !name || !type || bad.length) {
    throw new Error(`protobuf schema ${message}: bad row "${row}"`);
  }
  return spec;
}

function compile(): Map<string, MessageSpec> {
  const out = new Map<string, MessageSpec>();
  for (const [message, rows] of Object.entries(MESSAGES)) {
    const fields = rows.map((r) => parseRow(message, r));
    const byNo = new Map(fields.map((f) => [f.no, f]));
    if (byNo.size !== fields.length) throw new Error(`protobuf schema ${message}: duplicate field number`);
    out.set(message, { fields, byNo });
  }
  for (const [message, spec] of out) {
    for (const f of spec.fields) {
      if (!SCALARS.includes(f.type) && !out.has(f.type)) {
        throw new Error(`protobuf schema ${message}.${f.name ?? '-'}: unknown type ${f.type}`);
      }
      if (f.name === undefined && (f.shape !== 'single' || !out.has(f.type))) {
        throw new Error(`protobuf schema ${message}: only a single message can be inlined`);
      }
    }
  }
  return out;
}

const SCHEMA = compile();

export function hasMessage(name: string): boolean {
  return SCHEMA.has(name);
}

const asInt = (v: bigint, bits: 32 | 64): number => Number(BigInt.asIntN(bits, v));

/** meta/v1 Time: RFC 3339 in UTC to the second, as metav1.Time marshals it; empty -> null. */
function decodeTime(b: Buffer): string | null {
  let seconds = 0n;
  for (const f of readFields(b))
    if (f.no === 1 && f.varint !== undefined) seconds = BigInt.asIntN(64, f.varint);
  if (b.length === 0) return null;
  return new Date(Number(seconds) * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** util/intstr IntOrString: type 0 = intVal (2), type 1 = strVal (3). */
function decodeIntOrString(b: Buffer): number | string {
  let type = 0n;
  let intVal = 0;
  let strVal = '';
  for (const f of readFields(b)) {
    if (f.no === 1 && f.varint !== undefined) type = f.varint;
    else if (f.no === 2 && f.varint !== undefined) intVal = asInt(f.varint, 32);
    else if (f.no === 3 && f.bytes) strVal = f.bytes.toString('utf8');
  }
  return type === 1n ? strVal : intVal;
}

function mismatch(field: FieldSpec, wire: number): Error {
  return new Error(`field ${field.name ?? field.type} (${field.no}) has wire type ${wire}`);
}

/** One value of a field (one element, for a repeated one). */
function decodeValue(field: FieldSpec, type: string, f: WireField): unknown {
  if (type === 'int32' || type === 'int64' || type === 'bool') {
    if (f.varint === undefined) throw mismatch(field, f.wire);
    if (type === 'bool') return f.varint !== 0n;
    return asInt(f.varint, type === 'int32' ? 32 : 64);
  }
  if (!f.bytes) throw mismatch(field, f.wire);
  switch (type as Scalar) {
    case 'string':
      return f.bytes.toString('utf8');
    case 'bytes':
      return f.bytes.toString('base64');
    case 'time':
      return decodeTime(f.bytes);
    case 'intstr':
      return decodeIntOrString(f.bytes);
    case 'quantity':
      return (
        readFields(f.bytes)
          .find((q) => q.no === 1)
          ?.bytes?.toString('utf8') ?? ''
      );
    default:
      return decodeMessage(type, f.bytes);
  }
}

/** Packed repeated varints (proto3 style), accepted as well as one field per element. */
function unpack(field: FieldSpec, f: WireField): unknown[] {
  const out: unknown[] = [];
  const buf = f.bytes ?? Buffer.alloc(0);
  let i = 0;
  while (i < buf.length) {
    let v = 0n;
    let shift = 0n;
    for (;;) {
      if (i >= buf.length) throw new Error(`truncated packed field ${field.name ?? ''}`);
      const b = buf[i++];
      v |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) break;
      shift += 7n;
    }
    out.push(decodeValue(field, field.type, { no: f.no, wire: 0, varint: v }));
  }
  return out;
}

const isZero = (v: unknown): boolean => v === '' || v === 0 || v === false;

/**
 * Decodes a message into its JSON object. Unknown field numbers are skipped; zero scalars not
 * marked `ptr` are dropped (JSON's omitempty). Keys follow the table's order; `into` lets a
 * repeated message field merge, as protobuf does.
 */
export function decodeMessage(
  message: string,
  buf: Buffer,
  into: Record<string, unknown> = {},
): Record<string, unknown> {
  const spec = SCHEMA.get(message);
  if (!spec) throw new Error(`no protobuf schema for ${message}`);
  const seen = new Map<FieldSpec, unknown>();
  for (const f of readFields(buf)) {
    const field = spec.byNo.get(f.no);
    if (!field) continue;
    if (field.shape === 'repeated') {
      const list = (seen.get(field) as unknown[] | undefined) ?? [];
      const numeric = field.type === 'int32' || field.type === 'int64' || field.type === 'bool';
      if (numeric && f.wire === 2) list.push(...unpack(field, f));
      else list.push(decodeValue(field, field.type, f));
      seen.set(field, list);
    } else if (field.shape === 'map') {
      if (!f.bytes) throw mismatch(field, f.wire);
      const map = (seen.get(field) as Record<string, unknown> | undefined) ?? {};
      let key = '';
      let value: unknown = field.type === 'string' ? '' : undefined;
      for (const kv of readFields(f.bytes)) {
        if (kv.no === 1 && kv.bytes) key = kv.bytes.toString('utf8');
        else if (kv.no === 2) value = decodeValue(field, field.type, kv);
      }
      if (value === undefined) value = field.type === 'bytes' ? '' : field.type === 'quantity' ? '0' : null;
      map[key] = value;
      seen.set(field, map);
    } else if (!SCALARS.includes(field.type)) {
      // A message seen twice merges, as protobuf does; an inlined one is merged below.
      if (!f.bytes) throw mismatch(field, f.wire);
      const prev = seen.get(field) as Record<string, unknown> | undefined;
      seen.set(field, decodeMessage(field.type, f.bytes, prev ?? {}));
    } else {
      seen.set(field, decodeValue(field, field.type, f));
    }
  }
  for (const field of spec.fields) {
    if (!seen.has(field)) continue;
    const v = seen.get(field);
    if (field.name === undefined) {
      Object.assign(into, v);
      continue;
    }
    // A zero IntOrString (0 or "") means unset to the API server, as omitting it does.
    if (!field.keep && field.shape === 'single' && isZero(v)) continue;
    into[field.name] = v;
  }
  return into;
}
