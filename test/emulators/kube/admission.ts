// Admission plugins every cluster runs that change or refuse what is created, kept apart from the
// HTTP layer so the simulated controllers (which write the store directly) apply them too.
import type { KObject } from './store.js';

export const DEFAULT_CLASS_ANNOTATION = 'storageclass.kubernetes.io/is-default-class';

/** DefaultStorageClass: the class a claim without storageClassName gets (newest default wins). */
export function defaultStorageClassName(classes: KObject[]): string | undefined {
  const defaults = classes
    .filter((c) => c.metadata.annotations?.[DEFAULT_CLASS_ANNOTATION] === 'true')
    .sort((a, b) => (b.metadata.creationTimestamp ?? '').localeCompare(a.metadata.creationTimestamp ?? ''));
  return defaults[0]?.metadata.name;
}

/** Fills a new claim's storageClassName from the default class, as the admission plugin does. */
export function admitClaim(claim: KObject, classes: KObject[]): void {
  const spec = (claim.spec ??= {}) as { storageClassName?: string | null };
  if (spec.storageClassName !== undefined && spec.storageClassName !== null) return;
  const name = defaultStorageClassName(classes);
  if (name) spec.storageClassName = name;
}
