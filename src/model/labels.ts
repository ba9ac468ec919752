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
/** The PR comment kubestage keeps (its id), so a run can update it without searching the PR's comments. */
export const ANNOTATION_COMMENT_ID = 'kubestage.dev/comment-id';
/** The GitHub deployment of the last run that deployed here. */
export const ANNOTATION_DEPLOYMENT_ID = 'kubestage.dev/deployment-id';
/** How the last run ended: deploying, ready or failed (status compares it with live health). */
export const ANNOTATION_STATE = 'kubestage.dev/state';
/** When the recorded commit became the PR's head (RFC 3339), to order runs when GitHub cannot be asked. */
export const ANNOTATION_HEAD_TIME = 'kubestage.dev/head-time';
/** Who triggered the last run (GITHUB_ACTOR, or the CLI user). */
export const ANNOTATION_ACTOR = 'kubestage.dev/actor';
/**
 * JSON array of the "apiVersion Kind"s kubestage applied in the namespace (sorted), so that prune
 * and cleanup list only those kinds instead of every kind the cluster serves.
 */
export const ANNOTATION_APPLIED_KINDS = 'kubestage.dev/applied-kinds';
/** The PR number as an annotation too, so a namespace template without {number} still records it. */
export const ANNOTATION_PR = 'kubestage.dev/pr';

// --- Lifecycle hooks (steps/hooks.ts) ------------------------------------------------------------
/** On a rendered Job: run it as a hook of this phase (pre-deploy, post-deploy or pre-delete), not as a workload. */
export const ANNOTATION_HOOK = 'kubestage.dev/hook';
/**
 * On a rendered workload the pre-deploy hooks need (the preview's own database): applied and waited
 * for before they run, instead of with the other workloads after them.
 */
export const ANNOTATION_HOOK_DEPENDENCY = 'kubestage.dev/hook-dependency';
/** On the namespace: the pre-delete hook Jobs (JSON array of manifests) cleanup runs before deleting it. */
export const ANNOTATION_PRE_DELETE_HOOKS = 'kubestage.dev/pre-delete-hooks';

// --- Stage revisions (the ledger: one Secret per revision, model/ledger.ts) ------------------
/** The revision number: a label on each revision Secret, and the current one as a stage namespace's annotation. */
export const LABEL_REVISION = 'kubestage.dev/revision';
export const ANNOTATION_REVISION = 'kubestage.dev/revision';
/** The stage a revision Secret belongs to (with managed-by, what listing selects on). */
export const LABEL_STAGE = 'kubestage.dev/stage';
/** How a revision ended (deploying, succeeded, failed, rolled-back, superseded): a label, and an annotation on the namespace. */
export const LABEL_RESULT = 'kubestage.dev/result';
export const ANNOTATION_RESULT = 'kubestage.dev/result';
/** deploy, promote or rollback. */
export const LABEL_REVISION_KIND = 'kubestage.dev/revision-kind';
/** The git commit a revision deployed. */
export const ANNOTATION_COMMIT = 'kubestage.dev/commit';
/** The git ref that commit came from. */
export const ANNOTATION_REF = 'kubestage.dev/ref';
/** Who approved a revision: comma-separated GitHub logins. */
export const ANNOTATION_APPROVERS = 'kubestage.dev/approvers';
export const ANNOTATION_STARTED_AT = 'kubestage.dev/started-at';
export const ANNOTATION_FINISHED_AT = 'kubestage.dev/finished-at';
/** How a revision ended, in one short line (failures: the first reason). */
export const ANNOTATION_MESSAGE = 'kubestage.dev/message';
/** A promotion's source stage. */
export const ANNOTATION_FROM = 'kubestage.dev/from';
/** A rollback's re-applied revision number. */
export const ANNOTATION_RESTORES = 'kubestage.dev/restores';
/** The type of every revision Secret (Helm's is helm.sh/release.v1); bump the version on an incompatible change. */
export const REVISION_SECRET_TYPE = 'kubestage.dev/revision.v1';
/** Event source and reporting component. */
export const EVENT_COMPONENT = 'kubestage';

export const FIELD_MANAGER = 'kubestage';
export const PREVIEW_ENVIRONMENT = 'preview';
export const COMMENT_MARKER = '<!-- kubestage:preview -->';

/** The hidden marker of the PR comment; each app of a monorepo keeps its own comment. */
export function commentMarker(app?: string): string {
  return app ? `<!-- kubestage:preview:${app} -->` : COMMENT_MARKER;
}

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

/** The last step kubestage took in a namespace, one line (`kubectl describe ns` shows it). */
export const ANNOTATION_LAST_ACTION = 'kubestage.dev/last-action';

/** On a hook Job: a hash of its spec, so a run of the same commit waits for it rather than replacing it. */
export const ANNOTATION_HOOK_FINGERPRINT = 'kubestage.dev/hook-fingerprint';
