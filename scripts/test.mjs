#!/usr/bin/env node
// Runs the test suite (tap over the compiled tests) and ends with one line: "N passed, N failed",
// counting test cases (each t.test in a file), plus any test file that failed outside its test cases.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

const args = ['-R', 'tap', ...process.argv.slice(2)];
const tap = spawn(process.execPath, ['node_modules/tap/dist/esm/run.mjs', ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
let passed = 0, failed = 0, failedInFile = 0;
const rl = createInterface({ input: tap.stdout });
rl.on('line', (line) => {
  process.stdout.write(`${line}\n`);
  if (/^ {4}ok \d+ /.test(line)) passed++;
  else if (/^ {4}not ok \d+ /.test(line)) {
    failed++;
    failedInFile++;
  } else if (/^(not )?ok \d+ /.test(line)) {
    // a whole test file: if it failed with no failing test case (a crash, a timeout), count it once
    if (line.startsWith('not ok') && failedInFile === 0) failed++;
    failedInFile = 0;
  }
});
tap.on('close', (code) => {
  rl.close();
  const status = code ?? 1;
  if (status !== 0 && failed === 0) failed = 1;
  process.stdout.write(`${passed} passed, ${failed} failed\n`);
  process.exit(status);
});
