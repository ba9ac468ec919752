// The path every stage change takes (deploy, promote, rollback — and the automatic rollback after a
// failed one): GitHub deployment in progress → namespace → revision recorded as "deploying" → release
// (apply, prune, wait) → the digests the pods run → smoke checks → revision finished, namespace's
// current revision, history pruned, a Kubernetes Event, the deployment's final status. A failure
// re-applies the previous successful revision through the same path when the stage says so.
import type { RunContext } from '../app/context.js';
import type { Ports } from '../app/ports.js';
import { createDeployment, setDeploymentStatus, type DeploymentState } from '../github/deployments.js';
import { findJobDeployment } from '../github/environments.js';
import type { KubeClient } from '../kube/client.js';
import {
  finishRevision,
  listRevisions,
  pruneRevisions,
  readRevision,
  recordEvent,
  setCurrentRevision,
  writeRevision,
} from '../kube/ledger.js';
import { ensureNamespace, readNamespace } from '../kube/namespaces.js';
import type { LiveObject } from '../kube/types.js';
import { startDeadline } from '../model/deadline.js';
import { containerImages, splitImageRef, type ImageOverride } from '../model/images.js';
import type { KubeObject } from '../model/kube-object.js';
import {
  ANNOTATION_REVISION,
  LABEL_ENVIRONMENT,
  LABEL_INSTANCE,
  LABEL_MANAGED_BY,
  LABEL_REPO,
  MANAGED_BY,
  repoLabelValue,
} from '../model/labels.js';
import {
  previousSucceeded,
  type Revision,
  type RevisionApprover,
  type RevisionImage,
  type RevisionKind,
  type RevisionSummary,
} from '../model/ledger.js';
import type { Allowance } from '../render/allow.js';
import { podSecurityLabels } from '../render/pod-security.js';
import type { StageConfig, StagesConfig } from '../settings/stages.js';
import { runningDigests } from './live.js';
import { prepareRelease, release, type ReleaseOutcome } from './release.js';
import { runSmoke, type SmokeReport } from './smoke.js';

/** The environment variable every container gets (unless the stage turns it off). */
export const ENVIRONMENT_VARIABLE = 'KUBESTAGE_ENVIRONMENT';

/** Our labels on a stage's namespace and every object in it (plus the stage's own extra labels). */
export function stageLabels(
  ctx: Pick<RunContext, 'owner' | 'repo'>,
  stage: StageConfig,
): Record<string, string> {
  return {
    ...stage.labels,
    [LABEL_MANAGED_BY]: MANAGED_BY,
    [LABEL_REPO]: repoLabelValue(`${ctx.owner}/${ctx.repo}`),
    [LABEL_ENVIRONMENT]: stage.name,
    [LABEL_INSTANCE]: stage.namespace,
  };
}

/** `KUBESTAGE_ENVIRONMENT=<stage>` on every container and init container, unless the manifests set it. */
export function injectEnvironment(objects: KubeObject[], stage: string): KubeObject[] {
  return objects.map((o) => {
    const copy = structuredClone(o);
    let touched = false;
    const visit = (node: unknown): void => {
      if (Array.isArray(node)) {
        node.forEach(visit);
        return;
      }
      if (!node || typeof node !== 'object') return;
      const rec = node as Record<string, unknown>;
      for (const field of ['containers', 'initContainers']) {
        const list = rec[field];
        if (!Array.isArray(list) || !list.every((c) => c && typeof c === 'object' && 'image' in c)) continue;
        for (const c of list as { env?: { name: string; value?: string }[] }[]) {
          const env = c.env ?? [];
          if (!env.some((e) => e.name === ENVIRONMENT_VARIABLE)) {
            c.env = [...env, { name: ENVIRONMENT_VARIABLE, value: stage }];
            touched = true;
          }
        }
      }
      for (const [k, v] of Object.entries(rec)) if (k !== 'metadata') visit(v);
    };
    visit(copy);
    return touched ? copy : o;
  });
}

/**
 * Signs that a render belongs to another stage: a `kubestage.dev/environment` value naming another
 * stage anywhere in it (selectors, namespace selectors, labels kubestage did not set), a
 * KUBESTAGE_ENVIRONMENT naming another stage, or a route to another stage's URL host. Each names the
 * object and the value.
 */
