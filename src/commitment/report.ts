/**
 * What the node can commit to, and the report that says so (PS3.4 J.3.3, N-EVENT-REPORT Event
 * Types 1 "Storage Commitment Request Successful" and 2 "Storage Commitment Request Complete -
 * Failures Exist", Table J.3-2).
 *
 * An instance is committed when the index holds it under the same SOP class and its file is on
 * disk at its indexed size: ingest only indexes a file after its fdatasync and directory fsync
 * (house style 5), so such an instance survives a crash or power loss.
 */
import { tag, el, writeDataset, type DataElement, type TransferSyntax } from '../dicom/dataset-writer.js';
import type { BlobStore } from '../store/blob-store.js';
import type { InstanceIndex } from '../store/index-db.js';
import type { SopReference } from './request.js';

/** Failure Reason (0008,1197) values, PS3.4 J.3.3.1 (and C.14.1.1 for their meanings). */
export const FailureReason = {
  ProcessingFailure: 0x0110,
  NoSuchObjectInstance: 0x0112,
  ClassInstanceConflict: 0x0119,
} as const;

export interface CommitmentResult {
  committed: SopReference[];
  failed: (SopReference & { reason: number })[];
}

/** Event Type ID of the report (PS3.4 Table J.3-2). */
export function eventTypeOf(result: CommitmentResult): 1 | 2 {
  return result.failed.length === 0 ? 1 : 2;
}

/** Checks every referenced instance against the index and the store. */
export async function checkCommitment(references: readonly SopReference[], deps: { index: InstanceIndex; store: BlobStore }): Promise<CommitmentResult> {
  const result: CommitmentResult = { committed: [], failed: [] };
  for (const ref of references) {
    const stored = deps.index.getInstance(ref.sopInstanceUid);
    if (!stored) {
      result.failed.push({ ...ref, reason: FailureReason.NoSuchObjectInstance });
    } else if (stored.sopClassUid !== ref.sopClassUid) {
      result.failed.push({ ...ref, reason: FailureReason.ClassInstanceConflict });
    } else {
      const file = await deps.store.stat(stored.blobKey);
      if (file && file.size === stored.size) result.committed.push(ref);
      else result.failed.push({ ...ref, reason: FailureReason.ProcessingFailure });
    }
  }
  return result;
}

/** The report's dataset (PS3.4 Table J.3-2): Transaction UID, Referenced SOP Sequence, Failed SOP Sequence. */
export function encodeCommitmentReport(transactionUid: string, result: CommitmentResult, transferSyntaxUid: TransferSyntax): Buffer {
  const reference = (r: SopReference): DataElement[] => [el(tag(0x0008, 0x1150), 'UI', r.sopClassUid), el(tag(0x0008, 0x1155), 'UI', r.sopInstanceUid)];
  const elements: DataElement[] = [el(tag(0x0008, 0x1195), 'UI', transactionUid)];
  // Failed SOP Sequence (0008,1198) sorts before Referenced SOP Sequence (0008,1199).
  if (result.failed.length) elements.push(el(tag(0x0008, 0x1198), 'SQ', result.failed.map((f) => [...reference(f), el(tag(0x0008, 0x1197), 'US', f.reason)])));
  if (result.committed.length) elements.push(el(tag(0x0008, 0x1199), 'SQ', result.committed.map(reference)));
  return writeDataset(elements, transferSyntaxUid);
}
