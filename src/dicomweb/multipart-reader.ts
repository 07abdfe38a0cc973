import { MedgeError } from '../errors.js';

/**
 * A streaming reader of multipart/related bodies (RFC 2387 over RFC 2046 5.1.1), as STOW-RS
 * sends them (PS3.18 8.6.1.2). It never holds more than one source chunk plus a delimiter's
 * length, whatever the size of a part.
 *
 * It is a pull parser: the caller iterates the events and the source is read only when the
 * caller asks for the next one, so a caller that awaits a slow write between events pauses the
 * socket (TCP backpressure) instead of buffering the request.
 *
 * Lenient on input (house style 2): bare LF line ends, transport padding after a delimiter,
 * folded header lines, a preamble and an epilogue are accepted. (The price of bare LF: a part
 * body that itself ends in CR loses that CR; DICOM Part 10 files have even lengths and end in
 * element values, and senders use CRLF, so this does not arise in practice.) A body that ends before the
 * close delimiter is an error (MEDGE_ERR_DICOMWEB_MULTIPART): the last part may be truncated.
 */

export type MultipartEvent =
  /** A part begins. Header names lower-cased; a repeated header keeps its last value. */
  | { kind: 'part'; index: number; headers: Record<string, string> }
  /** Some bytes of the current part's body. The Buffer may be a view into a source chunk. */
  | { kind: 'data'; chunk: Buffer }
  /** The current part's body is complete. */
  | { kind: 'part-end'; index: number };

/**
 * RFC 2046 5.1.1 limits a boundary to 70 characters, but Orthanc's DICOMweb client (1.x) sends
 * longer ones; we accept up to 256 (house style 2: read leniently), which still bounds the tail
 * kept between chunks.
 */
const MAX_BOUNDARY = 256;
/** Bounds on what is buffered outside part bodies, so that garbage cannot grow memory. */
const MAX_HEADER_BYTES = 16 * 1024;
const MAX_DELIMITER_LINE = 1024;

const LF = 0x0a;
const CR = 0x0d;
const DASH = 0x2d;

type State = 'preamble' | 'after-delimiter' | 'headers' | 'body' | 'epilogue';

/**
 * Reads the parts of a multipart body. `boundary` is the Content-Type's boundary parameter,
 * already unquoted. Throws MEDGE_ERR_DICOMWEB_MULTIPART when the body is malformed or ends early.
 */
