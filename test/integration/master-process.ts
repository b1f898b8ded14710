// A master as a real child process, for integration, crash and chaos tests: its config written
// to its own directory, its output captured, its exit observed.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { cfsGet } from './cfs-client.js';

const here = path.dirname(fileURLToPath(import.meta.url));
/** dist/src/cli/main.js, from dist/test/integration/. */
export const MAIN_JS = path.join(here, '..', '..', 'src', 'cli', 'main.js');

export interface MasterSpec {
  readonly id: number;
  readonly host: string;
  readonly httpPort: number;
  readonly raftPort: number;
  /** Every member of the cluster, `id:host:httpPort:raftPort`. */
  readonly peers: string;
  readonly dataDir: string;
  readonly extraConfig?: Record<string, unknown>;
  readonly env?: Record<string, string>;
  /** The CLI command and its flags after `--config <file>`; default `server` with none. */
  readonly command?: { readonly name: string; readonly args: readonly string[] };
}

export interface ExitInfo {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** Output that only a native crash or an unhandled JS failure prints. */
const CRASH_PATTERNS = [/Segmentation fault/i, /SIGSEGV/, /SIGABRT/, /core dumped/i, /terminate called/, /FATAL ERROR/, /Assertion .* failed/, /unhandled rejection/i, /uncaught exception/i, /double free/i];

const MAX_CAPTURED_BYTES = 8 * 1024 * 1024;

export class MasterProcess {
  private child: ChildProcess | null = null;
  private output = '';
  private exited: Promise<ExitInfo> | null = null;
  exitInfo: ExitInfo | null = null;
  readonly configPath: string;

  constructor(readonly spec: MasterSpec) {
    mkdirSync(spec.dataDir, { recursive: true });
    this.configPath = path.join(spec.dataDir, 'master.json');
    const config = {
      role: 'master',
      id: String(spec.id),
      ip: spec.host,
      listen: String(spec.httpPort),
      bindIp: true,
      peers: spec.peers,
      replicaPort: spec.raftPort,
      clusterName: 'itest',
      walDir: path.join(spec.dataDir, 'wal'),
      storeDir: path.join(spec.dataDir, 'store'),
      logLevel: 'info',
      ...spec.extraConfig,
    };
    writeFileSync(this.configPath, JSON.stringify(config, null, 2));
  }

  /** https:// when the member serves HTTPS (httpTlsCertFile in its config). */
  get url(): string {
    const scheme = this.spec.extraConfig?.httpTlsCertFile === undefined ? 'http' : 'https';
    return `${scheme}://${this.spec.host}:${this.spec.httpPort}`;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get running(): boolean {
    return this.child !== null && this.exitInfo === null;
  }

  /** Starts the process and waits until its HTTP API answers (or it dies). */
  async start(readyTimeoutMs = 20_000, env: Record<string, string> = {}): Promise<void> {
    // Output accumulates across restarts (a chaos run's post-mortem needs all of it).
    if (this.output.length < MAX_CAPTURED_BYTES) this.output += `--- start ${new Date().toISOString()} ---\n`;
    this.exitInfo = null;
    const command = this.spec.command ?? { name: 'server', args: [] };
    const child = spawn(process.execPath, [MAIN_JS, command.name, '--config', this.configPath, ...command.args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...this.spec.env, ...env },
    });
    this.child = child;
    const capture = (chunk: Buffer): void => {
      if (this.output.length < MAX_CAPTURED_BYTES) this.output += chunk.toString('utf8');
    };
    child.stdout.on('data', capture);
    child.stderr.on('data', capture);
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.exitInfo = { code, signal };
        resolve(this.exitInfo);
      });
    });
    const deadline = Date.now() + readyTimeoutMs;
    for (;;) {
      if (this.exitInfo !== null) throw new Error(`master ${this.spec.id} exited during start-up (${JSON.stringify(this.exitInfo)}):\n${this.tail()}`);
      try {
        const reply = await cfsGet(this.url, '/admin/getIp', {}, { timeoutMs: 1000 });
        if (reply.status === 200) return;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) throw new Error(`master ${this.spec.id} not ready within ${readyTimeoutMs} ms:\n${this.tail()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Starts the process without waiting for it to be ready (for runs that are expected to die). */
  launch(env: Record<string, string> = {}): void {
    void this.start(60_000, env).catch(() => undefined);
  }

  signal(sig: NodeJS.Signals): void {
    this.child?.kill(sig);
  }

  /** Waits for the process to end; kills it (SIGKILL) and fails if it takes longer than `timeoutMs`. */
  async waitExit(timeoutMs: number): Promise<ExitInfo> {
    if (this.exited === null) throw new Error('not started');
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), timeoutMs);
    });
    const result = await Promise.race([this.exited, timeout]);
    clearTimeout(timer);
    if (result === 'timeout') {
      this.signal('SIGKILL');
      await this.exited;
      throw new Error(`master ${this.spec.id} did not exit within ${timeoutMs} ms:\n${this.tail()}`);
    }
    return result;
  }

  /** SIGKILL and wait: power loss for the process (the OS keeps what it wrote). */
  async kill(): Promise<void> {
    if (!this.running) return;
    this.signal('SIGKILL');
    await this.exited;
  }

  get logs(): string {
    return this.output;
  }

  /** Lines that betray a native crash or an unhandled failure. */
  crashLines(): string[] {
    return this.output.split('\n').filter((line) => CRASH_PATTERNS.some((p) => p.test(line)));
  }

  tail(lines = 40): string {
    return this.output.split('\n').slice(-lines).join('\n');
  }
}
