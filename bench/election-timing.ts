// npm run bench:election [-- --seconds 20]
// How the Raft timers were chosen: for each candidate (tick interval, election tick), 3 masters
// under 64 writing clients for N seconds: spurious leader changes (terms gained under load with
// no fault: the timeout is too short for this machine's event-loop pauses), the event loop's
// p99/max lag, then the failover time after SIGKILL of the leader (the timeout is too long).
import { parseArgs } from 'node:util';
import { MasterCluster } from '../test/integration/cluster.js';
import { cfsGet } from '../test/integration/cfs-client.js';
import { startLoad } from '../test/integration/load.js';
import { memberStatus } from '../test/integration/member-status.js';

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '20' } } });
const SECONDS = Number(values.seconds);
const CANDIDATES: readonly [number, number][] = [
  [20, 10],
  [50, 10],
  [100, 10],
  [500, 5],
];

async function lagSeconds(url: string): Promise<{ p99: number; max: number }> {
  const text = (await cfsGet(url, '/metrics')).body;
  const read = (name: string): number => {
    const match = new RegExp(`^nodejs_eventloop_lag_${name}_seconds (\\S+)$`, 'm').exec(text);
    return match === null ? NaN : Number(match[1]);
  };
  return { p99: read('p99'), max: read('max') };
}

console.log(`3 masters, 64 writing clients, ${SECONDS} s per setting`);
console.log('tick ms | election ticks | timeout ms | terms gained under load | loop lag p99/max ms (leader) | first write after SIGKILL of the leader ms');
let subnet = 180;
for (const [tickMs, electionTick] of CANDIDATES) {
  const cluster = new MasterCluster({ subnet: subnet++, size: 3, extraConfig: { tickInterval: tickMs, electionTick, logLevel: 'warn' } });
  try {
    await cluster.start();
    const leader = await cluster.leader();
    const termBefore = (await memberStatus(leader.url)).term;
    const load = startLoad({ urls: cluster.urls, clients: 64, prefix: `e${tickMs}` });
    await new Promise((r) => setTimeout(r, SECONDS * 1000));
    const statuses = await Promise.all(cluster.masters.map((m) => memberStatus(m.url)));
    const termsGained = Math.max(...statuses.map((s) => s.term)) - termBefore;
    const lag = await lagSeconds(leader.url);
    // Failover: SIGKILL the leader, time to the next acknowledged write sent after it.
    const before = load.result.acked;
    const killedAt = performance.now();
    await leader.kill();
    let failoverMs = NaN;
    while (performance.now() - killedAt < 30_000) {
      if (load.result.acked > before + 5) {
        failoverMs = performance.now() - killedAt;
        break;
      }
      await new Promise((r) => setTimeout(r, 5));
    }
    await load.stop();
    console.log(
      `${String(tickMs).padStart(7)} | ${String(electionTick).padStart(14)} | ${String(tickMs * electionTick).padStart(10)} | ${String(termsGained).padStart(23)} | ${(lag.p99 * 1000).toFixed(0).padStart(12)} / ${(lag.max * 1000).toFixed(0).padEnd(13)} | ${failoverMs.toFixed(0)}`,
    );
    await cluster.stop();
  } finally {
    await cluster.destroy();
  }
}
