/**
 * Storage commitment reports on their way to the requesters (PS3.4 J.3.3). Each accepted request
 * is a row in SQLite before the node answers the N-ACTION, so that a restart loses no report; the
 * report is sent as an N-EVENT-REPORT on an association the node opens to the requester (the node
 * proposes the SCP role for the Storage Commitment Push Model, PS3.7 D.3.3.4), the instances being
 * checked again at each attempt. A requester that cannot be reached is retried with exponential
 * backoff for REPORT_LIFETIME_MS, then the report expires with an error in the log.
 */
import { MedgeError, toMedgeError } from '../errors.js';
import { TS } from '../dicom/uids.js';
import type { TransferSyntax } from '../dicom/dataset-writer.js';
import { ScuAssociation } from '../dimse/scu-association.js';
import type { RemoteAeTable, ResolvedRemoteAe } from '../dimse/remote-aes.js';
import { CommandField, STORAGE_COMMITMENT_INSTANCE, STORAGE_COMMITMENT_PUSH } from '../dimse/pdu-constants.js';
import { statusHex } from '../dimse/status.js';
import type { Logger } from '../observability/log.js';
import type { MetricsRegistry } from '../observability/metrics.js';
import type { BlobStore } from '../store/blob-store.js';
import type { Db, InstanceIndex } from '../store/index-db.js';
import { checkCommitment, encodeCommitmentReport, eventTypeOf, type CommitmentResult } from './report.js';
import type { SopReference } from './request.js';

const FIRST_RETRY_MS = 2_000;
const MAX_RETRY_MS = 5 * 60_000;
/** How long a report is retried before it expires: a day covers a weekend's scanner downtime poorly, a night's well. */
export const REPORT_LIFETIME_MS = 24 * 3600_000;

export interface PendingReport {
  transactionUid: string;
  requesterAe: string;
  host: string;
  port: number;
  refs: SopReference[];
}

interface Row {
  pk: number;
  transaction_uid: string;
  requester_ae: string;
  host: string;
  port: number;
  refs: string;
  requested_at: number;
  attempts: number;
}

/** Sends one report (over TLS when `tls` is given); resolves once the requester answered it with a success status. */
/** `peer`: the requester's dicom.remoteAes settings for the association (DICOM TLS, a user identity). */
export type ReportSender = (report: PendingReport, result: CommitmentResult, callingAe: string, peer?: ReportPeer) => Promise<void>;

export type ReportPeer = Pick<ResolvedRemoteAe, 'tls' | 'user'>;

export interface CommitmentReportsDeps {
  db: Db;
  index: InstanceIndex;
  store: BlobStore;
  /** The node's AE title: the calling AE of the report's association. */
  nodeAe: string;
  /** Where the requesters' TLS settings are (dicom.remoteAes), looked up at each attempt. */
  remoteAes?: RemoteAeTable;
  log: Logger;
  metrics: MetricsRegistry;
  /** Default: N-EVENT-REPORT over DIMSE (sendReport). */
  send?: ReportSender;
  now?: () => number;
  /** Per network wait of a delivery, ms. */
  timeoutMs?: number;
}

export class CommitmentReports {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  /** A kick arrived while a drain was running: drain again once it ends. */
  private again = false;
  private stopped = true;
  private readonly now: () => number;
  private readonly send: ReportSender;
  private readonly outcomes;
  private readonly stmts;

  constructor(private readonly deps: CommitmentReportsDeps) {
    this.now = deps.now ?? Date.now;
    this.send = deps.send ?? ((r, result, ae, peer) => sendReport(r, result, ae, { timeoutMs: deps.timeoutMs ?? 30_000, log: deps.log, tls: peer?.tls, user: peer?.user }));
    this.outcomes = deps.metrics.counter('medge_commitment_reports_total', 'Storage commitment report attempts, by outcome (delivered, retry, expired)');
    deps.metrics.gauge('medge_commitment_reports_pending', 'Storage commitment reports not yet delivered', (g) => g.set({}, this.status().pending));
    const db = deps.db;
    this.stmts = {
      insert: db.prepare(`INSERT INTO commitment_reports (transaction_uid, requester_ae, host, port, refs, requested_at, due_at)
                          VALUES (@transactionUid, @requesterAe, @host, @port, @refs, @requestedAt, @requestedAt)`),
      due: db.prepare(`SELECT pk, transaction_uid, requester_ae, host, port, refs, requested_at, attempts FROM commitment_reports
                       WHERE state = 'pending' AND due_at <= ? ORDER BY due_at LIMIT 1`),
      next: db.prepare(`SELECT min(due_at) FROM commitment_reports WHERE state = 'pending'`).pluck(),
      delivered: db.prepare(`UPDATE commitment_reports SET state = 'delivered', done_at = ?, attempts = attempts + 1, last_error = NULL WHERE pk = ?`),
      retry: db.prepare(`UPDATE commitment_reports SET attempts = attempts + 1, due_at = ?, last_error = ? WHERE pk = ?`),
      expired: db.prepare(`UPDATE commitment_reports SET state = 'expired', done_at = ?, attempts = attempts + 1, last_error = ? WHERE pk = ?`),
      counts: db.prepare(`SELECT state, count(*) AS n FROM commitment_reports GROUP BY state`),
    };
  }

  /** Records an accepted request (before its N-ACTION is answered); its report goes out once `kick` runs. */
  add(report: PendingReport): void {
    this.stmts.insert.run({ ...report, refs: JSON.stringify(report.refs), requestedAt: this.now() });
  }

