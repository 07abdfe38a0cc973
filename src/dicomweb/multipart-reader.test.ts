import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readMultipart, type MultipartEvent } from './multipart-reader.js';
import { isMedgeError } from '../errors.js';

interface Part {
  headers: Record<string, string>;
  body: Buffer;
}

async function* chunked(bytes: Buffer, sizes: number[] | number): AsyncGenerator<Buffer> {
  let pos = 0;
  let i = 0;
  while (pos < bytes.length) {
    const n = typeof sizes === 'number' ? sizes : sizes[i++ % sizes.length]!;
    yield bytes.subarray(pos, pos + n);
    pos += n;
  }
}

async function collect(events: AsyncIterable<MultipartEvent>): Promise<Part[]> {
  const parts: Part[] = [];
  let chunks: Buffer[] = [];
  let open = false;
  for await (const ev of events) {
    if (ev.kind === 'part') {
      assert.equal(open, false, 'a part begins while another is open');
      open = true;
      chunks = [];
      parts.push({ headers: ev.headers, body: Buffer.alloc(0) });
    } else if (ev.kind === 'data') {
      assert.ok(open);
      chunks.push(Buffer.from(ev.chunk));
    } else {
      open = false;
      parts[parts.length - 1]!.body = Buffer.concat(chunks);
    }
  }
  return parts;
}

const BOUNDARY = 'medge-3f2a';
/** Bodies that contain near-delimiters: CRLF, "--" and a prefix of the boundary. */
const BODIES = [
  Buffer.from('DICM\r\n--medge-3f\r\n-\r\n\r\n--', 'latin1'),
  Buffer.from([0, 1, 2, 0x0d, 0x0a, 0x2d, 0x2d, 0xff, 0x0d]),
  Buffer.alloc(0),
  Buffer.from('--medge-3f2\n', 'latin1'),
];

function build(opts: { preamble?: string; epilogue?: string; eol?: string; close?: boolean } = {}): Buffer {
  const eol = opts.eol ?? '\r\n';
  const pieces: Buffer[] = [];
  if (opts.preamble !== undefined) pieces.push(Buffer.from(opts.preamble + eol, 'latin1'));
  BODIES.forEach((body, i) => {
    pieces.push(Buffer.from(`${i === 0 ? '' : eol}--${BOUNDARY}${eol}Content-Type: application/dicom${eol}X-Index: ${i}${eol}${eol}`, 'latin1'));
    pieces.push(body);
  });
  if (opts.close !== false) pieces.push(Buffer.from(`${eol}--${BOUNDARY}--${opts.epilogue ?? ''}`, 'latin1'));
  return Buffer.concat(pieces);
}

function assertParts(parts: Part[]): void {
  assert.equal(parts.length, BODIES.length);
  parts.forEach((p, i) => {
    assert.equal(p.headers['content-type'], 'application/dicom');
    assert.equal(p.headers['x-index'], String(i));
    assert.deepEqual(p.body, BODIES[i]);
  });
}

test('reads every part whatever the chunk size, boundaries straddling every position', async () => {
  const body = build({ preamble: 'This is the preamble.', epilogue: '\r\nthe epilogue\r\n' });
  for (let size = 1; size <= body.length; size++) {
    assertParts(await collect(readMultipart(chunked(body, size), BOUNDARY)));
  }
});

test('reads a body split at every single position into two chunks', async () => {
  const body = build();
  for (let cut = 0; cut <= body.length; cut++) {
    async function* two() {
      yield body.subarray(0, cut);
      yield body.subarray(cut);
    }
    assertParts(await collect(readMultipart(two(), BOUNDARY)));
  }
});

test('irregular chunk sizes', async () => {
  assertParts(await collect(readMultipart(chunked(build({ preamble: 'x' }), [3, 1, 7, 2, 13]), BOUNDARY)));
});

