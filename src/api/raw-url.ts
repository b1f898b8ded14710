// Spec 8.2: the Go SDK sends query values unencoded, and Go's server takes raw UTF-8 bytes in a
// request target that Node's HTTP parser refuses (HPE_INVALID_URL), e.g. `description=héllo`.
// Such a request arrives here, in the server's clientError handler, with the bytes read so far
// (`err.rawPacket`). When that packet holds the whole request (header block, and all of the
// body its Content-Length announces), the target is repaired by percent-encoding every byte
// >= 0x80 (the parameter decoder turns them back into the same text), the request is replayed
// in-process through every hook and route (fastify.inject), and the reply is written to the
// socket, which is then closed. Anything else gets Go's plain "400 Bad Request".
// Bounded: the packet is at most Node's header size limit plus one read.

import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyInstance } from 'fastify';


const HEADER_END = Buffer.from('\r\n\r\n');
const BAD_REQUEST = 'HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n400 Bad Request';

export interface RepairedRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: Record<string, string>;
  readonly body: Buffer | undefined;
}

/** The request in `packet` with its target percent-encoded, or null when it cannot be replayed. */
export function repairRequest(packet: Buffer): RepairedRequest | null {
  const headerEnd = packet.indexOf(HEADER_END);
  if (headerEnd < 0) return null;
  const lines = packet.subarray(0, headerEnd).toString('latin1').split('\r\n');
  const parts = (lines[0] ?? '').split(' ');
  if (parts.length !== 3 || !/^[A-Z]{3,7}$/.test(parts[0]) || !/^HTTP\/1\.[01]$/.test(parts[2])) return null;
  const target = Buffer.from(parts[1], 'latin1');
  let url = '';
  for (const byte of target) {
    if (byte <= 0x20 || byte === 0x7f) return null; // Go refuses control bytes too
    url += byte >= 0x80 ? `%${byte.toString(16).toUpperCase().padStart(2, '0')}` : String.fromCharCode(byte);
  }
  if (!url.startsWith('/')) return null;
  const headers: Record<string, string> = {};
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    if (colon <= 0) return null;
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    headers[name] = name in headers ? `${headers[name]}, ${value}` : value;
  }
  if (headers['transfer-encoding'] !== undefined) return null;
  const rest = packet.subarray(headerEnd + HEADER_END.length);
  const length = headers['content-length'] === undefined ? 0 : Number(headers['content-length']);
  if (!Number.isSafeInteger(length) || length < 0 || rest.length < length) return null;
  return { method: parts[0], url, headers, body: length > 0 ? rest.subarray(0, length) : undefined };
}

export function rawUrlClientErrorHandler(target: () => FastifyInstance | null): (error: Error, socket: Socket) => void {
  return (error, socket) => {
    const app = target();
    const { code, rawPacket } = error as Error & { code?: unknown; rawPacket?: unknown };
    const repaired = app !== null && code === 'HPE_INVALID_URL' && Buffer.isBuffer(rawPacket) ? repairRequest(rawPacket) : null;
    if (app === null || repaired === null || !socket.writable) {
      if (socket.writable) socket.end(BAD_REQUEST);
      else socket.destroy();
      return;
    }
    app
      .inject({
        method: repaired.method as 'GET',
        url: repaired.url,
        headers: repaired.headers,
        ...(repaired.body !== undefined ? { payload: repaired.body } : {}),
        remoteAddress: socket.remoteAddress,
      })
      .then((res) => {
        let head = `HTTP/1.1 ${res.statusCode} ${STATUS_CODES[res.statusCode] ?? ''}\r\n`;
        for (const [name, value] of Object.entries(res.headers)) {
          if (value === undefined || name === 'connection' || name === 'transfer-encoding' || name === 'content-length') continue;
          for (const v of Array.isArray(value) ? value : [value]) head += `${name}: ${String(v)}\r\n`;
        }
        head += `content-length: ${res.rawPayload.length}\r\nconnection: close\r\n\r\n`;
        socket.end(Buffer.concat([Buffer.from(head, 'latin1'), res.rawPayload]));
      })
      .catch(() => socket.destroy());
  };
}
