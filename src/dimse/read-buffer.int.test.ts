import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, createServer, type Socket } from 'node:net';
import { once } from 'node:events';
import { setTimeout as delay } from 'node:timers/promises';
import { PduReader } from './pdu-reader.js';
import { encodeReleaseRq, fragmentMessage } from './pdu.js';
import { withReadBuffer } from './read-buffer.js';

test('a reused read buffer is not read into while a handler still holds views into it', async () => {
  const dataset = Buffer.from(Array.from({ length: 3_000_000 }, (_, i) => (i * 7) & 0xff));
  const received: Buffer[] = [];
  let release = false;
  const done = new Promise<void>((resolve, reject) => {
    const server = createServer({ pauseOnConnect: true }, (raw: Socket) => {
      // A small buffer, so that the stream needs many reads into it.
      const socket = withReadBuffer(raw, 16 * 1024);
      new PduReader(socket, {
        maxPduLength: 64 * 1024,
        onPdu: () => {
          release = true;
          socket.destroy();
          server.close();
          resolve();
        },
        // Copies only after a delay: if the buffer were reused meanwhile, the copy would be wrong.
        onPdvs: async (pdvs) => {
          await delay(1);
          for (const p of pdvs) received.push(Buffer.from(p.data));
        },
        onError: (e) => reject(e),
      });
    });
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port;
      const client = connect(port, '127.0.0.1', () => {
        for (const pdu of fragmentMessage(1, false, dataset, 64 * 1024)) client.write(pdu);
        client.end(encodeReleaseRq());
      });
      client.on('error', () => undefined);
      void once(client, 'close');
    });
  });
  await done;
  assert.ok(release);
  assert.equal(Buffer.concat(received).equals(dataset), true);
});
