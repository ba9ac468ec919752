// The story of a preview namespace, told where a person looks: each step kubestage takes (admitted,
// queued, evicted another, deployed, a hook, deleting and why) is a Kubernetes Event on the namespace
// (`kubectl events -n pr-42`) and the namespace's `kubestage.dev/last-action` annotation (`kubectl
// describe ns pr-42`, `kubestage status`). Best effort: the story never fails the step it tells.
import { HttpMethod } from '@kubernetes/client-node';
import type { Logger } from '../logger.js';
import { ANNOTATION_LAST_ACTION } from '../model/labels.js';
import type { KubeClient } from './client.js';
import { recordEvent } from './ledger.js';
import type { LiveObject } from './types.js';

export interface AuditEntry {
  /** CamelCase: Admitted, Queued, Evicted, Deployed, DeployFailed, HookSucceeded, HookFailed, Deleting. */
  reason: string;
  message: string;
  type?: 'Normal' | 'Warning';
  actor?: string;
  runUrl?: string;
}

/** `Deployed 2026-11-30T10:00:00Z by carol: …` (the annotation's value). */
export function auditLine(e: AuditEntry, at: Date): string {
  return `${e.reason} ${at.toISOString()}${e.actor ? ` by ${e.actor}` : ''}: ${e.message}`.slice(0, 1000);
}

export async function audit(
  kube: KubeClient,
  namespace: string,
  entry: AuditEntry,
  opts: { now?: Date; logger: Logger },
): Promise<void> {
  const at = opts.now ?? new Date();
  try {
    const ns = await kube.request<LiveObject>(
      HttpMethod.PATCH,
      `/api/v1/namespaces/${encodeURIComponent(namespace)}`,
      {
        body: { metadata: { annotations: { [ANNOTATION_LAST_ACTION]: auditLine(entry, at) } } },
        contentType: 'application/merge-patch+json',
        query: { fieldManager: kube.fieldManager },
      },
    );
    await recordEvent(
      kube,
      namespace,
      {
        reason: entry.reason,
        message: `${entry.actor ? `${entry.actor}: ` : ''}${entry.message}`,
        type: entry.type ?? 'Normal',
        ...(entry.runUrl ? { runUrl: entry.runUrl } : {}),
      },
      at,
      ns,
    );
  } catch (e) {
    opts.logger.debug(
      `Could not record "${entry.reason}" on namespace ${namespace}: ${(e as Error).message}`,
    );
  }
}
