// Reads a Jepsen single-register log (the etcd fixtures), lines such as
//   INFO  jepsen.util - 3	:invoke	:cas	[1 4]
// The separators are tabs or runs of spaces (both occur). Other log lines (jepsen.core chatter,
// the :nemesis process) are skipped and counted.

import type { Operation } from '../operation.js';
import type { RegisterInput, RegisterOutput, RegisterValue } from '../models/register-model.js';
import { readEdn, type EdnValue } from './edn-value.js';
import { HistoryParseError } from './history-parse-error.js';
import { pairJepsenEvents, type JepsenEvent, type JepsenEventType, type JepsenHistoryStats } from './jepsen-pairing.js';

const CLIENT_LINE = /^INFO\s+jepsen\.util\s+-\s+(\S+)\s+:(invoke|ok|fail|info)\s+:(\S+)\s*(.*)$/;

export interface RegisterHistory {
  readonly operations: Operation<RegisterInput, RegisterOutput>[];
  readonly stats: JepsenHistoryStats & { readonly skippedLines: number };
}

export function parseJepsenRegisterLog(file: string, text: string): RegisterHistory {
  const events: JepsenEvent<EdnValue>[] = [];
  let skippedLines = 0;
  text.split(/\r?\n/).forEach((line, index) => {
    const lineNumber = index + 1;
    const match = CLIENT_LINE.exec(line);
    if (!match || !/^\d+$/.test(match[1])) {
      if (line.trim() !== '') skippedLines++;
      return;
    }
    let value: EdnValue;
    try {
      value = match[4].trim() === '' ? null : readEdn(match[4]);
    } catch (error) {
      throw new HistoryParseError(file, lineNumber, `bad value ${JSON.stringify(match[4])}: ${(error as Error).message}`);
    }
    events.push({ lineNumber, process: Number(match[1]), type: match[2] as JepsenEventType, f: match[3], value });
  });

  const registerValue = (event: JepsenEvent<EdnValue>, value: EdnValue): RegisterValue => {
    if (value === null || (typeof value === 'number' && Number.isFinite(value))) return value;
    throw new HistoryParseError(file, event.lineNumber, `expected a number or nil, got ${JSON.stringify(value)}`);
  };

  const { operations, stats } = pairJepsenEvents<EdnValue, RegisterInput, RegisterOutput>(file, events, {
    input(invoke) {
      switch (invoke.f) {
        case 'read':
          return { f: 'read' };
        case 'write':
          return { f: 'write', value: registerValue(invoke, invoke.value) };
        case 'cas': {
          const pair = invoke.value;
          if (!Array.isArray(pair) || pair.length !== 2) throw new HistoryParseError(file, invoke.lineNumber, 'cas takes [expected new]');
          const [expected, next] = pair as readonly EdnValue[];
          return { f: 'cas', expected: registerValue(invoke, expected), next: registerValue(invoke, next) };
        }
        default:
          throw new HistoryParseError(file, invoke.lineNumber, `unknown register operation :${invoke.f}`);
      }
    },
    output(ok, input) {
      switch (input.f) {
        case 'read':
          return { f: 'read', value: registerValue(ok, ok.value) };
        case 'write':
          return { f: 'write' };
        case 'cas':
          return { f: 'cas', swapped: true };
      }
    },
  });
  return { operations, stats: { ...stats, skippedLines } };
}
