import type { IngestContext, IngestOutcome } from '../ingest/types.js';
import type { Clock, TimerHandle } from './clock.js';
import { SliceRun } from './slice-run.js';
import type { ReadyTrigger, SeriesReady } from './types.js';

/**
 * Judges when a series is complete (DESIGN.md, "Knowing that a series is complete"). DICOM has no
 * end-of-series message, so every signal counts, strongest first:
 *
 * - expected count: the headers say how many instances to expect (Images in Acquisition, Number of
 *   Series Related Instances) and that many have arrived: ready at once;
 * - release of every association (DIMSE) or end of every STOW-RS request that brought instances of
 *   the series: ready at once, unless an expected count says more are to come. A sender that opens
 *   one association per instance would make every instance a "release": a release after a single
 *   instance of the series only arms the short settle timer, and so does the end of a STOW-RS
 *   request that continues a series already in the index (a sender's next batch). The end of a
 *   first STOW-RS request waits a short grace (`requestGraceMs`) for the sender's next request, so
 *   that the first of several batches is not analysed while the rest streams in;
 * - geometry: the slices so far form a contiguous, evenly spaced run (slice-run.ts): ready after
 *   `geometrySettleMs` without a new instance;
 * - quiet: `quietMs` without a new instance, the fallback for senders that give no other signal.
 *
 * A series is tracked from its first instance until it is judged ready; an instance arriving later
 * starts a new track (seeded with what the index already holds), which makes it ready again: the
 * pipeline analyses it again and the new analysis supersedes the old one.
 */
export interface TrackerDeps {
  clock: Clock;
  quietMs: number;
  geometrySettleMs: number;
  /**
   * The end of a first STOW-RS request makes the series ready after this long unless the next
   * request brings more of it (a sender's batches follow each other within milliseconds), ms.
   */
  requestGraceMs: number;
  /** The series' instances already in the index when tracking starts (a re-send, a restart). */
  known(seriesInstanceUid: string): { sopInstanceUid: string; imagePosition: string | null; imageOrientation: string | null; receivedAt: number }[];
  /** A new track began (the series is receiving); `ctx` and `outcome` are those of its first instance, absent on resume. */
  onReceiving(track: { studyInstanceUid: string; seriesInstanceUid: string }, first?: { outcome: IngestOutcome; ctx: IngestContext }): void;
  /** The series is judged ready; its track has ended. */
  onReady(ready: SeriesReady & { lastReceivedAt: number }): void;
}

export interface SeriesTracker {
  /** An instance was stored (not a duplicate, not one the node made itself). */
  instance(outcome: IngestOutcome, ctx: IngestContext): void;
  /** The association or request `key` ended (see `transferKey`). */
  released(key: string, trigger: 'association-released' | 'request-complete'): void;
  /** Tracks a series left receiving by a restart: ready after `quietMs` unless more instances come. */
  resume(studyInstanceUid: string, seriesInstanceUid: string): void;
  /** Series being tracked now. */
  size(): number;
  /** Whether the series is being tracked (instances arriving, not yet judged ready). */
  tracking(seriesInstanceUid: string): boolean;
  /** Cancels every timer (the tracks are dropped; a restart resumes them from series_state). */
  stop(): void;
}

/** The key of a transfer (DIMSE association or STOW-RS request), unique across the two protocols. */
export function transferKey(protocol: string, id: string): string {
  return `${protocol}:${id}`;
}

interface Track {
  studyInstanceUid: string;
  seriesInstanceUid: string;
  sops: Set<string>;
  run: SliceRun;
  expected: number | null;
  transfers: Map<string, { instances: number; released: boolean }>;
  lastReceivedAt: number;
  /** The index already held instances of the series when this track began: a continuation. */
  continued: boolean;
  timer?: TimerHandle;
}

