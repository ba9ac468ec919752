// Which Secret values to hide in everything kubestage prints: one rule for the render's Secrets, copied
// Secrets and a namespace's Secrets read at cleanup.
import type { KubeObject } from './kube-object.js';

/**
 * Values of the rendered Secrets (stringData, and data decoded) that are worth hiding. Masking is
 * global (every occurrence in the log, the summary and the comment), so a value too common to be a
 * secret — `postgres` as the user name, `5432`, `shop` as the database — would blank out ordinary
 * words everywhere: entries named like user names, hosts, ports and database names are left out, and
 * so are short plain words.
 */
export function secretValues(objects: KubeObject[]): string[] {
  const out = new Set<string>();
  const consider = (key: string, value: string): void => {
    if (NOT_SECRET_KEY.test(key)) return;
    const v = value.trim();
    if (v.length < 6 || (/^[a-z]+$/i.test(v) && v.length < 12)) return;
    out.add(value);
  };
  for (const o of objects) {
    if (o.kind !== 'Secret' || o.apiVersion !== 'v1') continue;
    for (const [k, v] of Object.entries((o.stringData ?? {}) as Record<string, unknown>))
      if (typeof v === 'string') consider(k, v);
    for (const [k, v] of Object.entries((o.data ?? {}) as Record<string, unknown>))
      if (typeof v === 'string') consider(k, Buffer.from(v, 'base64').toString('utf8'));
  }
  return [...out];
}

/** Secret keys that name where and who, not a credential: `DB_USER`, `POSTGRES_HOST`, `redis-port`. */
const NOT_SECRET_KEY =
  /(^|[_.-])(user(name)?|login|host(name)?|port|db|database|db_?name|schema|region|zone|namespace|mode|env|environment|driver|protocol|scheme)$/i;
