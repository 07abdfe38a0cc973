import { connect, type Socket } from 'node:net';
import { isMedgeError } from '../../errors.js';
import type { AlertChannelConfig } from '../../config/schema.js';
import type { Logger } from '../../observability/log.js';
import { buildOruR01 } from '../../results/hl7-oru.js';
import type { AlertChannel, AlertMessage, DeliveryReceipt } from '../types.js';
import { attemptSignal, DEFAULT_CHANNEL_TIMEOUT_MS, deliveryError } from './delivery-error.js';
import { ackOutcome, parseAck, type ParsedAck } from './hl7-ack.js';
import { MllpDeframer, mllpFrame } from './mllp-framing.js';

/**
 * HL7 v2 channel: sends the alert as an ORU^R01 (src/results/hl7-oru.ts) over MLLP and waits for the
 * acknowledgement (HL7 v2.5.1 2.9.2, original acknowledgment mode):
 *
 *   AA / CA        delivered
 *   AE / CE        retryable (the receiver had an application or commit error)
 *   AR / CR        permanent (the receiver rejected the message itself: parked, not retried)
 *   no ACK in time, connection refused or closed, an ACK for another control id: retryable
 *
 * One TCP connection per delivery: alerts are rare (a few an hour), so a pooled connection would
 * mostly sit idle and need keep-alive probing and reconnect logic, and a fresh connection makes every
 * attempt independent of the last one's state. Nagle is off (setNoDelay) so that the frame's last
 * bytes are not held back waiting for an ACK of the first ones.
 */

/** The channel's configuration (alerts.channels, type hl7; timeoutMs per attempt: connect, send, ACK; default 10 s). */
export type Hl7ChannelOptions = Omit<Extract<AlertChannelConfig, { type: 'hl7' }>, 'type'> & {
  /** Wall clock, ms since the epoch (MSH-7 and the receipt). */
  now?: () => number;
  log?: Logger;
};

export class Hl7MllpChannel implements AlertChannel {
  readonly type = 'hl7' as const;
  readonly id: string;
  readonly tier: number;
  private readonly now: () => number;
  private readonly timeoutMs: number;
  private readonly open = new Set<Socket>();

  constructor(private readonly options: Hl7ChannelOptions) {
    this.id = options.id;
    this.tier = options.tier;
    this.now = options.now ?? Date.now;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_CHANNEL_TIMEOUT_MS;
  }

  async deliver(message: AlertMessage, signal: AbortSignal): Promise<DeliveryReceipt> {
    let oru;
    try {
      const { sendingApplication, sendingFacility, receivingApplication, receivingFacility } = this.options;
      oru = buildOruR01(message, { sendingApplication, sendingFacility, receivingApplication, receivingFacility, now: new Date(this.now()) });
    } catch (err) {
      // The same alert builds the same way on every retry: nothing to gain by retrying.
      if (isMedgeError(err)) throw deliveryError(this.id, `the ORU^R01 cannot be built: ${err.message}`, { permanent: true }, err);
      throw err;
    }
    const ack = await this.exchange(oru.text, signal);
    if (ack.controlId !== oru.controlId) {
      throw deliveryError(this.id, `the ACK answers control id ${ack.controlId}, not ${oru.controlId}`, { permanent: false, ack: ack.code });
    }
    const outcome = ackOutcome(ack.code);
    const detail = ack.text ? `${ack.code} ${ack.text}` : ack.code;
    if (outcome === 'accepted') {
      this.options.log?.debug({ channel: this.id, alertId: message.alertId, controlId: oru.controlId, ack: ack.code }, 'hl7 delivered');
      return { deliveredAt: this.now(), detail };
    }
    throw deliveryError(this.id, `the receiver answered ${detail}`, { permanent: outcome === 'rejected', ack: ack.code, controlId: oru.controlId });
  }

  async close(): Promise<void> {
    for (const socket of this.open) socket.destroy();
    this.open.clear();
  }

  /** Connects, sends one framed message, resolves with the first ACK frame; always closes the socket. */
  private exchange(text: string, outer: AbortSignal): Promise<ParsedAck> {
    const { host, port } = this.options;
    const peer = `${host}:${port}`;
    const attempt = attemptSignal(outer, this.timeoutMs);
    return new Promise<ParsedAck>((resolve, reject) => {
      const socket = connect({ host, port });
      this.open.add(socket);
      const deframer = new MllpDeframer();
      let settled = false;
      const finish = (err: Error | null, ack?: ParsedAck) => {
        if (settled) return;
        settled = true;
        attempt.dispose();
        attempt.signal.removeEventListener('abort', onAbort);
        this.open.delete(socket);
        if (err) socket.destroy();
        else socket.end();
        if (err) reject(err);
        else resolve(ack!);
      };
      const onAbort = () =>
        finish(
          attempt.timedOut()
            ? deliveryError(this.id, `no ACK from ${peer} within ${this.timeoutMs} ms`, { permanent: false, timeout: true })
            : deliveryError(this.id, 'attempt aborted', { permanent: false, aborted: true }),
        );
      if (attempt.signal.aborted) return onAbort();
      attempt.signal.addEventListener('abort', onAbort, { once: true });
      socket.setNoDelay(true);
      socket.once('connect', () => socket.write(mllpFrame(text)));
      socket.on('data', (chunk: Buffer) => {
        const frame = deframer.push(chunk)[0];
        if (!frame) return;
        const ack = parseAck(frame.toString('utf8'));
        if (ack) finish(null, ack);
        else finish(deliveryError(this.id, `${peer} answered with a frame that is not an HL7 ACK`, { permanent: false }));
      });
      socket.on('error', (err: NodeJS.ErrnoException) => {
        const what = err.code === 'ECONNREFUSED' ? 'connection refused' : err.code ?? err.message;
        finish(deliveryError(this.id, `${peer}: ${what}`, { permanent: false, errno: err.code }, err));
      });
      socket.on('close', () => finish(deliveryError(this.id, `${peer} closed the connection before it acknowledged`, { permanent: false })));
    });
  }
}
