import type { SeriesSignals } from '../ingest/types.js';

/** Priority of routine work; each reason below adds its weight (higher runs first). */
export const ROUTINE = 0;
/** A stroke, trauma or bleed protocol (configured patterns on descriptions and protocol name). */
export const PRIORITY_PROTOCOL = 1;
/** A configured emergency-department scanner (calling AE title). */
export const PRIORITY_EMERGENCY_SCANNER = 1;

export interface Priority {
  priority: number;
  /** Why it is not routine, for the dashboard: the pattern and the attribute, never the text (house style 12). */
  reason: string | null;
}

export interface PriorityRules {
  emergencyAeTitles: readonly string[];
  priorityPatterns: readonly string[];
}

/** Which attributes the patterns are matched on, with their names for the reason. */
const MATCHED: ReadonlyArray<[keyof SeriesSignals, string]> = [
  ['protocolName', 'protocol name'],
  ['seriesDescription', 'series description'],
  ['studyDescription', 'study description'],
];

/**
 * Judges a series' scheduling priority from its first instance's attributes and the calling AE title
 * of the association that brought it. Patterns are case-insensitive regular expressions (validated
 * at start-up by src/config/validate.ts).
 */
export function createPriorityJudge(rules: PriorityRules): (signals: SeriesSignals | undefined, callingAe: string | null | undefined) => Priority {
  const patterns = rules.priorityPatterns.map((p) => ({ source: p, re: new RegExp(p, 'i') }));
  const emergency = new Set(rules.emergencyAeTitles.map((a) => a.trim()));
  return (signals, callingAe) => {
    let priority = ROUTINE;
    const reasons: string[] = [];
    const ae = callingAe?.trim();
    if (ae && emergency.has(ae)) {
      priority += PRIORITY_EMERGENCY_SCANNER;
      reasons.push(`emergency scanner ${ae}`);
    }
    match: for (const [attr, name] of MATCHED) {
      const text = signals?.[attr];
      if (typeof text !== 'string' || !text) continue;
      for (const p of patterns) {
        if (p.re.test(text)) {
          priority += PRIORITY_PROTOCOL;
          reasons.push(`${name} matches /${p.source}/`);
          break match;
        }
      }
    }
    return { priority, reason: reasons.length > 0 ? reasons.join('; ') : null };
  };
}