export function crossStageProblems(
  objects: KubeObject[],
  stage: StageConfig,
  config: StagesConfig,
): string[] {
  const others = config.stages.filter((s) => s.name !== stage.name);
  const otherNames = new Set(others.map((s) => s.name));
  const otherHosts = new Map(
    others.filter((s) => s.url).map((s) => [new URL(s.url as string).hostname, s.name] as const),
  );
  const out: string[] = [];
  for (const o of objects) {
    const ref = `${o.kind}/${o.metadata.name}`;
    const visit = (node: unknown, path: string): void => {
      if (Array.isArray(node)) {
        node.forEach((n, i) => visit(n, `${path}[${i}]`));
        return;
      }
      if (!node || typeof node !== 'object') return;
      const rec = node as Record<string, unknown>;
      const label = rec[LABEL_ENVIRONMENT];
      if (typeof label === 'string' && otherNames.has(label))
        out.push(`${ref} ${path}: ${LABEL_ENVIRONMENT}=${label} (stage ${label}, not ${stage.name})`);
      if (rec.name === ENVIRONMENT_VARIABLE && typeof rec.value === 'string' && otherNames.has(rec.value))
        out.push(`${ref} ${path}: ${ENVIRONMENT_VARIABLE}=${rec.value}`);
      for (const key of ['host', 'hostname']) {
        const h = rec[key];
        if (typeof h === 'string' && otherHosts.has(h))
          out.push(`${ref} ${path}.${key}: ${h} (the URL of stage ${otherHosts.get(h)})`);
      }
      const hostnames = rec.hostnames;
      if (Array.isArray(hostnames))
        for (const h of hostnames)
          if (typeof h === 'string' && otherHosts.has(h))
            out.push(`${ref} ${path}.hostnames: ${h} (the URL of stage ${otherHosts.get(h)})`);
      for (const [k, v] of Object.entries(rec)) visit(v, path ? `${path}.${k}` : k);
    };
    visit(o, '');
  }
  return out;
}

/** Container images that are not pinned to a digest (a tag can move under a protected stage). */
export function mutableImages(objects: KubeObject[]): string[] {
  return [...containerImages(objects)].filter((ref) => splitImageRef(ref).digest === undefined).sort();
}

/** Kustomize image overrides that pin each recorded image to its digest. */
export function pinnedOverrides(images: readonly RevisionImage[]): ImageOverride[] {
  return images.flatMap((i) => {
    const pinned = splitImageRef(i.ref);
    if (!pinned.digest) return [];
    return [
      { name: i.name, ...(pinned.name !== i.name ? { newName: pinned.name } : {}), digest: pinned.digest },
    ];
  });
}

export interface StageState {
  namespace?: LiveObject;
  revisions: RevisionSummary[];
  /** The revision the namespace records as current (kubestage.dev/revision). */
  current?: RevisionSummary;
}

/** What a stage's namespace and ledger hold now; reads only (nothing when the namespace is absent). */
export async function readStageState(kube: KubeClient, stage: StageConfig): Promise<StageState> {
  const ns = await readNamespace(kube, stage.namespace);
  if (!ns) return { revisions: [] };
  const revisions = await listRevisions(kube, stage.namespace, stage.name);
  const recorded = Number(ns.metadata.annotations?.[ANNOTATION_REVISION]);
  const current = revisions.find((r) => r.number === recorded);
  return { namespace: ns, revisions, ...(current ? { current } : {}) };
}

/** The images a recorded revision ran (from its summary; nothing when there is none). */
export function summaryImages(summary: RevisionSummary | undefined): RevisionImage[] | undefined {
  if (!summary?.images) return undefined;
  return Object.entries(summary.images).map(([name, ref]) => ({ name, ref }));
}

/** Renders a stage's overlay with the given images, guarded, with KUBESTAGE_ENVIRONMENT injected. */
export async function renderStage(
  ctx: RunContext,
  ports: Ports,
  stage: StageConfig,
  images: ImageOverride[],
  allow: Allowance,
): Promise<{ objects: KubeObject[]; images: { name: string; ref: string }[]; secrets: string[] }> {
  const prepared = await prepareRelease(ports.kube, {
    workspace: ctx.workspace,
    manifests: stage.manifests,
    namespace: stage.namespace,
    host: '',
    images,
    labels: stageLabels(ctx, stage),
    podSecurity: stage.podSecurity,
    // A stage's own NetworkPolicies are the team's (previews get kubestage's isolation instead).
    allow: { ...allow, classes: new Set([...allow.classes, 'network-policies']) },
    logger: ports.logger,
    group: ports.group,
  });
  for (const s of prepared.secrets) ports.mask(s);
  const objects = stage.injectEnvironment
    ? injectEnvironment(prepared.objects, stage.name)
    : prepared.objects;
  return { objects, images: prepared.images, secrets: prepared.secrets };
}

