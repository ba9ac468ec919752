// Label and annotation keys: the contract in DESIGN.md. Import these; never retype the strings.
import { createHash } from 'node:crypto';

export const LABEL_MANAGED_BY = 'app.kubernetes.io/managed-by';
export const MANAGED_BY = 'kubestage';
export const LABEL_REPO = 'kubestage.dev/repo';
export const LABEL_ENVIRONMENT = 'kubestage.dev/environment';
export const LABEL_PR = 'kubestage.dev/pr';
export const LABEL_INSTANCE = 'kubestage.dev/instance';

export const ANNOTATION_HEAD_SHA = 'kubestage.dev/head-sha';
export const ANNOTATION_IMAGES = 'kubestage.dev/images';
export const ANNOTATION_URL = 'kubestage.dev/url';
export const ANNOTATION_UPDATED_AT = 'kubestage.dev/updated-at';
export const ANNOTATION_EXPIRES_AT = 'kubestage.dev/expires-at';
export const ANNOTATION_RUN_URL = 'kubestage.dev/run-url';
export const ANNOTATION_HISTORY = 'kubestage.dev/history';
/**
 * JSON array of the "apiVersion Kind"s kubestage applied in the namespace (sorted), so that prune
 * and cleanup list only those kinds instead of every kind the cluster serves.
 */
export const ANNOTATION_APPLIED_KINDS = 'kubestage.dev/applied-kinds';
/** The PR number as an annotation too, so a namespace template without {number} still records it. */
export const ANNOTATION_PR = 'kubestage.dev/pr';

export const FIELD_MANAGER = 'kubestage';
export const PREVIEW_ENVIRONMENT = 'preview';
export const COMMENT_MARKER = '<!-- kubestage:preview -->';

const LABEL_VALUE_MAX = 63;

/**
 * `owner/repo` as a label value: lower-cased, `/` → `.`, characters outside [a-z0-9._-] → `-`,
 * trimmed to start and end alphanumeric; longer than 63 characters → first 54 + `-` + 8 hex of sha256.
 */
export function repoLabelValue(fullName: string): string {
  let v = fullName
    .toLowerCase()
    .replace('/', '.')
    .replace(/[^a-z0-9._-]/g, '-')
    .replace(/^[^a-z0-9]+|[^a-z0-9]+$/g, '');
  if (v.length > LABEL_VALUE_MAX) {
    const hash = createHash('sha256').update(fullName.toLowerCase()).digest('hex').slice(0, 8);
    v = `${v.slice(0, LABEL_VALUE_MAX - 9).replace(/[^a-z0-9]+$/, '')}-${hash}`;
  }
  return v;
}
