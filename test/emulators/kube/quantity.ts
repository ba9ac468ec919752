// resource.Quantity of k8s.io/apimachinery, exact: parsed into nano-units (BigInt) with the format
// the suffix implies, added and compared exactly, and printed in the canonical form the API server
// writes ("1800m", "2", "1536Mi", "2k"), so quota and LimitRange messages read as a real cluster's.

export type QuantityFormat = 'DecimalSI' | 'BinarySI' | 'DecimalExponent';

export interface Quantity {
  /** The value in units of 10⁻⁹ (rounded up, as the real parser rounds below nano precision). */
  nanos: bigint;
  format: QuantityFormat;
}

const NANO = 1_000_000_000n;
const DECIMAL_SUFFIX: Record<string, number> = {
  n: -9,
  u: -6,
  m: -3,
  '': 0,
  k: 3,
  M: 6,
  G: 9,
  T: 12,
  P: 15,
  E: 18,
};
const BINARY_SUFFIX: Record<string, number> = { Ki: 1, Mi: 2, Gi: 3, Ti: 4, Pi: 5, Ei: 6 };
const QUANTITY_RE = /^([+-]?)(\d*)(?:\.(\d*))?(Ki|Mi|Gi|Ti|Pi|Ei|[eE][+-]?\d+|[numkMGTPE])?$/;

/** The message the API server gives for an unparsable quantity. */
export const QUANTITY_ERROR =
  "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";

export const ZERO: Quantity = { nanos: 0n, format: 'DecimalSI' };

function ceilDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b !== 0n && a > 0n ? q + 1n : q;
}

/** Parses "500m", "1.5Gi", "2", "1e3", 0.5 (a YAML number); undefined when it is no quantity. */
export function parseQuantity(v: unknown): Quantity | undefined {
  if (typeof v === 'number' && Number.isFinite(v)) v = String(v);
  if (typeof v !== 'string') return undefined;
  const m = QUANTITY_RE.exec(v.trim());
  if (!m || (m[2] === '' && (m[3] ?? '') === '')) return undefined;
  const [, sign, whole, frac = '', suffix = ''] = m;
  let num = BigInt(`${whole || '0'}${frac}`) * NANO;
  let den = 10n ** BigInt(frac.length);
  let format: QuantityFormat = 'DecimalSI';
  if (suffix in BINARY_SUFFIX) {
    format = 'BinarySI';
    num *= 1024n ** BigInt(BINARY_SUFFIX[suffix]);
  } else {
    let exp: number;
    if (/^[eE]./.test(suffix)) {
      format = 'DecimalExponent';
      exp = Number(suffix.slice(1));
    } else exp = DECIMAL_SUFFIX[suffix];
    if (exp >= 0) num *= 10n ** BigInt(exp);
    else den *= 10n ** BigInt(-exp);
  }
  const nanos = ceilDiv(num, den);
  return { nanos: sign === '-' ? -nanos : nanos, format };
}

/** Quantity.String(): the canonical form of the value in its format. */
export function formatQuantity(q: Quantity): string {
  if (q.nanos === 0n) return '0';
  const neg = q.nanos < 0n;
  const abs = neg ? -q.nanos : q.nanos;
  const sign = neg ? '-' : '';
  // BinarySI only for whole numbers of at least 1024; otherwise shown as DecimalSI (as Go does).
  if (q.format === 'BinarySI' && abs >= 1024n * NANO && abs % NANO === 0n) {
    let n = abs / NANO;
    let e = 0;
    while (e < 6 && n % 1024n === 0n) {
      n /= 1024n;
      e++;
    }
    return `${sign}${n}${['', 'Ki', 'Mi', 'Gi', 'Ti', 'Pi', 'Ei'][e]}`;
  }
  let mantissa = abs;
  let exp = -9;
  while (mantissa % 10n === 0n) {
    mantissa /= 10n;
    exp++;
  }
  const down = ((exp % 3) + 3) % 3;
  mantissa *= 10n ** BigInt(down);
  exp -= down;
  if (q.format === 'DecimalExponent') return `${sign}${mantissa}${exp === 0 ? '' : `e${exp}`}`;
  const suffix = Object.entries(DECIMAL_SUFFIX).find(([, e]) => e === exp)?.[0];
  return suffix === undefined ? `${sign}${mantissa}e${exp}` : `${sign}${mantissa}${suffix}`;
}

/** Quantity.Add: the sum keeps the left operand's format unless the left one is zero. */
export function addQuantity(a: Quantity, b: Quantity): Quantity {
  return { nanos: a.nanos + b.nanos, format: a.nanos === 0n ? b.format : a.format };
}

export function maxQuantity(a: Quantity, b: Quantity): Quantity {
  return b.nanos > a.nanos ? b : a;
}

/** The canonical text of a quantity as written ("1024Mi" → "1Gi", "0.5" → "500m"); the input if unparsable. */
export function canonical(v: unknown): string {
  const q = parseQuantity(v);
  return q ? formatQuantity(q) : String(v);
}

/** A ResourceList (name → quantity text) as parsed quantities; unparsable entries are skipped. */
export function parseList(v: unknown): Map<string, Quantity> {
  const out = new Map<string, Quantity>();
  if (!v || typeof v !== 'object' || Array.isArray(v)) return out;
  for (const [k, raw] of Object.entries(v as Record<string, unknown>)) {
    const q = parseQuantity(raw);
    if (q) out.set(k, q);
  }
  return out;
}
