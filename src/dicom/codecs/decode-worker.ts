import { parentPort } from 'node:worker_threads';
import { MedgeError } from '../../errors.js';
import { decodeFrameSync } from './decode.js';
import type { WorkerReply, WorkerRequest } from './pool.js';

/**
 * A decoder pool thread: decodes one frame per message. The file arrives as a SharedArrayBuffer (one
 * copy per decodeAll, not per frame); the decoded pixels go back as a transferred ArrayBuffer.
 */
const port = parentPort;
if (!port) throw new Error('decode-worker.js runs only as a worker thread of createDecoderPool');

/** The same Buffer object for the same shared file, so that decodeFrameSync's parse cache applies. */
const files = new WeakMap<SharedArrayBuffer, Buffer>();

port.on('message', (req: WorkerRequest) => {
  let reply: WorkerReply;
  const transfer: ArrayBuffer[] = [];
  try {
    let part10 = files.get(req.buffer);
    if (!part10) {
      part10 = Buffer.from(req.buffer, req.byteOffset, req.byteLength);
      files.set(req.buffer, part10);
    }
    const { info, pixels } = decodeFrameSync(part10, req.frame);
    // A view into the shared file (or into a larger buffer) is copied so that only the frame is transferred.
    const own = pixels.buffer instanceof ArrayBuffer && pixels.byteOffset === 0 && pixels.byteLength === pixels.buffer.byteLength;
    const out = own ? pixels : pixels.slice();
    transfer.push(out.buffer as ArrayBuffer);
    reply = { id: req.id, ok: true, info, pixels: out };
  } catch (err) {
    const e = err instanceof MedgeError ? err : undefined;
    reply = {
      id: req.id,
      ok: false,
      code: e?.code ?? 'MEDGE_ERR_CODEC_DECODE',
      message: e?.message ?? `frame ${req.frame} cannot be decoded: ${err instanceof Error ? err.message : String(err)}`,
      fields: e ? { ...e.fields } : {},
    };
  }
  port.postMessage(reply, transfer);
});
