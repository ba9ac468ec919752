// Options of `sweep`: what keeps a preview past its expiry, whether to write anything, how long to wait
// for each namespace to go, and what to tell GitHub.
import { INPUT, inputOr, parseBoolean, positiveDuration, SettingsError, type InputReader } from './inputs.js';
import { parsePublish, type PublishOptions } from './preview.js';

export interface SweepOptions extends PublishOptions {
  /** List what would go, delete nothing, write nothing. */
  dryRun: boolean;
  /** A PR carrying this label (case-insensitive, as GitHub compares labels) keeps its preview past expiry. */
  keepLabel: string;
  /** How long to wait for each namespace to be gone before reporting what holds it. */
  waitTimeoutSeconds: number;
}

/** GitHub refuses label names longer than this. */
const LABEL_MAX = 50;

export function parseSweepOptions(input: InputReader): SweepOptions {
  const keepLabel = inputOr(input, INPUT.keepLabel);
  if (keepLabel.length > LABEL_MAX || /[\r\n]/.test(keepLabel)) {
    throw new SettingsError(
      `The \`${INPUT.keepLabel}\` input is "${keepLabel.slice(0, 80)}"; a GitHub label name is one line of at most ${LABEL_MAX} characters, e.g. "preview-keep".`,
    );
  }
  // Whether a PR is open, closed, merged or gone is GitHub's to say: without a token nothing can be swept.
  if (!input(INPUT.githubToken).trim()) {
    throw new SettingsError(
      "No GitHub token: the `github-token` input is empty, and `sweep` reads each preview's pull request (open, closed, merged, labels) before deleting anything. Leave `github-token` at its default (`${{ github.token }}`, with `pull-requests: read`; `pull-requests: write` and `deployments: write` to update the comments and deployments).",
    );
  }
  return {
    dryRun: parseBoolean(inputOr(input, INPUT.dryRun), INPUT.dryRun),
    keepLabel,
    waitTimeoutSeconds: positiveDuration(inputOr(input, INPUT.waitTimeout), INPUT.waitTimeout),
    ...parsePublish(input),
  };
}
