import type { AlertRule, AlertSeverity } from '../config/schema.js';
import type { ReportedFinding } from '../analyzers/offline.js';

/** One alert an analysis calls for: the rule (its finding type), the severity and the findings behind it. */
export interface RuleMatch {
  /** The finding type, e.g. 'intracranial-hemorrhage': one alert per study and rule. */
  rule: string;
  severity: AlertSeverity;
  /** The findings of that type, largest volume first. */
  findings: ReportedFinding[];
}

/** Severity order, highest first (the worklist and the outbox priority use it). */
export const SEVERITY_RANK: Record<AlertSeverity, number> = { critical: 2, urgent: 1, routine: 0 };

/**
 * Turns findings into alerts: per finding type, the first rule (in configuration order) of that
 * type whose minVolumeMl the largest finding of the type reaches. A type no rule matches raises
 * nothing. With the default rules any intracranial hemorrhage is critical.
 */
export function evaluateRules(findings: readonly ReportedFinding[], rules: readonly AlertRule[]): RuleMatch[] {
  const byType = new Map<string, ReportedFinding[]>();
  for (const f of findings) byType.set(f.type, [...(byType.get(f.type) ?? []), f]);
  const matches: RuleMatch[] = [];
  for (const [type, list] of byType) {
    const sorted = [...list].sort((a, b) => b.volumeMl - a.volumeMl);
    const largest = sorted[0]!.volumeMl;
    const rule = rules.find((r) => r.finding === type && largest >= (r.minVolumeMl ?? 0));
    if (rule) matches.push({ rule: type, severity: rule.severity, findings: sorted });
  }
  return matches;
}
