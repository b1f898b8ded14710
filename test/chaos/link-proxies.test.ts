// The chaos run's forward and pipe proxies: they relay while the link is up, refuse new
// connections while it is cut, and a cut resets what is open on that link only.
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { FORWARDED_BY_HEADER } from '../../src/api/forward.js';
import { ForwardProxy, PipeProxy } from './link-proxies.js';

const HOST = '127.0.0.1';

/** GET through `port` with the forwarding member `from` (0: none); the status, or the error code. */
function get(port: number, from: number, agent?: http.Agent): Promise<number | string> {
  return new Promise((resolve) => {
    const request = http.get({ host: HOST, port, path: '/x', agent, headers: from === 0 ? {} : { [FORWARDED_BY_HEADER]: String(from) } }, (reply) => {
      reply.resume();
      reply.on('end', () => resolve(reply.statusCode ?? 0));
    });
    request.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
  });
}

void describe('link proxies', () => {
  let upstream: http.Server;
  let upstreamPort = 0;
  before(async () => {
    upstream = http.createServer((_request, reply) => reply.end('ok'));
    await new Promise<void>((resolve) => upstream.listen(0, HOST, resolve));
    upstreamPort = (upstream.address() as net.AddressInfo).port;
  });
  after(async () => {
    upstream.closeAllConnections();
    await new Promise((resolve) => upstream.close(resolve));
  });

  void it('ForwardProxy relays forwards, refuses those of a cut member only, and resets its open connections at the cut', async () => {
    const cut = new Set<number>();
    const proxy = new ForwardProxy({ host: HOST, port: 0 }, { host: HOST, port: upstreamPort }, (from) => cut.has(from));
    await proxy.start();
    const port = proxy.port;
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      assert.equal(await get(port, 2, agent), 200);
      cut.add(2);
      proxy.cut(2);
      assert.equal(await get(port, 2), 'ECONNRESET');
      assert.equal(await get(port, 3), 200, 'another member still forwards');
      assert.equal(await get(port, 0), 200, 'a request that is not a forward always passes');
      cut.delete(2);
      assert.equal(await get(port, 2, agent), 200);
    } finally {
      agent.destroy();
      await proxy.close();
    }
  });

  void it('PipeProxy relays bytes while up, closes new connections while blocked, and cut() resets open ones', async () => {
    let blocked = false;
    const proxy = new PipeProxy({ host: HOST, port: 0 }, { host: HOST, port: upstreamPort }, () => blocked);
    await proxy.start();
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      assert.equal(await get(proxy.port, 0, agent), 200);
      blocked = true;
      proxy.cut();
      assert.equal(await get(proxy.port, 0, agent), 'ECONNRESET');
      blocked = false;
      assert.equal(await get(proxy.port, 0, agent), 200);
    } finally {
      agent.destroy();
      await proxy.close();
    }
  });
});
