import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { createAlertChannels } from './create-channels.js';
import { FhirChannel } from './fhir.js';
import { Hl7MllpChannel } from './hl7-mllp.js';
import { WebhookChannel } from './webhook.js';

test('createAlertChannels: one channel per configuration entry, in order, with its id, type and tier', () => {
  const channels = createAlertChannels(
    [
      { id: 'ris', type: 'hl7', tier: 0, host: 'ris.example.org', port: 2575, receivingApplication: 'RIS' },
      { id: 'ehr', type: 'fhir', tier: 0, baseUrl: 'https://fhir.example.org/r4', timeoutMs: 5000 },
      { id: 'pager', type: 'webhook', tier: 1, url: 'https://pager.example.org/hooks', secret: '0123456789abcdef0123' },
    ],
    { log: pino({ level: 'silent' }) },
  );
  assert.deepEqual(channels.map((c) => [c.id, c.type, c.tier]), [['ris', 'hl7', 0], ['ehr', 'fhir', 0], ['pager', 'webhook', 1]]);
  assert.ok(channels[0] instanceof Hl7MllpChannel);
  assert.ok(channels[1] instanceof FhirChannel);
  assert.ok(channels[2] instanceof WebhookChannel);
  assert.deepEqual(createAlertChannels([], { log: pino({ level: 'silent' }) }), []);
});
