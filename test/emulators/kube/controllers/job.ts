// Job controller, simplified: runs up to `parallelism` pods until `completions` succeeded
// (conditions SuccessCriteriaMet + Complete), or fails once the failures exceed backoffLimit
// (FailureTarget + Failed, reason BackoffLimitExceeded) or activeDeadlineSeconds (scaled) passes.
import type { KObject } from '../store.js';
import { nowTime, randomSuffix, type Runtime } from './runtime.js';
import {
  type Condition,
  type PodTemplate,
  isTrue,
  omitEmpty,
  podFromTemplate,
  podReady,
  podStatus,
  setCondition,
} from './util.js';

interface JobSpec {
  parallelism?: number;
  completions?: number;
  backoffLimit?: number;
  activeDeadlineSeconds?: number;
  suspend?: boolean;
  template?: PodTemplate;
}

interface JobStatus {
  conditions?: Condition[];
  startTime?: string;
  completionTime?: string;
  succeeded?: number;
  failed?: number;
}

export function registerJobs(rt: Runtime): void {
  /** Per job uid: pods counted as succeeded / failed (pods may be deleted; counts must not drop). */
  const counted = new Map<
    string,
    { succeeded: Set<string>; failed: Set<string>; startedMs: number; timer?: NodeJS.Timeout }
  >();

  rt.on('Job', (ev) => {
    const j = ev.object;
    if (ev.type === 'DELETED') {
      rt.cancel(counted.get(j.metadata.uid ?? '')?.timer);
      counted.delete(j.metadata.uid ?? '');
      return;
    }
    rt.enqueue('Job', j.metadata.namespace ?? '', j.metadata.name ?? '');
  });

  rt.reconciler('Job', (ns, name) => {
    const job = rt.get('Job', ns, name);
    if (!job || job.metadata.deletionTimestamp || rt.namespaceTerminating(ns)) return;
    const uid = job.metadata.uid ?? '';
    const spec = (job.spec ?? {}) as JobSpec;
    const status = (job.status ?? {}) as JobStatus;
    if (isTrue(status.conditions, 'Complete') || isTrue(status.conditions, 'Failed')) return;

    let c = counted.get(uid);
    if (!c) {
      c = { succeeded: new Set(), failed: new Set(), startedMs: Date.now() };
      counted.set(uid, c);
    }
    const pods = rt.owned('Pod', ns, uid);
    for (const p of pods) {
      const phase = podStatus(p).phase;
      if (phase === 'Succeeded') c.succeeded.add(p.metadata.uid ?? '');
      if (phase === 'Failed') c.failed.add(p.metadata.uid ?? '');
    }
    const active = pods.filter(
      (p) =>
        !c.succeeded.has(p.metadata.uid ?? '') &&
        !c.failed.has(p.metadata.uid ?? '') &&
        !p.metadata.deletionTimestamp,
    );
    const onFailure = spec.template?.spec?.restartPolicy === 'OnFailure';
    // With OnFailure the kubelet restarts containers in place; the real controller counts restarts.
    const restarts = onFailure
      ? active.reduce(
          (n, p) => n + (podStatus(p).containerStatuses ?? []).reduce((m, s) => m + (s.restartCount ?? 0), 0),
          0,
        )
      : 0;
    const completions = spec.completions ?? 1;
    const backoffLimit = spec.backoffLimit ?? 6;
    const succeeded = Math.max(status.succeeded ?? 0, c.succeeded.size);
    const failed = Math.max(status.failed ?? 0, c.failed.size);
    const now = nowTime();
    let conds = status.conditions ?? [];
    let finished: 'Complete' | 'Failed' | undefined;
    let failReason = '';
    let failMessage = '';
    const deadlineMs =
      spec.activeDeadlineSeconds !== undefined ? rt.scaled(spec.activeDeadlineSeconds) : undefined;

    if (succeeded >= completions) {
      finished = 'Complete';
    } else if (failed + restarts > backoffLimit) {
      finished = 'Failed';
      failReason = 'BackoffLimitExceeded';
      failMessage = 'Job has reached the specified backoff limit';
    } else if (deadlineMs !== undefined && Date.now() - c.startedMs >= deadlineMs) {
      finished = 'Failed';
      failReason = 'DeadlineExceeded';
      failMessage = 'Job was active longer than specified deadline';
    }

    if (finished === 'Failed') {
      for (const p of active) rt.remove('Pod', ns, p.metadata.name ?? '');
      conds = setCondition(
        conds,
        { type: 'FailureTarget', status: 'True', reason: failReason, message: failMessage },
        now,
        { probeTime: true },
      );
      conds = setCondition(
        conds,
        { type: 'Failed', status: 'True', reason: failReason, message: failMessage },
        now,
        { probeTime: true },
      );
      rt.event(job, 'Warning', failReason, failMessage, 'job-controller');
    } else if (finished === 'Complete') {
      const msg = 'Reached expected number of succeeded pods';
      conds = setCondition(
        conds,
        { type: 'SuccessCriteriaMet', status: 'True', reason: 'CompletionsReached', message: msg },
        now,
        { probeTime: true },
      );
      conds = setCondition(
        conds,
        { type: 'Complete', status: 'True', reason: 'CompletionsReached', message: msg },
        now,
        { probeTime: true },
      );
      rt.event(job, 'Normal', 'Completed', 'Job completed', 'job-controller');
    } else if (!spec.suspend) {
      const want = Math.min(spec.parallelism ?? 1, completions - succeeded) - active.length;
      for (let i = 0; i < want; i++) {
        const wanted = jobPod(job, spec);
        const failure = rt.admissionDenial(wanted, `${name}-`);
        if (failure) {
          rt.event(job, 'Warning', 'FailedCreate', `Error creating: ${failure}`, 'job-controller');
          rt.after(rt.scaled(10), () => rt.enqueue('Job', ns, name));
          break;
        }
        const pod = rt.create('Pod', wanted);
        if (pod)
          rt.event(job, 'Normal', 'SuccessfulCreate', `Created pod: ${pod.metadata.name}`, 'job-controller');
      }
      if (deadlineMs !== undefined && !c.timer) {
        c.timer = rt.after(c.startedMs + deadlineMs - Date.now() + 1, () => {
          if (c) c.timer = undefined;
          rt.enqueue('Job', ns, name);
        });
      }
    }
    if (finished) {
      rt.cancel(c.timer);
      c.timer = undefined;
    }

    const stillActive = finished
      ? []
      : rt
          .owned('Pod', ns, uid)
          .filter((p) => !c.succeeded.has(p.metadata.uid ?? '') && !c.failed.has(p.metadata.uid ?? ''));
    rt.mutate('Job', ns, name, (o) => {
      if (o.metadata.uid !== uid) return false;
      const cur = (o.status ?? {}) as JobStatus;
      o.status = {
        conditions: conds.length ? conds : undefined,
        startTime: cur.startTime ?? (spec.suspend ? undefined : now),
        ...(finished === 'Complete' ? { completionTime: cur.completionTime ?? now } : {}),
        ...omitEmpty({ active: stillActive.length, succeeded, failed }),
        terminating: 0,
        ready: stillActive.filter(podReady).length,
        uncountedTerminatedPods: {},
      };
      // Drop undefined keys so the stored object compares equal when nothing changed.
      o.status = JSON.parse(JSON.stringify(o.status)) as Record<string, unknown>;
    });
  });
}

function jobPod(job: KObject, spec: JobSpec): KObject {
  const uid = job.metadata.uid ?? '';
  const name = job.metadata.name ?? '';
  const labels = {
    'batch.kubernetes.io/controller-uid': uid,
    'batch.kubernetes.io/job-name': name,
    'controller-uid': uid,
    'job-name': name,
  };
  const pod = podFromTemplate(job, `${name}-${randomSuffix()}`, spec.template, labels);
  // The API server rejects Jobs with restartPolicy Always; an unset one here means Never.
  if (!spec.template?.spec?.restartPolicy) (pod.spec as { restartPolicy?: string }).restartPolicy = 'Never';
  return pod;
}
