import { createHmac } from 'node:crypto';
import type { AlertChannelConfig } from '../../config/schema.js';
import type { Logger } from '../../observability/log.js';
import type { AlertChannel, AlertMessage, DeliveryReceipt } from '../types.js';
import { attemptSignal, DEFAULT_CHANNEL_TIMEOUT_MS, deliveryError, isPermanentHttpStatus } from './delivery-error.js';

/**
 * Webhook channel: POSTs `{ "event": "alert.<event>", "alert": AlertMessage }` as JSON, signed so
 * that the receiver knows it came from this node and was not altered or replayed (docs/alerts.md,
 * "Webhook"):
 *
 *   X-Medge-Timestamp: unix seconds
 *   X-Medge-Signature: sha256=<hex HMAC-SHA256(secret, timestamp + "." + body)>
 *   X-Medge-Alert-Id:  the alert id
 *   X-Medge-Delivery:  alertId:revision:channelId, the same on every retry (an idempotency key)
 *
 * Any 2xx is a delivery. Signing the timestamp with the body lets the receiver reject old requests
 * (replays) without keeping state; the delivery key lets it drop the duplicates that retries after a
 * lost response produce.
 */

/** The channel's configuration (alerts.channels, type webhook: url, HMAC-SHA256 secret; timeoutMs per attempt, default 10 s). */
export type WebhookChannelOptions = Omit<Extract<AlertChannelConfig, { type: 'webhook' }>, 'type'> & {
  /** Wall clock, ms since the epoch (the timestamp header and the receipt). */
  now?: () => number;
  log?: Logger;
};

export const WEBHOOK_HEADERS = {
  signature: 'x-medge-signature',
  timestamp: 'x-medge-timestamp',
  alertId: 'x-medge-alert-id',
  delivery: 'x-medge-delivery',
} as const;

/** `sha256=<hex>` over `timestamp + "." + body` (the exact bytes sent). */
export function signWebhook(secret: string, timestampSeconds: number, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestampSeconds}.${body}`).digest('hex')}`;
}

/** The JSON body of a webhook delivery. */
export function webhookBody(message: AlertMessage): string {
  return JSON.stringify({ event: `alert.${message.event}`, alert: message });
}

export class WebhookChannel implements AlertChannel {
  readonly type = 'webhook' as const;
  readonly id: string;
  readonly tier: number;
  private readonly now: () => number;
  private readonly timeoutMs: number;

  constructor(private readonly options: WebhookChannelOptions) {
    this.id = options.id;
    this.tier = options.tier;
    this.now = options.now ?? Date.now;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_CHANNEL_TIMEOUT_MS;
  }

  async deliver(message: AlertMessage, signal: AbortSignal): Promise<DeliveryReceipt> {
    const body = webhookBody(message);
    const timestamp = Math.floor(this.now() / 1000);
    const attempt = attemptSignal(signal, this.timeoutMs);
    let response: Response;
    try {
      response = await fetch(this.options.url, {
        method: 'POST',
        body,
        redirect: 'manual',
        signal: attempt.signal,
        headers: {
          'content-type': 'application/json',
          'user-agent': 'medge',
          [WEBHOOK_HEADERS.signature]: signWebhook(this.options.secret, timestamp, body),
          [WEBHOOK_HEADERS.timestamp]: String(timestamp),
          [WEBHOOK_HEADERS.alertId]: message.alertId,
          [WEBHOOK_HEADERS.delivery]: `${message.alertId}:${message.revision}:${this.id}`,
        },
      });
      // Read the body to the end so that the connection returns to the pool; its content is not used.
      await response.arrayBuffer();
    } catch (err) {
      throw this.transportError(err, signal, attempt.timedOut());
    } finally {
      attempt.dispose();
    }
    if (response.status >= 200 && response.status < 300) {
      this.options.log?.debug({ channel: this.id, alertId: message.alertId, status: response.status }, 'webhook delivered');
      return { deliveredAt: this.now(), detail: `HTTP ${response.status}` };
    }
    const permanent = isPermanentHttpStatus(response.status);
    throw deliveryError(this.id, `the webhook answered HTTP ${response.status}`, { permanent, status: response.status });
  }

  private transportError(err: unknown, outer: AbortSignal, timedOut: boolean) {
    if (timedOut) return deliveryError(this.id, `the webhook did not answer within ${this.timeoutMs} ms`, { permanent: false, timeout: true }, err);
    if (outer.aborted) return deliveryError(this.id, 'attempt aborted', { permanent: false, aborted: true }, err);
    const cause = (err as { cause?: { code?: string } }).cause;
    return deliveryError(this.id, `the webhook cannot be reached (${cause?.code ?? (err as Error).message})`, { permanent: false, errno: cause?.code }, err);
  }
}
