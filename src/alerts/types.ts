import type { AlertSeverity } from '../config/schema.js';
import type { ReportedFinding } from '../analyzers/offline.js';

/**
 * What every alert channel is given: one revision of one alert with everything a RIS, an EHR or a
 * pager needs. It carries patient identity on purpose (the RIS and the EHR file the result to the
 * patient); it must never be logged (house style 12).
 */
export interface AlertMessage {
  alertId: string;
  /** 1 for the first dispatch; each superseding analysis bumps it (the same alert, corrected). */
  revision: number;
  /** raised: first dispatch; updated: a superseding analysis changed it; retracted: the finding is gone; escalated: re-sent to a higher tier. */
  event: 'raised' | 'updated' | 'retracted' | 'escalated';
  severity: AlertSeverity;
  /** The rule's finding type, e.g. 'intracranial-hemorrhage'. */
  rule: string;
  /** One line for a pager: "Intracranial hemorrhage, 12.3 mL, left frontal intraparenchymal". */
  headline: string;
  /** ISO 8601 with milliseconds. */
  createdAt: string;
  dispatchedAt: string;
  patient: { id: string | null; issuer: string | null; name: string | null; birthDate: string | null; sex: string | null };
  study: {
    studyInstanceUid: string;
    accessionNumber: string | null;
    studyId: string | null;
    studyDate: string | null;
    studyTime: string | null;
    description: string | null;
    referringPhysician: string | null;
  };
  series: { seriesInstanceUid: string; modality: string | null; description: string | null; instances: number };
  analysis: {
    id: number;
    analyzerId: string;
    analyzerVersion: string;
    status: 'positive' | 'negative' | 'not-applicable' | 'not-assessable' | 'failed';
    findings: ReportedFinding[];
    midlineShiftMm?: number;
    finishedAt: string;
  };
  /** Where a person looks: the node's study page (absolute when the node knows its public URL, else a path). */
  links: { study: string };
}

/** A delivery the peer confirmed: when, and what it said (an HL7 ACK code, an HTTP status). */
export interface DeliveryReceipt {
  deliveredAt: number;
  detail?: string;
}

/**
 * An alert channel (house style 1 and 9): a real backend (webhook, hl7, fhir, dashboard) and a
 * recording twin for tests. `deliver` resolves once the peer confirmed receipt and rejects with a
 * MedgeError MEDGE_ERR_ALERT_DELIVERY otherwise; `fields.permanent: true` means retrying cannot help
 * (the peer rejected the message as invalid), so the item is parked instead of retried.
 */
export interface AlertChannel {
  readonly id: string;
  readonly type: 'dashboard' | 'webhook' | 'hl7' | 'fhir' | 'recording';
  readonly tier: number;
  deliver(message: AlertMessage, signal: AbortSignal): Promise<DeliveryReceipt>;
  /** Releases sockets and timers. */
  close?(): Promise<void>;
}
