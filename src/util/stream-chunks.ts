import type { Readable } from 'node:stream';

/**
 * The chunks of a byte stream one by one, as they were pushed, with backpressure: the stream is
 * paused once `maxQueued` bytes wait for the consumer and resumed when a quarter of that is left.
 *
 * Readable's own async iterator calls `read()`, which joins every chunk buffered at that moment into
 * one new buffer: behind a consumer that awaits disk writes, most of a STOW-RS body was allocated a
 * second time, and that external memory made V8 run a full collection every 70 to 90 ms.
 */
export async function* chunksOf(stream: Readable, maxQueued = 1024 * 1024): AsyncGenerator<Buffer> {
  const queue: Buffer[] = [];
  let queued = 0;
  let ended = false;
  let failure: Error | undefined;
  let wake: (() => void) | undefined;
  const onData = (chunk: Buffer | string) => {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'latin1') : chunk;
    queue.push(bytes);
    queued += bytes.length;
    if (queued >= maxQueued) stream.pause();
    wake?.();
  };
  const onEnd = () => {
    ended = true;
    wake?.();
  };
  const onError = (err: Error) => {
    failure = err;
    wake?.();
  };
  stream.on('data', onData).on('end', onEnd).on('close', onEnd).on('error', onError);
  try {
    for (;;) {
      const chunk = queue.shift();
      if (chunk) {
        queued -= chunk.length;
        if (queued < maxQueued / 4 && stream.isPaused() && !ended) stream.resume();
        yield chunk;
        continue;
      }
      if (failure) throw failure;
      if (ended) return;
      await new Promise<void>((resolve) => (wake = resolve));
      wake = undefined;
    }
  } finally {
    stream.off('data', onData).off('end', onEnd).off('close', onEnd).off('error', onError);
  }
}
