// What a promotion moves: the digests that run, healthy, in the source stage, as its current revision
// records them. Everything here reads; a reason to refuse is a RefusedError naming it and the fix.
import type { KubeClient } from '../kube/client.js';
import { readRevision } from '../kube/ledger.js';
import { splitImageRef } from '../model/images.js';
import type { LiveObject } from '../kube/types.js';
import type { Revision, RevisionSummary } from '../model/ledger.js';
import type { StageConfig } from '../settings/stages.js';
import type { LoadedStages } from './stage-checks.js';
import { RefusedError } from './approvals.js';
import { readLiveHealth } from './live.js';
import { readStageState } from './stage.js';

/** The stage `to` is promoted from: its `requires`; any other is refused. */
export function sourceStage(stages: LoadedStages, to: StageConfig, from: string | undefined): StageConfig {
  if (!to.requires) {
    throw new RefusedError(
      `${to.name} has no \`requires\` in ${stages.raw.file}, so nothing is promoted into it: it takes \`deploy\`. ` +
        `To promote into it, add \`requires: <stage>\` to ${to.name}.`,
    );
  }
  if (from !== undefined && from !== to.requires) {
    stages.stage(from); // an unknown name is its own error
    throw new RefusedError(
      `${to.name} may only be promoted from ${to.requires} (its \`requires\` in ${stages.raw.file}), not from ${from}. ` +
        `Promote ${from} → ${to.requires} first, or leave \`from\` empty.`,
    );
  }
  return stages.stage(to.requires);
}

export interface Source {
  stage: StageConfig;
  revision: Revision;
  /** What was verified, for the summary. */
  checks: string[];
}

/**
 * The source stage's current revision, after checking that it is the stage's newest, that it
 * succeeded (rollout and smoke checks), that its workloads are healthy now, and that the pods run
 * exactly the digests it records.
 */
export async function readSource(kube: KubeClient, stage: StageConfig): Promise<Source> {
  const state = await readStageState(kube, stage);
  if (!state.namespace) {
    throw new RefusedError(
      `${stage.name} has never been deployed (namespace ${stage.namespace} does not exist), so there is nothing to promote from it. ${firstStep(stage)}`,
    );
  }
  const newest = [...state.revisions].sort((a, b) => b.number - a.number)[0];
  const current = state.current;
  if (!current || !newest) {
    throw new RefusedError(
      `${stage.name} (namespace ${stage.namespace}) records no kubestage revision, so kubestage cannot tell what runs there. ${firstStep(stage)}`,
    );
  }
  if (newest.number !== current.number) {
    throw new RefusedError(
      `${stage.name}'s last revision ${newest.number} ${describeResult(newest)}; only a stage whose last change succeeded is promoted from. ` +
        (newest.result === 'deploying'
          ? 'Wait for that run to finish.'
          : `Fix it and deploy to ${stage.name} again.`),
    );
  }
  if (current.result !== 'succeeded') {
    throw new RefusedError(
      `${stage.name}'s current revision ${current.number} ${describeResult(current)}; only a revision that succeeded (rollout and smoke checks) is promoted. Fix it and deploy to ${stage.name} again.`,
    );
  }
  const revision = await readRevision(kube, stage.namespace, stage.name, current.number);
  const smoke = revision.smoke as { ok?: boolean } | undefined;
  if (smoke && smoke.ok === false) {
    throw new RefusedError(
      `${stage.name}'s revision ${current.number} did not pass its smoke checks, so it is not promoted.`,
    );
  }
  const live = await readLiveHealth(kube, state.namespace);
  if (live.failing.length || live.waiting.length) {
    throw new RefusedError(
      `${stage.name} is not healthy now, so what it runs is not promoted: ${[...live.failing, ...live.waiting].slice(0, 10).join('; ')}. ` +
        `Let the rollout finish or fix ${stage.name} (kubestage status), then promote.`,
    );
  }
  const { mismatches, unseen } = compareRunning(revision, live.pods);
  if (mismatches.length) {
    throw new RefusedError(
      `The pods of ${stage.name} do not run what its revision ${revision.number} records: ${mismatches.join('; ')}. ` +
        `Someone changed ${stage.name} outside kubestage (kubectl set image/edit) or a rollout is under way; deploy to ${stage.name} again so that what runs is recorded, then promote.`,
    );
  }
  const checks = [
    `${stage.name} revision ${revision.number} succeeded${revision.smoke ? ' with its smoke checks' : ''} and is healthy now`,
    `${stage.name}'s pods run the recorded digests${unseen.length ? ` (not running now, taken from the record: ${unseen.join(', ')})` : ''}`,
  ];
  return { stage, revision, checks };
}

