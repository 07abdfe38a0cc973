import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { SeriesSignals } from '../ingest/types.js';
import { createPriorityJudge, PRIORITY_EMERGENCY_SCANNER, PRIORITY_PROTOCOL, ROUTINE } from './priority.js';

const signals = (o: Partial<SeriesSignals>): SeriesSignals => ({
  modality: 'CT', studyDescription: null, seriesDescription: null, protocolName: null, imagePosition: null, imageOrientation: null, expectedInstances: null, ...o,
});

test('protocol patterns and emergency scanners raise the priority, with the reason but not the text', () => {
  const judge = createPriorityJudge({ emergencyAeTitles: ['CT_ER'], priorityPatterns: ['stroke', 'trauma'] });
  assert.deepEqual(judge(signals({ studyDescription: 'CT HEAD' }), 'CT_MAIN'), { priority: ROUTINE, reason: null });
  assert.deepEqual(judge(signals({ protocolName: 'Code STROKE head' }), 'CT_MAIN'), { priority: PRIORITY_PROTOCOL, reason: 'protocol name matches /stroke/' });
  assert.deepEqual(judge(signals({ seriesDescription: 'Polytrauma' }), 'CT_ER  '), {
    priority: PRIORITY_PROTOCOL + PRIORITY_EMERGENCY_SCANNER,
    reason: 'emergency scanner CT_ER; series description matches /trauma/',
  });
  assert.deepEqual(judge(undefined, null), { priority: ROUTINE, reason: null });
});
