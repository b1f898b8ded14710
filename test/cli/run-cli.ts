// Runs the cubemaster command line as a real child process (dist/src/cli/main.js), as an operator
// or a script would, and captures its exit code, stdout and stderr.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { cfsGet } from '../integration/cfs-client.js';

const here = path.dirname(fileURLToPath(import.meta.url));
/** dist/src/cli/main.js, from dist/test/cli/. */
export const CLI_JS = path.join(here, '..', '..', 'src', 'cli', 'main.js');

export interface CliRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export function runCli(args: readonly string[], options: { env?: Record<string, string>; timeoutMs?: number } = {}): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI_JS, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, CUBEMASTER_MASTERS: '', CUBEMASTER_ACCESS_KEY: '', CUBEMASTER_SECRET_KEY: '', ...options.env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    const timeoutMs = options.timeoutMs ?? 60_000;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`cubemaster ${args.join(' ')} did not exit within ${timeoutMs} ms; stderr: ${stderr}`));
    }, timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** The root user's keys, read from the open CubeFS route, as the CLI env expects them. */
export async function rootKeys(url: string): Promise<Record<string, string>> {
  const reply = await cfsGet<{ access_key: string; secret_key: string }>(url, '/user/info', { user: 'root' });
  if (reply.envelope?.code !== 0) throw new Error(`root user: ${reply.body}`);
  return { CUBEMASTER_ACCESS_KEY: reply.envelope.data.access_key, CUBEMASTER_SECRET_KEY: reply.envelope.data.secret_key };
}
