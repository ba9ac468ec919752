// `preview`: render the PR's manifests into namespace pr-<n>, apply, wait, and tell the PR where it runs.
import { collectDiagnostics, formatDiagnostics } from '../kube/diagnostics.js';
import { probeUrl } from '../kube/probe.js';
import { waitForWorkloads } from '../kube/wait.js';
import {
  ANNOTATION_EXPIRES_AT,
  ANNOTATION_HEAD_SHA,
  ANNOTATION_IMAGES,
  ANNOTATION_PR,
  ANNOTATION_RUN_URL,
  ANNOTATION_UPDATED_AT,
  ANNOTATION_URL,
  LABEL_ENVIRONMENT,
  LABEL_INSTANCE,
  LABEL_MANAGED_BY,
  LABEL_PR,
  LABEL_REPO,
  MANAGED_BY,
  PREVIEW_ENVIRONMENT,
  repoLabelValue,
} from '../model/labels.js';
import { defaultPreviewTag, formatImageRef, parseImages } from '../model/images.js';
import type { KubeObject } from '../model/kube-object.js';
import { rewriteHosts } from '../render/hosts.js';
import { containerImages, renderManifests } from '../render/kustomize.js';
import type { Settings } from '../settings.js';
import { runCleanupFor } from './cleanup.js';
import type { CommandResult, Ports } from './ports.js';
import { PreviewReporter } from './preview-reporter.js';
import { applyRendered, guardRendered, SupersededError } from './rollout.js';
import { pullStateReader, resolvePullRequest } from './pull-request.js';
import { previewNames } from './names.js';

