// `status`: what previews exist, from what their namespaces record plus what the cluster shows now.
// A record that says "ready" while the workloads fail is shown failing: status reports the cluster.
import type { RunContext } from '../app/context.js';
import type { Ports } from '../app/ports.js';
import type { CommandResult } from '../app/result.js';
import type { KubeClient } from '../kube/client.js';
import { isTerminating } from '../kube/namespaces.js';
import { mapSettled } from '../kube/pool.js';
import type { LiveObject } from '../kube/types.js';
import { listRevisions, readRevision } from '../kube/ledger.js';
import { smokeLine } from '../report/smoke.js';
import type { SmokeReport } from '../steps/smoke.js';
import {
  ANNOTATION_LAST_ACTION,
  ANNOTATION_REVISION,
  LABEL_ENVIRONMENT,
  PREVIEW_ENVIRONMENT,
  LABEL_MANAGED_BY,
  LABEL_REPO,
  MANAGED_BY,
  repoLabelValue,
} from '../model/labels.js';
import { decodeRecord } from '../model/records.js';
import { statusResult, type LiveState, type PreviewStatusRow, type StageStatus } from '../report/status.js';
import type { StatusOptions } from '../settings/status.js';
import { readLiveHealth } from '../steps/live.js';

export async function runStatus(o: StatusOptions, ctx: RunContext, ports: Ports): Promise<CommandResult> {
  const kube = ports.kube();
  const repo = `${ctx.owner}/${ctx.repo}`;
  const selector = o.allRepos
    ? `${LABEL_MANAGED_BY}=${MANAGED_BY}`
    : `${LABEL_MANAGED_BY}=${MANAGED_BY},${LABEL_REPO}=${repoLabelValue(repo)}`;
  const namespaces = (await kube.list<LiveObject>('v1', 'Namespace', { labelSelector: selector })).items;
  const warnings: string[] = [];
  const rows = await mapSettled(namespaces, 8, (ns) => describe(kube, ns));
  const previews = rows.map((r, i) => {
    if (r.status === 'fulfilled') return r.value;
    const ns = namespaces[i] as LiveObject;
    warnings.push(
      `Could not read the objects of namespace ${ns.metadata.name}: ${(r.reason as Error).message}`,
    );
    return { ...fromRecord(ns), state: 'unknown' as const };
  });
  previews.sort(
    (a, b) =>
      (a.repo ?? '').localeCompare(b.repo ?? '') ||
      (a.pr ?? 0) - (b.pr ?? 0) ||
      a.namespace.localeCompare(b.namespace),
  );
  ports.logger.info(
    `${previews.length} kubestage namespace(s) ${o.allRepos ? 'on this cluster' : `of ${repo}`}.`,
  );
  return statusResult({ scope: o.allRepos ? 'all-repos' : 'repo', repo, at: ctx.now(), previews, warnings });
}

function fromRecord(ns: LiveObject): PreviewStatusRow {
  const r = decodeRecord(ns.metadata);
  const created = ns.metadata.creationTimestamp ? new Date(ns.metadata.creationTimestamp) : undefined;
  return {
    namespace: ns.metadata.name,
    repo: r.repoLabel,
    environment: r.environment,
    pr: r.pr,
    headSha: r.headSha,
    url: r.url,
    state: 'unknown',
    recorded: r.state,
    createdAt: created && !Number.isNaN(created.getTime()) ? created : undefined,
    updatedAt: r.updatedAt,
    expiresAt: r.expiresAt,
    actor: r.actor,
    runUrl: r.runUrl,
    ...(ns.metadata.annotations?.[ANNOTATION_LAST_ACTION]
      ? { lastAction: ns.metadata.annotations[ANNOTATION_LAST_ACTION] }
      : {}),
  };
}

/** One namespace's row: its record, and its live state judged by the health model. */
async function describe(kube: KubeClient, ns: LiveObject): Promise<PreviewStatusRow> {
  const row = fromRecord(ns);
  if (isTerminating(ns)) return { ...row, state: 'terminating' };
  const [{ failing, waiting, judged }, stage] = await Promise.all([
    readLiveHealth(kube, ns),
    readStage(kube, ns),
  ]);
  const state: LiveState = failing.length
    ? 'failing'
    : waiting.length
      ? 'deploying'
      : judged || row.recorded
        ? 'ready'
        : 'unknown';
  const detail = [...failing, ...waiting].join('; ') || undefined;
  return { ...row, state, detail, ...(stage ? { stage } : {}) };
}

/** A stage namespace's current revision from its ledger (decompressed for the smoke figures). */
async function readStage(kube: KubeClient, ns: LiveObject): Promise<StageStatus | undefined> {
  const env = ns.metadata.labels?.[LABEL_ENVIRONMENT];
  const current = Number(ns.metadata.annotations?.[ANNOTATION_REVISION]);
  if (!env || env === PREVIEW_ENVIRONMENT || !Number.isSafeInteger(current) || current <= 0) return undefined;
  const revisions = await listRevisions(kube, ns.metadata.name, env);
  const summary = revisions.find((r) => r.number === current);
  if (!summary) return undefined;
  const full = await readRevision(kube, ns.metadata.name, env, current).catch(() => undefined);
  const smoke = (full?.smoke as SmokeReport | undefined)?.checks.map(smokeLine) ?? [];
  return {
    revision: current,
    ...(summary.kind ? { kind: summary.kind } : {}),
    ...(summary.result ? { result: summary.result } : {}),
    ...(summary.from ? { from: summary.from } : {}),
    ...(summary.restores ? { restores: summary.restores } : {}),
    images: summary.images ?? {},
    approvers: summary.approvers ?? [],
    ...(summary.finishedAt ? { finishedAt: summary.finishedAt } : {}),
    smoke,
    history: revisions.length,
  };
}