test('accepts bare LF line ends and transport padding after the delimiter', async () => {
  // With bare LF a CR that ends a body cannot be told from a CRLF delimiter: it is taken as the latter.
  const lf = await collect(readMultipart(chunked(build({ eol: '\n' }), 5), BOUNDARY));
  assert.deepEqual(lf[1]!.body, BODIES[1]!.subarray(0, -1));
  lf[1]!.body = BODIES[1]!;
  assertParts(lf);
  const padded = Buffer.from(`--${BOUNDARY}  \t\r\nContent-Type: application/dicom\r\n\r\nabc\r\n--${BOUNDARY}--`, 'latin1');
  const parts = await collect(readMultipart(chunked(padded, 2), BOUNDARY));
  assert.equal(parts.length, 1);
  assert.equal(parts[0]!.body.toString(), 'abc');
});

test('folded headers and a part without headers', async () => {
  const body = Buffer.from(`--${BOUNDARY}\r\nContent-Type: multipart/related;\r\n type=application/dicom\r\n\r\nA\r\n--${BOUNDARY}\r\n\r\nB\r\n--${BOUNDARY}--\r\n`, 'latin1');
  const parts = await collect(readMultipart(chunked(body, 1), BOUNDARY));
  assert.equal(parts[0]!.headers['content-type'], 'multipart/related; type=application/dicom');
  assert.deepEqual(parts[1]!.headers, {});
  assert.equal(parts[1]!.body.toString(), 'B');
});

test('a body without the close delimiter is a clear error', async () => {
  await assert.rejects(collect(readMultipart(chunked(build({ close: false }), 4), BOUNDARY)), (err: unknown) => {
    assert.ok(isMedgeError(err, 'MEDGE_ERR_DICOMWEB_MULTIPART'));
    assert.match(err.message, /ended in part 3, without the close delimiter/);
    return true;
  });
});

test('a body with no boundary at all is an error', async () => {
  await assert.rejects(collect(readMultipart(chunked(Buffer.from('just some bytes'), 3), BOUNDARY)), /before the first boundary delimiter/);
});

test("a boundary over RFC 2046's 70 characters, as Orthanc sends, is read", async () => {
  const long = 'o'.repeat(100);
  const body = Buffer.from(`--${long}\r\nContent-Type: application/dicom\r\n\r\nabc\r\n--${long}--\r\n`, 'latin1');
  const parts = await collect(readMultipart(chunked(body, 7), long));
  assert.equal(parts[0]!.body.toString(), 'abc');
});

test('an empty or absurdly long boundary is refused', async () => {
  await assert.rejects(collect(readMultipart(chunked(build(), 10), '')), /boundary parameter/);
  await assert.rejects(collect(readMultipart(chunked(build(), 10), 'x'.repeat(257))), /boundary parameter/);
});

test('endless header lines do not grow memory without bound', async () => {
  async function* endless() {
    yield Buffer.from(`--${BOUNDARY}\r\nX: `);
    for (let i = 0; i < 100; i++) yield Buffer.alloc(1024, 0x61);
  }
  await assert.rejects(collect(readMultipart(endless(), BOUNDARY)), /exceed 16 KiB/);
});

test('the source is pulled only as fast as events are consumed (backpressure)', async () => {
  let pulled = 0;
  async function* source() {
    yield Buffer.from(`--${BOUNDARY}\r\n\r\n`);
    for (let i = 0; i < 1000; i++) {
      pulled++;
      yield Buffer.alloc(1000, 1);
    }
    yield Buffer.from(`\r\n--${BOUNDARY}--`);
  }
  const it = readMultipart(source(), BOUNDARY);
  let bytes = 0;
  for await (const ev of it) {
    if (ev.kind === 'data') {
      bytes += ev.chunk.length;
      // At most the chunk being parsed and the next one are in flight.
      assert.ok(pulled * 1000 - bytes <= 2000 + 100, `pulled ${pulled} chunks, consumed ${bytes} bytes`);
    }
  }
  assert.equal(bytes, 1000 * 1000);
});
