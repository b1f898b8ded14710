import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import type { FastifyBaseLogger } from 'fastify';
import { LazyRequestLogger } from '../../src/api/request-logger.js';

function recorder(level: string): { logger: pino.Logger; lines: Record<string, unknown>[]; children: () => number } {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line !== '') lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  const logger = pino({ level, base: null, timestamp: false }, stream);
  let made = 0;
  const child = logger.child.bind(logger);
  logger.child = ((...args: Parameters<typeof child>) => {
    made += 1;
    return child(...args);
  }) as typeof logger.child;
  return { logger, lines, children: () => made };
}

const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

void describe('LazyRequestLogger', () => {
  void it('makes no child while the request writes only below the level', () => {
    const r = recorder('warn');
    const log = LazyRequestLogger.factory(r.logger, { reqId: 'm1-1' }, {});
    log.debug({ a: 1 }, 'not written');
    log.info('not written either');
    assert.equal(log.level, 'warn');
    assert.equal(r.children(), 0);
  });

  void it('writes the lines the eager child writes, bindings included', async () => {
    const lazy = recorder('info');
    const eager = recorder('info');
    const write = (log: FastifyBaseLogger): void => {
      log.debug('below');
      log.warn({ code: 4 }, 'refused %s', 'x');
      log.info('plain');
      log.error(new Error('boom'));
    };
    write(LazyRequestLogger.factory(lazy.logger, { reqId: 'm1-7' }, {}));
    write(eager.logger.child({ reqId: 'm1-7' }, {}));
    await flush();
    const strip = (lines: Record<string, unknown>[]): unknown[] => lines.map(({ err, ...rest }) => ({ ...rest, err: (err as { message?: string } | undefined)?.message }));
    assert.deepEqual(strip(lazy.lines), strip(eager.lines));
    assert.equal(lazy.lines.length, 3);
    assert.equal(lazy.lines[0].reqId, 'm1-7');
    assert.equal(lazy.children(), 1);
  });

  void it('hands out the eager child for a level of its own or a logger without isLevelEnabled', () => {
    const r = recorder('info');
    assert.ok(!(LazyRequestLogger.factory(r.logger, { reqId: 'x' }, { level: 'debug' }) instanceof LazyRequestLogger));
    const bare = { ...r.logger, isLevelEnabled: undefined, child: () => r.logger } as unknown as FastifyBaseLogger;
    assert.ok(!(LazyRequestLogger.factory(bare, { reqId: 'x' }, {}) instanceof LazyRequestLogger));
  });
});
