// Numbers as an operator reads them: grouped digits, binary byte units, ages in words.

const INTEGER = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB'];

export function count(n: number | null | undefined): string {
  return n === null || n === undefined ? '–' : INTEGER.format(n);
}

/** Bytes (a number or an exact decimal string) in binary units, e.g. "10 GiB", "1.5 TiB". */
export function bytes(value: number | string): string {
  let n = typeof value === 'string' ? Number(BigInt(value)) : value;
  let unit = 0;
  while (n >= 1024 && unit < UNITS.length - 1) {
    n /= 1024;
    unit++;
  }
  const digits = unit === 0 || n >= 100 || Number.isInteger(n) ? 0 : 1;
  return `${n.toFixed(digits)} ${UNITS[unit]}`;
}

/** used / total as a fraction in [0, 1]; 0 when total is 0. */
export function ratio(used: number | string, total: number | string): number {
  const t = Number(total);
  if (!(t > 0)) return 0;
  return Math.min(1, Math.max(0, Number(used) / t));
}

export function percent(fraction: number): string {
  return `${(fraction * 100).toFixed(fraction > 0 && fraction < 0.1 ? 1 : 0)}%`;
}

/** "3 s ago", "4 min ago", "2 h ago"; "never" for 0. */
export function age(unixMs: number, nowMs: number): string {
  if (unixMs <= 0) return 'never';
  const s = Math.max(0, Math.round((nowMs - unixMs) / 1000));
  if (s < 90) return `${s} s ago`;
  if (s < 90 * 60) return `${Math.round(s / 60)} min ago`;
  if (s < 48 * 3600) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86400)} d ago`;
}

/** Local date and time, "2026-12-07 14:03:12". */
export function dateTime(unixMs: number): string {
  const d = new Date(unixMs);
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

/** Milliseconds with sensible precision: "0.42 ms", "12 ms". */
export function millis(ms: number | null): string {
  if (ms === null) return '–';
  return ms < 10 ? `${ms.toFixed(2)} ms` : `${Math.round(ms)} ms`;
}
