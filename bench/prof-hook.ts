// Preloaded into a master by the benchmarks that profile (`bench:heartbeats --prof DIR`,
// `bench:profile`) with NODE_OPTIONS=--import <this file> (Node refuses --cpu-prof in
// NODE_OPTIONS, and --cpu-prof would profile start-up and stop too): SIGUSR2 starts
// V8's CPU profiler in the process, the next SIGUSR2 stops it and writes
// $HB_PROF_DIR/<HB_PROF_NAME>-<n>.cpuprofile, so the bench profiles exactly the window it wants.
// The in-thread inspector session answers synchronously, so the file is complete when the
// handler returns.
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import path from 'node:path';

const dir = process.env.HB_PROF_DIR;
const name = process.env.HB_PROF_NAME ?? `master-${process.pid}`;

if (dir !== undefined && dir !== '') {
  const session = new Session();
  session.connect();
  let running = false;
  let seq = 0;
  const fail = (what: string, err: Error | null): boolean => {
    if (err !== null) process.stderr.write(`prof-hook: ${what}: ${err.message}\n`);
    return err !== null;
  };
  process.on('SIGUSR2', () => {
    if (!running) {
      running = true;
      session.post('Profiler.enable', (err) => {
        if (fail('enable', err)) return;
        session.post('Profiler.setSamplingInterval', { interval: 500 }, (e) => {
          if (!fail('interval', e)) session.post('Profiler.start', (e2) => void fail('start', e2));
        });
      });
      return;
    }
    running = false;
    session.post('Profiler.stop', (err, result) => {
      if (fail('stop', err)) return;
      writeFileSync(path.join(dir, `${name}-${++seq}.cpuprofile`), JSON.stringify(result.profile));
      session.post('Profiler.disable');
    });
  });
}
