// Turns Jepsen's event stream (one :invoke, then one :ok / :fail / :info per process) into
// operations. The rules, from Jepsen's history model:
//  - :ok   the operation happened, with the completion's value as its output;
//  - :fail the operation certainly did not happen: it is dropped;
//  - :info the outcome is unknown: it may take effect at any time after its call, or never, so
//          it becomes an indeterminate operation (return = +Infinity, output unknown). Jepsen
//          then retires the process and continues with a fresh process number; an invoke still
//          open at the end of the log is treated the same way.
// Times are line numbers: the log is in real-time order, which is all the checker needs.

import { UNKNOWN_OUTPUT, type Observed, type Operation } from '../operation.js';
import { HistoryParseError } from './history-parse-error.js';

export type JepsenEventType = 'invoke' | 'ok' | 'fail' | 'info';

export interface JepsenEvent<V> {
  readonly lineNumber: number;
  readonly process: number;
  readonly type: JepsenEventType;
  readonly f: string;
  readonly value: V;
}

export interface JepsenHistoryStats {
  readonly ok: number;
  /** :fail completions, dropped. */
  readonly failed: number;
  /** :info completions, kept as indeterminate. */
  readonly indeterminate: number;
  /** Invokes never completed before the log ended, kept as indeterminate. */
  readonly openAtEnd: number;
  /** Invokes by a process that had an :info before; Jepsen never does this, but it is harmless. */
  readonly invokesAfterInfo: number;
}

export interface JepsenDecoder<V, I, O> {
  /** The operation's input, from its :invoke event. */
  input(invoke: JepsenEvent<V>): I;
  /** The operation's output, from its :ok event. */
  output(ok: JepsenEvent<V>, input: I): O;
  /** Optionally keep a :fail that still tells something (default: dropped). */
  failedOutput?(fail: JepsenEvent<V>, input: I): O | null;
}

export function pairJepsenEvents<V, I, O>(
  file: string,
  events: Iterable<JepsenEvent<V>>,
  decoder: JepsenDecoder<V, I, O>,
): { operations: Operation<I, O>[]; stats: JepsenHistoryStats } {
  const open = new Map<number, { invoke: JepsenEvent<V>; input: I }>();
  const retired = new Set<number>();
  const operations: Operation<I, O>[] = [];
  const stats = { ok: 0, failed: 0, indeterminate: 0, openAtEnd: 0, invokesAfterInfo: 0 };

  const push = (invoke: JepsenEvent<V>, input: I, returnTime: number, output: Observed<O>): void => {
    operations.push({ clientId: invoke.process, input, call: invoke.lineNumber, return: returnTime, output });
  };

  for (const event of events) {
    const pending = open.get(event.process);
    if (event.type === 'invoke') {
      if (pending) {
        throw new HistoryParseError(file, event.lineNumber, `process ${event.process} invoked again while its invoke on line ${pending.invoke.lineNumber} is open`);
      }
      if (retired.has(event.process)) stats.invokesAfterInfo++;
      open.set(event.process, { invoke: event, input: decoder.input(event) });
      continue;
    }
    if (!pending) throw new HistoryParseError(file, event.lineNumber, `:${event.type} of process ${event.process} without an open invoke`);
    if (pending.invoke.f !== event.f) {
      throw new HistoryParseError(file, event.lineNumber, `:${event.type} ${event.f} completes an invoke of ${pending.invoke.f} (line ${pending.invoke.lineNumber})`);
    }
    open.delete(event.process);
    switch (event.type) {
      case 'ok':
        stats.ok++;
        push(pending.invoke, pending.input, event.lineNumber, decoder.output(event, pending.input));
        break;
      case 'fail': {
        stats.failed++;
        const kept = decoder.failedOutput?.(event, pending.input) ?? null;
        if (kept !== null) push(pending.invoke, pending.input, event.lineNumber, kept);
        break;
      }
      case 'info':
        stats.indeterminate++;
        retired.add(event.process);
        push(pending.invoke, pending.input, Number.POSITIVE_INFINITY, UNKNOWN_OUTPUT);
        break;
    }
  }
  for (const { invoke, input } of open.values()) {
    stats.openAtEnd++;
    push(invoke, input, Number.POSITIVE_INFINITY, UNKNOWN_OUTPUT);
  }
  // By call time, so an operation's index (how reports name it) follows the log.
  operations.sort((a, b) => a.call - b.call);
  return { operations, stats };
}
