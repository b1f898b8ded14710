// Cheap 52-bit hashes for the simulator's chains: a log position's hash covers every entry up
// to it (log matching), a state machine digest covers every applied entry (state machine safety).
// Two independent FNV-1a style lanes keep accidental collisions out of reach.

const MASK_20 = 0xfffff;

export function chainHash(previous: number, term: number, type: number, data: Uint8Array): number {
  let a = (Math.floor(previous / 1048576) ^ 0x811c9dc5) >>> 0;
  let b = ((previous & MASK_20) ^ 0x01000193 ^ term) >>> 0;
  a = Math.imul(a ^ term, 0x01000193) >>> 0;
  a = Math.imul(a ^ type, 0x01000193) >>> 0;
  b = Math.imul(b ^ (type + 7), 0x5bd1e995) >>> 0;
  for (let i = 0; i < data.length; i++) {
    a = Math.imul(a ^ data[i], 0x01000193) >>> 0;
    b = Math.imul(b ^ data[i], 0x5bd1e995) >>> 0;
    b ^= b >>> 15;
  }
  return (a >>> 0) * 1048576 + (b & MASK_20);
}
