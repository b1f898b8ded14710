// The helper process of accept-handles.ts: receives the master's listening socket as a raw handle
// and sends it back `copies` times; each copy arrives there as a new descriptor of the same
// socket. It never listens on the handle (so it cannot accept a connection) and exits once the
// copies are sent, or as soon as the master closes the channel.
import type { Server } from 'node:net';

function leave(): void {
  if (process.connected) process.disconnect?.();
}

process.once('message', (message: unknown, handle: unknown) => {
  const copies = typeof message === 'object' && message !== null ? (message as { copies?: unknown }).copies : undefined;
  if (handle === undefined || handle === null || typeof copies !== 'number' || !Number.isSafeInteger(copies) || copies < 1) {
    leave();
    return;
  }
  let pending = copies;
  for (let i = 0; i < copies; i++) {
    process.send?.({ copy: i }, handle as Server, {}, (error: Error | null) => {
      pending -= 1;
      if (error !== null || pending === 0) leave();
    });
  }
});
// Whatever happens, the process ends with its channel (the handle it holds keeps nothing alive).
process.once('disconnect', () => process.exit(0));
