// Small argument parsers of the admin commands: each names the argument it refuses (exit 2).
import { UsageError } from './errors.js';

/** A non-negative integer argument. */
export function parseCount(name: string, text: string): number {
  const n = Number(text);
  if (text.trim() === '' || !Number.isSafeInteger(n) || n < 0) throw new UsageError(`${name} must be a non-negative integer, got "${text}"`);
  return n;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
