// `deploy`: given images (digests, or tags resolved to digests before anything is applied) into a
// stage with its overlay; wait, smoke, record a revision; roll back automatically on failure.
import type { RunContext } from '../app/context.js';
import type { Ports } from '../app/ports.js';
import type { CommandResult } from '../app/result.js';
import { formatImageRef, splitImageRef, type ImageOverride } from '../model/images.js';
import { refusedResult, stageResult } from '../report/stage.js';
import type { DeployOptions } from '../settings/stage.js';
import { RefusedError, checkApproval } from '../steps/approvals.js';
import { freezeCheck, loadStages, stageChecks } from '../steps/stage-checks.js';
import { summaryImages, releaseStage, renderStage } from '../steps/stage.js';

export async function runDeploy(o: DeployOptions, ctx: RunContext, ports: Ports): Promise<CommandResult> {
  const config = await loadStages(ctx, o.configPath);
  const stage = config.stage(o.environment);
  const checks: string[] = [];
  try {
    const freeze = freezeCheck(stage, ctx.now(), o.freezeOverride, 'deploy');
    if (freeze) checks.push(`freeze overridden: ${freeze.reason}`);
    const images = await pinImages(o.images, ports, ctx.signal);
    o.images.forEach((given, k) => {
      const ref = formatImageRef(given);
      const pinned = images[k]?.digest;
      checks.push(given.digest ? `${given.name}: ${ref}` : `${given.name}: ${ref} resolved to @${pinned}`);
    });
    const approval = stage.protected ? await checkApproval(ctx, ports, stage, o.approvalBypass) : undefined;
    if (approval) checks.push(...approval.checked);
    const rendered = await renderStage(ctx, ports, stage, images, o.allow);
    stageChecks(rendered.objects, stage, config.raw, true);
    const outcome = await releaseStage(ctx, ports, {
      kind: 'deploy',
      config: config.raw,
      stage,
      objects: rendered.objects,
      images: rendered.images,
      ...(ctx.event.headSha ? { commit: ctx.event.headSha } : {}),
      ...(ctx.event.headRef ? { ref: ctx.event.headRef } : {}),
      approvers: approval?.approvers ?? [],
      ...(approval?.bypass ? { bypass: approval.bypass } : {}),
      ...(freeze ? { freezeOverride: freeze } : {}),
    });
    return stageResult({ outcome, before: summaryImages(outcome.previous), checks });
  } catch (e) {
    if (e instanceof RefusedError) return refusedResult('deploy', stage.name, e.message, checks);
    throw e;
  }
}

/** Each image pinned to a digest: tags resolved through their registry, digests kept. */
async function pinImages(
  images: ImageOverride[],
  ports: Ports,
  signal?: AbortSignal,
): Promise<ImageOverride[]> {
  const tagged = images.filter((i) => i.digest === undefined);
  if (tagged.length === 0) return images;
  const refs = tagged.map((i) => `${i.newName ?? i.name}:${i.newTag}`);
  ports.logger.info(`Resolving ${refs.join(', ')} to digests through the registry…`);
  const resolved = await ports.resolveImages(refs, signal);
  const byRef = new Map(resolved.map((r) => [r.ref, r]));
  return images.map((i) => {
    if (i.digest !== undefined)
      return { name: i.name, ...(i.newName ? { newName: i.newName } : {}), digest: i.digest };
    const r = byRef.get(`${i.newName ?? i.name}:${i.newTag}`);
    if (!r) throw new Error(`internal: ${i.name} was not resolved`);
    ports.logger.info(`${r.ref} → ${splitImageRef(r.pinned).name}@${r.digest}`);
    return { name: i.name, ...(i.newName ? { newName: i.newName } : {}), digest: r.digest };
  });
}
