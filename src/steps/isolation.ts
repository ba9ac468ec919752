// The objects kubestage adds to a preview's render: its isolation (quota, limits, network policy) and the
// Secrets the workflow copies in. They are applied and pruned with the rest (our labels), so a preview
// whose isolation is turned off loses it on the next push, and cleanup deletes them with the namespace.
import type { KubeClient } from '../kube/client.js';
import { describeApiError, statusOf } from '../kube/errors.js';
import { permissionHint } from '../kube/permissions.js';
import type { Logger } from '../logger.js';
import { ISOLATION_NAME, isolationObjects, type IsolationOptions } from '../model/isolation.js';
import type { KubeObject } from '../model/kube-object.js';
import { secretValues } from '../model/secrets.js';
import type { SecretCopy } from '../settings/preview.js';

export const ANNOTATION_COPIED_FROM = 'kubestage.dev/copied-from';

export interface IsolateInput {
  objects: KubeObject[];
  namespace: string;
  labels: Record<string, string>;
  isolation: IsolationOptions;
  copySecrets: SecretCopy[];
  mask: (value: string) => void;
  logger: Logger;
}

/** The objects to add to the render; throws, before any write, when one would clash with the render's own. */
export async function isolationFor(kube: KubeClient, input: IsolateInput): Promise<KubeObject[]> {
  const added = isolationObjects(input.isolation, input.namespace, input.labels);
  const copies = await Promise.all(input.copySecrets.map((c) => copySecret(kube, c, input)));
  const extra = [...added, ...copies];
  const clash = extra.filter((e) =>
    input.objects.some(
      (o) => o.kind === e.kind && o.apiVersion === e.apiVersion && o.metadata.name === e.metadata.name,
    ),
  );
  if (clash.length) {
    throw new Error(
      `The manifests define ${clash.map((c) => `${c.kind} ${c.metadata.name}`).join(', ')}, which kubestage creates in every preview ` +
        `(${clash.some((c) => c.metadata.name === ISOLATION_NAME) ? 'its isolation' : 'a copied Secret'}); rename yours or drop it from the preview overlay.`,
    );
  }
  const parts = [
    input.isolation.quota
      ? `ResourceQuota (${Object.entries(input.isolation.quota)
          .map(([k, v]) => `${k}=${v}`)
          .join(', ')})`
      : '',
    input.isolation.limits ? 'LimitRange (container defaults)' : '',
    input.isolation.network
      ? 'NetworkPolicy (in: the namespace and the ingress controller; out: the namespace, DNS, the internet)'
      : '',
    copies.length
      ? `${copies.length} copied Secret(s): ${input.copySecrets.map((c) => `${c.namespace}/${c.name}`).join(', ')}`
      : '',
  ].filter(Boolean);
  if (parts.length) input.logger.info(`Isolation of ${input.namespace}: ${parts.join('; ')}`);
  return extra;
}

async function copySecret(kube: KubeClient, c: SecretCopy, input: IsolateInput): Promise<KubeObject> {
  let source: (KubeObject & { type?: string; data?: Record<string, string> }) | undefined;
  try {
    source = await kube.get('v1', 'Secret', c.name, c.namespace);
  } catch (e) {
    throw new Error(
      `could not read Secret ${c.namespace}/${c.name} to copy it into the preview: ${describeApiError(e)}` +
        (statusOf(e) === 403 ? `. ${permissionHint(`get on secrets in namespace ${c.namespace}`)}` : ''),
      { cause: e },
    );
  }
  if (!source)
    throw new Error(
      `Secret ${c.namespace}/${c.name} (copy-secrets) does not exist; create it, or remove it from \`copy-secrets\`.`,
    );
  const copy: KubeObject = {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: {
      name: c.name,
      namespace: input.namespace,
      labels: { ...input.labels },
      annotations: { [ANNOTATION_COPIED_FROM]: `${c.namespace}/${c.name}` },
    },
    ...(source.type ? { type: source.type } : {}),
    data: { ...(source.data ?? {}) },
  };
  // Masked by the same rule as the render's own Secrets.
  for (const v of secretValues([copy])) input.mask(v);
  return copy;
}
