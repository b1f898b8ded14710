// A tiny data-driven test format in the style of etcd-io/raft's interaction tests: a file of
// blocks, each a command line, a line "----", and the expected output, ended by a blank line.
// Lines starting with '#' between blocks are comments. REWRITE=1 writes actual output back.
import { readFileSync, writeFileSync } from 'node:fs';

export interface Block {
  readonly comments: string[];
  readonly command: string;
  readonly expected: string;
  readonly line: number;
}

export function parseDataDriven(text: string): Block[] {
  const lines = text.split('\n');
  const blocks: Block[] = [];
  let i = 0;
  while (i < lines.length) {
    const comments: string[] = [];
    while (i < lines.length && (lines[i].trim() === '' || lines[i].startsWith('#'))) {
      if (lines[i].startsWith('#')) comments.push(lines[i]);
      i++;
    }
    if (i >= lines.length) break;
    const line = i + 1;
    const command = lines[i++];
    if (lines[i] !== '----') throw new Error(`line ${i + 1}: expected ---- after command "${command}"`);
    i++;
    const out: string[] = [];
    while (i < lines.length && lines[i] !== '') out.push(lines[i++]);
    blocks.push({ comments, command, expected: out.join('\n'), line });
  }
  return blocks;
}

export function formatDataDriven(blocks: readonly Block[], outputs: readonly string[]): string {
  const parts = blocks.map((b, k) => [...b.comments, b.command, '----', outputs[k] === '' ? 'ok' : outputs[k]].join('\n'));
  return parts.join('\n\n') + '\n';
}

/** Runs every block of `path` through `run`; returns mismatches (or rewrites the file). */
export function runDataDrivenFile(path: string, run: (command: string) => string): string[] {
  const blocks = parseDataDriven(readFileSync(path, 'utf8'));
  const outputs = blocks.map((b) => {
    const out = run(b.command).replace(/\n+$/, '');
    return out === '' ? 'ok' : out;
  });
  if (process.env.REWRITE === '1') {
    writeFileSync(path, formatDataDriven(blocks, outputs));
    return [];
  }
  const failures: string[] = [];
  blocks.forEach((b, k) => {
    if (outputs[k] !== b.expected) {
      failures.push(`${path}:${b.line}: ${b.command}\n--- expected\n${b.expected}\n--- actual\n${outputs[k]}`);
    }
  });
  return failures;
}