export interface StageChange {
  kind: RevisionKind;
  config: StagesConfig;
  stage: StageConfig;
  /** Exactly what is applied (a render, or a recorded revision's manifests). */
  objects: KubeObject[];
  /** The images as named in the manifests → the references rendered (pinned where known). */
  images: RevisionImage[];
  commit?: string;
  ref?: string;
  from?: string;
  restores?: number;
  approvers: RevisionApprover[];
  bypass?: { reason: string };
  freezeOverride?: { reason: string; window: string };
  /** Whether to use the GitHub deployment of this run's job (false for an automatic rollback). */
  jobDeployment?: boolean;
  /** false: never roll back (a rollback itself). */
  autoRollback?: boolean;
}

export interface StageOutcome {
  ok: boolean;
  stage: string;
  /** The stage's marker (stages file), shown before its lines. */
  marker?: string;
  kind: RevisionKind;
  revision?: Revision;
  /** The revision that was current before this change. */
  previous?: RevisionSummary;
  release?: ReleaseOutcome;
  smoke?: SmokeReport;
  /** One line: why it failed. */
  message?: string;
  diagnostics?: string;
  deploymentId?: number;
  /** The automatic rollback after a failure. */
  rollback?: StageOutcome;
  /** Why no automatic rollback happened after a failure. */
  noRollback?: string;
  /** Images the revision records by tag: no running pod reported their digest. */
  unpinned?: string[];
}

const EVENT_REASON: Record<RevisionKind, [ok: string, failed: string]> = {
  deploy: ['Deployed', 'DeployFailed'],
  promote: ['Promoted', 'PromotionFailed'],
  rollback: ['RolledBack', 'RollbackFailed'],
};

