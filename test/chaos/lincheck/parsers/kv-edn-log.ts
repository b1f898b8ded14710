// Reads a key-value history written as one EDN map per line (the kv fixtures), e.g.
//   {:process 0, :type :invoke, :f :append, :key "0", :value "x 0 0 y"}
// Times are line numbers. Lines of a non-numeric process (a nemesis) are skipped and counted.

import type { Operation } from '../operation.js';
import type { KvInput, KvOutput } from '../models/kv-model.js';
import { EdnKeyword, EdnMap, readEdn, type EdnValue } from './edn-value.js';
import { HistoryParseError } from './history-parse-error.js';
import { pairJepsenEvents, type JepsenEvent, type JepsenHistoryStats } from './jepsen-pairing.js';

interface KvEventValue {
  readonly key: string;
  readonly value: EdnValue;
}

export interface KvHistory {
  readonly operations: Operation<KvInput, KvOutput>[];
  readonly stats: JepsenHistoryStats & { readonly skippedLines: number };
}

const EVENT_TYPES = new Set(['invoke', 'ok', 'fail', 'info']);

export function parseKvLog(file: string, text: string): KvHistory {
  const events: JepsenEvent<KvEventValue>[] = [];
  let skippedLines = 0;
  text.split(/\r?\n/).forEach((line, index) => {
    const lineNumber = index + 1;
    if (line.trim() === '') return;
    const fail = (message: string): never => {
      throw new HistoryParseError(file, lineNumber, message);
    };
    let map: EdnValue;
    try {
      map = readEdn(line);
    } catch (error) {
      return fail((error as Error).message);
    }
    if (!(map instanceof EdnMap)) return fail('expected a {...} map');
    const process = map.get('process');
    if (typeof process !== 'number') {
      skippedLines++;
      return;
    }
    const type = map.get('type');
    const f = map.get('f');
    const key = map.get('key');
    if (!(type instanceof EdnKeyword) || !EVENT_TYPES.has(type.name)) return fail('bad :type');
    if (!(f instanceof EdnKeyword)) return fail('bad :f');
    if (typeof key !== 'string') return fail(':key must be a string');
    events.push({
      lineNumber,
      process,
      type: type.name as JepsenEvent<KvEventValue>['type'],
      f: f.name,
      value: { key, value: map.get('value') ?? null },
    });
  });

  const stringValue = (event: JepsenEvent<KvEventValue>): string => {
    const value = event.value.value;
    // The store answers a key that was never written with "" (see kv-model.ts); nil means the same.
    if (value === null) return '';
    if (typeof value === 'string') return value;
    throw new HistoryParseError(file, event.lineNumber, ':value must be a string or nil');
  };

  const { operations, stats } = pairJepsenEvents<KvEventValue, KvInput, KvOutput>(file, events, {
    input(invoke) {
      const key = invoke.value.key;
      switch (invoke.f) {
        case 'get':
          return { f: 'get', key };
        case 'put':
        case 'append':
          return { f: invoke.f, key, value: stringValue(invoke) };
        default:
          throw new HistoryParseError(file, invoke.lineNumber, `unknown kv operation :${invoke.f}`);
      }
    },
    output(ok, input) {
      if (ok.value.key !== input.key) throw new HistoryParseError(file, ok.lineNumber, 'completion is for another key');
      return input.f === 'get' ? { f: 'get', value: stringValue(ok) } : { f: input.f };
    },
  });
  return { operations, stats: { ...stats, skippedLines } };
}