function describeResult(s: RevisionSummary): string {
  switch (s.result) {
    case 'deploying':
      return 'is still deploying (or its run was killed)';
    case 'failed':
      return `failed${s.message ? `: ${s.message}` : ''}`;
    case 'rolled-back':
      return `failed and was rolled back${s.message ? ` (${s.message})` : ''}`;
    default:
      return `ended ${s.result ?? 'unknown'}`;
  }
}

/** How a stage gets its first revision: promoted from its predecessor, or deployed. */
function firstStep(stage: StageConfig): string {
  return stage.requires
    ? `Promote ${stage.requires} → ${stage.name} first (\`promote\` with \`to: ${stage.name}\`).`
    : `Deploy to ${stage.name} first (\`deploy\` with \`environment: ${stage.name}\`).`;
}

interface PodTemplate {
  metadata?: { labels?: Record<string, string> };
  spec?: {
    containers?: { name: string; image?: string }[];
    initContainers?: { name: string; image?: string }[];
  };
}

/**
 * What the source's pods run against what its revision applied, workload by workload: its pods (by the
 * workload's selector) and their containers (by name), so that a `kubectl set image` — which changes the
 * reference itself — is caught as well as a tag that moved. Workloads with no pod running now (a CronJob
 * that has not run, a Deployment scaled to zero) are taken from the record.
 */
export function compareRunning(
  revision: Revision,
  pods: readonly LiveObject[],
): { mismatches: string[]; unseen: string[] } {
  const mismatches: string[] = [];
  const unseen: string[] = [];
  const wantDigest = (image: string): string | undefined => {
    const parts = splitImageRef(image);
    if (parts.digest) return parts.digest;
    const recorded = revision.images.find((i) => splitImageRef(i.ref).name === parts.name);
    return recorded ? splitImageRef(recorded.ref).digest : undefined;
  };
  for (const o of revision.manifests) {
    const spec = (o.spec ?? {}) as {
      selector?: { matchLabels?: Record<string, string> };
      template?: PodTemplate;
    };
    const template =
      o.kind === 'Pod' ? ({ metadata: o.metadata, spec: o.spec } as PodTemplate) : spec.template;
    if (!template?.spec) continue;
    const selector = o.kind === 'Pod' ? undefined : spec.selector?.matchLabels;
    const mine = pods.filter(
      (p) =>
        !p.metadata.deletionTimestamp &&
        (o.kind === 'Pod'
          ? p.metadata.name === o.metadata.name
          : selector !== undefined &&
            Object.entries(selector).every(([k, v]) => p.metadata.labels?.[k] === v)),
    );
    const containers = [...(template.spec.containers ?? []), ...(template.spec.initContainers ?? [])];
    const running = runningDigestsByContainer(mine);
    for (const c of containers) {
      if (!c.image) continue;
      const seen = running.get(c.name);
      if (!seen || seen.size === 0) {
        unseen.push(c.image);
        continue;
      }
      const want = wantDigest(c.image);
      const where = `${o.kind}/${o.metadata.name} container ${c.name}`;
      const specs = [...seen.keys()].filter((img) => img !== c.image);
      if (specs.length) {
        mismatches.push(
          `${where} runs ${specs.join(' and ')}, revision ${revision.number} applied ${c.image}`,
        );
        continue;
      }
      const digests = [...new Set([...seen.values()].flat())];
      if (!want || digests.length > 1 || digests[0] !== want)
        mismatches.push(
          `${where} runs ${digests.join(' and ')}, revision ${revision.number} records ${want ?? 'no digest'}`,
        );
    }
  }
  return { mismatches, unseen: [...new Set(unseen)].sort() };
}

/** Container name → (the image its spec names → the digests its statuses report) over the pods. */
function runningDigestsByContainer(pods: readonly LiveObject[]): Map<string, Map<string, string[]>> {
  const out = new Map<string, Map<string, string[]>>();
  for (const pod of pods) {
    const spec = (pod.spec ?? {}) as PodTemplate['spec'];
    const specs = [...(spec?.containers ?? []), ...(spec?.initContainers ?? [])];
    const status = (pod.status ?? {}) as {
      containerStatuses?: { name: string; imageID?: string }[];
      initContainerStatuses?: { name: string; imageID?: string }[];
    };
    for (const s of [...(status.containerStatuses ?? []), ...(status.initContainerStatuses ?? [])]) {
      const image = specs.find((c) => c.name === s.name)?.image;
      const digest = /@(sha256:[a-f0-9]{64})$/.exec(s.imageID ?? '')?.[1];
      if (!image || !digest) continue;
      const byImage = out.get(s.name) ?? new Map<string, string[]>();
      byImage.set(image, [...(byImage.get(image) ?? []), digest]);
      out.set(s.name, byImage);
    }
  }
  return out;
}
