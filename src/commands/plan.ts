// `plan`: what promoting `from` → `to` would change — commits, digests old → new, the rendered
// manifests' diff (Secret values never shown), drift in `to` since its last revision, and what would
// stop the promotion. Writes nothing anywhere.
import type { RunContext } from '../app/context.js';
import type { Ports } from '../app/ports.js';
import type { CommandResult } from '../app/result.js';
import { apiMessage } from '../github/client.js';
import { readEnvironment } from '../github/environments.js';
import { compareRange, type CommitRange } from '../github/pulls.js';
import { readRevision } from '../kube/ledger.js';
import { mapSettled } from '../kube/pool.js';
import type { LiveObject } from '../kube/types.js';
import { diffManifests, findDrift, type Drift } from '../model/diff.js';
import { activeFreeze, describeFreeze, nextFreeze } from '../model/freeze.js';
import type { KubeObject } from '../model/kube-object.js';
import { formatObjectId, objectKey, objectId } from '../model/object-id.js';
import { planResult } from '../report/plan.js';
import { refusedResult } from '../report/stage.js';
import type { PlanOptions } from '../settings/stage.js';
import { RefusedError } from '../steps/approvals.js';
import { readSource, sourceStage } from '../steps/promotion.js';
import { loadStages, stageChecks } from '../steps/stage-checks.js';
import { pinnedOverrides, readStageState, renderStage, summaryImages } from '../steps/stage.js';

export async function runPlan(o: PlanOptions, ctx: RunContext, ports: Ports): Promise<CommandResult> {
  const stages = await loadStages(ctx, o.configPath);
  const to = stages.stage(o.to);
  try {
    const from = sourceStage(stages, to, o.from);
    const kube = ports.kube();
    const source = await readSource(kube, from);
    const target = await readStageState(kube, to);
    const current = target.current
      ? await readRevision(kube, to.namespace, to.name, target.current.number)
      : undefined;
    const rendered = await renderStage(ctx, ports, to, pinnedOverrides(source.revision.images), o.allow);
    const blockers: string[] = [];
    const notes: string[] = [...source.checks];
    try {
      stageChecks(rendered.objects, to, stages.raw, true);
    } catch (e) {
      if (!(e instanceof RefusedError)) throw e;
      blockers.push(e.message);
    }
    const freeze = activeFreeze(to.freeze, ctx.now());
    const upcoming = freeze ? undefined : nextFreeze(to.freeze, ctx.now());
    if (upcoming) notes.push(`next freeze of ${to.name}: ${describeFreeze(upcoming)}`);
    if (freeze)
      blockers.push(
        `${to.name} is frozen now: ${describeFreeze(freeze)} (freeze-override with a reason lets a promotion through, recorded).`,
      );
    if (to.protected) notes.push(await reviewersNote(ctx, ports, to.githubEnvironment, blockers));
    const diff = diffManifests(current?.manifests ?? [], rendered.objects);
    const drift = current ? await driftOf(ports, current.manifests, to.namespace) : [];
    let commits: CommitRange | undefined;
    let commitsNote: string | undefined;
    const base = current?.commit;
    const head = source.revision.commit;
    if (ports.github && base && head && base !== head) {
      try {
        commits = await compareRange(ports.github, { owner: ctx.owner, repo: ctx.repo }, base, head);
      } catch (e) {
        commitsNote = `Could not list the commits ${base.slice(0, 7)}...${head.slice(0, 7)}: ${apiMessage(e)}`;
      }
    }
    for (const s of rendered.secrets) ports.mask(s);
    return planResult({
      from: from.name,
      to: to.name,
      fromRevision: source.revision,
      toRevision: current,
      before: summaryImages(target.current) ?? current?.images,
      after: rendered.images,
      diff,
      drift,
      ...(commits ? { commits } : {}),
      ...(commitsNote ? { commitsNote } : {}),
      blockers,
      notes,
    });
  } catch (e) {
    if (e instanceof RefusedError) return refusedResult('plan', to.name, e.message);
    throw e;
  }
}

async function reviewersNote(
  ctx: RunContext,
  ports: Ports,
  env: string,
  blockers: string[],
): Promise<string> {
  if (!ports.github) return `${env} is protected; without a GitHub token its reviewers cannot be listed`;
  try {
    const e = await readEnvironment(ports.github, ctx.owner, ctx.repo, env);
    if (!e) {
      blockers.push(
        `GitHub environment "${env}" does not exist, so nobody would be asked to approve: create it with required reviewers.`,
      );
      return `environment ${env} does not exist`;
    }
    if (e.requiredReviewers.length === 0) {
      blockers.push(
        `GitHub environment "${env}" has no required reviewers: add them in Settings → Environments → ${env}.`,
      );
      return `environment ${env} has no required reviewers`;
    }
    return `approval needed from: ${e.requiredReviewers.map((r) => r.name).join(', ')} (environment ${env})`;
  } catch (e) {
    return `could not read environment ${env}: ${apiMessage(e)}`;
  }
}

/** Live objects of the stage compared with what its current revision applied. */
async function driftOf(ports: Ports, recorded: KubeObject[], namespace: string): Promise<Drift[]> {
  const kube = ports.kube();
  const live = new Map<string, Record<string, unknown> | undefined>();
  const results = await mapSettled(recorded, 8, async (o) => {
    const l = await kube.get<LiveObject>(
      o.apiVersion,
      o.kind,
      o.metadata.name,
      o.metadata.namespace ?? namespace,
    );
    live.set(objectKey(objectId(o)), l as Record<string, unknown> | undefined);
  });
  const unreadable: Drift[] = [];
  results.forEach((r, i) => {
    if (r.status === 'fulfilled') return;
    const o = recorded[i] as KubeObject;
    unreadable.push({
      object: formatObjectId(objectId(o)),
      fields: [`could not read it: ${(r.reason as Error).message}`],
    });
  });
  const readable = recorded.filter((_o, i) => results[i]?.status === 'fulfilled');
  return [...findDrift(readable, (o) => live.get(objectKey(objectId(o)))), ...unreadable];
}
