// Cancellation: GitHub sends SIGINT when a run is cancelled (cancel-in-progress, or by hand) and kills
// the step a few seconds later; a person at a terminal presses Ctrl-C. Either way the command gets an
// aborted signal, stops where it is, and says so on the PR instead of leaving "Deploying…" behind.
import type { Logger } from '../logger.js';

export interface Cancellation {
  signal: AbortSignal;
  /** Removes the signal handlers (the run is over). */
  dispose(): void;
}

export function cancelOnSignals(logger: Logger, proc: NodeJS.Process = process): Cancellation {
  const controller = new AbortController();
  const onSignal = (name: NodeJS.Signals): void => {
    if (controller.signal.aborted) {
      // A second signal: the caller really wants out now.
      proc.exit(130);
    }
    logger.warning(`Received ${name}: stopping and reporting the run as cancelled.`);
    controller.abort(new Error(`cancelled by ${name}`));
  };
  proc.on('SIGINT', onSignal);
  proc.on('SIGTERM', onSignal);
  return {
    signal: controller.signal,
    dispose: () => {
      proc.off('SIGINT', onSignal);
      proc.off('SIGTERM', onSignal);
    },
  };
}
