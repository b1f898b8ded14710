// A reference CubeFS process (cfs-server in the foreground), its config written to its own
// directory and its output kept in a log file there; stop() kills it and awaits its exit.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export class GoProcess {
  private child: ChildProcess | null = null;
  private exited: Promise<void> | null = null;
  exitInfo: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  readonly configPath: string;
  /** stdout+stderr of the process; CubeFS's own logs are under `<dir>/log`. */
  readonly outputPath: string;

  constructor(
    readonly name: string,
    private readonly binary: string,
    readonly dir: string,
    config: Record<string, unknown>,
  ) {
    mkdirSync(dir, { recursive: true });
    this.configPath = path.join(dir, `${name}.json`);
    this.outputPath = path.join(dir, 'output.txt');
    writeFileSync(this.configPath, JSON.stringify(config, null, 2));
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get running(): boolean {
    return this.child !== null && this.exitInfo === null;
  }

  start(): void {
    if (this.child !== null) throw new Error(`${this.name} already started`);
    const fd = openSync(this.outputPath, 'a');
    try {
      // -f: stay in the foreground (no daemon fork, so the pid is ours); keep stdout/stderr.
      const child = spawn(this.binary, ['-f', '-redirect-std=false', '-c', this.configPath], { stdio: ['ignore', fd, fd], cwd: this.dir });
      this.child = child;
      this.exited = new Promise((resolve) => {
        child.once('exit', (code, signal) => {
          this.exitInfo = { code, signal };
          resolve();
        });
        child.once('error', (error) => {
          this.exitInfo = { code: null, signal: null };
          writeFileSync(this.outputPath, `spawn error: ${error.message}\n`, { flag: 'a' });
          resolve();
        });
      });
    } finally {
      closeSync(fd);
    }
  }

  /** SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone. */
  async stop(graceMs = 2000): Promise<void> {
    if (this.child === null || this.exited === null) return;
    if (this.exitInfo === null) {
      this.child.kill('SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      const grace = new Promise<'late'>((resolve) => {
        timer = setTimeout(() => resolve('late'), graceMs);
      });
      const result = await Promise.race([this.exited.then(() => 'done' as const), grace]);
      clearTimeout(timer);
      if (result === 'late') this.child.kill('SIGKILL');
    }
    await this.exited;
  }

  /** The last lines of its output, for failure messages. */
  tail(lines = 20): string {
    try {
      return readFileSync(this.outputPath, 'utf8').split('\n').slice(-lines).join('\n');
    } catch {
      return '';
    }
  }
}
