// Runs the compiled test files with node:test: by default every dist/test/**/*.test.js, two at a
// time. Node 20's `node --test` takes no globs, so the files are listed here.
//   node scripts/run-tests.mjs [--suffix .cubefs.js] [--concurrency 1] [part-of-a-path ...]
// The opt-in suites (test:cubefs*, soak:crash) go through here too, for the lock below.
//
// One run at a time per machine: the integration tests listen on fixed loopback addresses
// (127.0.0.22:17010 and others), so a second run at the same moment gets EADDRINUSE or, worse,
// writes that reach the other run's master and look lost. A second run waits for the first
// (a lock file naming its pid), at most LOCK_WAIT_MS, and says so.
import { readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { parseArgs } from 'node:util';

const LOCK_FILE = join(tmpdir(), 'cubemaster-tests.lock');
const LOCK_WAIT_MS = 30 * 60_000;
const LOCK_POLL_MS = 2_000;

function collect(dir, suffix, out) {
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) collect(path, suffix, out);
    else if (name.endsWith(suffix)) out.push(path);
  }
  return out;
}

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return error.code === 'EPERM';
  }
}

/** Takes the machine's test lock, waiting for a live holder; a dead holder's lock is taken over. */
function lock() {
  const started = Date.now();
  let told = false;
  for (;;) {
    try {
      writeFileSync(LOCK_FILE, JSON.stringify({ pid: process.pid, cwd: process.cwd(), since: new Date().toISOString() }), { flag: 'wx' });
      return;
    } catch (error) {
      if (error.code !== 'EEXIST') throw error;
    }
    let holder = null;
    try {
      holder = JSON.parse(readFileSync(LOCK_FILE, 'utf8'));
    } catch {
      // Being written or removed right now: look again.
    }
    if (holder !== null && !alive(holder.pid)) {
      rmSync(LOCK_FILE, { force: true });
      continue;
    }
    if (Date.now() - started > LOCK_WAIT_MS) {
      console.error(`run-tests: another test run still holds ${LOCK_FILE} after ${LOCK_WAIT_MS / 60_000} min: ${JSON.stringify(holder)}`);
      process.exit(1);
    }
    if (!told && holder !== null) {
      console.error(`run-tests: waiting for the test run of pid ${holder.pid} in ${holder.cwd} (since ${holder.since}): the integration tests use fixed loopback addresses`);
      told = true;
    }
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, LOCK_POLL_MS);
  }
}

function unlock() {
  try {
    if (JSON.parse(readFileSync(LOCK_FILE, 'utf8')).pid === process.pid) rmSync(LOCK_FILE, { force: true });
  } catch {
    // Already gone.
  }
}

const { values: options, positionals: filter } = parseArgs({
  allowPositionals: true,
  options: { suffix: { type: 'string', default: '.test.js' }, concurrency: { type: 'string', default: '2' } },
});
const concurrency = Number(options.concurrency);
if (!Number.isInteger(concurrency) || concurrency < 1) {
  console.error(`run-tests: --concurrency must be a positive integer, not ${options.concurrency}`);
  process.exit(2);
}
const files = collect('dist/test', options.suffix, []).filter((f) => filter.length === 0 || filter.some((s) => f.includes(s)));
if (files.length === 0) {
  console.error(`run-tests: no test files ending in ${options.suffix} found under dist/test${filter.length > 0 ? ` matching ${filter.join(', ')}` : ''}`);
  process.exit(1);
}
lock();
process.on('exit', unlock);
process.on('SIGINT', () => process.exit(130));
process.on('SIGTERM', () => process.exit(143));
// Two files at a time by default: the machine has two cores; the simulator tests use worker
// threads too. The suites against real CubeFS binaries run one file at a time.
const result = spawnSync(process.execPath, ['--test', `--test-concurrency=${concurrency}`, '--test-reporter=spec', ...files], { stdio: 'inherit' });
process.exit(result.status ?? 1);
