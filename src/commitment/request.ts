/**
 * The dataset of a storage commitment request, N-ACTION-RQ Action Type 1 "Request Storage
 * Commitment" (PS3.4 J.3.2.1.1, Table J.3-1): the Transaction UID and the instances whose storage
 * the sender wants the node to commit to.
 */
import dicomParser, { type DataSet } from 'dicom-parser';
import { MedgeError } from '../errors.js';
import { TS } from '../dicom/uids.js';

/** One instance named in a request or a report (Referenced SOP Class UID, Referenced SOP Instance UID). */
export interface SopReference {
  sopClassUid: string;
  sopInstanceUid: string;
}

export interface CommitmentRequest {
  transactionUid: string;
  references: SopReference[];
}

/** Transfer syntaxes the node accepts for Storage Commitment (both ends of PS3.5 A.1, A.2). */
export const COMMITMENT_SYNTAXES: ReadonlySet<string> = new Set([TS.ExplicitVRLittleEndian, TS.ImplicitVRLittleEndian]);

/** A request can name every instance of a large study, but not without bound. */
const MAX_REFERENCES = 100_000;

/** Decodes the request; throws MEDGE_ERR_COMMITMENT_REQUEST naming what is wrong. */
export function decodeCommitmentRequest(dataset: Buffer, transferSyntaxUid: string): CommitmentRequest {
  const ds = parseDataset(dataset, transferSyntaxUid);
  const transactionUid = ds.string('x00081195');
  if (!transactionUid) throw invalid('it has no Transaction UID (0008,1195)');
  const sequence = ds.elements.x00081199;
  if (!sequence?.items?.length) throw invalid('it has no item in Referenced SOP Sequence (0008,1199)');
  if (sequence.items.length > MAX_REFERENCES) throw invalid(`it names ${sequence.items.length} instances; at most ${MAX_REFERENCES} per request`);
  const references = sequence.items.map((item, i) => {
    const sopClassUid = item.dataSet?.string('x00081150');
    const sopInstanceUid = item.dataSet?.string('x00081155');
    if (!sopClassUid || !sopInstanceUid) throw invalid(`item ${i + 1} of Referenced SOP Sequence lacks Referenced SOP Class UID or Referenced SOP Instance UID`);
    return { sopClassUid, sopInstanceUid };
  });
  return { transactionUid, references };
}

function parseDataset(bytes: Buffer, transferSyntaxUid: string): DataSet {
  if (!COMMITMENT_SYNTAXES.has(transferSyntaxUid)) throw invalid(`transfer syntax ${transferSyntaxUid} is not one the node negotiates for it`);
  if (bytes.length === 0) throw invalid('it has no dataset');
  const parser = dicomParser.littleEndianByteArrayParser;
  const runtime = dicomParser as unknown as { DataSet: new (p: typeof parser, b: Uint8Array, e: object) => DataSet };
  const dataSet = new runtime.DataSet(parser, bytes, {});
  const stream = new dicomParser.ByteStream(parser, bytes, 0);
  try {
    if (transferSyntaxUid === TS.ImplicitVRLittleEndian) dicomParser.parseDicomDataSetImplicit(dataSet, stream, bytes.length);
    else dicomParser.parseDicomDataSetExplicit(dataSet, stream, bytes.length);
  } catch (err) {
    const reason = typeof err === 'string' ? err : (err as { exception?: unknown }).exception ?? (err as Error).message;
    throw invalid(`its dataset cannot be parsed (${String(reason)})`);
  }
  return dataSet;
}

function invalid(reason: string): MedgeError {
  return new MedgeError('MEDGE_ERR_COMMITMENT_REQUEST', `storage commitment request refused: ${reason}`, { reason });
}
