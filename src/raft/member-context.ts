// The addresses of a member, carried in the context of its configuration change entry so that
// every member (and every restart) learns where to reach it from the log itself.

export interface MemberAddress {
  /** host:port of its HTTP API (CubeFS `peers` entries name this one). */
  readonly httpAddr: string;
  /** host:port of its Raft transport. */
  readonly raftAddr: string;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function encodeMemberContext(address: MemberAddress): Uint8Array {
  return encoder.encode(JSON.stringify({ httpAddr: address.httpAddr, raftAddr: address.raftAddr }));
}

/** The address in a conf change context, or null when it carries none (or not ours). */
export function decodeMemberContext(context: Uint8Array): MemberAddress | null {
  if (context.byteLength === 0) return null;
  try {
    const value: unknown = JSON.parse(decoder.decode(context));
    if (typeof value !== 'object' || value === null) return null;
    const { httpAddr, raftAddr } = value as Record<string, unknown>;
    if (typeof httpAddr !== 'string' || typeof raftAddr !== 'string') return null;
    return { httpAddr, raftAddr };
  } catch {
    return null;
  }
}
