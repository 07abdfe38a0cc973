import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseAck } from './hl7-ack.js';
import { MllpDeframer, mllpFrame } from './mllp-framing.js';

test('MLLP frame: SB payload EB CR; the deframer joins split chunks, splits joined frames, drops bytes between frames', () => {
  const a = mllpFrame('MSH|^~\\&|A\rPID|1');
  assert.deepEqual([...a.subarray(0, 1), ...a.subarray(-2)], [0x0b, 0x1c, 0x0d]);
  const b = mllpFrame('MSH|^~\\&|B');
  const stream = Buffer.concat([Buffer.from('noise'), a, b]);
  const d = new MllpDeframer();
  const out: string[] = [];
  for (let i = 0; i < stream.length; i += 3) out.push(...d.push(stream.subarray(i, i + 3)).map((p) => p.toString()));
  assert.deepEqual(out, ['MSH|^~\\&|A\rPID|1', 'MSH|^~\\&|B']);
  assert.equal(d.pending, 0);
  assert.deepEqual(d.push(Buffer.from([0x0b, 0x41, 0x1c])), [], 'EB without CR is not the end yet');
  assert.deepEqual(d.push(Buffer.from([0x0d])).map((p) => p.toString()), ['A']);
});

test('parseAck: MSA-1 and MSA-2 with the ACK own delimiters, escapes undone, ERR-8 when MSA-3 is empty', () => {
  assert.deepEqual(parseAck('MSH|^~\\&|RIS||MEDGE||20260301||ACK^R01^ACK|9|P|2.5.1\rMSA|AE|ABC\\F\\1|busy'), { code: 'AE', controlId: 'ABC|1', text: 'busy' });
  assert.deepEqual(parseAck('MSH#^~\\&#RIS\nMSA#ca#X1'), { code: 'CA', controlId: 'X1', text: '' });
  assert.deepEqual(parseAck('MSH|^~\\&|R\rMSA|AR|X2\rERR||||E||||bad PID'), { code: 'AR', controlId: 'X2', text: 'bad PID' });
  assert.equal(parseAck('MSH|^~\\&|R\rMSA|ZZ|X'), null);
  assert.equal(parseAck('PID|1'), null);
  assert.equal(parseAck('MSH|^~\\&|R\rPID|1'), null);
});