export function createSeriesTracker(deps: TrackerDeps): SeriesTracker {
  const { clock } = deps;
  const tracks = new Map<string, Track>();
  /** Transfer key -> series that received instances through it. */
  const byTransfer = new Map<string, Set<string>>();

  function open(studyInstanceUid: string, seriesInstanceUid: string, current?: IngestOutcome): Track {
    const track: Track = { studyInstanceUid, seriesInstanceUid, sops: new Set(), run: new SliceRun(), expected: null, transfers: new Map(), lastReceivedAt: 0, continued: false };
    for (const k of deps.known(seriesInstanceUid)) {
      // A new instance is counted below, as it arrives; a replaced one was here before.
      if (current && current.status === 'stored' && k.sopInstanceUid === current.sopInstanceUid) continue;
      track.sops.add(k.sopInstanceUid);
      track.lastReceivedAt = Math.max(track.lastReceivedAt, k.receivedAt);
      track.run.add(k.sopInstanceUid, k.imagePosition, k.imageOrientation);
      track.continued = true;
    }
    tracks.set(seriesInstanceUid, track);
    return track;
  }

  function arm(track: Track, ms: number, trigger: ReadyTrigger): void {
    if (track.timer !== undefined) clock.clearTimer(track.timer);
    track.timer = clock.setTimer(ms, () => {
      track.timer = undefined;
      ready(track, trigger);
    });
  }

  /**
   * Re-arms the timer a new instance resets: ready after the short settle if the slices then form
   * a contiguous run, else after the fallback. Geometry is judged when the settle time is up, not
   * per instance (sorting the run per instance made a series quadratic).
   */
  function armQuiet(track: Track): void {
    const { geometrySettleMs: settle, quietMs: quiet } = deps;
    if (track.timer !== undefined) clock.clearTimer(track.timer);
    track.timer = clock.setTimer(Math.min(settle, quiet), () => {
      track.timer = undefined;
      if (track.run.contiguous()) return ready(track, 'geometry');
      if (quiet > settle) return arm(track, quiet - settle, 'quiet-timer');
      ready(track, 'quiet-timer');
    });
  }

  function moreExpected(track: Track): boolean {
    return track.expected !== null && track.sops.size < track.expected;
  }

  function ready(track: Track, trigger: ReadyTrigger): void {
    if (track.timer !== undefined) clock.clearTimer(track.timer);
    tracks.delete(track.seriesInstanceUid);
    for (const key of track.transfers.keys()) {
      const set = byTransfer.get(key);
      set?.delete(track.seriesInstanceUid);
      if (set?.size === 0) byTransfer.delete(key);
    }
    deps.onReady({
      studyInstanceUid: track.studyInstanceUid,
      seriesInstanceUid: track.seriesInstanceUid,
      trigger,
      readyAt: clock.now(),
      instances: track.sops.size,
      lastReceivedAt: track.lastReceivedAt,
    });
  }

  return {
    instance(outcome, ctx) {
      let track = tracks.get(outcome.seriesInstanceUid);
      if (!track) {
        track = open(outcome.studyInstanceUid, outcome.seriesInstanceUid, outcome);
        deps.onReceiving(track, { outcome, ctx });
      }
      const before = track.sops.size;
      track.sops.add(outcome.sopInstanceUid);
      const s = outcome.signals;
      track.run.add(outcome.sopInstanceUid, s?.imagePosition ?? null, s?.imageOrientation ?? null);
      if (s?.expectedInstances) track.expected = Math.max(track.expected ?? 0, s.expectedInstances);
      track.lastReceivedAt = Math.max(track.lastReceivedAt, outcome.receivedAt);
      if (ctx.associationId) {
        const key = transferKey(ctx.protocol, ctx.associationId);
        const t = track.transfers.get(key);
        if (t) t.instances++;
        else track.transfers.set(key, { instances: 1, released: false });
        let set = byTransfer.get(key);
        if (!set) byTransfer.set(key, (set = new Set()));
        set.add(track.seriesInstanceUid);
      }
      // Only the instance that reaches the count fires it: a series already complete in the index
      // (a re-send) is judged by the other signals.
      if (track.expected !== null && before < track.expected && track.sops.size >= track.expected) return ready(track, 'expected-count');
      armQuiet(track);
    },

    released(key, trigger) {
      const series = byTransfer.get(key);
      byTransfer.delete(key);
      for (const uid of series ?? []) {
        const track = tracks.get(uid);
        const t = track?.transfers.get(key);
        if (!track || !t) continue;
        t.released = true;
        if (moreExpected(track)) continue;
        if ([...track.transfers.values()].some((x) => !x.released)) continue;
        // A STOW-RS request that continues a series already analysed is likely one of a sender's
        // batches (4 requests of 50 made the series ready 4 times, each analysed over a 150 MB
        // volume): the next batch gets the settle time to follow. A first request waits a short
        // grace for a next request of the same series (the first of 4 batches of 50 was analysed
        // during the transfer: 70 MB and 0.5 s of CPU more while receiving). A DIMSE association
        // makes the series ready at once.
        const batch = trigger === 'request-complete' && track.continued;
        if (t.instances <= 1 || batch) arm(track, deps.geometrySettleMs, trigger);
        else if (trigger === 'request-complete' && deps.requestGraceMs > 0) arm(track, deps.requestGraceMs, trigger);
        else ready(track, trigger);
      }
    },

    resume(studyInstanceUid, seriesInstanceUid) {
      if (tracks.has(seriesInstanceUid)) return;
      const track = open(studyInstanceUid, seriesInstanceUid);
      deps.onReceiving(track);
      arm(track, deps.quietMs, 'restart');
    },

    size: () => tracks.size,
    tracking: (series) => tracks.has(series),

    stop() {
      for (const t of tracks.values()) if (t.timer !== undefined) clock.clearTimer(t.timer);
      tracks.clear();
      byTransfer.clear();
    },
  };
}
