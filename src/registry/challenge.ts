// WWW-Authenticate challenges (RFC 7235) as registries send them:
//   Bearer realm="https://ghcr.io/token",service="ghcr.io",scope="repository:acme/api:pull"
//   Basic realm="basic-realm"
// A header may hold several challenges, and quoted values may contain commas (scope="…:pull,push").

export interface Challenge {
  /** Lower-cased: "bearer", "basic". */
  scheme: string;
  /** Parameter names lower-cased, values unquoted. */
  params: Record<string, string>;
}

const TOKEN = /^[A-Za-z0-9!#$%&'*+.^_`|~-]+/;

export function parseChallenges(header: string): Challenge[] {
  const out: Challenge[] = [];
  let i = 0;
  const skip = () => {
    while (i < header.length && /[\s,]/.test(header[i])) i++;
  };
  while (i < header.length) {
    skip();
    const m = TOKEN.exec(header.slice(i));
    if (!m) break;
    let j = i + m[0].length;
    while (header[j] === ' ' || header[j] === '\t') j++;
    const current = out.at(-1);
    if (header[j] !== '=' || current === undefined) {
      out.push({ scheme: m[0].toLowerCase(), params: {} });
      i = i + m[0].length;
      continue;
    }
    // A parameter of the current challenge.
    const key = m[0].toLowerCase();
    i = j + 1;
    while (header[i] === ' ' || header[i] === '\t') i++;
    let value = '';
    if (header[i] === '"') {
      i++;
      while (i < header.length && header[i] !== '"') {
        if (header[i] === '\\' && i + 1 < header.length) i++;
        value += header[i];
        i++;
      }
      i++; // closing quote
    } else {
      const v = /^[^\s,]*/.exec(header.slice(i))![0];
      value = v;
      i += v.length;
    }
    current.params[key] = value;
  }
  return out;
}
