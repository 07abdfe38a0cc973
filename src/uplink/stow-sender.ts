import { createStowClient, type StowClientOptions } from '../dicomweb/stow-client.js';
import { HttpDestination, type HttpDestinationOptions } from '../dicomweb/stow-client-http.js';
import { httpStatusError } from '../dicomweb/stow-client-errors.js';
import type { AlertSender, UplinkSender } from './uplink-sender.js';

/** Instances per STOW-RS request: enough to hide a WAN round trip, few enough to resend cheaply. */
export const STOW_BATCH = 16;

/** A STOW-RS destination (PS3.18 10.5) over the node's STOW-RS client; exists() by QIDO-RS. */
export function createStowSender(options: StowClientOptions): UplinkSender {
  const client = createStowClient(options);
  return {
    type: 'stow-rs',
    target: client.url,
    maxBatch: STOW_BATCH,
    async store(batch) {
      const result = await client.store(batch.map((b) => ({ part10: b.part10, sopInstanceUid: b.sent.sop })));
      return {
        bytesSent: result.bytesSent,
        outcomes: result.outcomes.map((o, i) => {
          const id = batch[i]!.item.id;
          // A warning (PS3.18 Table I.2-1: coerced, elements discarded) is stored all the same.
          if (o.status !== 'failed') return { id, status: 'stored' as const };
          return { id, status: 'failed' as const, retryable: o.retryable ?? false, reason: `${client.url}: ${o.reason ?? 'refused'} (HTTP ${o.httpStatus})` };
        }),
      };
    },
    exists: (u) => client.exists(u.study, u.series, u.sop),
    close: () => client.close(),
  };
}

/**
 * Alert notices as JSON (docs/uplink.md "Alerts"): POST to the destination's alertUrl with its
 * credentials and CA, `Idempotency-Key` set to the item's ref so a receiver can drop a resend.
 */
export function createAlertPoster(options: HttpDestinationOptions): AlertSender {
  const dest = new HttpDestination(options);
  return {
    async send(alert) {
      const body = alert.body;
      const answer = await dest.request('POST', '', {
        headers: { 'content-type': 'application/json', 'idempotency-key': alert.item.ref },
        body: { length: body.length, chunks: async function* () { yield body; } },
      });
      if (answer.status >= 200 && answer.status < 300) return;
      throw httpStatusError(answer.status, dest, answer.body.toString('utf8', 0, 300));
    },
    close: () => dest.close(),
  };
}
