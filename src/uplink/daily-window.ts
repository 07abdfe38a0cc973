/**
 * A daily sending window 'HH:MM-HH:MM' in the node's local time (issue 5, "when"); it may cross
 * midnight ('20:00-06:00'). Equal ends mean always open. Local time follows the node's TZ, so a
 * daylight-saving day is one hour shorter or longer, as a person reading the clock expects.
 */
export interface DailyWindow {
  isOpen(at: number): boolean;
  /** The next moment at or after `at` when the window is open (`at` itself when open). */
  nextOpen(at: number): number;
}

export function parseDailyWindow(text: string): DailyWindow {
  const m = /^(\d\d):(\d\d)-(\d\d):(\d\d)$/.exec(text);
  if (!m) throw new RangeError(`a daily window is 'HH:MM-HH:MM', got '${text}'`);
  const start = Number(m[1]) * 60 + Number(m[2]);
  const end = Number(m[3]) * 60 + Number(m[4]);
  const minuteOfDay = (at: number) => {
    const d = new Date(at);
    return d.getHours() * 60 + d.getMinutes();
  };
  const isOpen = (at: number) => {
    if (start === end) return true;
    const t = minuteOfDay(at);
    return start < end ? t >= start && t < end : t >= start || t < end;
  };
  return {
    isOpen,
    nextOpen(at) {
      if (isOpen(at)) return at;
      const d = new Date(at);
      d.setHours(Math.floor(start / 60), start % 60, 0, 0);
      if (d.getTime() <= at) d.setDate(d.getDate() + 1);
      return d.getTime();
    },
  };
}
