import { readFileSync } from 'node:fs';

/** Linux clock ticks per second (getconf CLK_TCK); 100 on every mainstream kernel. */
export const CLK_TCK = 100;

/** User + system CPU seconds a process has used so far (/proc/<pid>/stat fields 14 and 15, all threads). */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) may contain spaces: split after its closing parenthesis.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
}

/** A field of /proc/<pid>/status in MB (VmHWM: lifetime peak resident set; VmRSS: current). */
export function statusMb(pid: number, field: 'VmHWM' | 'VmRSS'): number | undefined {
  try {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

export interface RssSampler {
  /** Stops sampling; returns the peak in MB: the larger of the sampled VmRSS and VmHWM. */
  stop(): number;
}

/**
 * Samples VmRSS every intervalMs (50 by default). VmHWM alone is the peak over the process's whole
 * life, so the benchmark uses a fresh process per round and reports the larger of the two.
 */
export function sampleRss(pid: number, intervalMs = 50): RssSampler {
  let peak = statusMb(pid, 'VmRSS') ?? 0;
  const timer = setInterval(() => {
    const rss = statusMb(pid, 'VmRSS');
    if (rss !== undefined && rss > peak) peak = rss;
  }, intervalMs);
  // Never keeps the benchmark alive on its own, even if a failed round forgets to stop it.
  timer.unref();
  return {
    stop() {
      clearInterval(timer);
      return Math.max(peak, statusMb(pid, 'VmHWM') ?? 0);
    },
  };
}