export async function runPreview(settings: Settings, ports: Ports): Promise<CommandResult> {
  const log = ports.logger;
  const now = ports.now ?? (() => new Date());
  const ev = settings.event;
  if (ev.name === 'workflow_run' && (ev.action !== 'completed' || ev.conclusion !== 'success')) {
    // The build this run would deploy has not finished well (or at all): its image may not exist.
    log.warning(
      ev.action !== 'completed'
        ? `The workflow run that triggered this is "${ev.action ?? 'unknown'}", not completed: its image may not be pushed yet, so nothing is deployed. ` +
            'Trigger on `workflow_run` with `types: [completed]`.'
        : `The workflow run that triggered this ended with "${ev.conclusion ?? 'no conclusion'}", so there is nothing new to deploy; the preview is left as it was. ` +
            "Guard the job with `if: github.event.workflow_run.conclusion == 'success'` to skip it entirely.",
    );
    return {
      ok: true,
      outputs: {},
      summary: `## kubestage preview: skipped\n\nThe triggering workflow run is \`${ev.action ?? '?'}\`, conclusion \`${ev.conclusion ?? 'none'}\`.\n`,
    };
  }
  const pr = await resolvePullRequest(settings, ports);

  if (pr.state === 'closed' || settings.event.action === 'closed') {
    log.info(`PR #${pr.number} is closed: removing its preview instead of deploying it.`);
    return runCleanupFor(settings, ports, pr);
  }

  const names = previewNames(settings, pr);
  const { namespace, host, url } = names;
  const repoLabel = repoLabelValue(`${settings.owner}/${settings.repo}`);
  const images = parseImages(settings.images, defaultPreviewTag(pr.number, pr.headSha));
  const imageRefs = Object.fromEntries(images.map((i) => [i.name, formatImageRef(i)]));
  log.info(`Preview of PR #${pr.number} at ${pr.headSha.slice(0, 7)}: namespace ${namespace}, ${url}`);

  const reporter = new PreviewReporter(settings, ports, pr, names, now);
  const prState = pullStateReader(settings, ports, pr.number);
  const atStart = await prState();
  if (atStart?.state === 'closed') {
    log.info(`PR #${pr.number} is closed on GitHub: removing its preview instead of deploying it.`);
    return runCleanupFor(settings, ports, pr);
  }
  if (atStart && atStart.headSha !== pr.headSha) {
    log.info(
      `PR #${pr.number} has moved on to ${atStart.headSha.slice(0, 7)}: this run (${pr.headSha.slice(0, 7)}) is superseded and changes nothing.`,
    );
    return reporter.result(true);
  }

  try {
    const labels = {
      [LABEL_MANAGED_BY]: MANAGED_BY,
      [LABEL_REPO]: repoLabel,
      [LABEL_ENVIRONMENT]: PREVIEW_ENVIRONMENT,
      [LABEL_PR]: String(pr.number),
      [LABEL_INSTANCE]: namespace,
    };

    const rendered = await ports.group(`Render ${settings.manifests}`, async () => {
      const { objects, unusedImages, overlayYaml } = await renderManifests({
        workspace: settings.workspace,
        manifests: settings.manifests,
        namespace,
        images,
        labels,
      });
      log.debug(`Generated overlay:\n${overlayYaml}`);
      if (unusedImages.length) {
        // A typo here would silently deploy the old image: refuse before anything is written.
        const found = [...containerImages(objects)].sort();
        throw new Error(
          `The \`images\` input names ${unusedImages.map((i) => `"${i.name}"`).join(', ')}, which no container in ${settings.manifests} uses. ` +
            `NAME must be the image as written in the manifests, without its tag. Images there: ${found.join(', ') || '(none)'}.`,
        );
      }
      const routed = rewriteHosts(objects, host);
      for (const c of routed.changes)
        log.info(`${c.object}: host ${c.from.join(', ') || '(none)'} → ${c.to}`);
      log.info(`Rendered ${routed.objects.length} objects`);
      return routed.objects;
    });
    reporter.setImages(imagesInUse(rendered, imageRefs));
    // Pod logs and events can echo the preview's own Secret values: mask them in the log and keep
    // them out of the PR comment and the job summary.
    const secrets = secretValues(rendered);
    // The runner matches masks line by line, so a PEM key or a JSON blob is masked per line too.
    for (const v of secrets)
      for (const part of [v, ...v.split(/\r?\n/)]) if (part.trim().length >= 4) ports.mask?.(part);
    reporter.setSecrets(secrets);

    // The guard judges the rendered output before any write reaches the cluster.
    const kube = ports.kube();
    await guardRendered(kube, rendered, namespace, settings.podSecurity);
    // Only now is there something to deploy: a render or guard failure creates no deployment.
    await reporter.start(imageRefs);

    // Rendering takes a while: look again just before the first write.
    const before = await prState();
    if (before && before.headSha !== pr.headSha) {
      log.info(
        `PR #${pr.number} has moved on to ${before.headSha.slice(0, 7)}: this run (${pr.headSha.slice(0, 7)}) is superseded and applies nothing.`,
      );
      await reporter.superseded();
      return reporter.result(true);
    }

    const updatedAt = now();
    const outcome = await deployAndVerify(async () => {
      const { applied, pruned } = await applyRendered(kube, rendered, {
        namespace,
        labels,
        repoLabel,
        annotations: {
          [ANNOTATION_HEAD_SHA]: pr.headSha,
          [ANNOTATION_IMAGES]: JSON.stringify(imageRefs),
          [ANNOTATION_URL]: url,
          [ANNOTATION_UPDATED_AT]: updatedAt.toISOString(),
          [ANNOTATION_EXPIRES_AT]: new Date(updatedAt.getTime() + settings.ttlSeconds * 1000).toISOString(),
          [ANNOTATION_PR]: String(pr.number),
          ...(settings.runUrl ? { [ANNOTATION_RUN_URL]: settings.runUrl } : {}),
        },
        waitTerminatingMs: settings.waitTimeoutSeconds * 1000,
        logger: log,
        group: ports.group,
        headSha: pr.headSha,
        podSecurity: settings.podSecurity,
      });
      reporter.setObjects(applied, pruned);

      const wait = await ports.group(`Wait for workloads (timeout ${settings.waitTimeoutSeconds}s)`, () =>
        waitForWorkloads(kube, {
          namespace,
          objects: rendered,
          timeoutMs: settings.waitTimeoutSeconds * 1000,
          logger: log,
        }),
      );
      reporter.setWorkloads(wait.workloads);
      if (!wait.ok) {
        const diagnostics =
          wait.diagnostics ??
          (await collectDiagnostics(kube, {
            namespace,
            workloads: wait.workloads.filter((w) => !w.ready).map((w) => w.ref),
            logger: log,
          }));
        const text = formatDiagnostics(diagnostics);
        log.info(text);
        const failing = wait.workloads.filter((w) => !w.ready).map((w) => `${w.ref} (${w.state})`);
        return {
          ok: false,
          message: `Workloads did not become ready: ${failing.join(', ')}`,
          diagnostics: text,
        };
      }
      if (settings.healthPath) {
        const probe = await probeUrl(url, {
          path: settings.healthPath,
          timeoutMs: Math.min(120_000, settings.waitTimeoutSeconds * 1000),
          attempts: 10,
          logger: log,
        });
        if (!probe.ok) {
          const what = `GET ${url}${settings.healthPath} → ${probe.error ?? `HTTP ${probe.status}`}`;
          return {
            ok: false,
            message: `The health check failed: ${what}`,
            diagnostics: `${what}\nThe workloads are ready, but the preview URL does not answer. Check the Ingress/HTTPRoute, DNS for *.${settings.domain}, and that ${settings.healthPath} answers 2xx.`,
          };
        }
        log.info(`Health check ${url}${settings.healthPath}: HTTP ${probe.status}`);
      }
      return { ok: true };
    });

    // Whatever happened, the PR may have closed or moved on meanwhile: never leave an orphan behind,
    // and never write over what a newer run reports.
    const after = await prState();
    if (after?.state === 'closed') {
      log.info(
        `PR #${pr.number} was closed while the preview deployed: cleaning up instead of leaving an orphan.`,
      );
      return runCleanupFor(settings, ports, pr);
    }
    if (after && after.headSha !== pr.headSha) {
      log.info(
        `PR #${pr.number} moved on to ${after.headSha.slice(0, 7)} while this run deployed; the newer run reports the preview.`,
      );
      await reporter.superseded();
      return reporter.result(true);
    }
    if ('supersededBy' in outcome) {
      log.info(
        `A run for ${outcome.supersededBy.slice(0, 7)} took over namespace ${namespace} while this run (${pr.headSha.slice(0, 7)}) applied; it stopped and leaves the rest to that run.`,
      );
      await reporter.superseded();
      return reporter.result(true);
    }
    return outcome.ok ? await reporter.ready() : await reporter.failed(outcome.message, outcome.diagnostics);
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    return await reporter.failed(message, message);
  }
}

