import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { UNKNOWN_OUTPUT } from './operation.js';
import { EdnKeyword, EdnMap, readEdn } from './parsers/edn-value.js';
import { HistoryParseError } from './parsers/history-parse-error.js';
import { parseJepsenRegisterLog } from './parsers/jepsen-register-log.js';
import { parseKvLog } from './parsers/kv-edn-log.js';

const jepsenLine = (process: number | string, type: string, f: string, value: string, separator = '\t'): string =>
  `INFO  jepsen.util - ${process}${separator}:${type}${separator}:${f}${separator}${value}`;

void describe('EDN reader', () => {
  void it('reads the values Jepsen writes', () => {
    assert.equal(readEdn('nil'), null);
    assert.equal(readEdn('-42'), -42);
    assert.deepEqual(readEdn('[1 nil]'), [1, null]);
    assert.equal(readEdn('"a \\"quoted\\" \\\\ word"'), 'a "quoted" \\ word');
    assert.deepEqual(readEdn(':timed-out'), new EdnKeyword('timed-out'));
    const map = readEdn('{:process 0, :type :ok, :value "x"}');
    assert.ok(map instanceof EdnMap);
    assert.equal(map.get('process'), 0);
    assert.equal(map.get('value'), 'x');
  });

  void it('rejects malformed text', () => {
    assert.throws(() => readEdn('[1 2'));
    assert.throws(() => readEdn('"open'));
    assert.throws(() => readEdn('1 2'));
    assert.throws(() => readEdn('{"k" 1}'));
  });
});

void describe('Jepsen register log parser', () => {
  void it('pairs invokes with completions, whatever the separators', () => {
    const log = [
      jepsenLine(0, 'invoke', 'write', '3'),
      jepsenLine(1, 'invoke', 'cas', '[3 4]', '   '),
      jepsenLine(0, 'ok', 'write', '3'),
      jepsenLine(1, 'ok', 'cas', '[3 4]', ' '),
      jepsenLine(0, 'invoke', 'read', 'nil'),
      jepsenLine(0, 'ok', 'read', '4'),
    ].join('\n');
    const { operations, stats } = parseJepsenRegisterLog('t.log', log);
    assert.deepEqual(operations, [
      { clientId: 0, call: 1, return: 3, input: { f: 'write', value: 3 }, output: { f: 'write' } },
      { clientId: 1, call: 2, return: 4, input: { f: 'cas', expected: 3, next: 4 }, output: { f: 'cas', swapped: true } },
      { clientId: 0, call: 5, return: 6, input: { f: 'read' }, output: { f: 'read', value: 4 } },
    ]);
    assert.equal(stats.ok, 3);
  });

  void it('drops :fail, makes :info and never-completed invokes indeterminate', () => {
    const log = [
      jepsenLine(0, 'invoke', 'read', 'nil'),
      jepsenLine(0, 'fail', 'read', ':timed-out'),
      jepsenLine(1, 'invoke', 'write', '1'),
      jepsenLine(1, 'info', 'write', ':timed-out'),
      jepsenLine(2, 'invoke', 'cas', '[1 2]'),
      jepsenLine(2, 'fail', 'cas', '[1 2]'),
      jepsenLine(3, 'invoke', 'write', '2'),
    ].join('\n');
    const { operations, stats } = parseJepsenRegisterLog('t.log', log);
    assert.deepEqual(operations, [
      { clientId: 1, call: 3, return: Infinity, input: { f: 'write', value: 1 }, output: UNKNOWN_OUTPUT },
      { clientId: 3, call: 7, return: Infinity, input: { f: 'write', value: 2 }, output: UNKNOWN_OUTPUT },
    ]);
    assert.equal(stats.failed, 2);
    assert.equal(stats.indeterminate, 1);
    assert.equal(stats.openAtEnd, 1);
  });

  void it('counts a process reused after its :info (Jepsen never does) and keeps both operations', () => {
    const log = [
      jepsenLine(4, 'invoke', 'write', '1'),
      jepsenLine(4, 'info', 'write', ':timed-out'),
      jepsenLine(4, 'invoke', 'read', 'nil'),
      jepsenLine(4, 'ok', 'read', '1'),
    ].join('\n');
    const { operations, stats } = parseJepsenRegisterLog('t.log', log);
    assert.equal(operations.length, 2);
    assert.equal(stats.invokesAfterInfo, 1);
  });

  void it('skips other log lines and the nemesis', () => {
    const log = ['INFO  jepsen.core - Run complete', jepsenLine(':nemesis', 'info', 'start', 'nil'), ''].join('\n');
    const { operations, stats } = parseJepsenRegisterLog('t.log', log);
    assert.equal(operations.length, 0);
    assert.equal(stats.skippedLines, 2);
  });

  void it('names the file and line of a malformed history', () => {
    const orphan = jepsenLine(0, 'ok', 'read', '1');
    assert.throws(() => parseJepsenRegisterLog('t.log', orphan), (error: unknown) => error instanceof HistoryParseError && error.lineNumber === 1);
    const twice = [jepsenLine(0, 'invoke', 'read', 'nil'), jepsenLine(0, 'invoke', 'read', 'nil')].join('\n');
    assert.throws(() => parseJepsenRegisterLog('t.log', twice), /t\.log:2: process 0 invoked again/);
    assert.throws(() => parseJepsenRegisterLog('t.log', jepsenLine(0, 'invoke', 'cas', '[1]')), HistoryParseError);
    assert.throws(() => parseJepsenRegisterLog('t.log', jepsenLine(0, 'invoke', 'write', '"x"')), HistoryParseError);
  });
});

void describe('kv history parser', () => {
  void it('reads get, put and append, by key', () => {
    const log = [
      '{:process 0, :type :invoke, :f :append, :key "k", :value "x 0 0 y"}',
      '{:process 1, :type :invoke, :f :get, :key "k", :value nil}',
      '{:process 0, :type :ok, :f :append, :key "k", :value "x 0 0 y"}',
      '{:process 1, :type :ok, :f :get, :key "k", :value "x 0 0 y"}',
      '{:process 2, :type :invoke, :f :put, :key "j", :value "v"}',
      '{:process 2, :type :info, :f :put, :key "j", :value "v"}',
    ].join('\n');
    const { operations } = parseKvLog('kv.txt', log);
    assert.deepEqual(operations, [
      { clientId: 0, call: 1, return: 3, input: { f: 'append', key: 'k', value: 'x 0 0 y' }, output: { f: 'append' } },
      { clientId: 1, call: 2, return: 4, input: { f: 'get', key: 'k' }, output: { f: 'get', value: 'x 0 0 y' } },
      { clientId: 2, call: 5, return: Infinity, input: { f: 'put', key: 'j', value: 'v' }, output: UNKNOWN_OUTPUT },
    ]);
  });

  void it('reads a nil answer to get as the empty value', () => {
    const log = ['{:process 0, :type :invoke, :f :get, :key "k", :value nil}', '{:process 0, :type :ok, :f :get, :key "k", :value nil}'].join('\n');
    assert.deepEqual(parseKvLog('kv.txt', log).operations[0].output, { f: 'get', value: '' });
  });

  void it('rejects a line that is not a history event', () => {
    assert.throws(() => parseKvLog('kv.txt', '{:process 0, :type :invoke, :f :get}'), /kv\.txt:1: :key must be a string/);
    assert.throws(() => parseKvLog('kv.txt', 'garbage'), HistoryParseError);
  });
});
