// What every command gives back to its caller (main.ts, cli.ts, the demo, the tests).

export interface CommandResult {
  ok: boolean;
  /** The step's failure message when ok is false. */
  failure?: string;
  /** Action outputs, by output name. */
  outputs: Record<string, string>;
  /** Markdown for the job summary. */
  summary: string;
  /** Plain text for a terminal (the CLI). */
  text: string;
  /** The report as data (`--output json`); never holds secrets. */
  json: unknown;
}
