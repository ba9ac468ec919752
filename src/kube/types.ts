// Plain-JSON shapes of the Kubernetes objects this folder reads. We keep objects as JSON (not
// client-node's typed models) so fields unknown to the generated models survive apply untouched.

export type { KubeObject } from '../model/kube-object.js';
export { objectRef } from '../model/kube-object.js';
export type { Condition } from '../model/health.js';

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
}

/** An object as the API server returns it. */
export interface LiveObject {
  apiVersion?: string;
  kind?: string;
  metadata: {
    name: string;
    namespace?: string;
    uid?: string;
    generation?: number;
    resourceVersion?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    finalizers?: string[];
    ownerReferences?: OwnerReference[];
    deletionTimestamp?: string;
    creationTimestamp?: string;
    managedFields?: unknown[];
  };
  spec?: Record<string, unknown>;
  status?: Record<string, unknown>;
  [k: string]: unknown;
}

export interface ObjectList<T = LiveObject> {
  metadata: { resourceVersion?: string; continue?: string };
  items: T[];
}

/** The API server's error body (`kind: Status`). */
export interface KubeStatus {
  kind?: string;
  status?: string;
  message?: string;
  reason?: string;
  code?: number;
  details?: {
    name?: string;
    kind?: string;
    causes?: { reason?: string; message?: string; field?: string }[];
    retryAfterSeconds?: number;
  };
}
