// Options of `cleanup`: the names (they must match the preview's), how long to wait, what to tell GitHub.
import type { RunContext } from '../app/context.js';
import type { NamingOptions } from '../steps/names.js';
import { requirePullRequest } from './event.js';
import { INPUT, inputOr, positiveDuration, type InputReader } from './inputs.js';
import { parseNaming } from './naming.js';
import { parsePublish, type PublishOptions } from './preview.js';

export interface CleanupOptions extends PublishOptions {
  naming: NamingOptions;
  waitTimeoutSeconds: number;
}

export function parseCleanupOptions(input: InputReader, ctx: RunContext): CleanupOptions {
  requirePullRequest(ctx.event);
  return {
    naming: parseNaming(input, ctx),
    waitTimeoutSeconds: positiveDuration(inputOr(input, INPUT.waitTimeout), INPUT.waitTimeout),
    ...parsePublish(input),
  };
}
