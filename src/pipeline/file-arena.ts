import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

/**
 * The files of a series read into one buffer kept from one job to the next, as VolumeArena keeps
 * the voxel arrays. Read one by one (readFileSync), a 200-slice head CT was 200 fresh 0.5 MB
 * buffers per job that an idle worker never collected: they stayed until the next job, which
 * allocated its own on top (and collecting them after each job cost the next alert 150-200 ms,
 * see README, Benchmarks).
 *
 * One job at a time: the views `read` returns are valid until the next `read`.
 */
export class FileArena {
  private kept: Buffer | null = null;

  /** @param maxKeptBytes the largest series whose bytes are kept; larger ones get a buffer of their own, dropped after the job. */
  constructor(private readonly maxKeptBytes = 256 * 1024 * 1024) {}

  /**
   * The bytes of each file, or undefined for a file that is gone (replaced by a newer version
   * since the job was made: that version makes the series ready again).
   */
  read(paths: readonly string[]): Array<Buffer | undefined> {
    const open = paths.map((path) => {
      let fd: number;
      try {
        fd = openSync(path, 'r');
      } catch {
        return undefined;
      }
      try {
        return { fd, size: fstatSync(fd).size };
      } catch (err) {
        closeSync(fd);
        throw err;
      }
    });
    try {
      const total = open.reduce((sum, f) => sum + (f?.size ?? 0), 0);
      const buffer = this.bufferFor(total);
      let offset = 0;
      return open.map((f) => {
        if (!f) return undefined;
        const view = buffer.subarray(offset, offset + f.size);
        offset += f.size;
        let done = 0;
        while (done < f.size) {
          const n = readSync(f.fd, view, done, f.size - done, done);
          if (n === 0) break; // shorter than its size a moment ago: what is there
          done += n;
        }
        return view.subarray(0, done);
      });
    } finally {
      for (const f of open) if (f) closeSync(f.fd);
    }
  }

  private bufferFor(total: number): Buffer {
    if (total > this.maxKeptBytes) return Buffer.allocUnsafeSlow(total);
    if (!this.kept || this.kept.length < total) {
      this.kept = null;
      this.kept = Buffer.allocUnsafeSlow(total);
    }
    return this.kept;
  }
}
