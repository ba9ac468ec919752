// `promote` (`bless` in the CLI): the digests live and healthy in `from` into `to` with to's overlay,
// after every check (source stage, freeze, approvals, digests, stage marks); smoke; auto-rollback.
import type { RunContext } from '../app/context.js';
import type { Ports } from '../app/ports.js';
import type { CommandResult } from '../app/result.js';
import { refusedResult, stageResult } from '../report/stage.js';
import type { PromoteOptions } from '../settings/stage.js';
import { RefusedError, checkApproval } from '../steps/approvals.js';
import { readSource, sourceStage } from '../steps/promotion.js';
import { freezeCheck, loadStages, stageChecks } from '../steps/stage-checks.js';
import { pinnedOverrides, releaseStage, renderStage, summaryImages } from '../steps/stage.js';

export async function runPromote(o: PromoteOptions, ctx: RunContext, ports: Ports): Promise<CommandResult> {
  const stages = await loadStages(ctx, o.configPath);
  const to = stages.stage(o.to);
  const checks: string[] = [];
  try {
    const from = sourceStage(stages, to, o.from);
    checks.push(`${from.name} is ${to.name}'s configured predecessor`);
    const freeze = freezeCheck(to, ctx.now(), o.freezeOverride, 'promotion');
    if (freeze) checks.push(`freeze overridden (${freeze.window}): ${freeze.reason}`);
    const kube = ports.kube();
    const source = await readSource(kube, from);
    checks.push(...source.checks);
    const approval = to.protected ? await checkApproval(ctx, ports, to, o.approvalBypass) : undefined;
    if (approval) checks.push(...approval.checked);
    const rendered = await renderStage(ctx, ports, to, pinnedOverrides(source.revision.images), o.allow);
    stageChecks(rendered.objects, to, stages.raw, true);
    for (const c of checks) ports.logger.info(`✓ ${c}`);
    const outcome = await releaseStage(ctx, ports, {
      kind: 'promote',
      config: stages.raw,
      stage: to,
      objects: rendered.objects,
      images: rendered.images,
      from: from.name,
      ...(source.revision.commit ? { commit: source.revision.commit } : {}),
      ...(source.revision.ref ? { ref: source.revision.ref } : {}),
      approvers: approval?.approvers ?? [],
      ...(approval?.bypass ? { bypass: approval.bypass } : {}),
      ...(freeze ? { freezeOverride: freeze } : {}),
    });
    return stageResult({ outcome, before: summaryImages(outcome.previous), checks });
  } catch (e) {
    if (e instanceof RefusedError) return refusedResult('promote', to.name, e.message, checks);
    throw e;
  }
}
