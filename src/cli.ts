#!/usr/bin/env node
// The `kubestage` command: everything happens in main(), which the tests call in-process too.
import { main } from './cli/main.js';

void main(process.argv.slice(2), process.env, {
  cwd: process.cwd(),
  stdout: (text) => void process.stdout.write(text),
  stderr: (text) => void process.stderr.write(text),
}).then((code) => {
  process.exitCode = code;
});
