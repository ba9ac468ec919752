// Options of `status`: whose previews to list.
import { INPUT, inputOr, parseBoolean, type InputReader } from './inputs.js';

export interface StatusOptions {
  /** Every kubestage namespace the identity can see, not only this repository's. */
  allRepos: boolean;
}

export function parseStatusOptions(input: InputReader): StatusOptions {
  return { allRepos: parseBoolean(inputOr(input, INPUT.allRepos), INPUT.allRepos) };
}
