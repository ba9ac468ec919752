// Namespace and host templates (`pr-{number}`, `pr-{number}.{domain}`) and the checks their results must pass.

/** Placeholders a template may use. */
export const TEMPLATE_PLACEHOLDERS = [
  'number',
  'domain',
  'owner',
  'repo',
  'sha7',
  'branch',
  'namespace',
  'app',
] as const;
export type TemplatePlaceholder = (typeof TEMPLATE_PLACEHOLDERS)[number];

/**
 * Values that end up inside names: slugged before substitution, because `feature/Login_v2` or an owner
 * `My.Org` cannot appear in a namespace or host name as written. `domain` is a dotted host name and is
 * used as given (validateHostname judges the result); `number`, `sha7` and `namespace` are already safe.
 */
const SLUGGED = new Set<string>(['owner', 'repo', 'branch', 'app']);

const DNS_LABEL_MAX = 63;
const DNS_SUBDOMAIN_MAX = 253;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/**
 * `feature/Login_v2` → `feature-login-v2`: lower-case, every run of characters outside [a-z0-9] becomes
 * one `-`, no leading or trailing `-`, at most `maxLength` (63, a DNS label) characters.
 * Returns `` when nothing usable is left; callers decide whether that is an error.
 */
export function slugify(value: string, maxLength = DNS_LABEL_MAX): string {
  return value
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, maxLength)
    .replace(/-+$/, '');
}

/**
 * Replaces `{placeholder}`s in `template` with `vars`. `owner`, `repo` and `branch` are slugged first
 * (see slugify). `what` names the template in errors, e.g. `input "namespace-template"`.
 * Throws on an unknown placeholder (naming it and the known ones), on a known one with no value here,
 * and on a slugged value that is empty after slugging.
 */
export function renderTemplate(
  template: string,
  vars: Record<string, string | number>,
  what: string,
): string {
  const known = TEMPLATE_PLACEHOLDERS.map((p) => `{${p}}`).join(', ');
  const unknown = [...template.matchAll(/\{([^{}]*)\}/g)]
    .map((m) => m[1])
    .filter((name) => !(TEMPLATE_PLACEHOLDERS as readonly string[]).includes(name));
  if (unknown.length > 0) {
    throw new Error(
      `${what} "${template}" uses unknown placeholder${unknown.length > 1 ? 's' : ''} ${unknown.map((u) => `{${u}}`).join(', ')}. ` +
        `Known placeholders: ${known}. Check the spelling (they are lower-case), e.g. "pr-{number}".`,
    );
  }
  if (/[{}]/.test(template.replace(/\{[^{}]*\}/g, ''))) {
    throw new Error(
      `${what} "${template}" has an unmatched "{" or "}". Placeholders look like {number}; known: ${known}.`,
    );
  }
  return template.replace(/\{([a-z0-9]+)\}/g, (_match, name: string) => {
    const raw = vars[name];
    if (raw === undefined) {
      const available = Object.keys(vars)
        .filter((k) => (TEMPLATE_PLACEHOLDERS as readonly string[]).includes(k))
        .map((k) => `{${k}}`);
      throw new Error(
        `${what} "${template}" uses {${name}}, which has no value in this run (available: ${available.join(', ') || 'none'}). ` +
          `Use one of the available placeholders.`,
      );
    }
    const text = String(raw);
    if (!SLUGGED.has(name)) return text;
    // Not cut to a label's length here: the caller fits the whole name (see commands/names.ts).
    const slug = slugify(text, Number.MAX_SAFE_INTEGER);
    if (slug === '') {
      throw new Error(
        `${what} "${template}": {${name}} is "${text}", which has no letters or digits left once made name-safe. ` +
          `Use a template without {${name}}.`,
      );
    }
    return slug;
  });
}

/**
 * Checks a namespace name is a DNS-1123 label (what Kubernetes requires of namespaces) and returns it.
 * `source` says where the name came from, e.g. `input "namespace-template" ("pr-{number}")`.
 */
export function validateNamespaceName(name: string, source: string): string {
  const rule =
    'Namespace names must be DNS-1123 labels: 1–63 characters, lower-case letters, digits and "-", ' +
    'starting and ending with a letter or digit, e.g. "pr-42".';
  let why: string | undefined;
  if (name === '') why = 'it is empty';
  else if (name.length > DNS_LABEL_MAX)
    why = `it is ${name.length} characters long (the limit is ${DNS_LABEL_MAX}); shorten the template`;
  else if (/[A-Z]/.test(name)) why = 'it contains upper-case letters';
  else if (!DNS_LABEL.test(name)) why = describeLabelProblem(name);
  if (why !== undefined) {
    throw new Error(`Namespace name "${name}" produced by ${source} is not valid: ${why}. ${rule}`);
  }
  return name;
}

/**
 * Checks a preview host name (a DNS-1123 subdomain without wildcard, scheme, port or path, as an
 * Ingress rule and an HTTPRoute hostname require) and returns it.
 * `source` says where it came from, e.g. `input "host-template" ("pr-{number}.{domain}")`.
 */
export function validateHostname(host: string, source: string): string {
  const example = 'e.g. "pr-42.preview.example.com"';
  let why: string | undefined;
  if (host === '') why = 'it is empty';
  else if (/^[a-z][a-z0-9+.-]*:\/\//i.test(host))
    why = 'it includes a URL scheme; give the host only, without "https://"';
  else if (host.includes('/')) why = 'it includes a path; give the host only';
  else if (host.includes(':')) why = 'it includes a port; give the host only';
  else if (host.startsWith('*')) why = 'it is a wildcard; a preview needs one concrete host';
  else if (host.endsWith('.')) why = 'it ends with "."; drop the trailing dot';
  else if (host.length > DNS_SUBDOMAIN_MAX)
    why = `it is ${host.length} characters long (the limit is ${DNS_SUBDOMAIN_MAX})`;
  else if (/[A-Z]/.test(host))
    why = 'it contains upper-case letters (Kubernetes accepts lower-case hosts only)';
  else if (/^[0-9.]+$/.test(host)) why = 'it is an IP address; Ingress and HTTPRoute hosts must be DNS names';
  else {
    for (const label of host.split('.')) {
      if (label.length > DNS_LABEL_MAX) {
        why = `the part "${label}" is ${label.length} characters long (the limit per dot-separated part is ${DNS_LABEL_MAX})`;
        break;
      }
      if (!DNS_LABEL.test(label)) {
        why =
          label === ''
            ? 'it has an empty part (two dots in a row)'
            : `the part "${label}": ${describeLabelProblem(label)}`;
        break;
      }
    }
  }
  if (why !== undefined) {
    throw new Error(
      `Host "${host}" produced by ${source} is not a valid host name: ${why}. ` +
        `Hosts are lower-case DNS names made of letters, digits, "-" and ".", ${example}.`,
    );
  }
  return host;
}

function describeLabelProblem(label: string): string {
  const bad = [...new Set(label.replace(/[-a-z0-9]/g, ''))];
  if (bad.length > 0) return `it contains ${bad.map((c) => `"${c}"`).join(', ')}`;
  return 'it must start and end with a letter or digit';
}
