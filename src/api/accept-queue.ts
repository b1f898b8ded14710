// The kernel's accept queue of the HTTP listening socket: connections whose TCP handshake the
// kernel completed and that no handle of this process has accepted yet. Their clients have
// usually sent a request already, and it waits there unseen by every other metric (the API's
// request durations start when a request is read). Linux: the rx_queue of the socket's LISTEN
// row in /proc/net/tcp or tcp6. See accept-handles.ts for why it can grow.
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { isIPv4 } from 'node:net';

const TCP_LISTEN = '0A';

/** Connections waiting to be accepted on the socket listening at `address`; null when unknown. */
export function acceptQueueLength(address: AddressInfo, readTable: (path: string) => string = (p) => readFileSync(p, 'utf8')): number | null {
  const local = procAddress(address);
  if (local === null) return null;
  let table: string;
  try {
    table = readTable(address.family === 'IPv6' ? '/proc/net/tcp6' : '/proc/net/tcp');
  } catch {
    return null;
  }
  for (const line of table.split('\n')) {
    // sl local_address rem_address st tx_queue:rx_queue ...
    const fields = line.trim().split(/\s+/);
    if (fields.length < 5 || fields[1] !== local || fields[3] !== TCP_LISTEN) continue;
    const rx = Number.parseInt(fields[4].slice(fields[4].indexOf(':') + 1), 16);
    return Number.isFinite(rx) ? rx : null;
  }
  return null;
}

/** `address` as /proc/net/tcp* writes it: the address in 32-bit words of host order (little-endian), `:`, the port. */
export function procAddress(address: AddressInfo): string | null {
  const bytes = address.family === 'IPv6' ? ipv6Bytes(address.address) : isIPv4(address.address) ? address.address.split('.').map(Number) : null;
  if (bytes === null) return null;
  let hex = '';
  for (let word = 0; word < bytes.length; word += 4) {
    for (let i = 3; i >= 0; i--) hex += bytes[word + i].toString(16).padStart(2, '0');
  }
  return `${hex.toUpperCase()}:${address.port.toString(16).toUpperCase().padStart(4, '0')}`;
}

/** The 16 bytes of an IPv6 address (`::` and a trailing dotted IPv4 part allowed); null when malformed. */
function ipv6Bytes(text: string): number[] | null {
  let s = text;
  const zone = s.indexOf('%');
  if (zone >= 0) s = s.slice(0, zone);
  const tail: number[] = [];
  const lastColon = s.lastIndexOf(':');
  if (isIPv4(s.slice(lastColon + 1))) {
    for (const b of s.slice(lastColon + 1).split('.').map(Number)) tail.push(b);
    s = `${s.slice(0, lastColon + 1)}0:0`;
  }
  const halves = s.split('::');
  if (halves.length > 2) return null;
  const groups = (part: string): string[] => (part === '' ? [] : part.split(':'));
  const head = groups(halves[0]);
  const rest = halves.length === 2 ? groups(halves[1]) : [];
  const missing = 8 - head.length - rest.length;
  if (missing < 0 || (halves.length === 1 && missing !== 0)) return null;
  const all = [...head, ...Array<string>(missing).fill('0'), ...rest];
  const bytes: number[] = [];
  for (const g of all) {
    const v = Number.parseInt(g, 16);
    if (!/^[0-9a-fA-F]{1,4}$/.test(g) || !Number.isFinite(v)) return null;
    bytes.push(v >> 8, v & 0xff);
  }
  if (tail.length === 4) bytes.splice(12, 4, ...tail);
  return bytes;
}
