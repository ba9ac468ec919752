// The checks a stage change passes before anything is written: the stages file, freeze windows, a
// render that belongs to this stage, and digests (not tags) for a protected stage.
import type { RunContext } from '../app/context.js';
import { activeFreeze, describeFreeze } from '../model/freeze.js';
import type { KubeObject } from '../model/kube-object.js';
import { loadStagesConfig, stageNamed, type StageConfig, type StagesConfig } from '../settings/stages.js';
import { RefusedError } from './approvals.js';
import { crossStageProblems, mutableImages } from './stage.js';

export interface LoadedStages {
  raw: StagesConfig;
  /** The stage of that name; an error listing the stages there are otherwise. */
  stage(name: string): StageConfig;
}

export async function loadStages(ctx: Pick<RunContext, 'workspace'>, path: string): Promise<LoadedStages> {
  const raw = await loadStagesConfig(ctx.workspace, path);
  return { raw, stage: (name) => stageNamed(raw, name) };
}

/**
 * Refuses a change inside one of the stage's freeze windows, unless overridden with a reason; returns
 * the override to record.
 */
export function freezeCheck(
  stage: StageConfig,
  now: Date,
  override: string | undefined,
  command: string,
): { reason: string; window: string } | undefined {
  const open = activeFreeze(stage.freeze, now);
  if (!open) return undefined;
  const window = describeFreeze(open);
  if (!override) {
    throw new RefusedError(
      `${stage.name} is frozen: ${window}. No ${command} until it ends; to go ahead anyway, set \`freeze-override\` to the reason (recorded with the revision).`,
    );
  }
  return { reason: override, window };
}

/** Refuses a render that carries another stage's marks, or (protected stages) images not pinned to a digest. */
export function stageChecks(
  objects: KubeObject[],
  stage: StageConfig,
  config: StagesConfig,
  requireDigests: boolean,
): void {
  const cross = crossStageProblems(objects, stage, config);
  if (cross.length) {
    throw new RefusedError(
      `The render of ${stage.manifests} for ${stage.name} carries another stage's marks: ${cross.slice(0, 10).join('; ')}${cross.length > 10 ? ` (and ${cross.length - 10} more)` : ''}. ` +
        `Check that ${stage.manifests} is ${stage.name}'s own overlay and does not copy another stage's values.`,
    );
  }
  if (requireDigests && stage.protected) {
    const mutable = mutableImages(objects);
    if (mutable.length) {
      throw new RefusedError(
        `${stage.name} is protected and only runs images pinned to a digest, but these are tags, which can move: ${mutable.join(', ')}. ` +
          'A promotion pins every image that runs in the previous stage to the digest its pods report; an image no pod ran there (a CronJob or Job that has not run yet, a workload scaled to zero) keeps its tag. ' +
          "Give such images by digest in `deploy`'s `images` (e.g. `busybox=busybox@sha256:…`) and promote again.",
      );
    }
  }
}
