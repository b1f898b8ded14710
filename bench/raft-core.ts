// The cost of the Raft core itself: entries per second committed (and applied on every member)
// by 3 in-memory members over an instant network, with proposals of 1 and of 64 entries per
// call. No disk, no sockets: this measures the protocol code, the upper bound for the driver.
//
//   npm run bench:raft-core [-- --seconds 3]
import { parseArgs } from 'node:util';
import { bootstrapLog, MemoryStorage, RawNode, SeededRandom, StateRole, type Message } from '../src/raft/core/index.js';

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '3' }, runs: { type: 'string', default: '5' } } });
const seconds = Number(values.seconds);
const runs = Number(values.runs);

function makeCluster(): { nodes: RawNode[]; storages: MemoryStorage[] } {
  const boot = bootstrapLog([1, 2, 3]);
  const storages = [1, 2, 3].map(() => {
    const s = new MemoryStorage();
    s.append(boot.entries);
    s.setHardState(boot.hardState);
    return s;
  });
  const nodes = storages.map((storage, i) =>
    RawNode.create({ id: i + 1, storage, random: new SeededRandom(i + 1), electionTick: 10, heartbeatTick: 1, maxInflightMsgs: 256, maxSizePerMsgBytes: 1024 * 1024 }),
  );
  return { nodes, storages };
}

/** Handles every Ready and delivers every message until nothing moves; returns entries applied on node 1. */
function stabilize(nodes: RawNode[], storages: MemoryStorage[]): number {
  let applied = 0;
  let moved = true;
  while (moved) {
    moved = false;
    const inbox: Message[] = [];
    for (let i = 0; i < nodes.length; i++) {
      const node = nodes[i];
      if (!node.hasReady()) continue;
      moved = true;
      const rd = node.ready();
      if (rd.snapshot !== null) storages[i].applySnapshot(rd.snapshot);
      storages[i].append(rd.entries);
      if (rd.hardState !== null) storages[i].setHardState(rd.hardState);
      inbox.push(...rd.leaderMessages, ...rd.messages);
      if (i === 0) applied += rd.committedEntries.length;
      node.advance();
    }
    for (const m of inbox) nodes[m.to - 1].step(m);
  }
  return applied;
}

function measure(batchSize: number): number {
  const { nodes, storages } = makeCluster();
  nodes[0].campaign();
  stabilize(nodes, storages);
  if (nodes[0].status().role !== StateRole.Leader) throw new Error('node 1 did not become leader');
  const payload = new Uint8Array(128);
  const batch = Array.from({ length: batchSize }, () => payload);
  let committed = 0;
  const deadline = performance.now() + seconds * 1000;
  const started = performance.now();
  let iterations = 0;
  while (performance.now() < deadline) {
    nodes[0].propose(batch);
    committed += stabilize(nodes, storages);
    // Keep the in-memory logs from growing without bound.
    if (++iterations % 1000 === 0) for (let i = 0; i < 3; i++) storages[i].compact(storages[i].lastIndex() - 10, nodes[i].status().conf);
  }
  return (committed / (performance.now() - started)) * 1000;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

console.log(`raft core, 3 members, instant network, 128-byte entries, ${runs} runs of ${seconds} s`);
console.log('entries/proposal | entries committed/s (median) | min | max');
const results: Record<number, number> = {};
for (const batchSize of [1, 64]) {
  const xs = Array.from({ length: runs }, () => measure(batchSize));
  results[batchSize] = median(xs);
  console.log(`${String(batchSize).padStart(16)} | ${Math.round(median(xs)).toLocaleString('en-US').padStart(28)} | ${Math.round(Math.min(...xs)).toLocaleString('en-US')} | ${Math.round(Math.max(...xs)).toLocaleString('en-US')}`);
}
console.log(`summary: core commits ${Math.round(results[1]).toLocaleString('en-US')} entries/s one at a time and ${Math.round(results[64]).toLocaleString('en-US')} entries/s in batches of 64`);
