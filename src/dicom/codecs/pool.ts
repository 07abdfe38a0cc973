import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { ERROR_CATALOGUE, MedgeError, type ErrorCode } from '../../errors.js';
import { isCompressedTransferSyntax, decodeFrameSync } from './decode.js';
import { openPixelSource } from './instance.js';
import type { DecodedFrame, PixelArray, PixelInfo } from './types.js';

export interface WorkerRequest {
  id: number;
  buffer: SharedArrayBuffer;
  byteOffset: number;
  byteLength: number;
  frame: number;
}
export type WorkerReply =
  | { id: number; ok: true; info: PixelInfo; pixels: PixelArray }
  | { id: number; ok: false; code: string; message: string; fields: Record<string, unknown> };

export interface DecoderPoolOptions {
  /** Worker threads; default: the cores less one, between 1 and 4. */
  size?: number;
  /** A frame not decoded within this many milliseconds rejects and its worker is replaced (default 60 000). */
  timeoutMs?: number;
}

export interface DecoderPool {
  /** Decodes frame `frame` (0-based). Compressed frames are decoded on a worker thread; native ones here (views, no copy). */
  decodeFrame(part10: Buffer, frame: number): Promise<DecodedFrame>;
  /** Every frame of the instance, in order. Rejects with the first frame's error. */
  decodeAll(part10: Buffer): Promise<DecodedFrame[]>;
  /** Stops the workers; frames not yet decoded reject. */
  close(): Promise<void>;
}

interface Task {
  request: Omit<WorkerRequest, 'id'>;
  where: string;
  resolve(frame: DecodedFrame): void;
  reject(err: MedgeError): void;
}

interface Slot {
  worker: Worker;
  task?: Task;
  id?: number;
  timer?: NodeJS.Timeout;
}

const WORKER_URL = new URL('./decode-worker.js', import.meta.url);

/**
 * A pool of worker_threads that decodes compressed frames off the main event loop. A frame that fails
 * rejects with its MedgeError; a worker that crashes, exits or overruns `timeoutMs` rejects its frame
 * with MEDGE_ERR_CODEC_DECODE and is replaced, so the pool keeps working. Idle workers do not keep the
 * process alive.
 */
export function createDecoderPool(options: DecoderPoolOptions = {}): DecoderPool {
  const size = Math.max(1, options.size ?? Math.min(4, Math.max(1, availableParallelism() - 1)));
  const timeoutMs = options.timeoutMs ?? 60_000;
  const slots: Slot[] = [];
  const queue: Task[] = [];
  let nextId = 1;
  let closed = false;

  const spawn = (): Slot => {
    const slot: Slot = { worker: new Worker(WORKER_URL) };
    slot.worker.unref();
    slot.worker.on('message', (reply: WorkerReply) => {
      const task = slot.task;
      if (!task || reply.id !== slot.id) return;
      finishSlot(slot);
      if (reply.ok) task.resolve({ info: reply.info, pixels: reply.pixels });
      else task.reject(new MedgeError(knownCode(reply.code), reply.message, reply.fields));
      pump();
    });
    const lost = (why: string): void => {
      const index = slots.indexOf(slot);
      if (index < 0) return;
      slots.splice(index, 1);
      const task = slot.task;
      finishSlot(slot);
      if (task) task.reject(new MedgeError('MEDGE_ERR_CODEC_DECODE', `${task.where} cannot be decoded: the decoder thread ${why}`, { frame: task.request.frame }));
      pump();
    };
    slot.worker.on('error', (err) => lost(`crashed (${err.message})`));
    slot.worker.on('exit', (code) => lost(`exited with code ${code}`));
    slots.push(slot);
    return slot;
  };

  const finishSlot = (slot: Slot): void => {
    if (slot.timer) clearTimeout(slot.timer);
    slot.timer = undefined;
    slot.task = undefined;
    slot.id = undefined;
    slot.worker.unref();
  };

  const pump = (): void => {
    while (!closed && queue.length > 0) {
      const slot = slots.find((s) => !s.task) ?? (slots.length < size ? spawn() : undefined);
      if (!slot) return;
      const task = queue.shift()!;
      const id = nextId++;
      slot.task = task;
      slot.id = id;
      slot.worker.ref();
      slot.timer = setTimeout(() => {
        // A hung codec cannot be interrupted inside its thread: the thread is terminated and replaced.
        const index = slots.indexOf(slot);
        if (index >= 0) slots.splice(index, 1);
        finishSlot(slot);
        void slot.worker.terminate();
        task.reject(new MedgeError('MEDGE_ERR_CODEC_DECODE', `${task.where} cannot be decoded: no result within ${timeoutMs} ms`, { frame: task.request.frame }));
        pump();
      }, timeoutMs);
      slot.worker.postMessage({ id, ...task.request } satisfies WorkerRequest);
    }
  };

  const submit = (shared: SharedArrayBuffer, length: number, frame: number, where: string): Promise<DecodedFrame> =>
    new Promise<DecodedFrame>((resolve, reject) => {
      if (closed) {
        reject(new MedgeError('MEDGE_ERR_CODEC_DECODE', `${where} cannot be decoded: the decoder pool is closed`, { frame }));
        return;
      }
      queue.push({ request: { buffer: shared, byteOffset: 0, byteLength: length, frame }, where, resolve, reject });
      pump();
    });

  // One shared copy per file Buffer, however many frames are asked for (a multi-frame file is not
  // copied once per frame); workers keep one Buffer per SharedArrayBuffer, so they parse it once.
  const sharedCopies = new WeakMap<Buffer, SharedArrayBuffer>();
  const share = (part10: Buffer): SharedArrayBuffer => {
    let shared = sharedCopies.get(part10);
    if (!shared) {
      shared = new SharedArrayBuffer(part10.length);
      new Uint8Array(shared).set(part10);
      sharedCopies.set(part10, shared);
    }
    return shared;
  };

  const describeFrame = (uid: string, ts: string, frame: number): string => `instance ${uid}, transfer syntax ${ts}, frame ${frame}`;

  return {
    async decodeFrame(part10, frame) {
      const source = openPixelSource(part10);
      if (!isCompressedTransferSyntax(source.info.transferSyntaxUid)) return decodeFrameSync(part10, frame);
      return submit(share(part10), part10.length, frame, describeFrame(source.sopInstanceUid, source.info.transferSyntaxUid, frame));
    },
    async decodeAll(part10) {
      const source = openPixelSource(part10);
      const frames = [...Array(source.info.numberOfFrames).keys()];
      if (!isCompressedTransferSyntax(source.info.transferSyntaxUid)) return frames.map((f) => decodeFrameSync(part10, f));
      const shared = share(part10);
      return Promise.all(frames.map((f) => submit(shared, part10.length, f, describeFrame(source.sopInstanceUid, source.info.transferSyntaxUid, f))));
    },
    async close() {
      closed = true;
      for (const task of queue.splice(0)) task.reject(new MedgeError('MEDGE_ERR_CODEC_DECODE', `${task.where} cannot be decoded: the decoder pool was closed`, {}));
      const all = slots.splice(0);
      for (const slot of all) {
        const task = slot.task;
        finishSlot(slot);
        task?.reject(new MedgeError('MEDGE_ERR_CODEC_DECODE', `${task.where} cannot be decoded: the decoder pool was closed`, {}));
      }
      await Promise.all(all.map((s) => s.worker.terminate()));
    },
  };
}

function knownCode(code: string): ErrorCode {
  return code in ERROR_CATALOGUE ? (code as ErrorCode) : 'MEDGE_ERR_CODEC_DECODE';
}