type Outcome =
  { ok: true } | { ok: false; message: string; diagnostics: string } | { ok: false; supersededBy: string };

/** Runs the cluster half; an exception (an apply refused, a watch that broke) is a failed outcome too. */
async function deployAndVerify(fn: () => Promise<Outcome>): Promise<Outcome> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof SupersededError) return { ok: false, supersededBy: e.by };
    const message = e instanceof Error ? e.message : String(e);
    return { ok: false, message, diagnostics: message };
  }
}

/** Images the rendered workloads run, the ones this run set first, named as in the manifests. */
function imagesInUse(
  objects: KubeObject[],
  overrides: Record<string, string>,
): { name: string; ref: string }[] {
  const overridden = new Map(Object.entries(overrides).map(([name, ref]) => [ref, name]));
  return [...containerImages(objects)]
    .sort((a, b) => Number(overridden.has(b)) - Number(overridden.has(a)) || a.localeCompare(b))
    .map((ref) => ({ name: overridden.get(ref) ?? imageName(ref), ref }));
}

/** Values of the rendered Secrets (stringData, and data decoded), long enough to be worth masking. */
export function secretValues(objects: KubeObject[]): string[] {
  const out = new Set<string>();
  for (const o of objects) {
    if (o.kind !== 'Secret' || o.apiVersion !== 'v1') continue;
    for (const v of Object.values((o.stringData ?? {}) as Record<string, unknown>))
      if (typeof v === 'string') out.add(v);
    for (const v of Object.values((o.data ?? {}) as Record<string, unknown>)) {
      if (typeof v === 'string') out.add(Buffer.from(v, 'base64').toString('utf8'));
    }
  }
  return [...out].filter((v) => v.trim().length >= 4);
}

/** `registry:5000/app:tag@sha256:…` → `registry:5000/app`. */
function imageName(ref: string): string {
  const noDigest = ref.split('@')[0];
  const slash = noDigest.lastIndexOf('/');
  const colon = noDigest.lastIndexOf(':');
  return colon > slash ? noDigest.slice(0, colon) : noDigest;
}
