// The accept queue gauge's source (src/api/accept-queue.ts): the LISTEN row of /proc/net/tcp*.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { acceptQueueLength, procAddress } from '../../src/api/accept-queue.js';

// Rows as Linux writes them (trimmed after the inode); a listener on 127.0.213.1:17010 with 3
// connections waiting, one on another address of the same port, and an established connection.
const TCP = [
  '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode',
  '   0: 02D5007F:4292 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 3171933 1',
  '   1: 01D5007F:4292 00000000:0000 0A 00000000:00000003 00:00000000 00000000     0        0 3171903 1',
  '   2: 01D5007F:4292 0100007F:A2B8 01 00000000:00000085 00:00000000 00000000     0        0 3171990 1',
  '',
].join('\n');
const TCP6 = [
  '  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode',
  '   0: 00000000000000000000000000000000:4292 00000000000000000000000000000000:0000 0A 00000000:00000011 00:00000000 00000000     0        0 41 1',
  '',
].join('\n');

void describe('accept queue of the HTTP listening socket', () => {
  void it('writes addresses as /proc/net/tcp does: 32-bit words in host order, then the port', () => {
    assert.equal(procAddress({ family: 'IPv4', address: '127.0.213.1', port: 17010 }), '01D5007F:4272');
    assert.equal(procAddress({ family: 'IPv4', address: '0.0.0.0', port: 80 }), '00000000:0050');
    assert.equal(procAddress({ family: 'IPv6', address: '::', port: 17010 }), '00000000000000000000000000000000:4272');
    assert.equal(procAddress({ family: 'IPv6', address: '::1', port: 1 }), '00000000000000000000000001000000:0001');
    assert.equal(procAddress({ family: 'IPv6', address: '::ffff:127.0.0.1', port: 1 }), '0000000000000000FFFF00000100007F:0001');
    assert.equal(procAddress({ family: 'IPv6', address: 'fe80::1:2::3', port: 1 }), null);
  });

  void it("reads the LISTEN row of the server's own address and port, not another address's or a connection's", () => {
    const tables: Record<string, string> = { '/proc/net/tcp': TCP, '/proc/net/tcp6': TCP6 };
    const read = (path: string): string => tables[path];
    assert.equal(acceptQueueLength({ family: 'IPv4', address: '127.0.213.1', port: 0x4292 }, read), 3);
    assert.equal(acceptQueueLength({ family: 'IPv4', address: '127.0.213.2', port: 0x4292 }, read), 0);
    assert.equal(acceptQueueLength({ family: 'IPv6', address: '::', port: 0x4292 }, read), 17);
    assert.equal(acceptQueueLength({ family: 'IPv4', address: '127.0.213.9', port: 0x4292 }, read), null);
    assert.equal(acceptQueueLength({ family: 'IPv4', address: '127.0.213.1', port: 0x4292 }, () => { throw new Error('ENOENT'); }), null);
  });
});
