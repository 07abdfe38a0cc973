import type { Logger } from '../observability/log.js';

/** Free space is sampled this often, ms. */
export const SAMPLE_INTERVAL_MS = 5 * 60_000;
/** The trend is taken over at most this long, ms (a day of scanning: nights and days together). */
const WINDOW_MS = 24 * 3_600_000;
/** No trend before free space has been watched this long, ms (one CT series in a quiet minute is no rate). */
const MIN_SPAN_MS = 3_600_000;
/** A warning that holds is logged again this often, ms. */
const REWARN_MS = 6 * 3_600_000;

export interface DiskForecastDeps {
  /** Free bytes on the store's volume now. */
  freeBytes: () => number;
  /** New instances are refused below this (store.minFreeBytes). */
  minFreeBytes: number;
  /** Warn when the floor is nearer than this many hours (store.warnHoursToFloor). */
  warnHours: number;
  log: Logger;
  /** Monotonic clock, ms. */
  now?: () => number;
}

export interface DiskOutlook {
  /** How fast free space shrank over the last day (or since start, at least an hour), bytes per hour; null before an hour of samples. */
  shrinkBytesPerHour: number | null;
  /** When free space reaches store.minFreeBytes at that pace, hours; null when it does not shrink or is not known yet. */
  hoursToFloor: number | null;
  /** What to do, when the floor is nearer than store.warnHoursToFloor; null otherwise. */
  warning: string | null;
}

/**
 * Tells before the disk fills (the node then refuses new instances: A700, HTTP 507). It samples the
 * volume's free space, so whatever else fills the volume (logs, other programs) counts too, and
 * projects the last day's trend to the free-space floor.
 */
export class DiskForecast {
  private readonly now: () => number;
  private readonly samples: { at: number; free: number }[] = [];
  private timer: NodeJS.Timeout | undefined;
  private warnedAt: number | undefined;

  constructor(private readonly deps: DiskForecastDeps) {
    this.now = deps.now ?? (() => performance.now());
    this.sample();
  }

  start(): void {
    this.timer ??= setInterval(() => this.sample(), SAMPLE_INTERVAL_MS).unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Records the free space now and logs a warning when the floor comes near. */
  sample(): void {
    const at = this.now();
    this.samples.push({ at, free: this.deps.freeBytes() });
    while (this.samples.length > 2 && at - this.samples[1]!.at >= WINDOW_MS) this.samples.shift();
    const outlook = this.outlook();
    if (!outlook.warning) {
      this.warnedAt = undefined;
      return;
    }
    if (this.warnedAt !== undefined && at - this.warnedAt < REWARN_MS) return;
    this.warnedAt = at;
    this.deps.log.warn({ event: 'disk-filling', hoursToFloor: outlook.hoursToFloor, shrinkBytesPerHour: outlook.shrinkBytesPerHour }, outlook.warning);
  }

  outlook(): DiskOutlook {
    const last = this.samples.at(-1)!;
    const first = this.samples[0]!;
    const span = last.at - first.at;
    if (span < MIN_SPAN_MS) return { shrinkBytesPerHour: null, hoursToFloor: null, warning: null };
    const perHour = Math.max(0, ((first.free - last.free) / span) * 3_600_000);
    const left = last.free - this.deps.minFreeBytes;
    if (perHour === 0) return { shrinkBytesPerHour: 0, hoursToFloor: null, warning: null };
    const hours = Math.max(0, left / perHour);
    const warning = hours < this.deps.warnHours
      ? `at the last ${Math.round(span / 3_600_000)} h's pace the disk reaches store.minFreeBytes in ${hours.toFixed(1)} h, and new instances are refused from then on: free space on the data volume`
      : null;
    return { shrinkBytesPerHour: Math.round(perHour), hoursToFloor: Math.round(hours * 10) / 10, warning };
  }
}
