// Lifecycle hooks: Jobs of the render annotated `kubestage.dev/hook: <phase>` run to completion at
// one point of a preview's life instead of being applied as workloads.
//   pre-deploy   after the namespace's config step (Secrets, ConfigMaps, RBAC, Services: what a
//                migration's pod needs) and before the workloads; migrations, seeding a database.
//   post-deploy  once the workloads are ready; a test runner inside the preview.
//   pre-delete   before cleanup deletes the namespace; dropping the PR's schema in a shared database.
// A hook runs afresh on every push: the previous run of the same Job is deleted (foreground, waited
// until gone), the Job created, and watched until Complete or Failed within the run's deadline. Its
// pod's last log lines, with the render's Secret values masked, go into a typed result.
// Hooks are guarded with the rest of the render (prepareRelease judges every object), carry our
// labels, are kept by prune (release passes them in `keep`) and are not waited for as workloads.
import { createHash } from 'node:crypto';
import { applyObjects } from '../kube/apply.js';
import type { KubeClient } from '../kube/client.js';
import { describeApiError } from '../kube/errors.js';
import type { LiveObject } from '../kube/types.js';
import { waitForWorkloads } from '../kube/wait.js';
import type { Logger } from '../logger.js';
import type { Deadline } from '../model/deadline.js';
import type { KubeObject } from '../model/kube-object.js';
import { secretValues } from '../model/secrets.js';
import {
  ANNOTATION_HOOK,
  ANNOTATION_HOOK_DEPENDENCY,
  ANNOTATION_HOOK_FINGERPRINT,
  ANNOTATION_PRE_DELETE_HOOKS,
} from '../model/labels.js';
import { listSome } from '../model/object-id.js';
import { waveOf, WAVE_WORKLOADS } from '../render/waves.js';
import { redact } from '../report/markdown.js';

export const HOOK_PHASES = ['pre-deploy', 'post-deploy', 'pre-delete'] as const;
export type HookPhase = (typeof HOOK_PHASES)[number];
export type HookStatus = 'succeeded' | 'failed' | 'timed-out' | 'cancelled';

export interface HookResult {
  /** The Job's name. */
  name: string;
  phase: HookPhase;
  status: HookStatus;
  durationMs: number;
  /** Not succeeded: why, in one line (the Job's Failed condition, the timeout). */
  message?: string;
  /** The pod whose log is shown. */
  pod?: string;
  /** The last lines of that pod's log (at most LOG_TAIL_LINES), Secret values masked. */
  logTail: string[];
}

/** How many log lines of a hook's pod are kept. */
export const LOG_TAIL_LINES = 30;

export interface HookPlan {
  /** What the release applies, prunes against and waits for: everything but the hook Jobs. */
  rest: KubeObject[];
  /** Hook Jobs by phase, in the order rendered (they run one after another in that order). */
  jobs: Record<HookPhase, KubeObject[]>;
  /** Workloads of `rest` the pre-deploy hooks need (kubestage.dev/hook-dependency: "true"). */
  dependencies: KubeObject[];
}

/** Splits a render into hooks by phase and the rest; throws naming any misused annotation. */
export function planHooks(objects: KubeObject[]): HookPlan {
  const jobs: Record<HookPhase, KubeObject[]> = { 'pre-deploy': [], 'post-deploy': [], 'pre-delete': [] };
  const rest: KubeObject[] = [];
  const dependencies: KubeObject[] = [];
  const problems: string[] = [];
  for (const o of objects) {
    const ref = `${o.kind}/${o.metadata.name}`;
    const phase = o.metadata.annotations?.[ANNOTATION_HOOK];
    const dependency = o.metadata.annotations?.[ANNOTATION_HOOK_DEPENDENCY];
    if (phase === undefined) {
      rest.push(o);
      if (dependency === 'true') dependencies.push(o);
      else if (dependency !== undefined)
        problems.push(`${ref}: ${ANNOTATION_HOOK_DEPENDENCY} is "${dependency}"; the only value is "true"`);
      continue;
    }
    if (!isHookPhase(phase))
      problems.push(
        `${ref}: ${ANNOTATION_HOOK} is "${phase}"; use one of ${HOOK_PHASES.map((p) => `"${p}"`).join(', ')}`,
      );
    else if (o.apiVersion !== 'batch/v1' || o.kind !== 'Job')
      problems.push(
        `${ref} (${o.apiVersion}): ${ANNOTATION_HOOK} is only for Jobs (batch/v1), which run to completion; remove the annotation or make it a Job`,
      );
    else jobs[phase].push(o);
  }
  if (problems.length)
    throw new Error(`The render's hook annotations are not usable:\n- ${problems.join('\n- ')}`);
  if (dependencies.length && jobs['pre-deploy'].length === 0)
    throw new Error(
      `${dependencies.map((o) => `${o.kind}/${o.metadata.name}`).join(', ')} ${dependencies.length === 1 ? 'is' : 'are'} annotated ${ANNOTATION_HOOK_DEPENDENCY}, ` +
        `but no Job is annotated "${ANNOTATION_HOOK}: pre-deploy"; remove the annotation (or add the hook).`,
    );
  return { rest, jobs, dependencies };
}

