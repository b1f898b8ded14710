// Closed-loop load from Debian's wrk (bench/wrk/workload.lua) instead of the Node client: wrk
// costs a fraction of the CPU per request, which on a 2-core machine otherwise comes out of
// the systems under test. One wrk process per target URL, the connections split among them;
// figures are summed (operations) or taken at their worst (latency percentiles).
import { spawn, spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LoadFigures } from '../write-load.js';

const here = path.dirname(fileURLToPath(import.meta.url));
/** dist/bench/compare -> bench/wrk/workload.lua in the source tree. */
export const WRK_SCRIPT = path.join(here, '..', '..', '..', 'bench', 'wrk', 'workload.lua');

export function wrkAvailable(): boolean {
  return spawnSync('sh', ['-c', 'command -v wrk'], { stdio: 'ignore' }).status === 0;
}

interface WrkResult {
  readonly requests: number;
  readonly seconds: number;
  readonly p50Us: number;
  readonly p99Us: number;
  readonly p999Us: number;
  readonly failures: number;
}

/** Runs that end without figures (seen once in a long run: wrk exited 0 having printed nothing) are tried again. */
const WRK_ATTEMPTS = 3;

async function runWrk(url: string, connections: number, seconds: number, args: readonly string[]): Promise<WrkResult> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await runWrkOnce(url, connections, seconds, args);
    } catch (error) {
      if (attempt >= WRK_ATTEMPTS || !(error instanceof NoFiguresError)) throw error;
      console.log(`wrk: ${(error).message.split('\n')[0]}; trying again (${attempt + 1} of ${WRK_ATTEMPTS})`);
    }
  }
}

class NoFiguresError extends Error {}

function runWrkOnce(url: string, connections: number, seconds: number, args: readonly string[]): Promise<WrkResult> {
  const threads = Math.min(2, connections);
  return new Promise((resolve, reject) => {
    const child = spawn('wrk', ['-t', String(threads), '-c', String(connections), '-d', `${seconds}s`, '--timeout', '30s', '-s', WRK_SCRIPT, url, '--', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (out += c.toString('utf8')));
    child.once('error', reject);
    child.once('exit', (code) => {
      const m = /WRK requests=(\d+) seconds=([\d.]+) p50us=(\d+) p99us=(\d+) p999us=(\d+) failures=(\d+)/.exec(out);
      if (m === null) return reject(new NoFiguresError(`wrk exited ${code} without figures:\n${out.slice(-2000)}`));
      const socketErrors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
      const errors = socketErrors === null ? 0 : socketErrors.slice(1).reduce((a, b) => a + Number(b), 0);
      resolve({ requests: Number(m[1]), seconds: Number(m[2]), p50Us: Number(m[3]), p99Us: Number(m[4]), p999Us: Number(m[5]), failures: Number(m[6]) + errors });
    });
  });
}

/** `kind`, `tag` as bench/wrk/workload.lua takes them; `window` hears the measured run's bounds. */
export async function wrkLoop(
  urls: readonly string[],
  clients: number,
  seconds: number,
  kind: string,
  tag: string,
  warmupSeconds: number,
  window: { readonly onStart?: () => void; readonly onEnd?: () => void } = {},
): Promise<LoadFigures> {
  const targets = urls.slice(0, Math.max(1, Math.min(urls.length, clients)));
  const share = (i: number): number => Math.floor(((i + 1) * clients) / targets.length) - Math.floor((i * clients) / targets.length);
  if (warmupSeconds > 0) await Promise.all(targets.map((u, i) => runWrk(u, share(i), Math.max(1, Math.round(warmupSeconds)), [kind, `${tag}w`])));
  window.onStart?.();
  const results = await Promise.all(targets.map((u, i) => runWrk(u, share(i), seconds, [kind, tag])));
  window.onEnd?.();
  const requests = results.reduce((a, r) => a + r.requests, 0);
  const errors = results.reduce((a, r) => a + r.failures, 0);
  const elapsed = Math.max(...results.map((r) => r.seconds));
  const worst = (f: (r: WrkResult) => number): number => Math.max(...results.map(f)) / 1000;
  const ops = requests - errors;
  return { ops, errors, seconds: elapsed, opsPerSec: ops / elapsed, p50Ms: worst((r) => r.p50Us), p99Ms: worst((r) => r.p99Us), p999Ms: worst((r) => r.p999Us) };
}
