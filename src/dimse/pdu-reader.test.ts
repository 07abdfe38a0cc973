import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import { isMedgeError, type MedgeError } from '../errors.js';
import { PduReader } from './pdu-reader.js';
import { encodeReleaseRq, fragmentMessage, type Pdv } from './pdu.js';

/** Enough of a socket for the reader: 'data' events, pause and resume. */
function fakeSocket(): Socket & { paused: boolean } {
  const s = new EventEmitter() as Socket & { paused: boolean };
  s.paused = false;
  s.pause = () => ((s.paused = true), s);
  s.resume = () => ((s.paused = false), s);
  return s;
}

function feed(socket: Socket, bytes: Buffer, sizes: number[]): void {
  let at = 0;
  for (let i = 0; at < bytes.length; i++) {
    const n = sizes[i % sizes.length]!;
    socket.emit('data', bytes.subarray(at, at + n));
    at += n;
  }
}

function collect(maxPduLength: number) {
  const socket = fakeSocket();
  const pieces: Pdv[] = [];
  const pdus: Buffer[] = [];
  const errors: MedgeError[] = [];
  new PduReader(socket, {
    maxPduLength,
    onPdu: (p) => void pdus.push(p),
    onPdvs: (p) => void pieces.push(...p),
    onError: (e) => void errors.push(e),
  });
  return { socket, pieces, pdus, errors };
}

test('PDVs split across chunks of every size arrive whole, in order, last only on the final piece', () => {
  const dataset = Buffer.from(Array.from({ length: 5000 }, (_, i) => i & 0xff));
  const command = Buffer.from('command-bytes');
  const stream = Buffer.concat([
    ...fragmentMessage(3, true, command, 1000),
    ...fragmentMessage(3, false, dataset, 1000),
    encodeReleaseRq(),
  ]);
  for (const sizes of [[1], [5], [7, 3], [64], [999, 1, 2], [stream.length]]) {
    const { socket, pieces, pdus, errors } = collect(1000);
    feed(socket, stream, sizes);
    assert.deepEqual(errors, []);
    const cmd = pieces.filter((p) => p.command);
    const data = pieces.filter((p) => !p.command);
    assert.ok(cmd.every((p) => p.contextId === 3) && data.every((p) => p.contextId === 3));
    assert.deepEqual(Buffer.concat(cmd.map((p) => p.data)), command);
    assert.deepEqual(Buffer.concat(data.map((p) => p.data)), dataset);
    assert.equal(cmd.filter((p) => p.last).length, 1);
    assert.ok(cmd.at(-1)!.last);
    assert.equal(data.filter((p) => p.last).length, 1, `sizes ${sizes}`);
    assert.ok(data.at(-1)!.last);
    assert.equal(pdus.length, 1);
    assert.deepEqual(pdus[0], encodeReleaseRq());
  }
});

test('a PDV item longer than its PDU, an empty P-DATA-TF and an oversized PDU are framing errors', () => {
  const bad = fragmentMessage(1, false, Buffer.alloc(10), 0)[0]!;
  bad.writeUInt32BE(100, 6); // PDV item length beyond the PDU
  const empty = Buffer.from([4, 0, 0, 0, 0, 0]);
  const big = fragmentMessage(1, false, Buffer.alloc(2000), 0)[0]!;
  for (const [bytes, max] of [[bad, 0], [empty, 0], [big, 1000]] as const) {
    const { socket, errors, pieces } = collect(max);
    feed(socket, bytes, [3]);
    assert.equal(errors.length, 1);
    assert.ok(isMedgeError(errors[0], 'MEDGE_ERR_DIMSE_PDU'));
    assert.equal(pieces.filter((p) => p.last).length, 0);
  }
});

test('the socket is paused while the handler is busy and a PDU worth of bytes waits, and resumed after', async () => {
  const socket = fakeSocket();
  let release!: () => void;
  const seen: Pdv[] = [];
  new PduReader(socket, {
    maxPduLength: 1000,
    onPdu: () => undefined,
    onPdvs: (p) => {
      seen.push(...p);
      return seen.length === p.length ? new Promise<void>((r) => (release = r)) : undefined;
    },
    onError: (e) => assert.fail(e.message),
  });
  const pdus = fragmentMessage(1, false, Buffer.alloc(4000), 1000);
  socket.emit('data', pdus[0]);
  for (const p of pdus.slice(1)) socket.emit('data', p);
  assert.equal(socket.paused, true);
  release();
  await new Promise((r) => setImmediate(r));
  assert.equal(socket.paused, false);
  assert.equal(Buffer.concat(seen.map((p) => p.data)).length, 4000);
});
