/**
 * What one uplink outbox item is (kind 'uplink' in the generic outbox, src/alerts/outbox.ts): an
 * instance of the local store (a result object or, for full-study, a received instance) or an alert
 * notice. The ref is what makes enqueueing idempotent (UNIQUE kind, destination, ref): the SOP
 * Instance UID for an instance, `alert:<id>:r<revision>:<change>` for an alert notice.
 */

export const UPLINK_KIND = 'uplink';

/** Priority of items of a study with an unacknowledged critical alert; the alert notice one above. */
export const PRIORITY_CRITICAL = 10;
export const PRIORITY_CRITICAL_ALERT = 11;
export const PRIORITY_ROUTINE = 0;

/** Kind of item, as metered: the result kinds, a received instance, an alert notice. */
export type UplinkItemKind = 'sr' | 'seg' | 'key-image' | 'instance' | 'alert';

export interface InstancePayload {
  type: 'instance';
  kind: Exclude<UplinkItemKind, 'alert'>;
  study: string;
  series: string;
  sop: string;
  sopClass: string;
  /** The analysis whose result this is (results only). */
  analysisId?: number;
}

/** The alert as it is sent (docs/uplink.md "Alerts"); UIDs are replaced at send time when deidentified. */
export interface AlertPayload {
  type: 'alert';
  kind: 'alert';
  study: string;
  series: string;
  alertId: string;
  revision: number;
  change: 'raised' | 'updated' | 'retracted' | 'acknowledged';
  rule: string;
  severity: string;
  state: string;
  /** Finding text without patient data (alert-message.ts). */
  summary: string;
  /** When the change happened, ms since the epoch. */
  at: number;
}

export type UplinkPayload = InstancePayload | AlertPayload;

export function alertRef(alertId: string, revision: number, change: string): string {
  return `alert:${alertId}:r${revision}:${change}`;
}

export function parsePayload(text: string): UplinkPayload {
  return JSON.parse(text) as UplinkPayload;
}
