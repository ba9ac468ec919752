// Imported first by index.ts, for its side effect: @actions/github reads the event payload the moment
// it is loaded (by main.ts's imports), and a payload that is not JSON would crash there with a bare
// stack trace and no ::error::. ES modules run in import order, so this check runs before that load
// and ends the step with a message that names the file.
import * as core from '@actions/core';
import { eventPayloadProblem } from './settings/event.js';

const problem = eventPayloadProblem(process.env);
if (problem) {
  core.setFailed(problem);
  process.exit(1);
}