/** Runs one change of a stage to its end; never throws for what the cluster does (it is an outcome). */
export async function releaseStage(
  ctx: RunContext,
  ports: Ports,
  change: StageChange,
): Promise<StageOutcome> {
  const { stage, logger } = { stage: change.stage, logger: ports.logger };
  const kube = ports.kube();
  const marker = stage.marker ? `${stage.marker} ` : '';
  const labels = stageLabels(ctx, stage);
  const before = await readStageState(kube, stage);
  const outcome: StageOutcome = {
    ok: false,
    stage: stage.name,
    ...(stage.marker ? { marker: stage.marker } : {}),
    kind: change.kind,
    ...(before.current ? { previous: before.current } : {}),
  };
  const deploymentId = await startDeployment(ctx, ports, change);
  if (deploymentId) outcome.deploymentId = deploymentId;

  await ports.group(`${marker}Namespace ${stage.namespace}`, () =>
    ensureNamespace(kube, {
      name: stage.namespace,
      labels: { ...labels, ...podSecurityLabels(stage.podSecurity) },
      annotations: {},
      owner: { repoLabel: labels[LABEL_REPO] },
      environment: stage.name,
      waitTerminatingMs: 60_000,
      logger,
      appliedKinds: change.objects,
    }),
  );
  const startedAt = ctx.now();
  const revision = await writeRevision(
    kube,
    stage.namespace,
    {
      stage: stage.name,
      number: 0,
      kind: change.kind,
      ...(change.from ? { from: change.from } : {}),
      ...(change.restores ? { restores: change.restores } : {}),
      ...(change.commit ? { commit: change.commit } : {}),
      ...(change.ref ? { ref: change.ref } : {}),
      images: change.images,
      actor: ctx.event.actor ?? 'unknown',
      approvers: change.approvers,
      ...(change.bypass ? { bypass: change.bypass } : {}),
      ...(change.freezeOverride ? { freezeOverride: change.freezeOverride } : {}),
      ...(ctx.runUrl ? { runUrl: ctx.runUrl } : {}),
      ...(deploymentId ? { deploymentId } : {}),
      ...(stage.url ? { url: stage.url } : {}),
      result: 'deploying',
      startedAt,
      manifests: change.objects,
    },
    labels,
  );
  outcome.revision = revision;
  logger.info(
    `${marker}${stage.name}: revision ${revision.number} (${change.kind}${change.from ? ` from ${change.from}` : ''}${change.restores ? ` of revision ${change.restores}` : ''}) recorded as deploying.`,
  );
  // One change of a stage at a time: revision numbers are unique and ordered, so of two runs that
  // recorded theirs, the one with the lower number goes on and the other stands down (each checks
  // after recording, so one of them always sees the other).
  const busy = await changeInProgress(kube, stage, revision.number, ctx.now());
  if (busy) {
    const message = `another change to ${stage.name} is in progress (revision ${busy.number}, ${busy.kind ?? 'deploy'}${busy.runUrl ? `, ${busy.runUrl}` : ''}); this run changed nothing. Re-run it once that one is done, or serialise the jobs with a \`concurrency:\` group per stage`;
    await finishRevision(kube, stage.namespace, stage.name, revision.number, {
      result: 'superseded',
      finishedAt: ctx.now(),
      message,
    });
    await finishDeployment(ctx, ports, deploymentId, 'error', stage, { ...outcome, message });
    logger.warning(`${marker}${message}`);
    return {
      ...outcome,
      revision: { ...revision, result: 'superseded', message },
      message,
      noRollback: 'nothing was changed',
    };
  }

  const result = await release(kube, {
    objects: change.objects,
    namespace: stage.namespace,
    labels,
    annotations: {},
    repoLabel: labels[LABEL_REPO],
    podSecurity: stage.podSecurity,
    deadline: startDeadline(stage.timeoutMs),
    logger,
    group: ports.group,
    signal: ctx.signal,
  });
  outcome.release = result;
  let images = change.images;
  if (result.status === 'ready') {
    const pods = (await kube.list<LiveObject>('v1', 'Pod', { namespace: stage.namespace })).items;
    images = observedImages(change.objects, change.images, runningDigests(pods));
    const unpinned = images.filter((i) => splitImageRef(i.ref).digest === undefined).map((i) => i.ref);
    if (unpinned.length) {
      outcome.unpinned = unpinned;
      logger.warning(
        `${marker}${stage.name} runs no pod of ${unpinned.join(', ')} yet (a CronJob or Job that has not run, a workload scaled to zero), so no digest was seen for ${unpinned.length === 1 ? 'it' : 'them'}; ` +
          'a protected stage will refuse to take a tag from this revision. Give such images by digest in `images` (e.g. busybox=busybox@sha256:…).',
      );
    }
    if (stage.url && stage.smoke.length) {
      outcome.smoke = await ports.group(`${marker}Smoke checks on ${stage.url}`, () =>
        runSmoke(stage.url as string, stage.smoke, { logger, signal: ctx.signal }),
      );
    }
  }
  outcome.ok = result.status === 'ready' && (outcome.smoke?.ok ?? true);
  if (!outcome.ok) {
    outcome.message =
      result.status !== 'ready'
        ? (result.message ?? `the release ended ${result.status}`)
        : `smoke checks failed: ${outcome.smoke?.checks
            .filter((c) => !c.ok)
            .map((c) => `${c.method} ${c.path} ${c.failure}`)
            .join('; ')}`;
    if (result.diagnostics) outcome.diagnostics = result.diagnostics;
  }
  const finishedAt = ctx.now();
  const finished: Revision = {
    ...revision,
    images,
    result: outcome.ok ? 'succeeded' : 'failed',
    finishedAt,
    ...(outcome.message ? { message: outcome.message } : {}),
    ...(outcome.smoke ? { smoke: outcome.smoke } : {}),
  };
  await finishRevision(kube, stage.namespace, stage.name, revision.number, {
    result: finished.result,
    images,
    finishedAt,
    ...(outcome.message ? { message: outcome.message } : {}),
    ...(outcome.smoke ? { smoke: outcome.smoke } : {}),
  });
  outcome.revision = finished;
  if (outcome.ok) {
    await setCurrentRevision(kube, stage.namespace, {
      revision: finished.number,
      result: finished.result,
      ...(finished.commit ? { commit: finished.commit } : {}),
      images: Object.fromEntries(finished.images.map((i) => [i.name, i.ref])),
      ...(finished.url ? { url: finished.url } : {}),
      ...(finished.runUrl ? { runUrl: finished.runUrl } : {}),
      actor: finished.actor,
      ...(finished.deploymentId ? { deploymentId: finished.deploymentId } : {}),
      updatedAt: finishedAt,
    });
    const pruned = await pruneRevisions(kube, stage.namespace, stage.name, stage.history, revision.number);
    if (pruned.length)
      logger.info(`${marker}History: removed ${pruned.join(', ')} (keeping ${stage.history}).`);
  }
  const [okReason, failReason] = EVENT_REASON[change.kind];
  await recordEvent(kube, stage.namespace, {
    reason: outcome.ok ? okReason : failReason,
    type: outcome.ok ? 'Normal' : 'Warning',
    message: eventMessage(finished, outcome, ctx),
    action: change.kind,
    ...(ctx.runUrl ? { runUrl: ctx.runUrl } : {}),
  }).catch((e: unknown) => logger.warning(`Could not record a Kubernetes Event: ${(e as Error).message}`));
  await finishDeployment(ctx, ports, deploymentId, outcome.ok ? 'success' : 'failure', stage, outcome);
  logger.info(
    `${marker}${stage.name}: revision ${revision.number} ${outcome.ok ? 'succeeded' : `failed: ${outcome.message}`}`,
  );

  if (!outcome.ok && change.autoRollback !== false && result.status !== 'cancelled') {
    if (!stage.autoRollback) outcome.noRollback = `auto-rollback is off for ${stage.name}`;
    else {
      const target = previousSucceeded(before.revisions, revision.number);
      if (!target) outcome.noRollback = `${stage.name} has no earlier successful revision to roll back to`;
      else {
        logger.warning(`${marker}${stage.name}: rolling back to revision ${target.number}.`);
        const restore = await readRevision(kube, stage.namespace, stage.name, target.number);
        outcome.rollback = await releaseStage(ctx, ports, {
          ...restoreChange(change.config, stage, restore),
          jobDeployment: false,
        });
        await finishRevision(kube, stage.namespace, stage.name, revision.number, {
          result: 'rolled-back',
          finishedAt,
          message: `${outcome.message}; rolled back by revision ${outcome.rollback.revision?.number ?? '?'} (${outcome.rollback.ok ? 'succeeded' : 'failed'})`,
        });
        if (outcome.revision) outcome.revision.result = 'rolled-back';
      }
    }
  }
  return outcome;
}

