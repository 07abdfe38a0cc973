/**
 * Voxel arrays kept from one volume to the next. A 240-slice 512 x 512 CT needs 126 MB of Int16
 * voxels and 63 MB of outside flags; allocating them fresh costs a page fault and a zeroed page per
 * 4 KB on first touch: about 120 to 160 ms of the 240 ms the copy took (measured in the analysis
 * worker). A worker analyses one series at a time, so it can hand the same memory to the next volume.
 *
 * Not thread-safe and not re-entrant: `acquire` while the arrays are out (a second volume being
 * built before `release`) gets fresh arrays that are not kept.
 */
export class VolumeArena {
  private data: Int16Array | null = null;
  private outside: Uint8Array | null = null;
  private busy = false;

  /** @param maxKeptVoxels the largest volume whose arrays are kept (3 bytes each); larger ones are allocated and dropped. */
  constructor(private readonly maxKeptVoxels = 120 * 1024 * 1024) {}

  /** Arrays of exactly `voxels` elements; `outside` all zero, `data` with undefined content (the builder writes every voxel). */
  acquire(voxels: number): { data: Int16Array; outside: Uint8Array } {
    if (this.busy || voxels > this.maxKeptVoxels) return { data: new Int16Array(voxels), outside: new Uint8Array(voxels) };
    this.busy = true;
    if (!this.data || this.data.length < voxels) {
      this.data = null;
      this.outside = null;
      this.data = new Int16Array(voxels);
      this.outside = new Uint8Array(voxels);
      return { data: this.data, outside: this.outside };
    }
    const outside = this.outside!.subarray(0, voxels);
    outside.fill(0);
    return { data: this.data.subarray(0, voxels), outside };
  }

  /** The volume built on the kept arrays is no longer used: the next `acquire` may reuse them. */
  release(): void {
    this.busy = false;
  }
}
