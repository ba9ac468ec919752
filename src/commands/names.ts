// Names of a PR's preview (namespace, host, URL, GitHub environment) from the templates.
import { renderTemplate, slugify, validateHostname, validateNamespaceName } from '../model/templates.js';
import { INPUT, type Settings } from '../settings.js';
import type { PullRequestContext } from './pull-request.js';

export interface PreviewNames {
  namespace: string;
  host: string;
  url: string;
  /** GitHub deployment environment. */
  environment: string;
}

export function previewNames(
  settings: Settings,
  pr: Pick<PullRequestContext, 'number' | 'headSha' | 'headRef'>,
): PreviewNames {
  const vars = {
    number: pr.number,
    owner: slugify(settings.owner),
    repo: slugify(settings.repo),
    branch: slugify(pr.headRef || 'unknown'),
    sha7: pr.headSha.slice(0, 7),
    domain: settings.domain,
  };
  const namespace = renderTemplate(settings.namespaceTemplate, vars, INPUT.namespaceTemplate);
  validateNamespaceName(namespace, INPUT.namespaceTemplate);
  const host =
    settings.domain || !settings.hostTemplate.includes('{domain}')
      ? renderTemplate(settings.hostTemplate, vars, INPUT.hostTemplate)
      : '';
  if (host) validateHostname(host, INPUT.hostTemplate);
  return {
    namespace,
    host,
    url: host ? `https://${host}` : '',
    environment: renderTemplate(settings.deploymentEnvironment, vars, INPUT.deploymentEnvironment),
  };
}