/** A change that re-applies a recorded revision exactly (a rollback; never rolled back itself). */
export function restoreChange(config: StagesConfig, stage: StageConfig, revision: Revision): StageChange {
  return {
    kind: 'rollback',
    config,
    stage,
    objects: revision.manifests,
    images: revision.images,
    ...(revision.commit ? { commit: revision.commit } : {}),
    ...(revision.ref ? { ref: revision.ref } : {}),
    restores: revision.number,
    approvers: [],
    autoRollback: false,
  };
}

/**
 * The recorded images with what the pods run: a rendered reference that is not pinned gets the digest
 * its running containers report (their imageID), so the revision — and a promotion from it — carries
 * a digest for every image that runs.
 */
export function observedImages(
  objects: KubeObject[],
  recorded: readonly RevisionImage[],
  digests: Map<string, Set<string>>,
): RevisionImage[] {
  const byName = new Map(recorded.map((i) => [splitImageRef(i.ref).name, i]));
  const out: RevisionImage[] = [];
  for (const ref of [...containerImages(objects)].sort()) {
    const parts = splitImageRef(ref);
    const known = byName.get(parts.name);
    const seen = [...(digests.get(ref) ?? [])];
    const digest = parts.digest ?? (seen.length === 1 ? seen[0] : undefined);
    out.push({
      name: known?.name ?? parts.name,
      ref: digest ? `${parts.name}@${digest}` : ref,
    });
  }
  return out;
}

