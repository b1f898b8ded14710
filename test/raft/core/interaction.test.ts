// Scenario tests: each file in testdata/ is a script of steps with the expected trace after each
// (see datadriven.ts). A behaviour change shows up as a readable diff; REWRITE=1 updates them.
// testdata/pending/ holds scenarios that show a known bug; they are not run (only the files
// directly in testdata/ are), so that a wrong trace never becomes an expectation.
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { runDataDrivenFile } from './datadriven.js';
import { InteractionEnv } from './interaction-env.js';

// Compiled tests run from dist/; the scripts stay in the source tree.
const here = dirname(fileURLToPath(import.meta.url));
const testdata = join(here, '..', '..', '..', '..', 'test', 'raft', 'core', 'testdata');

for (const file of readdirSync(testdata).filter((f) => f.endsWith('.txt')).sort()) {
  void test(`scenario ${file}`, () => {
    const env = new InteractionEnv();
    const failures = runDataDrivenFile(join(testdata, file), (command) => env.run(command));
    assert.equal(failures.length, 0, failures.join('\n\n'));
  });
}