export async function* readMultipart(source: AsyncIterable<Buffer | Uint8Array | string> | Iterable<Buffer | Uint8Array | string>, boundary: string): AsyncGenerator<MultipartEvent> {
  if (!boundary || boundary.length > MAX_BOUNDARY) {
    throw multipartError(`the boundary parameter must be 1 to ${MAX_BOUNDARY} characters`, { boundaryLength: boundary?.length ?? 0 });
  }
  // The delimiter is CRLF "--" boundary; we search for LF "--" boundary and drop a CR before it,
  // which also accepts bare-LF bodies. The body is read as if it began with a line end, so that
  // a first delimiter at the very start (no preamble) is found the same way (RFC 2046 5.1.1).
  const delimiter = Buffer.from(`\n--${boundary}`, 'latin1');
  let buf: Buffer = Buffer.from('\n', 'latin1');
  let state: State = 'preamble';
  let index = -1;
  let headerBytes = 0;
  let headers: Record<string, string> = {};
  let lastHeader: string | undefined;

  const more = async function* (): AsyncGenerator<MultipartEvent, boolean> {
    // Consumes `buf` as far as the state machine can go; returns true when more input is needed.
    for (;;) {
      if (state === 'epilogue') {
        buf = Buffer.alloc(0);
        return true;
      }
      if (state === 'preamble' || state === 'body') {
        const at = buf.indexOf(delimiter);
        if (at < 0) {
          // Keep what could be the start of a delimiter (and the CR before it).
          const keep = Math.min(buf.length, delimiter.length);
          const emit = buf.length - keep;
          if (state === 'body' && emit > 0) yield { kind: 'data', chunk: buf.subarray(0, emit) };
          buf = buf.subarray(emit);
          return true;
        }
        const end = at > 0 && buf[at - 1] === CR ? at - 1 : at;
        if (state === 'body') {
          if (end > 0) yield { kind: 'data', chunk: buf.subarray(0, end) };
          yield { kind: 'part-end', index };
        }
        buf = buf.subarray(at + delimiter.length);
        state = 'after-delimiter';
        continue;
      }
      if (state === 'after-delimiter') {
        if (buf.length < 2) return true;
        if (buf[0] === DASH && buf[1] === DASH) {
          state = 'epilogue';
          continue;
        }
        const lf = buf.indexOf(LF);
        if (lf < 0) {
          if (buf.length > MAX_DELIMITER_LINE) throw multipartError('a boundary delimiter line is not followed by a line end');
          return true;
        }
        // Transport padding (RFC 2046 5.1.1): only whitespace may follow the boundary on its line;
        // anything else means the "boundary" was a longer string that merely starts like it.
        if (!/^[ \t]*\r?$/.test(buf.toString('latin1', 0, lf))) {
          throw multipartError('a boundary delimiter is followed by text other than white space');
        }
        buf = buf.subarray(lf + 1);
        state = 'headers';
        index++;
        headers = {};
        headerBytes = 0;
        lastHeader = undefined;
        continue;
      }
      // state === 'headers': one line at a time until the empty line.
      const lf = buf.indexOf(LF);
      if (lf < 0) {
        if (headerBytes + buf.length > MAX_HEADER_BYTES) throw multipartError('the part headers exceed 16 KiB', { part: index });
        return true;
      }
      headerBytes += lf + 1;
      if (headerBytes > MAX_HEADER_BYTES) throw multipartError('the part headers exceed 16 KiB', { part: index });
      const line = buf.toString('latin1', 0, lf > 0 && buf[lf - 1] === CR ? lf - 1 : lf);
      buf = buf.subarray(lf + 1);
      if (line === '') {
        state = 'body';
        yield { kind: 'part', index, headers };
        continue;
      }
      if ((line[0] === ' ' || line[0] === '\t') && lastHeader) {
        headers[lastHeader] = `${headers[lastHeader]} ${line.trim()}`;
        continue;
      }
      const colon = line.indexOf(':');
      if (colon <= 0) throw multipartError('a part header line has no name', { part: index });
      lastHeader = line.slice(0, colon).trim().toLowerCase();
      headers[lastHeader] = line.slice(colon + 1).trim();
    }
  };

  for await (const raw of source) {
    const chunk = typeof raw === 'string' ? Buffer.from(raw, 'latin1') : Buffer.isBuffer(raw) ? raw : Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
    if (chunk.length === 0) continue;
    const now = state as State; // changed by more(), which TypeScript cannot see
    if (buf.length === 0) {
      buf = chunk;
    } else if ((now === 'body' || now === 'preamble') && chunk.length >= delimiter.length && !delimiterStartsIn(buf, chunk, delimiter)) {
      // The tail kept in a body cannot begin a delimiter (nor be the CR before one): it is plain
      // data, and the chunk is used as it is instead of being copied behind it (the copy was
      // every byte of every part once more).
      if (now === 'body') yield { kind: 'data', chunk: buf };
      buf = chunk;
    } else {
      // A partial delimiter or header line is left over: join the short tail with the chunk.
      buf = Buffer.concat([buf, chunk]);
    }
    yield* more();
  }
  yield* more();
  if ((state as State) !== 'epilogue') {
    const where = (state as State) === 'preamble' ? 'before the first boundary delimiter' : `in part ${index}`;
    throw multipartError(`the body ended ${where}, without the close delimiter "--${boundary}--"`, { part: index, state });
  }
}

/**
 * Whether a delimiter (or the CR before one) may start within `tail` when `next` follows it. Only
 * the tail and the first delimiter-length bytes of `next` need looking at; `next` is at least that long.
 */
function delimiterStartsIn(tail: Buffer, next: Buffer, delimiter: Buffer): boolean {
  const joined = Buffer.concat([tail, next.subarray(0, delimiter.length)]);
  const at = joined.indexOf(delimiter);
  return at >= 0 && at <= tail.length;
}

function multipartError(message: string, fields: Record<string, unknown> = {}): MedgeError {
  return new MedgeError('MEDGE_ERR_DICOMWEB_MULTIPART', `multipart/related body: ${message}`, fields);
}
