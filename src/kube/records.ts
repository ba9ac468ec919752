// Reading and updating what a namespace records (model/records.ts is the codec; this is the I/O).
import { HttpMethod } from '@kubernetes/client-node';
import { decodeRecord, encodeRecord, type NamespaceRecord } from '../model/records.js';
import type { KubeClient } from './client.js';
import { statusOf } from './errors.js';
import type { LiveObject } from './types.js';

/**
 * Merges `update` into the namespace's record, but only while the namespace still records `headSha`
 * (a newer run that took over keeps its own record) and, when `update.pr` is set, that PR. Conditional on the resourceVersion read, so a
 * run that takes over between the read and the write wins. Returns whether it was written.
 */
export async function updateRecord(
  kube: KubeClient,
  namespace: string,
  headSha: string,
  update: NamespaceRecord,
  /** Our kubestage.dev/repo: another repository's namespace (a shared template) is never written. */
  repoLabel?: string,
): Promise<boolean> {
  const ns = await kube.get<LiveObject>('v1', 'Namespace', namespace);
  if (!ns || ns.metadata.deletionTimestamp) return false;
  const recorded = decodeRecord(ns.metadata);
  if (repoLabel !== undefined && recorded.repoLabel !== repoLabel) return false;
  if (recorded.headSha !== headSha) return false;
  // Two PRs can share a namespace (a {branch} template) and even a commit: never write over another PR's record.
  if (update.pr !== undefined && recorded.pr !== undefined && recorded.pr !== update.pr) return false;
  try {
    await kube.request(HttpMethod.PATCH, `/api/v1/namespaces/${encodeURIComponent(namespace)}`, {
      body: {
        metadata: { resourceVersion: ns.metadata.resourceVersion, annotations: encodeRecord(update) },
      },
      contentType: 'application/merge-patch+json',
      query: { fieldManager: kube.fieldManager },
    });
    return true;
  } catch (e) {
    if (statusOf(e) === 409 || statusOf(e) === 404) return false;
    throw e;
  }
}

/** The namespace's record, or undefined when there is no such namespace. */
export async function readRecord(kube: KubeClient, namespace: string): Promise<NamespaceRecord | undefined> {
  const ns = await kube.get<LiveObject>('v1', 'Namespace', namespace);
  return ns ? decodeRecord(ns.metadata) : undefined;
}
