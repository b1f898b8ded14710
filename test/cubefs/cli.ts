// Runs the reference cfs-cli against a target: HOME points at the target's cli-home, whose
// .cfs-cli.json names the target's masters. Bounded: a hung command is killed.
import { spawn } from 'node:child_process';

export interface CliResult {
  /** Exit code; -1 when the harness could not run the command (see stderr). */
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly ms: number;
}

export function runCli(cli: string, home: string, args: readonly string[], stdin = '', timeoutMs = 90_000): Promise<CliResult> {
  const t0 = Date.now();
  return new Promise((resolve) => {
    const child = spawn(cli, [...args], { env: { ...process.env, HOME: home }, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    child.stdin.on('error', () => undefined);
    child.stdin.end(stdin);
    child.once('error', (error) => {
      clearTimeout(timer);
      resolve({ code: -1, stdout: '', stderr: `harness: cannot run ${cli}: ${error.message}`, ms: Date.now() - t0 });
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      const stderr = Buffer.concat(err).toString('utf8');
      resolve({
        code: timedOut ? -1 : (code ?? -1),
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: timedOut ? `${stderr}harness: cfs-cli killed after ${timeoutMs} ms` : signal !== null ? `${stderr}harness: cfs-cli died of ${signal}` : stderr,
        ms: Date.now() - t0,
      });
    });
  });
}
