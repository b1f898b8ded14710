// Checks a recorded history for linearizability from the command line:
//   node dist/test/chaos/lincheck/cli.js --jepsen etcd_000.log [--timeline out.html]
//   node dist/test/chaos/lincheck/cli.js --kv c10-bad.txt
// The last line printed is exactly `linearizable` or `not-linearizable` (exit 0 either way);
// exit 2 when the arguments or the file are bad, or the check could not decide in time.

import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { check } from './check.js';
import type { Model } from './model.js';
import { kvModel } from './models/kv-model.js';
import { registerModel } from './models/register-model.js';
import type { Operation } from './operation.js';
import { HistoryParseError } from './parsers/history-parse-error.js';
import type { JepsenHistoryStats } from './parsers/jepsen-pairing.js';
import { parseJepsenRegisterLog } from './parsers/jepsen-register-log.js';
import { parseKvLog } from './parsers/kv-edn-log.js';
import { formatAnomaly } from './report/anomaly-text.js';
import { writeTimelineHtml } from './report/timeline-html.js';
import { DEFAULT_LIMITS } from './search-limits.js';

const USAGE = `usage: cli.js (--jepsen FILE | --kv FILE) [--timeline OUT.html] [--timeout-ms N]
  --jepsen FILE     a Jepsen single-register log (jepsen.util lines: :invoke/:ok/:fail/:info)
  --kv FILE         a key-value history, one EDN map per line ({:process 0, :type :invoke, ...})
  --timeline FILE   on a violation, write an HTML timeline of the failing window there
  --timeout-ms N    give up (exit 2) after N ms; default ${DEFAULT_LIMITS.timeoutMs}`;

const EXIT_DECIDED = 0;
const EXIT_UNDECIDED = 2;

class UsageError extends Error {}

function parseCommandLine(argv: string[]) {
  return parseArgs({
    args: argv,
    options: {
      jepsen: { type: 'string' },
      kv: { type: 'string' },
      timeline: { type: 'string' },
      'timeout-ms': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
    allowPositionals: false,
  }).values;
}

function main(argv: string[]): number {
  try {
    const args = parseCommandLine(argv);
    if (args.help) {
      console.log(USAGE);
      return EXIT_UNDECIDED;
    }
    if ((args.jepsen === undefined) === (args.kv === undefined)) throw new UsageError('give exactly one of --jepsen and --kv');
    const timeoutMs = args['timeout-ms'] === undefined ? DEFAULT_LIMITS.timeoutMs : Number(args['timeout-ms']);
    if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) throw new UsageError('--timeout-ms takes a positive number');

    const options = { timeoutMs, timelinePath: args.timeline };
    if (args.jepsen !== undefined) {
      const history = parseJepsenRegisterLog(args.jepsen, readFileSync(args.jepsen, 'utf8'));
      return runCheck(args.jepsen, 'Jepsen register log', registerModel, history, options);
    }
    const file = args.kv!;
    return runCheck(file, 'key-value history', kvModel, parseKvLog(file, readFileSync(file, 'utf8')), options);
  } catch (error) {
    if (error instanceof UsageError || (error instanceof TypeError && 'code' in error && String(error.code).startsWith('ERR_PARSE_ARGS'))) {
      console.error(`${error.message}\n${USAGE}`);
      return EXIT_UNDECIDED;
    }
    if (error instanceof HistoryParseError) {
      console.error(`cannot read the history: ${error.message}`);
      return EXIT_UNDECIDED;
    }
    if (error instanceof Error && 'code' in error && (error.code === 'ENOENT' || error.code === 'EISDIR' || error.code === 'EACCES')) {
      console.error(`cannot read the history: ${error.message}`);
      return EXIT_UNDECIDED;
    }
    throw error;
  }
}

function runCheck<I, O, S>(
  file: string,
  kind: string,
  model: Model<I, O, S>,
  history: { operations: Operation<I, O>[]; stats: JepsenHistoryStats & { skippedLines: number } },
  options: { timeoutMs: number; timelinePath: string | undefined },
): number {
  const { stats } = history;
  console.log(`${file}: ${kind}, ${history.operations.length} operations checked`);
  console.log(
    `  ${stats.ok} :ok, ${stats.indeterminate} :info and ${stats.openAtEnd} never completed (both indeterminate), ` +
      `${stats.failed} :fail dropped, ${stats.skippedLines} other lines skipped`,
  );
  if (stats.invokesAfterInfo > 0) console.log(`  note: ${stats.invokesAfterInfo} invokes reuse a process id after its :info`);

  const result = check(model, history.operations, { timeoutMs: options.timeoutMs });
  console.log(
    `checked with the ${model.name} model in ${result.elapsedMs.toFixed(1)} ms: ${result.steps} search steps, ` +
      `${result.partitionsDecided} of ${result.partitionCount} partitions decided`,
  );
  if (result.verdict === 'unknown') {
    console.error(`could not decide: ${result.unknownReason} (try a larger --timeout-ms)`);
    return EXIT_UNDECIDED;
  }
  if (result.anomaly) {
    console.log('');
    console.log(formatAnomaly(model, result.anomaly));
    if (options.timelinePath !== undefined) {
      writeTimelineHtml(options.timelinePath, model, result.anomaly, `Linearizability violation in ${file}`);
      console.log(`timeline of the failing window written to ${options.timelinePath}`);
    }
  } else if (options.timelinePath !== undefined) {
    console.log('no timeline written: there is no violation to draw');
  }
  console.log(result.verdict);
  return EXIT_DECIDED;
}

process.exitCode = main(process.argv.slice(2));
