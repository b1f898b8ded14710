// Go's `%v` text of the values our messages embed, for replies whose msg clients compare with
// the Go master's: a float32 (shortest decimal that reads back as the same float32, exponent
// form outside 1e-4 <= |x| < 1e21) and a map[string]interface{} (`map[k1:v1 k2:v2]`, keys sorted).

/** `fmt.Sprintf("%v", float32(x))`. */
export function goFloat32(x: number): string {
  const f = Math.fround(x);
  if (Number.isNaN(f)) return 'NaN';
  if (!Number.isFinite(f)) return f > 0 ? '+Inf' : '-Inf';
  if (f === 0) return Object.is(f, -0) ? '-0' : '0';
  let digits = '';
  for (let precision = 1; precision <= 9; precision++) {
    digits = f.toPrecision(precision);
    if (Math.fround(Number(digits)) === f) break;
  }
  const shortest = Number(digits);
  const abs = Math.abs(shortest);
  if (abs >= 1e-4 && abs < 1e21) return String(shortest);
  // Go: mantissa without trailing zeros, exponent with a sign and at least two digits.
  const [mantissa, exponent] = shortest.toExponential().split('e');
  const sign = exponent.startsWith('-') ? '-' : '+';
  const magnitude = exponent.replace(/^[+-]/, '').padStart(2, '0');
  return `${mantissa}e${sign}${magnitude}`;
}

/** `fmt.Sprintf("%v", m)` for a map whose values are already formatted. */
export function goMapString(entries: ReadonlyMap<string, string> | Readonly<Record<string, string>>): string {
  const pairs = entries instanceof Map ? [...entries] : Object.entries(entries);
  pairs.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `map[${pairs.map(([k, v]) => `${k}:${v}`).join(' ')}]`;
}
