// NetworkPolicy validation as the v1.32 API server does it (pkg/apis/networking/validation):
// stored, never enforced, but refused for the mistakes people make in peers and ipBlocks, with the
// real field paths and messages (`spec.ingress[0].from[0].ipBlock.cidr: Invalid value:
// "10.0.0.0/33": not a valid CIDR`).
import { isIP } from 'node:net';
import { isMap } from './patch.js';
import type { FieldError } from './status.js';
import type { KObject } from './store.js';

type JsonMap = Record<string, unknown>;

/** ParseCIDR: an IPv4 or IPv6 address, a slash, a prefix length that fits it; the network part as bits. */
function parseCidr(s: string): { bits: string; prefix: number } | undefined {
  const m = /^([^/]+)\/(\d{1,3})$/.exec(s);
  if (!m) return undefined;
  const family =
    isIP(m[1]) || (/^\d+(\.\d+){3}$/.test(m[1]) && m[1].split('.').every((x) => Number(x) <= 255) ? 4 : 0);
  const prefix = Number(m[2]);
  if (!family || prefix > (family === 4 ? 32 : 128)) return undefined;
  let bits: string;
  if (family === 4)
    bits = m[1]
      .split('.')
      .map((x) => Number(x).toString(2).padStart(8, '0'))
      .join('');
  else {
    const [head, tail = ''] = m[1].split('::');
    const h = head ? head.split(':') : [];
    const t = m[1].includes('::') && tail ? tail.split(':') : [];
    const groups = m[1].includes('::') ? [...h, ...Array(8 - h.length - t.length).fill('0'), ...t] : h;
    if (groups.some((g: string) => g.includes('.'))) return { bits: '', prefix }; // v4-mapped: valid, no subset check
    bits = groups
      .map((g: string) =>
        parseInt(g || '0', 16)
          .toString(2)
          .padStart(16, '0'),
      )
      .join('');
  }
  return { bits, prefix };
}

const quote = (v: string) => JSON.stringify(v);

function ipBlockErrors(ipb: JsonMap, path: string): FieldError[] {
  const cidr = typeof ipb.cidr === 'string' ? ipb.cidr : '';
  if (!cidr) return [{ type: 'FieldValueRequired', field: `${path}.cidr`, body: 'Required value' }];
  const net = parseCidr(cidr);
  if (!net)
    return [
      {
        type: 'FieldValueInvalid',
        field: `${path}.cidr`,
        body: `Invalid value: ${quote(cidr)}: not a valid CIDR`,
      },
    ];
  const errs: FieldError[] = [];
  const except = Array.isArray(ipb.except) ? ipb.except.map(String) : [];
  for (const [i, e] of except.entries()) {
    const field = `${path}.except[${i}]`;
    const sub = parseCidr(e);
    if (!sub)
      return [
        ...errs,
        { type: 'FieldValueInvalid', field, body: `Invalid value: ${quote(e)}: not a valid CIDR` },
      ];
    const inside =
      sub.bits.length === net.bits.length && sub.bits.slice(0, net.prefix) === net.bits.slice(0, net.prefix);
    if (!inside || net.prefix >= sub.prefix)
      errs.push({
        type: 'FieldValueInvalid',
        field,
        body: `Invalid value: ${quote(e)}: must be a strict subset of \`cidr\``,
      });
  }
  return errs;
}

function peerErrors(peer: JsonMap, path: string): FieldError[] {
  const errs: FieldError[] = [];
  let peers = 0;
  if (isMap(peer.podSelector)) peers++;
  if (isMap(peer.namespaceSelector)) peers++;
  if (isMap(peer.ipBlock)) {
    peers++;
    errs.push(...ipBlockErrors(peer.ipBlock, `${path}.ipBlock`));
  }
  if (peers === 0)
    errs.push({ type: 'FieldValueRequired', field: path, body: 'Required value: must specify a peer' });
  else if (peers > 1 && isMap(peer.ipBlock))
    errs.push({
      type: 'FieldValueForbidden',
      field: path,
      body: 'Forbidden: may not specify both ipBlock and another peer',
    });
  return errs;
}

function portErrors(port: JsonMap, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (port.protocol !== undefined && !['TCP', 'UDP', 'SCTP'].includes(String(port.protocol)))
    errs.push({
      type: 'FieldValueNotSupported',
      field: `${path}.protocol`,
      body: `Unsupported value: ${quote(String(port.protocol))}: supported values: "SCTP", "TCP", "UDP"`,
    });
  if (typeof port.port === 'number' && (port.port < 1 || port.port > 65535))
    errs.push({
      type: 'FieldValueInvalid',
      field: `${path}.port`,
      body: `Invalid value: ${port.port}: must be between 1 and 65535, inclusive`,
    });
  return errs;
}

/** What the API server refuses in a NetworkPolicy's ingress and egress rules. */
export function validateNetworkPolicy(o: KObject): FieldError[] {
  const spec = isMap(o.spec) ? o.spec : {};
  const errs: FieldError[] = [];
  for (const [dir, peersKey] of [
    ['ingress', 'from'],
    ['egress', 'to'],
  ] as const) {
    const rules = Array.isArray(spec[dir]) ? spec[dir].filter(isMap) : [];
    for (const [i, rule] of rules.entries()) {
      const ports = Array.isArray(rule.ports) ? rule.ports.filter(isMap) : [];
      for (const [j, p] of ports.entries()) errs.push(...portErrors(p, `spec.${dir}[${i}].ports[${j}]`));
      const peers = Array.isArray(rule[peersKey]) ? (rule[peersKey] as unknown[]) : [];
      for (const [j, p] of peers.entries())
        errs.push(...peerErrors(isMap(p) ? p : {}, `spec.${dir}[${i}].${peersKey}[${j}]`));
    }
  }
  return errs;
}
