// A Logger that keeps what it was told, for tests that assert on the log a user would read.
import type { Logger } from '../../src/logger.js';

export interface RecordingLogger extends Logger {
  lines: string[];
  warnings: string[];
  text(): string;
}

export function recordingLogger(): RecordingLogger {
  const lines: string[] = [];
  const warnings: string[] = [];
  return {
    lines,
    warnings,
    info: (m) => void lines.push(m),
    warning: (m) => {
      warnings.push(m);
      lines.push(`warning: ${m}`);
    },
    debug: (m) => void lines.push(`debug: ${m}`),
    text: () => lines.join('\n'),
  };
}
