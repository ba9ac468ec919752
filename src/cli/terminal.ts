// Where the CLI writes: the command's report on stdout, everything else (progress, warnings, errors) on
// stderr, so `--output json` leaves one JSON document on stdout.
import type { Ports } from '../app/ports.js';
import type { Logger } from '../logger.js';

export interface CliIo {
  /** Where the repository and relative paths are looked for. */
  cwd: string;
  stdout(text: string): void;
  stderr(text: string): void;
  /** Replaceable in tests. */
  now?: () => Date;
}

/** Progress on stderr: info plain, warnings prefixed, debug only with `--verbose`. */
export function terminalLogger(io: CliIo, verbose: boolean): Logger {
  return {
    info: (m) => io.stderr(`${m}\n`),
    warning: (m) => io.stderr(`warning: ${m}\n`),
    debug: (m) => {
      if (verbose) io.stderr(`debug: ${m}\n`);
    },
  };
}

/** A terminal has no collapsible sections: a group is a header line. */
export function terminalGroup(io: CliIo): Ports['group'] {
  return (name, fn) => {
    io.stderr(`== ${name}\n`);
    return fn();
  };
}
