// Kubernetes `Status` error objects, shaped and worded as a v1.32 API server writes them, so that
// kubectl prints the same "Error from server (...)" lines and client-node raises ApiException with
// the same code and body as against a real cluster.
import type { ResourceType } from './store.js';

export interface StatusCause {
  reason?: string;
  message?: string;
  field?: string;
}

export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  uid?: string;
  causes?: StatusCause[];
  retryAfterSeconds?: number;
}

export interface Status {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, unknown>;
  status: 'Failure' | 'Success';
  message?: string;
  reason?: string;
  details?: StatusDetails;
  code: number;
}

/** An API error on its way to the client: the handler throws it, the server writes `status`. */
export class ApiError extends Error {
  constructor(
    readonly status: Status,
    readonly headers: Record<string, string> = {},
  ) {
    super(status.message);
  }
  get code(): number {
    return this.status.code;
  }
}

export function failure(code: number, reason: string, message: string, details?: StatusDetails): Status {
  const s: Status = {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message,
    reason,
    code,
  };
  if (details) s.details = stripEmpty(details);
  return s;
}

export function success(details?: StatusDetails): Status {
  const s: Status = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 200 };
  if (details) s.details = stripEmpty(details);
  return s;
}

function stripEmpty(d: StatusDetails): StatusDetails {
  const out: StatusDetails = {};
  for (const [k, v] of Object.entries(d) as [keyof StatusDetails, unknown][]) {
    if (v !== undefined && v !== '') (out as Record<string, unknown>)[k] = v;
  }
  return out;
}

/** `deployments.apps`, `pods`: how the real server names a resource in messages. */
export function qualifiedResource(t: Pick<ResourceType, 'group' | 'plural'>): string {
  return t.group ? `${t.plural}.${t.group}` : t.plural;
}

/** `Deployment.apps`, `Namespace`: how the real server names a kind in Invalid messages. */
export function qualifiedKind(t: Pick<ResourceType, 'group' | 'kind'>): string {
  return t.group ? `${t.kind}.${t.group}` : t.kind;
}

export function notFound(t: Pick<ResourceType, 'group' | 'plural'>, name: string): ApiError {
  return new ApiError(
    failure(404, 'NotFound', `${qualifiedResource(t)} "${name}" not found`, {
      name,
      group: t.group,
      kind: t.plural,
    }),
  );
}

export function namespaceNotFound(name: string): ApiError {
  return notFound({ group: '', plural: 'namespaces' }, name);
}

export function alreadyExists(t: Pick<ResourceType, 'group' | 'plural'>, name: string): ApiError {
  return new ApiError(
    failure(409, 'AlreadyExists', `${qualifiedResource(t)} "${name}" already exists`, {
      name,
      group: t.group,
      kind: t.plural,
    }),
  );
}

export function conflict(t: Pick<ResourceType, 'group' | 'plural'>, name: string, why: string): ApiError {
  return new ApiError(
    failure(409, 'Conflict', `Operation cannot be fulfilled on ${qualifiedResource(t)} "${name}": ${why}`, {
      name,
      group: t.group,
      kind: t.plural,
    }),
  );
}

export const STALE_OBJECT =
  'the object has been modified; please apply your changes to the latest version and try again';

export interface FieldError {
  type:
    | 'FieldValueInvalid'
    | 'FieldValueRequired'
    | 'FieldValueNotSupported'
    | 'FieldValueForbidden'
    | 'FieldValueTooLong';
  field: string;
  /** The part after "<field>: ", e.g. `Invalid value: "x": must be ...`. */
  body: string;
}

export function invalid(t: Pick<ResourceType, 'group' | 'kind'>, name: string, errs: FieldError[]): ApiError {
  const rendered = errs.map((e) => `${e.field}: ${e.body}`);
  const agg = rendered.length === 1 ? rendered[0] : `[${rendered.join(', ')}]`;
  return new ApiError(
    failure(422, 'Invalid', `${qualifiedKind(t)} "${name}" is invalid: ${agg}`, {
      name,
      group: t.group,
      kind: t.kind,
      causes: errs.map((e) => ({ reason: e.type, message: e.body, field: e.field })),
    }),
  );
}

export function forbidden(
  t: Pick<ResourceType, 'group' | 'plural'>,
  name: string,
  why: string,
  causes?: StatusCause[],
): ApiError {
  return new ApiError(
    failure(403, 'Forbidden', `${qualifiedResource(t)} "${name}" is forbidden: ${why}`, {
      name,
      group: t.group,
      kind: t.plural,
      causes,
    }),
  );
}

export function badRequest(message: string): ApiError {
  return new ApiError(failure(400, 'BadRequest', message));
}

export function methodNotAllowed(): ApiError {
  return new ApiError(
    failure(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource'),
  );
}

export function unsupportedMediaType(contentType: string): ApiError {
  return new ApiError(
    failure(
      415,
      'UnsupportedMediaType',
      `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json (got ${contentType})`,
    ),
  );
}

export function resourceNotFound(): ApiError {
  return new ApiError(failure(404, 'NotFound', 'the server could not find the requested resource', {}));
}

export function tooManyRequests(retryAfterSeconds: number): ApiError {
  return new ApiError(
    failure(429, 'TooManyRequests', 'Too many requests, please try again later.', { retryAfterSeconds }),
    { 'Retry-After': String(retryAfterSeconds) },
  );
}

export function internalError(message: string): ApiError {
  return new ApiError(
    failure(500, 'InternalError', `Internal error occurred: ${message}`, { causes: [{ message }] }),
  );
}

export function serviceUnavailable(): ApiError {
  return new ApiError(
    failure(503, 'ServiceUnavailable', 'the server is currently unable to handle the request'),
  );
}

/** The watch ERROR event a real server sends when the requested resourceVersion was compacted. */
export function expired(message: string): Status {
  return failure(410, 'Expired', message);
}