function isHookPhase(v: string): v is HookPhase {
  return (HOOK_PHASES as readonly string[]).includes(v);
}

/**
 * The namespace annotation that keeps the pre-delete Jobs for cleanup, which has no render. Empty
 * when there are none: the namespace's apply then drops an earlier run's record.
 */
export function preDeleteRecord(plan: HookPlan): Record<string, string> {
  const jobs = plan.jobs['pre-delete'];
  return jobs.length ? { [ANNOTATION_PRE_DELETE_HOOKS]: JSON.stringify(jobs) } : {};
}

/** The pre-delete Jobs recorded on a namespace (preDeleteRecord); throws on a damaged record. */
export function recordedPreDeleteHooks(annotations: Record<string, string> | undefined): KubeObject[] {
  const text = annotations?.[ANNOTATION_PRE_DELETE_HOOKS];
  if (text === undefined) return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new Error(
      `The namespace's ${ANNOTATION_PRE_DELETE_HOOKS} annotation is not JSON (${(e as Error).message}); someone edited it. ` +
        'Remove the annotation to delete the preview without its pre-delete hooks, or re-run preview to record them again.',
      { cause: e },
    );
  }
  const jobs = Array.isArray(parsed) ? parsed : [];
  const usable = jobs.filter(
    (j): j is KubeObject =>
      typeof j === 'object' &&
      j !== null &&
      (j as KubeObject).apiVersion === 'batch/v1' &&
      (j as KubeObject).kind === 'Job' &&
      typeof (j as KubeObject).metadata?.name === 'string',
  );
  if (!Array.isArray(parsed) || usable.length !== jobs.length)
    throw new Error(
      `The namespace's ${ANNOTATION_PRE_DELETE_HOOKS} annotation holds something other than a list of batch/v1 Jobs; someone edited it. ` +
        'Remove the annotation to delete the preview without its pre-delete hooks, or re-run preview to record them again.',
    );
  return usable;
}

export interface RunHooksOptions {
  namespace: string;
  /** The run's deadline: every hook of the phase shares what is left of it. */
  deadline: Deadline;
  /** Values never to show (the render's Secret values). */
  secrets: readonly string[];
  logger: Logger;
  signal?: AbortSignal;
}

/** Runs a phase's Jobs one after another, stopping at the first that does not succeed. */
export async function runHooks(
  kube: KubeClient,
  phase: HookPhase,
  jobs: KubeObject[],
  opts: RunHooksOptions,
): Promise<HookResult[]> {
  const results: HookResult[] = [];
  for (const job of jobs) {
    const result = await runHook(kube, phase, job, opts);
    results.push(result);
    if (result.status !== 'succeeded') break;
  }
  return results;
}

/** A phase's results, as the step's failure: undefined when every hook succeeded. */
export function hookFailure(
  results: HookResult[],
  planned: number,
): { message: string; diagnostics: string } | undefined {
  const bad = results.find((r) => r.status !== 'succeeded');
  if (!bad) return undefined;
  const skipped = planned - results.length;
  const message =
    `The ${bad.phase} hook Job/${bad.name} ${bad.status === 'timed-out' ? 'timed out' : bad.status}: ${bad.message ?? ''}`.trim();
  const lines = [message];
  if (skipped > 0)
    lines.push(`${skipped} later ${bad.phase} hook${skipped === 1 ? ' was' : 's were'} not run.`);
  if (bad.logTail.length)
    lines.push(
      `Last ${bad.logTail.length} log lines of pod ${bad.pod ?? '?'}:`,
      ...bad.logTail.map((l) => `  ${l}`),
    );
  else
    lines.push(
      `No log of the hook's pod could be read${bad.pod ? ` (pod ${bad.pod})` : ' (no pod started)'}.`,
    );
  return { message, diagnostics: lines.join('\n') };
}

