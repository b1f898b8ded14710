// Reading a member's own view (/cubemaster/status, /cubemaster/audit) in integration tests.
import type { AuditReport, MemberStatus } from '../../src/cluster/ports.js';
import { cfsGet } from './cfs-client.js';

export async function memberStatus(url: string): Promise<MemberStatus> {
  const reply = await cfsGet<MemberStatus>(url, '/cubemaster/status', {}, { timeoutMs: 5000 });
  if (reply.envelope?.code !== 0) throw new Error(`status of ${url}: ${reply.status} ${reply.body.slice(0, 200)}`);
  return reply.envelope.data;
}

export async function memberAudit(url: string): Promise<AuditReport> {
  const reply = await cfsGet<AuditReport>(url, '/cubemaster/audit', {}, { timeoutMs: 30_000 });
  if (reply.envelope?.code !== 0) throw new Error(`audit of ${url}: ${reply.status} ${reply.body.slice(0, 200)}`);
  return reply.envelope.data;
}

export async function waitUntil<T>(what: string, probe: () => Promise<T | null | undefined | false>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown = null;
  for (;;) {
    try {
      const v = await probe();
      if (v !== null && v !== undefined && v !== false) return v;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${lastError instanceof Error ? `: ${lastError.message}` : ''}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
