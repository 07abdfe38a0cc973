import type { OutboxItem } from '../alerts/outbox.js';
import type { AlertPayload, InstancePayload } from './uplink-item.js';

/**
 * The seam between the forwarder and a protocol (house style 1): STOW-RS (stow-sender.ts), DIMSE
 * C-STORE (dimse-sender.ts), and the in-memory twin (memory-sender.ts) for unit tests.
 */

/** UIDs as the destination sees them (replacements when de-identified). */
export interface SentUids {
  study: string;
  series: string;
  sop: string;
}

/** An instance ready to go: its bytes as they will leave (de-identified if the policy says so). */
export interface PreparedInstance {
  item: OutboxItem;
  payload: InstancePayload;
  /** Part 10 bytes, or the stored file streamed from disk (identified sends of a file store). */
  part10: Buffer | { path: string; size: number };
  sent: SentUids;
  bytes: number;
  /** Set when `part10` is a compressed copy made for sending: its transfer syntax. */
  transferSyntaxUid?: string;
  /** The file before compression, for a DIMSE peer that refuses the compressed syntax. */
  uncompressed?: Buffer;
}

export interface PreparedAlert {
  item: OutboxItem;
  payload: AlertPayload;
  /** The JSON document sent (docs/uplink.md "Alerts"). */
  body: Buffer;
  bytes: number;
}

export interface InstanceOutcome {
  id: number;
  status: 'stored' | 'failed';
  /** For a failed one: whether a later attempt may succeed; false parks the item. */
  retryable?: boolean;
  reason?: string;
  /** Bytes that went out for it when not `bytes` of the prepared instance (sent uncompressed after a refusal). */
  bytes?: number;
}

export interface UplinkSender {
  readonly type: 'stow-rs' | 'dimse' | 'memory';
  /** Where it sends, without credentials (a URL, AE@host:port). */
  readonly target: string;
  /** Most instances worth one request or association. */
  readonly maxBatch: number;
  /**
   * Sends the instances in one request or association; one outcome per instance. Rejects for the
   * whole batch with a MedgeError whose fields.retryable says whether to try again later.
   */
  store(batch: PreparedInstance[]): Promise<{ outcomes: InstanceOutcome[]; bytesSent: number }>;
  /** Whether the destination holds the instance (null: the protocol cannot tell). */
  exists(uids: SentUids): Promise<boolean | null>;
  close(): void;
}

/** Sends alert notices (JSON) to a destination's alertUrl. */
export interface AlertSender {
  send(alert: PreparedAlert): Promise<void>;
  close(): void;
}