/** A hook phase failed: release stops there, with the hooks' log as its diagnostics. */
export class HookFailedError extends Error {
  constructor(
    message: string,
    readonly diagnostics: string,
  ) {
    super(message);
    this.name = 'HookFailedError';
  }
}

/**
 * Runs the pre-deploy phase once, before the apply's first step that holds a workload (call it
 * before every step; `finish` runs it when no step did, e.g. a render of config only). Throws
 * HookFailedError when a hook does not succeed, which stops the apply before the workloads.
 */
export function preDeployGate(
  kube: KubeClient,
  plan: HookPlan,
  opts: RunHooksOptions & { results: HookResult[] },
): { beforeStep: (objects: KubeObject[]) => Promise<void>; finish: () => Promise<void> } {
  let ran = plan.jobs['pre-deploy'].length === 0;
  const run = async (): Promise<void> => {
    ran = true;
    if (plan.dependencies.length) await readyDependencies(kube, plan.dependencies, opts);
    const jobs = plan.jobs['pre-deploy'];
    const results = await runHooks(kube, 'pre-deploy', jobs, opts);
    opts.results.push(...results);
    const failure = hookFailure(results, jobs.length);
    if (failure) throw new HookFailedError(failure.message, failure.diagnostics);
  };
  return {
    beforeStep: async (objects) => {
      if (!ran && objects.some((o) => waveOf(o) >= WAVE_WORKLOADS)) await run();
    },
    finish: async () => {
      if (!ran) await run();
    },
  };
}

/** The workloads the pre-deploy hooks need, applied ahead of the others and waited for. */
async function readyDependencies(
  kube: KubeClient,
  objects: KubeObject[],
  opts: RunHooksOptions,
): Promise<void> {
  const { namespace, logger } = opts;
  await applyObjects(kube, objects, { logger });
  const wait = await waitForWorkloads(kube, {
    namespace,
    objects,
    timeoutMs: opts.deadline.remainingMs(),
    logger,
    signal: opts.signal,
  });
  if (!wait.ok && !opts.signal?.aborted) {
    const failing = wait.workloads.filter((w) => !w.ready);
    throw new HookFailedError(
      `The pre-deploy hooks' dependencies did not become ready: ${listSome(failing.map((w) => `${w.ref} (${w.state})`))}; no hook was run.`,
      `${ANNOTATION_HOOK_DEPENDENCY} marks what the pre-deploy hooks need; it must be ready before they run.\n` +
        failing.map((w) => `${w.ref}: ${w.state}`).join('\n'),
    );
  }
}

/**
 * Cleanup's pre-delete phase: the Jobs recorded on the namespace at preview time. Their Secrets and
 * ServiceAccounts are still in the namespace, which is deleted only after they succeed.
 */
export async function runPreDeleteHooks(
  kube: KubeClient,
  namespace: string,
  opts: Omit<RunHooksOptions, 'namespace' | 'secrets'>,
): Promise<{ results: HookResult[]; failure?: { message: string; diagnostics: string } }> {
  let jobs: KubeObject[];
  try {
    const ns = await kube.get<LiveObject>('v1', 'Namespace', namespace);
    if (!ns || ns.metadata.deletionTimestamp) return { results: [] };
    jobs = recordedPreDeleteHooks(ns.metadata.annotations);
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    return { results: [], failure: { message, diagnostics: message } };
  }
  if (jobs.length === 0) return { results: [] };
  opts.logger.info(`Running ${jobs.length} pre-delete hook(s) recorded on namespace ${namespace}`);
  // The render's Secret values are not known here: mask what the namespace's Secrets hold.
  const secrets = await namespaceSecretValues(kube, namespace, opts.logger);
  const results = await runHooks(kube, 'pre-delete', jobs, { ...opts, namespace, secrets });
  return { results, failure: hookFailure(results, jobs.length) };
}

