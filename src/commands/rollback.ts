// `rollback`: re-apply a recorded revision of a stage exactly (default: the previous successful one),
// through the same path as every change, recorded as a rollback.
import type { RunContext } from '../app/context.js';
import type { Ports } from '../app/ports.js';
import type { CommandResult } from '../app/result.js';
import { readRevision } from '../kube/ledger.js';
import { previousSucceeded } from '../model/ledger.js';
import { refusedResult, stageResult } from '../report/stage.js';
import type { RollbackOptions } from '../settings/stage.js';
import { RefusedError } from '../steps/approvals.js';
import { loadStages } from '../steps/stage-checks.js';
import { readStageState, releaseStage, restoreChange, summaryImages } from '../steps/stage.js';

export async function runRollback(o: RollbackOptions, ctx: RunContext, ports: Ports): Promise<CommandResult> {
  const stages = await loadStages(ctx, o.configPath);
  const stage = stages.stage(o.environment);
  try {
    const kube = ports.kube();
    const state = await readStageState(kube, stage);
    const listed = state.revisions.map((r) => `${r.number} (${r.result ?? '?'})`).join(', ') || 'none';
    let number = o.revision;
    if (number === undefined) {
      const target = previousSucceeded(state.revisions, state.current?.number);
      if (!target) {
        throw new RefusedError(
          `${stage.name} has no successful revision before ${state.current ? `its current revision ${state.current.number}` : 'now'} to roll back to (revisions: ${listed}).`,
        );
      }
      number = target.number;
    } else if (!state.revisions.some((r) => r.number === number)) {
      throw new RefusedError(
        `${stage.name} has no revision ${number} (kept: ${listed}; older ones are pruned beyond its history).`,
      );
    }
    if (number === state.current?.number) {
      throw new RefusedError(
        `Revision ${number} is already ${stage.name}'s current revision; nothing to roll back.`,
      );
    }
    const target = await readRevision(kube, stage.namespace, stage.name, number);
    if (target.result !== 'succeeded' && o.revision === undefined) {
      throw new RefusedError(
        `Revision ${number} of ${stage.name} did not succeed (${target.result}); name the revision to restore.`,
      );
    }
    const outcome = await releaseStage(ctx, ports, restoreChange(stages.raw, stage, target));
    return stageResult({
      outcome,
      before: summaryImages(state.current),
      checks: [
        `restores revision ${target.number} (${target.kind}, ${target.result}${target.commit ? `, commit ${target.commit.slice(0, 7)}` : ''})`,
      ],
    });
  } catch (e) {
    if (e instanceof RefusedError) return refusedResult('rollback', stage.name, e.message);
    throw e;
  }
}
