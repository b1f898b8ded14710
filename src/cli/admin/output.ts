// How admin commands print: a human table by default, or with `--json` the data itself (64-bit
// integers exact) for scripts. Everything goes to stdout; progress and notes go to stderr.
import { stringifyJson } from '../../util/json.js';

export type Cell = string | number | bigint | boolean | null | undefined;

export interface Column<R> {
  readonly header: string;
  readonly value: (row: R) => Cell;
  /** Numbers read best right-aligned. */
  readonly align?: 'left' | 'right';
}

export interface Output {
  readonly json: boolean;
  /** `--json`: the value; otherwise the rendered text. */
  result(value: unknown, human: () => string): void;
  /** A note for humans on stderr (never part of the data). */
  note(text: string): void;
}

export function createOutput(json: boolean, stdout: NodeJS.WritableStream = process.stdout, stderr: NodeJS.WritableStream = process.stderr): Output {
  return {
    json,
    result(value, human) {
      stdout.write(json ? `${stringifyJson(value ?? null)}\n` : ensureNewline(human()));
    },
    note(text) {
      stderr.write(ensureNewline(text));
    },
  };
}

function ensureNewline(text: string): string {
  return text === '' || text.endsWith('\n') ? text : `${text}\n`;
}

export function cellText(cell: Cell): string {
  if (cell === null || cell === undefined) return '-';
  return String(cell);
}

/** Columns padded to their widest cell, a header line, no borders (like kubectl and cfs-cli). */
export function table<R>(rows: readonly R[], columns: readonly Column<R>[]): string {
  const cells = rows.map((r) => columns.map((c) => cellText(c.value(r))));
  const widths = columns.map((c, i) => Math.max(c.header.length, ...cells.map((row) => row[i].length)));
  const line = (values: readonly string[]): string =>
    values
      .map((v, i) => (columns[i].align === 'right' ? v.padStart(widths[i]) : v.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  return [line(columns.map((c) => c.header)), ...cells.map(line)].join('\n') + '\n';
}

/** `key: value` lines, keys aligned. */
export function fields(pairs: readonly (readonly [string, Cell])[]): string {
  const width = Math.max(0, ...pairs.map(([k]) => k.length));
  return pairs.map(([k, v]) => `${`${k}:`.padEnd(width + 1)} ${cellText(v)}`).join('\n') + '\n';
}

/** Bytes in binary units, as cfs-cli prints sizes. */
export function bytesText(value: unknown): string {
  const n = typeof value === 'bigint' ? Number(value) : typeof value === 'number' ? value : NaN;
  if (!Number.isFinite(n)) return '-';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${v} B` : `${v.toFixed(1)} ${units[u]}`;
}