async function namespaceSecretValues(kube: KubeClient, namespace: string, logger: Logger): Promise<string[]> {
  try {
    const list = await kube.list<LiveObject & { data?: Record<string, string> }>('v1', 'Secret', {
      namespace,
    });
    // The same rule as the render's Secrets: values too common to be secrets are not masked.
    return secretValues(list.items.map((s) => ({ ...s, apiVersion: 'v1', kind: 'Secret' }) as KubeObject));
  } catch (e) {
    logger.warning(
      `Could not read the Secrets of ${namespace} to mask them in the pre-delete hooks' logs (${describeApiError(e)}); the log tails are left out.`,
    );
    return [UNREADABLE];
  }
}

/** Secrets unknown: no log line is shown at all. */
const UNREADABLE = '\u0000unreadable';

interface JobStatus {
  conditions?: { type: string; status: string; reason?: string; message?: string }[];
}

async function runHook(
  kube: KubeClient,
  phase: HookPhase,
  manifest: KubeObject,
  opts: RunHooksOptions,
): Promise<HookResult> {
  const { namespace, logger, deadline } = opts;
  const name = manifest.metadata.name;
  // Two runs of the same commit render the same Job: the later one waits for the running one instead
  // of deleting it under the other run's feet (a re-run, or two workflows on one push).
  const fingerprint = createHash('sha256')
    .update(JSON.stringify(manifest.spec ?? {}))
    .digest('hex')
    .slice(0, 16);
  const job: KubeObject = {
    ...manifest,
    metadata: {
      ...manifest.metadata,
      namespace,
      annotations: { ...(manifest.metadata.annotations ?? {}), [ANNOTATION_HOOK_FINGERPRINT]: fingerprint },
    },
  };
  const started = Date.now();
  const result = (status: HookStatus, extra: Partial<HookResult> = {}): HookResult => ({
    name,
    phase,
    status,
    durationMs: Date.now() - started,
    logTail: [],
    ...extra,
  });
  logger.info(`Running ${phase} hook Job/${name}`);
  try {
    const running = await removePrevious(kube, job, fingerprint, deadline, opts.signal);
    if (running)
      logger.info(
        `${phase} hook Job/${name} of the same commit is already running (another run); waiting for it`,
      );
    const uid = running ?? (await kube.apply<LiveObject>(job, { force: true })).metadata.uid;
    let finished: { ok: boolean; reason: string } | undefined;
    await kube.observe<LiveObject>(
      'batch/v1',
      'Job',
      {
        namespace,
        fieldSelector: `metadata.name=${name}`,
        timeoutMs: deadline.remainingMs(),
        signal: opts.signal,
      },
      (objects) => {
        const live = objects.get(name);
        if (!live || live.metadata.uid !== uid) return false;
        const conds = (live.status as JobStatus | undefined)?.conditions ?? [];
        const done = (type: string) => conds.find((c) => c.type === type && c.status === 'True');
        const failed = done('Failed');
        const complete = done('Complete');
        if (failed)
          finished = {
            ok: false,
            reason: `${failed.reason ?? 'Failed'}${failed.message ? `: ${failed.message}` : ''}`,
          };
        else if (complete) finished = { ok: true, reason: '' };
        return finished !== undefined;
      },
    );
    const tail = await logTail(kube, namespace, name, uid, opts);
    if (opts.signal?.aborted) return result('cancelled', { ...tail, message: 'the run was cancelled' });
    if (!finished) {
      const message = `still running after the run's wait-timeout (${Math.round(deadline.totalMs / 1000)}s in all); it was left running for a look (kubectl -n ${namespace} describe job ${name}) and is replaced on the next push`;
      logger.warning(`${phase} hook Job/${name} ${message}`);
      return result('timed-out', { ...tail, message });
    }
    const r = result(finished.ok ? 'succeeded' : 'failed', {
      ...tail,
      ...(finished.ok ? {} : { message: finished.reason }),
    });
    logger.info(
      `${phase} hook Job/${name} ${r.status} after ${Math.round(r.durationMs / 1000)}s` +
        (r.message ? `: ${r.message}` : '') +
        // Cleanup has no comment to show it in: the run's log has the tail (already masked).
        (r.logTail.length
          ? `; last log lines of pod ${r.pod ?? '?'}:\n${r.logTail.map((l) => `  | ${l}`).join('\n')}`
          : ''),
    );
    return r;
  } catch (e) {
    if (opts.signal?.aborted) return result('cancelled', { message: 'the run was cancelled' });
    const message = `could not run it: ${describeApiError(e)}`;
    logger.warning(`${phase} hook Job/${name} ${message}`);
    return result('failed', { message });
  }
}

