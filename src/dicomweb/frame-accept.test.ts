import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isMedgeError } from '../errors.js';
import { negotiateFrames, parseFrameList } from './frame-accept.js';

const JLS = '1.2.840.10008.1.2.4.80';
const LE = '1.2.840.10008.1.2.1';

test('frames Accept: uncompressed by default, as stored for transfer-syntax=* or the stored media type, 406 for another syntax', () => {
  for (const accept of [undefined, '', '*/*', 'multipart/related', 'multipart/related; type="application/octet-stream"', `multipart/related; type=application/octet-stream; transfer-syntax=${LE}`]) {
    assert.equal(negotiateFrames(accept, JLS), 'uncompressed', String(accept));
  }
  for (const accept of ['multipart/related; type="application/octet-stream"; transfer-syntax=*', 'multipart/related; type="image/jls"', `multipart/related; type="image/x-jls"; transfer-syntax=${JLS}`]) {
    assert.equal(negotiateFrames(accept, JLS), 'as-stored', accept);
  }
  // q-values order the ranges: the preferred one that can be met wins.
  assert.equal(negotiateFrames('multipart/related; type="image/jp2"; q=1, multipart/related; type="image/jls"; q=0.5', JLS), 'as-stored');
  for (const accept of ['multipart/related; type="image/jp2"', 'multipart/related; type="image/jls"; transfer-syntax=1.2.840.10008.1.2.4.81', 'application/dicom', 'image/jpeg']) {
    assert.throws(() => negotiateFrames(accept, JLS), (err) => isMedgeError(err, 'MEDGE_ERR_DICOMWEB_NOT_ACCEPTABLE'), accept);
  }
  assert.throws(() => negotiateFrames('multipart/related; type="image/jpeg"', LE), /offers multipart\/related; type="application\/octet-stream"/);
});

test('frame lists: 1-based, comma or %2C separated, any order, no repeats, within Number of Frames', () => {
  assert.deepEqual(parseFrameList('3,1%2C2', 3), [3, 1, 2]);
  for (const bad of ['0', '4', '1,1', '', '1,', 'a', '1.5', '-1']) {
    assert.throws(() => parseFrameList(bad, 3), (err) => isMedgeError(err, 'MEDGE_ERR_HTTP_BAD_REQUEST'), bad);
  }
});
