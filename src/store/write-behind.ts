import { writev } from 'node:fs';

/** Bytes one writer may have in the thread pool before its caller waits (backpressure). */
const MAX_IN_FLIGHT_BYTES = 1024 * 1024;
/** Most buffers per writev call (IOV_MAX on Linux). */
export const WRITEV_MAX = 1024;

/**
 * Positioned writes of buffers their caller will not change (BeginOptions.ownedChunks), made in
 * libuv's thread pool while the caller goes on: a STOW-RS request's thread parses the next part
 * of the body while the previous chunks are copied into the page cache on the other core. The
 * copy is most of the cost of a write, and on this VM it grew several-fold at times (the host
 * backs fresh guest pages on first touch). 4 x 50 STOW-RS instances, rounds alternating in one
 * run: 360 against 260 instances/s and 0.64 against 0.85 CPU s (medians of 6 each); another run,
 * 361 against 320 instances/s (5 each). For C-STORE (chunks copied out of the read buffer into
 * reused buffers first) it gave nothing on one association and cost 10 % on four: not used there.
 */
export class WriteBehind {
  /** Each removes itself when done; never rejects (a failure is kept in `failure`). */
  private readonly inFlight = new Set<Promise<void>>();
  private bytes = 0;
  private failure: unknown;

  constructor(
    private readonly fd: number,
    private readonly limit = MAX_IN_FLIGHT_BYTES,
    /** The positioned write itself (tests give one they can hold back). */
    private readonly writeAt: (fd: number, chunks: readonly Buffer[], position: number) => Promise<void> = writeAllAt,
  ) {}

  /** Starts writing `chunks` (`length` bytes) at `position`; resolves once no more than the limit is in flight. Throws an earlier write's error. */
  async write(chunks: readonly Buffer[], position: number, length: number): Promise<void> {
    this.throwIfFailed();
    this.bytes += length;
    const done: Promise<void> = this.writeAt(this.fd, chunks, position)
      .catch((err: unknown) => {
        this.failure ??= err;
      })
      .finally(() => {
        this.bytes -= length;
        this.inFlight.delete(done);
      });
    this.inFlight.add(done);
    while (this.bytes > this.limit && this.inFlight.size > 0) await Promise.race(this.inFlight);
    this.throwIfFailed();
  }

  /** Resolves once every write started so far is done (any number of callers at once); throws the first error. */
  async drain(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.all(this.inFlight);
    this.throwIfFailed();
  }

  get idle(): boolean {
    return this.inFlight.size === 0 && this.failure === undefined;
  }

  private throwIfFailed(): void {
    if (this.failure !== undefined) throw this.failure;
  }
}

/** pwritev in the thread pool until every byte is written (a short write continues where it stopped). */
async function writeAllAt(fd: number, chunks: readonly Buffer[], position: number): Promise<void> {
  let list = chunks as Buffer[];
  let left = 0;
  for (const c of list) left += c.length;
  while (left > 0) {
    const batch = list.length > WRITEV_MAX ? list.slice(0, WRITEV_MAX) : list;
    const n = await new Promise<number>((resolve, reject) => writev(fd, batch, position, (err, written) => (err ? reject(err) : resolve(written))));
    position += n;
    left -= n;
    list = dropBytes(list, n);
  }
}

/** The list without its first n bytes. */
export function dropBytes(list: Buffer[], n: number): Buffer[] {
  let i = 0;
  while (i < list.length && n >= list[i]!.length) n -= list[i++]!.length;
  const rest = list.slice(i);
  if (n > 0) rest[0] = rest[0]!.subarray(n);
  return rest;
}