/** Deletes the Job's previous run with its pods (foreground) and waits until the name is free. */
/**
 * Deletes the previous run of the hook and waits until it is gone; returns the uid of a run of the
 * very same Job (same fingerprint) that is still going, which is then waited for instead.
 */
async function removePrevious(
  kube: KubeClient,
  job: KubeObject,
  fingerprint: string,
  deadline: Deadline,
  signal: AbortSignal | undefined,
): Promise<string | undefined> {
  const { name, namespace } = job.metadata;
  const existing = await kube.get<LiveObject>('batch/v1', 'Job', name, namespace);
  if (!existing) return undefined;
  const conds = (existing.status as JobStatus | undefined)?.conditions ?? [];
  const finished = conds.some((c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True');
  if (
    !finished &&
    !existing.metadata.deletionTimestamp &&
    existing.metadata.annotations?.[ANNOTATION_HOOK_FINGERPRINT] === fingerprint
  )
    return existing.metadata.uid;
  await kube.delete('batch/v1', 'Job', name, namespace, { propagationPolicy: 'Foreground' });
  const gone = await kube.observe(
    'batch/v1',
    'Job',
    { namespace, fieldSelector: `metadata.name=${name}`, timeoutMs: deadline.remainingMs(), signal },
    (objects) => !objects.has(name),
  );
  if (!gone && !signal?.aborted)
    throw new Error(
      `its previous run (Job/${name}) was still being deleted when the run's deadline passed; a finalizer may hold it or its pods (kubectl -n ${namespace} get job ${name} -o yaml)`,
    );
  return undefined;
}

/** The last log lines of the Job's most telling pod: a failed one first, else the newest. */
async function logTail(
  kube: KubeClient,
  namespace: string,
  job: string,
  uid: string | undefined,
  opts: RunHooksOptions,
): Promise<{ pod?: string; logTail: string[] }> {
  try {
    const pods = (
      await kube.list<LiveObject>('v1', 'Pod', { namespace, labelSelector: `job-name=${job}` })
    ).items.filter((p) => !uid || p.metadata.ownerReferences?.some((o) => o.uid === uid));
    const phase = (p: LiveObject) => (p.status as { phase?: string } | undefined)?.phase;
    pods.sort(
      (a, b) =>
        Number(phase(b) === 'Failed') - Number(phase(a) === 'Failed') ||
        (b.metadata.creationTimestamp ?? '').localeCompare(a.metadata.creationTimestamp ?? '') ||
        b.metadata.name.localeCompare(a.metadata.name),
    );
    const pod = pods[0];
    if (!pod) return { logTail: [] };
    const containers = ((pod.spec as { containers?: { name: string }[] } | undefined)?.containers ?? []).map(
      (c) => c.name,
    );
    const statuses =
      (
        pod.status as {
          containerStatuses?: { name: string; state?: { terminated?: { exitCode?: number } } }[];
        }
      )?.containerStatuses ?? [];
    const container =
      statuses.find((s) => (s.state?.terminated?.exitCode ?? 0) !== 0)?.name ?? containers[0] ?? undefined;
    const text = await kube.podLog(namespace, pod.metadata.name, { container, tailLines: LOG_TAIL_LINES });
    if (opts.secrets.includes(UNREADABLE)) return { pod: pod.metadata.name, logTail: [] };
    const lines = text.split('\n');
    if (lines[lines.length - 1] === '') lines.pop();
    // Masked as a whole first (a multi-line key), then line by line.
    const masked = redact(lines.slice(-LOG_TAIL_LINES).join('\n'), opts.secrets).split('\n');
    return { pod: pod.metadata.name, logTail: masked.map((l) => redact(l, opts.secrets)) };
  } catch (e) {
    opts.logger.debug(`could not read the log of hook Job/${job}: ${describeApiError(e)}`);
    return { logTail: [] };
  }
}

/** Cleanup's failure when a pre-delete hook did not succeed (or could not be read). */
export function preDeleteRefusal(hooks: { failure?: { diagnostics: string } }): string {
  return (
    `${hooks.failure?.diagnostics ?? ''}\n` +
    `The namespace was kept so that the hook can run again: fix what it reports and re-run cleanup, ` +
    `or remove the namespace's ${ANNOTATION_PRE_DELETE_HOOKS} annotation to delete the preview without its pre-delete hooks.`
  );
}
