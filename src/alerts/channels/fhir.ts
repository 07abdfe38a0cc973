import { isMedgeError } from '../../errors.js';
import type { AlertChannelConfig } from '../../config/schema.js';
import type { Logger } from '../../observability/log.js';
import { buildFhirTransaction } from '../../results/fhir-bundle.js';
import type { AlertChannel, AlertMessage, DeliveryReceipt } from '../types.js';
import { attemptSignal, DEFAULT_CHANNEL_TIMEOUT_MS, deliveryError, isPermanentHttpStatus } from './delivery-error.js';

/**
 * FHIR R4 channel: POSTs the alert as a transaction Bundle (src/results/fhir-bundle.ts) to the
 * server's base URL (R4 http 3.1.0.11: a transaction is a POST of the Bundle to [base]) and counts it
 * delivered when the server answers 2xx with a `transaction-response` Bundle, which it only does
 * after committing every entry. A 2xx without one (a proxy's page, a server that ignored the
 * Bundle) is not proof of the write, so it is retried. 4xx other than 408/409/429 is permanent: the
 * server found the Bundle invalid, and the same Bundle will not become valid.
 */

/** The channel's configuration (alerts.channels, type fhir: baseUrl without a trailing path for the transaction, optional bearer token; timeoutMs per attempt, default 10 s). */
export type FhirChannelOptions = Omit<Extract<AlertChannelConfig, { type: 'fhir' }>, 'type'> & {
  /** Wall clock, ms since the epoch. */
  now?: () => number;
  log?: Logger;
};

export const FHIR_JSON = 'application/fhir+json';

export class FhirChannel implements AlertChannel {
  readonly type = 'fhir' as const;
  readonly id: string;
  readonly tier: number;
  private readonly now: () => number;
  private readonly timeoutMs: number;

  constructor(private readonly options: FhirChannelOptions) {
    this.id = options.id;
    this.tier = options.tier;
    this.now = options.now ?? Date.now;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_CHANNEL_TIMEOUT_MS;
  }

  async deliver(message: AlertMessage, signal: AbortSignal): Promise<DeliveryReceipt> {
    let body: string;
    try {
      body = JSON.stringify(buildFhirTransaction(message, { now: new Date(this.now()) }));
    } catch (err) {
      if (isMedgeError(err)) throw deliveryError(this.id, `the FHIR Bundle cannot be built: ${err.message}`, { permanent: true }, err);
      throw err;
    }
    const headers: Record<string, string> = { 'content-type': `${FHIR_JSON}; charset=utf-8`, accept: FHIR_JSON, 'user-agent': 'medge' };
    if (this.options.bearerToken) headers.authorization = `Bearer ${this.options.bearerToken}`;
    const attempt = attemptSignal(signal, this.timeoutMs);
    let status: number;
    let text: string;
    try {
      const response = await fetch(this.options.baseUrl, { method: 'POST', body, headers, redirect: 'manual', signal: attempt.signal });
      status = response.status;
      text = await response.text();
    } catch (err) {
      if (attempt.timedOut()) throw deliveryError(this.id, `the FHIR server did not answer within ${this.timeoutMs} ms`, { permanent: false, timeout: true }, err);
      if (signal.aborted) throw deliveryError(this.id, 'attempt aborted', { permanent: false, aborted: true }, err);
      const code = (err as { cause?: { code?: string } }).cause?.code;
      throw deliveryError(this.id, `the FHIR server cannot be reached (${code ?? (err as Error).message})`, { permanent: false, errno: code }, err);
    } finally {
      attempt.dispose();
    }
    if (status < 200 || status >= 300) {
      throw deliveryError(this.id, `the FHIR server answered HTTP ${status}${issueSummary(text)}`, { permanent: isPermanentHttpStatus(status), status });
    }
    const entries = transactionResponseEntries(text);
    if (entries === null) {
      throw deliveryError(this.id, `the FHIR server answered HTTP ${status} without a transaction-response Bundle`, { permanent: false, status });
    }
    this.options.log?.debug({ channel: this.id, alertId: message.alertId, status, entries }, 'fhir delivered');
    return { deliveredAt: this.now(), detail: `HTTP ${status}, ${entries} entries` };
  }
}

/** Entry count of a transaction-response Bundle, or null when the text is not one. */
function transactionResponseEntries(text: string): number | null {
  try {
    const json = JSON.parse(text) as { resourceType?: unknown; type?: unknown; entry?: unknown };
    if (json.resourceType !== 'Bundle' || json.type !== 'transaction-response') return null;
    return Array.isArray(json.entry) ? json.entry.length : 0;
  } catch {
    return null;
  }
}

/**
 * The OperationOutcome's issue codes, e.g. ": invalid, required": the codes (R4 IssueType) say what
 * was wrong without echoing the server's diagnostics, which may quote patient data.
 */
function issueSummary(text: string): string {
  try {
    const json = JSON.parse(text) as { resourceType?: string; issue?: { code?: unknown }[] };
    if (json.resourceType !== 'OperationOutcome' || !Array.isArray(json.issue)) return '';
    const codes = [...new Set(json.issue.map((i) => i.code).filter((c): c is string => typeof c === 'string'))];
    return codes.length > 0 ? `: ${codes.join(', ')}` : '';
  } catch {
    return '';
  }
}
