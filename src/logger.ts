/** Where every module logs; main.ts backs it with @actions/core, tests with an array. */
export interface Logger {
  info(msg: string): void;
  warning(msg: string): void;
  debug(msg: string): void;
}
