import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MetricsRegistry } from './metrics.js';

test('a histogram renders cumulative buckets, +Inf, sum and count in the text format', () => {
  const m = new MetricsRegistry();
  const h = m.histogram('medge_time_to_alert_seconds', 'Time to alert', [0.5, 1]);
  h.observe({ severity: 'critical' }, 0.2);
  h.observe({ severity: 'critical' }, 0.7);
  h.observe({ severity: 'critical' }, 3);
  const text = m.render();
  assert.match(text, /# TYPE medge_time_to_alert_seconds histogram/);
  assert.match(text, /medge_time_to_alert_seconds_bucket\{le="0.5",severity="critical"\} 1\n/);
  assert.match(text, /medge_time_to_alert_seconds_bucket\{le="1",severity="critical"\} 2\n/);
  assert.match(text, /medge_time_to_alert_seconds_bucket\{le="\+Inf",severity="critical"\} 3\n/);
  assert.match(text, /medge_time_to_alert_seconds_sum\{severity="critical"\} 3.9\n/);
  assert.match(text, /medge_time_to_alert_seconds_count\{severity="critical"\} 3\n/);
  assert.deepEqual(m.histogramValue('medge_time_to_alert_seconds', { severity: 'critical' }), { count: 3, sum: 3.9 });
});
