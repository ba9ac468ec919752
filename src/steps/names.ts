// Names of a PR's preview (namespace, host, URL, GitHub environment) from the templates.
import { createHash } from 'node:crypto';
import { renderTemplate, slugify, validateHostname, validateNamespaceName } from '../model/templates.js';
import { INPUT } from '../settings/inputs.js';
import type { PullRequestContext } from './pull-request.js';

/** The templates that name a preview (the `namespace-template`, `host-template`, … inputs). */
export interface NamingOptions {
  owner: string;
  repo: string;
  namespaceTemplate: string;
  hostTemplate: string;
  domain: string;
  deploymentEnvironment: string;
  /** Which app of a repository with several (monorepo): keys names, the comment and the environment. */
  app?: string;
}

export interface PreviewNames {
  namespace: string;
  host: string;
  url: string;
  /** GitHub deployment environment. */
  environment: string;
}

export function previewNames(
  naming: NamingOptions,
  pr: Pick<PullRequestContext, 'number' | 'headSha' | 'headRef'>,
): PreviewNames {
  const vars = {
    number: pr.number,
    owner: slugify(naming.owner),
    repo: slugify(naming.repo),
    // Not cut here: renderFitted shortens it only where a name would be too long, with a hash.
    branch: slugify(pr.headRef || 'unknown', 250),
    sha7: pr.headSha.slice(0, 7),
    domain: naming.domain,
    ...(naming.app ? { app: naming.app } : {}),
  };
  const raw = pr.headRef || 'unknown';
  const namespace = renderFitted(naming.namespaceTemplate, vars, INPUT.namespaceTemplate, raw);
  validateNamespaceName(namespace, INPUT.namespaceTemplate);
  if (namespace === 'default' || namespace.startsWith('kube-')) {
    // Cleanup refuses these by name, so a preview there could never be removed.
    throw new Error(
      `${INPUT.namespaceTemplate} gives "${namespace}", a name reserved for the cluster itself (default, kube-*). Use e.g. "pr-{number}".`,
    );
  }
  // Host and environment may follow the namespace, which is unique on the cluster.
  const named = { ...vars, namespace };
  const host =
    naming.domain || !naming.hostTemplate.includes('{domain}')
      ? renderFitted(naming.hostTemplate, named, INPUT.hostTemplate, raw)
      : '';
  if (host) validateHostname(host, INPUT.hostTemplate);
  return {
    namespace,
    host,
    url: host ? `https://${host}` : '',
    environment: renderFitted(naming.deploymentEnvironment, named, INPUT.deploymentEnvironment, raw),
  };
}

const LABEL_MAX = 63;

/**
 * Renders a template; when a long branch name pushes a DNS label of the result past 63 characters,
 * the branch part is shortened and given a hash of the full name, so every branch still gets its own
 * stable name (a user cannot shorten a contributor's branch name).
 */
function renderFitted(
  template: string,
  vars: Record<string, string | number> & { branch: string },
  what: string,
  rawBranch: string,
): string {
  const full = renderTemplate(template, vars, what);
  const excess = Math.max(...full.split('.').map((label) => label.length)) - LABEL_MAX;
  if (excess <= 0 || !template.includes('{branch}')) return full;
  const room = vars.branch.length - excess - 7;
  if (room < 1) return full; // the rest of the template is too long by itself: validation explains
  const hash = createHash('sha256').update(rawBranch).digest('hex').slice(0, 6);
  const branch = `${vars.branch.slice(0, room).replace(/-+$/, '')}-${hash}`;
  return renderTemplate(template, { ...vars, branch }, what);
}
