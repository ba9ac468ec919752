// The action's entry: the event payload is checked first (see preflight.ts), then run() does the rest.
import './preflight.js';
import { run } from './main.js';

void run();
