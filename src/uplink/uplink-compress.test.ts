import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileMeta } from '../dicom/part10.js';
import { TS } from '../dicom/uids.js';
import { inflatePart10 } from '../dicom/deflate-part10.js';
import { JPEG_LS_LOSSLESS } from '../dicom/transcode.js';
import { decodeFrameSync } from '../dicom/codecs/index.js';
import { memoryDestination, uplinkHarness } from './test-support.js';
import type { PreparedInstance } from './uplink-sender.js';

const COMPRESSED: ReadonlySet<string> = new Set([TS.DeflatedExplicitVRLittleEndian, JPEG_LS_LOSSLESS]);

/** The sent copy back in Explicit VR Little Endian terms: the inflated file, or the decoded pixels of a JPEG-LS one. */
function content(part10: Buffer): { file?: Buffer; pixels: Buffer } {
  const ts = readFileMeta(part10)!.transferSyntaxUid;
  const file = ts === TS.DeflatedExplicitVRLittleEndian ? inflatePart10(part10) : ts === TS.ExplicitVRLittleEndian ? part10 : undefined;
  const { pixels } = decodeFrameSync(part10, 0);
  return { file, pixels: Buffer.from(pixels.buffer, pixels.byteOffset, pixels.byteLength) };
}

test('results leave compressed (deflated or JPEG-LS lossless), come back identical, and the meter counts the compressed bytes; compressResults: false sends them as stored', async () => {
  const h = await uplinkHarness([memoryDestination('small'), { ...memoryDestination('as-stored'), compressResults: false }]);
  await h.uplink.start();
  const r = await h.results(3);
  await h.settle();
  let storedBytes = 0;
  for (const res of r.results) {
    const row = h.index.getInstance(res.sopInstanceUid)!;
    const stored = await h.store.read(row.blobKey);
    storedBytes += stored.length;
    const sent = h.memory.get('small')!.stored.get(res.sopInstanceUid)!;
    const ts = readFileMeta(sent.part10 as Buffer)!.transferSyntaxUid;
    assert.ok(COMPRESSED.has(ts), `${res.kind} sent in ${ts}`);
    assert.equal(sent.transferSyntaxUid, ts);
    assert.ok(sent.bytes < stored.length, `${res.kind}: ${sent.bytes} bytes sent for ${stored.length} stored`);
    const back = content(sent.part10 as Buffer);
    if (back.file) assert.deepEqual(back.file, stored, 'inflated: the stored file byte for byte');
    assert.deepEqual(back.pixels, content(stored).pixels, 'the same pixels');
    const plain = h.memory.get('as-stored')!.stored.get(res.sopInstanceUid)!;
    assert.equal(plain.transferSyntaxUid, undefined);
    assert.equal(plain.bytes, stored.length);
  }
  const [small, asStored] = h.uplink.status().destinations;
  assert.equal(asStored!.bytesOut.total, storedBytes);
  const sentBytes = [...h.memory.get('small')!.stored.values()].reduce((n, p) => n + p.bytes, 0);
  assert.equal(small!.bytesOut.total, sentBytes, 'the meter counts what left, compressed');
  await h.uplink.stop();
});

test('deidentified and compressed: de-identification runs first, so the inflated copy is the de-identified file and holds no sentinel', async () => {
  const h = await uplinkHarness([memoryDestination('research', { privacy: 'deidentified' })]);
  await h.uplink.start();
  const r = await h.results(3);
  await h.settle();
  const sent: PreparedInstance[] = [...h.memory.get('research')!.stored.values()];
  assert.equal(sent.length, 3);
  for (const p of sent) {
    const part10 = p.part10 as Buffer;
    assert.ok(COMPRESSED.has(readFileMeta(part10)!.transferSyntaxUid));
    assert.ok(p.uncompressed, 'the de-identified uncompressed copy is kept for a DIMSE fallback');
    const back = content(part10);
    if (back.file) assert.deepEqual(back.file, p.uncompressed);
    // A JPEG-LS copy keeps its attributes uncompressed: searched as sent.
    const text = (back.file ?? part10).toString('latin1');
    for (const sentinel of r.sentinels) assert.ok(!text.includes(sentinel), `${sentinel} left the node`);
    assert.notEqual(p.sent.sop, p.payload.sop);
    assert.equal(readFileMeta(part10)!.mediaStorageSopInstanceUid, p.sent.sop, 'the replacement UID in the compressed copy');
  }
  await h.uplink.stop();
});
