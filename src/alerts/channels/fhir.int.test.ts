import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { isMedgeError, type MedgeError } from '../../errors.js';
import { startFhirServer } from '../../../test/helpers/alert-receivers.js';
import { fhirSchemaErrors } from '../../../test/helpers/fhir-schema.js';
import { FhirChannel } from './fhir.js';
import { raisedIchAlert, updatedIchAlert } from './test-support.js';

// Against a real HTTP FHIR endpoint (test/helpers/alert-receivers.ts); what it received is checked
// against the official R4 JSON schema.

const live = () => new AbortController().signal;

async function deliveryFailure(p: Promise<unknown>): Promise<MedgeError> {
  const err = await p.then(() => assert.fail('expected the delivery to fail'), (e: unknown) => e);
  assert.ok(isMedgeError(err, 'MEDGE_ERR_ALERT_DELIVERY'), String(err));
  return err;
}

test('delivered: the server got a schema-valid transaction with the bearer token and the FHIR media type', async (t) => {
  const server = await startFhirServer({ bearerToken: 'tok-123' });
  t.after(() => server.close());
  const ch = new FhirChannel({ id: 'ehr', tier: 0, baseUrl: server.url, bearerToken: 'tok-123' });
  const receipt = await ch.deliver(raisedIchAlert(), live());
  await server.received(1);
  assert.equal(receipt.detail, 'HTTP 200, 6 entries');
  const [bundle] = server.bundles;
  assert.deepEqual(fhirSchemaErrors(bundle as never), []);
  assert.deepEqual(bundle!.entry.map((e) => e.resource.resourceType), ['Patient', 'DiagnosticReport', 'Observation', 'Observation', 'Observation', 'Communication']);
  assert.match(String(server.requests[0]!.headers['content-type']), /^application\/fhir\+json/);

  const wrong = await deliveryFailure(new FhirChannel({ id: 'ehr', tier: 0, baseUrl: server.url }).deliver(raisedIchAlert(), live()));
  assert.deepEqual([wrong.fields.status, wrong.fields.permanent], [401, true]);
  assert.match(wrong.message, /HTTP 401: login/);
});

test('500 then success; 422 permanent; 429 retryable', async (t) => {
  const server = await startFhirServer();
  t.after(() => server.close());
  const ch = new FhirChannel({ id: 'ehr', tier: 0, baseUrl: server.url });
  server.failNext(1, 500);
  const err = await deliveryFailure(ch.deliver(updatedIchAlert(), live()));
  assert.deepEqual([err.fields.status, err.fields.permanent], [500, false]);
  await ch.deliver(updatedIchAlert(), live());
  await server.received(1);
  assert.equal(server.bundles[0]!.entry.find((e) => e.resource.resourceType === 'DiagnosticReport')!.resource.status, 'corrected');
  for (const [status, permanent] of [[422, true], [429, false]] as const) {
    server.failNext(1, status);
    const e = await deliveryFailure(ch.deliver(raisedIchAlert(), live()));
    assert.deepEqual([e.fields.status, e.fields.permanent], [status, permanent]);
  }
});

test('a 2xx without a transaction-response Bundle is not a delivery (retryable)', async (t) => {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(200, { 'content-type': 'text/html' }).end('<html>proxy login</html>'));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    server.closeAllConnections();
    server.close();
  });
  const { port } = server.address() as AddressInfo;
  const err = await deliveryFailure(new FhirChannel({ id: 'ehr', tier: 0, baseUrl: `http://127.0.0.1:${port}/fhir` }).deliver(raisedIchAlert(), live()));
  assert.equal(err.fields.permanent, false);
  assert.match(err.message, /without a transaction-response Bundle/);
});