  /** Delivers what is due now (after an N-ACTION answer, or at start for what a restart left). */
  kick(): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.drain().finally(() => {
      this.running = undefined;
      if (this.again) {
        this.again = false;
        this.kick();
      } else this.schedule();
    });
  }

  start(): void {
    this.stopped = false;
    this.kick();
  }

  /** Resolves once no delivery is running or asked for (what is due later waits for its timer). */
  async settled(): Promise<void> {
    while (this.running) await this.running;
  }

  /** Stops after the attempt in flight, if any; what stays pending goes out after the next start. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  status(): { pending: number; delivered: number; expired: number } {
    const counts = { pending: 0, delivered: 0, expired: 0 };
    for (const { state, n } of this.stmts.counts.all() as { state: keyof typeof counts; n: number }[]) counts[state] = n;
    return counts;
  }

  private schedule(): void {
    if (this.stopped) return;
    const next = this.stmts.next.get() as number | null;
    if (next === null) return;
    this.timer = setTimeout(() => this.kick(), Math.max(0, next - this.now()));
    this.timer.unref();
  }

  private async drain(): Promise<void> {
    for (let row = this.due(); row && !this.stopped; row = this.due()) await this.attempt(row);
  }

  private due(): Row | undefined {
    return this.stmts.due.get(this.now()) as Row | undefined;
  }

  private async attempt(row: Row): Promise<void> {
    const report: PendingReport = { transactionUid: row.transaction_uid, requesterAe: row.requester_ae, host: row.host, port: row.port, refs: JSON.parse(row.refs) as SopReference[] };
    const at = { transaction: report.transactionUid, requester: report.requesterAe, host: report.host, port: report.port };
    try {
      const result = await checkCommitment(report.refs, this.deps);
      await this.send(report, result, this.deps.nodeAe, this.deps.remoteAes?.find(report.requesterAe));
      this.stmts.delivered.run(this.now(), row.pk);
      this.outcomes.inc({ outcome: 'delivered' });
      this.deps.log.info({ event: 'commitment-report-delivered', ...at, committed: result.committed.length, failed: result.failed.length });
    } catch (err) {
      const e = toMedgeError(err);
      const message = `${e.code}: ${e.message}`;
      if (this.now() - row.requested_at >= REPORT_LIFETIME_MS) {
        this.stmts.expired.run(this.now(), message, row.pk);
        this.outcomes.inc({ outcome: 'expired' });
        this.deps.log.error({ event: 'commitment-report-expired', ...at, attempts: row.attempts + 1, reason: message });
        return;
      }
      const delay = Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** row.attempts);
      this.stmts.retry.run(this.now() + delay, message, row.pk);
      this.outcomes.inc({ outcome: 'retry' });
      this.deps.log.warn({ event: 'commitment-report-retry', ...at, attempts: row.attempts + 1, retryInMs: delay, reason: message });
    }
  }
}

/**
 * N-EVENT-REPORT-RQ on a new association to the requester (PS3.4 J.3.3): the node is the
 * association requestor and the Storage Commitment SCP, which it proposes by role selection.
 */
export async function sendReport(report: PendingReport, result: CommitmentResult, callingAe: string, options: { timeoutMs: number; log: Logger } & ReportPeer): Promise<void> {
  const { timeoutMs, log, tls, user } = options;
  const assoc = await ScuAssociation.open({
    host: report.host,
    port: report.port,
    calledAe: report.requesterAe,
    callingAe,
    contexts: [{ id: 1, abstractSyntax: STORAGE_COMMITMENT_PUSH, transferSyntaxes: [TS.ExplicitVRLittleEndian, TS.ImplicitVRLittleEndian] }],
    roles: [{ sopClassUid: STORAGE_COMMITMENT_PUSH, scu: false, scp: true }],
    tls,
    user,
    timeoutMs,
    log,
  });
  try {
    const pc = assoc.findContext(STORAGE_COMMITMENT_PUSH);
    const role = assoc.acceptedRoles.find((r) => r.sopClassUid === STORAGE_COMMITMENT_PUSH);
    // PS3.7 D.3.3.4: an acceptor that answers the role item without the SCP role refuses it.
    if (!pc || (role && !role.scp)) {
      throw new MedgeError('MEDGE_ERR_COMMITMENT_REPORT', `${report.requesterAe} does not accept the storage commitment report (no Storage Commitment Push Model context with the node as SCP)`, { requester: report.requesterAe });
    }
    const dataset = encodeCommitmentReport(report.transactionUid, result, pc.transferSyntax as TransferSyntax);
    const rsp = await assoc.requestWithDataset(pc.id, {
      commandField: CommandField.NEventReportRq,
      messageId: assoc.newMessageId(),
      affectedSopClassUid: STORAGE_COMMITMENT_PUSH,
      affectedSopInstanceUid: STORAGE_COMMITMENT_INSTANCE,
      eventTypeId: eventTypeOf(result),
      hasDataset: true,
    }, dataset);
    if (rsp.status !== 0) {
      throw new MedgeError('MEDGE_ERR_COMMITMENT_REPORT', `${report.requesterAe} answered the report with status ${statusHex(rsp.status ?? -1)}${rsp.errorComment ? ` (${rsp.errorComment})` : ''}`, { requester: report.requesterAe, status: rsp.status });
    }
    // Delivered once answered: the release is tidying up, not part of the delivery.
    void assoc.release().catch(() => assoc.abort());
  } catch (err) {
    assoc.abort();
    throw err;
  }
}
