// Child process for the state-store crash test: commits numbered batches forever and prints
// "committed <n>" after each commit resolves; the parent kills it with SIGKILL at a random time.
// Batch n puts `batchKeyCount` keys "b<n>/<j>" (n and j zero-padded).

import { StateStore } from '../../src/storage/state-store.js';

const [dir, keyCountText, valueBytesText] = process.argv.slice(2);
if (dir === undefined) throw new Error('usage: crash-writer <dir> <batchKeyCount> <valueBytes>');
const batchKeyCount = Number(keyCountText ?? '200');
const valueBytes = Number(valueBytesText ?? '1024');
const silent = { info() {}, warn() {}, error() {} };

const store = await StateStore.open(dir, { logger: silent });
process.stdout.write('ready\n');
for (let n = 0; ; n++) {
  const batch = store.batch();
  for (let j = 0; j < batchKeyCount; j++) {
    batch.put(Buffer.from(`b${String(n).padStart(8, '0')}/${String(j).padStart(6, '0')}`), Buffer.alloc(valueBytes, n % 251));
  }
  await batch.commit();
  process.stdout.write(`committed ${n}\n`);
}
