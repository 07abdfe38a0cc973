import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type AddressInfo } from 'node:net';
import hl7v2 from '@redoxengine/redox-hl7-v2';
import { isMedgeError, type MedgeError } from '../../errors.js';
import { startMllpListener } from '../../../test/helpers/alert-receivers.js';
import { Hl7MllpChannel } from './hl7-mllp.js';
import { raisedIchAlert, updatedIchAlert } from './test-support.js';

// Against a real MLLP listener over TCP (test/helpers/alert-receivers.ts); what it received is read
// back with an independent HL7 parser.

const channel = (port: number, timeoutMs = 2000) => new Hl7MllpChannel({ id: 'ris', tier: 0, host: '127.0.0.1', port, timeoutMs, sendingApplication: 'MEDGE', receivingApplication: 'RIS' });

const live = () => new AbortController().signal;

async function deliveryFailure(p: Promise<unknown>): Promise<MedgeError> {
  const err = await p.then(() => assert.fail('expected the delivery to fail'), (e: unknown) => e);
  assert.ok(isMedgeError(err, 'MEDGE_ERR_ALERT_DELIVERY'), String(err));
  assert.equal(err.fields.channel, 'ris');
  return err;
}

test('AA: delivered; the listener got one ORU^R01 whose OBX volume, subtype and units parse back', async (t) => {
  const listener = await startMllpListener();
  t.after(() => listener.close());
  const receipt = await channel(listener.port).deliver(raisedIchAlert(), live());
  await listener.received(1);
  assert.equal(receipt.detail, 'AA Message accepted');
  assert.equal(listener.messages.length, 1);
  const m = new hl7v2.Parser().parse(listener.messages[0]!.text) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  assert.equal(m.MSH['9']['3'], 'ORU_R01');
  const obx = m.PATIENT_RESULT[0].ORDER_OBSERVATION[0].OBSERVATION.map((o: { OBX: unknown }) => o.OBX);
  const volume = obx.find((o: any) => o['3']['1'] === '118565006' && o['4'] === '2'); // eslint-disable-line @typescript-eslint/no-explicit-any
  assert.deepEqual([volume['5'][0], volume['6']], ['4.75', { 1: 'mL', 2: 'milliliter', 3: 'UCUM' }]);
  const subtype = obx.find((o: any) => o['3']['1'] === '121071' && o['4'] === '1'); // eslint-disable-line @typescript-eslint/no-explicit-any
  assert.equal(subtype['2'], 'CWE');
  assert.match(JSON.stringify(subtype['5']), /274100004.*Cerebral hemorrhage.*SCT/);
});

test('AE then AA: the first attempt is a retryable failure, the retry is delivered', async (t) => {
  const listener = await startMllpListener();
  t.after(() => listener.close());
  listener.failNext(1, 'AE');
  const ch = channel(listener.port);
  const err = await deliveryFailure(ch.deliver(updatedIchAlert(), live()));
  assert.equal(err.fields.permanent, false);
  assert.equal(err.fields.ack, 'AE');
  assert.equal((await ch.deliver(updatedIchAlert(), live())).detail?.slice(0, 2), 'AA');
  await listener.received(1);
  assert.deepEqual(listener.messages.map((m) => m.answer), ['AE', 'AA']);
});

test('AR: the receiver rejected the message itself: permanent', async (t) => {
  const listener = await startMllpListener({ ack: 'AR' });
  t.after(() => listener.close());
  const err = await deliveryFailure(channel(listener.port).deliver(raisedIchAlert(), live()));
  assert.equal(err.fields.permanent, true);
  assert.equal(err.fields.ack, 'AR');
  assert.match(err.message, /channel ris: the receiver answered AR Message rejected/);
});

test('connection refused: retryable', async () => {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  const err = await deliveryFailure(channel(port).deliver(raisedIchAlert(), live()));
  assert.equal(err.fields.permanent, false);
  assert.equal(err.fields.errno, 'ECONNREFUSED');
  assert.match(err.message, /connection refused/);
});

test('no ACK within the timeout, and a connection closed before the ACK: retryable', async (t) => {
  const listener = await startMllpListener();
  t.after(() => listener.close());
  listener.failNext(1, 'silent');
  const started = performance.now();
  const silent = await deliveryFailure(channel(listener.port, 300).deliver(raisedIchAlert(), live()));
  assert.equal(silent.fields.timeout, true);
  assert.equal(silent.fields.permanent, false);
  assert.ok(performance.now() - started < 2000);
  listener.failNext(1, 'close');
  const closed = await deliveryFailure(channel(listener.port).deliver(raisedIchAlert(), live()));
  assert.equal(closed.fields.permanent, false);
  assert.match(closed.message, /closed the connection before it acknowledged/);
});

test('the dispatcher aborting an attempt ends it at once, not permanent', async (t) => {
  const listener = await startMllpListener();
  t.after(() => listener.close());
  listener.failNext(1, 'silent');
  const controller = new AbortController();
  const attempt = channel(listener.port, 10_000).deliver(raisedIchAlert(), controller.signal);
  await listener.arrived(1);
  controller.abort();
  const err = await deliveryFailure(attempt);
  assert.equal(err.fields.aborted, true);
  assert.equal(err.fields.permanent, false);
});
