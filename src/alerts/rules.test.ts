import { test } from 'node:test';
import assert from 'node:assert/strict';
import { evaluateRules } from './rules.js';
import { DEFAULT_CONFIG } from '../config/schema.js';
import type { ReportedFinding } from '../analyzers/offline.js';

function ich(volumeMl: number): ReportedFinding {
  return { type: 'intracranial-hemorrhage', subtype: 'subdural', side: 'left', region: 'frontal', volumeMl, centroidMm: [0, 0, 0], sliceRange: [1, 4], confidence: 0.9 };
}

test('by default any intracranial hemorrhage is critical, largest finding first', () => {
  const m = evaluateRules([ich(0.5), ich(12)], DEFAULT_CONFIG.alerts.rules);
  assert.equal(m.length, 1);
  assert.equal(m[0]!.rule, 'intracranial-hemorrhage');
  assert.equal(m[0]!.severity, 'critical');
  assert.deepEqual(m[0]!.findings.map((f) => f.volumeMl), [12, 0.5]);
});

test('the first rule whose minimum volume the largest finding reaches wins', () => {
  const rules = [
    { finding: 'intracranial-hemorrhage', minVolumeMl: 5, severity: 'critical' as const },
    { finding: 'intracranial-hemorrhage', minVolumeMl: 1, severity: 'urgent' as const },
  ];
  assert.equal(evaluateRules([ich(6)], rules)[0]!.severity, 'critical');
  assert.equal(evaluateRules([ich(2)], rules)[0]!.severity, 'urgent');
  assert.deepEqual(evaluateRules([ich(0.4)], rules), [], 'below every minimum: no alert');
  assert.deepEqual(evaluateRules([], rules), []);
  assert.deepEqual(evaluateRules([ich(9)], []), [], 'no rule for the type: no alert');
});