function eventMessage(rev: Revision, outcome: StageOutcome, ctx: RunContext): string {
  const what =
    rev.kind === 'promote'
      ? `promoted from ${rev.from}`
      : rev.kind === 'rollback'
        ? `rolled back to revision ${rev.restores}`
        : 'deployed';
  const images = rev.images.map((i) => i.ref).join(', ');
  return (
    `Revision ${rev.number} ${what} by ${rev.actor}${rev.approvers.length ? `, approved by ${rev.approvers.map((a) => a.user).join(', ')}` : ''}` +
    `${rev.bypass ? `, approval bypassed: ${rev.bypass.reason}` : ''}` +
    `${rev.freezeOverride ? `, freeze overridden (${rev.freezeOverride.window}): ${rev.freezeOverride.reason}` : ''}` +
    `${rev.commit ? ` at ${rev.commit.slice(0, 7)}` : ''}: ${outcome.ok ? 'succeeded' : `failed (${outcome.message})`}. Images: ${images || '(none)'}` +
    (ctx.runUrl ? `. Run: ${ctx.runUrl}` : '')
  ).slice(0, 1000);
}

/**
 * The GitHub deployment this change reports on: the one GitHub made for this run's job under
 * `environment:` when there is one (never a second), else a new one carrying the digests.
 */
async function startDeployment(
  ctx: RunContext,
  ports: Ports,
  change: StageChange,
): Promise<number | undefined> {
  const gh = ports.github;
  const { stage } = change;
  if (!gh) return undefined;
  const repo = { owner: ctx.owner, repo: ctx.repo };
  try {
    let id: number | undefined;
    if (change.jobDeployment !== false && ctx.runId && ctx.event.headSha) {
      const job = await findJobDeployment(gh, ctx.owner, ctx.repo, {
        environment: stage.githubEnvironment,
        sha: ctx.event.headSha,
        runId: ctx.runId,
      });
      if (job) {
        id = job.id;
        ports.logger.info(
          `GitHub deployment ${id}: the one GitHub made for this job (environment ${stage.githubEnvironment}).`,
        );
      }
    }
    if (id === undefined) {
      const ref = change.commit ?? ctx.event.headSha;
      if (!ref) {
        ports.logger.info('No commit to attach a GitHub deployment to; none created.');
        return undefined;
      }
      id = await createDeployment(gh, repo, {
        ref,
        environment: stage.githubEnvironment,
        description: `${change.kind} to ${stage.name}`,
        transient: false,
        production: !change.config.stages.some((s) => s.requires === stage.name),
        payload: {
          stage: stage.name,
          kind: change.kind,
          ...(change.from ? { from: change.from } : {}),
          ...(change.restores ? { restores: change.restores } : {}),
          images: Object.fromEntries(change.images.map((i) => [i.name, i.ref])),
        },
      });
    }
    await setDeploymentStatus(gh, repo, id, {
      state: 'in_progress',
      ...(ctx.runUrl ? { logUrl: ctx.runUrl } : {}),
      description: `${change.kind} to ${stage.name} in progress`,
    });
    return id;
  } catch (e) {
    ports.logger.warning(`Could not record a GitHub deployment for ${stage.name}: ${(e as Error).message}`);
    return undefined;
  }
}

async function finishDeployment(
  ctx: RunContext,
  ports: Ports,
  id: number | undefined,
  state: DeploymentState,
  stage: StageConfig,
  outcome: StageOutcome,
): Promise<void> {
  if (!ports.github || !id) return;
  try {
    await setDeploymentStatus(ports.github, { owner: ctx.owner, repo: ctx.repo }, id, {
      state,
      ...(stage.url && state === 'success' ? { environmentUrl: stage.url } : {}),
      ...(ctx.runUrl ? { logUrl: ctx.runUrl } : {}),
      description:
        state === 'success'
          ? `revision ${outcome.revision?.number} ${outcome.kind === 'rollback' ? `restores revision ${outcome.revision?.restores}` : 'live'}`
          : `revision ${outcome.revision?.number} failed: ${outcome.message ?? ''}`,
    });
  } catch (e) {
    ports.logger.warning(`Could not update GitHub deployment ${id}: ${(e as Error).message}`);
  }
}

/** A revision older than `mine` still deploying (and not abandoned: younger than twice the stage's timeout). */
async function changeInProgress(
  kube: KubeClient,
  stage: StageConfig,
  mine: number,
  now: Date,
): Promise<RevisionSummary | undefined> {
  const revisions = await listRevisions(kube, stage.namespace, stage.name);
  return revisions
    .filter(
      (r) =>
        r.number < mine &&
        r.result === 'deploying' &&
        (r.startedAt === undefined || now.getTime() - r.startedAt.getTime() < 2 * stage.timeoutMs),
    )
    .sort((a, b) => a.number - b.number)[0];
}
