/**
 * DIMSE status codes (PS3.7 Annex C, PS3.4 B.2.3 and C.4.1.1.4) and the ONE mapper from medge
 * errors to a status (house style 4): handlers throw, this turns what they threw into a response.
 */
import { isMedgeError, type ErrorCode } from '../errors.js';

export const Status = {
  Success: 0x0000,
  /** PS3.4 C.4.1.1.4: C-FIND pending, all optional keys supported. */
  Pending: 0xff00,
  /** PS3.7 C.4.1: matching terminated due to Cancel. */
  Cancel: 0xfe00,
  /** PS3.7 C.5.7: Refused: SOP Class not supported. */
  SopClassNotSupported: 0x0122,
  /** PS3.7 C.5.8-ish general failure: Processing failure (0110H). */
  ProcessingFailure: 0x0110,
  /** PS3.4 B.2.3: Refused: Out of Resources (A7xx). */
  OutOfResources: 0xa700,
  /** PS3.4 B.2.3: Error: Data Set does not match SOP Class (A9xx); C.4.1.1.4: Identifier does not match. */
  DatasetMismatch: 0xa900,
  /** PS3.4 B.2.3: Error: Cannot understand (Cxxx); C.4.1.1.4: Unable to process. */
  CannotUnderstand: 0xc000,
} as const;

export interface DimseStatus {
  status: number;
  /** Error Comment (0000,0902), LO: at most 64 characters, no patient data (house style 12). */
  errorComment?: string;
}

const BY_CODE: Partial<Record<ErrorCode, number>> = {
  MEDGE_ERR_STORE_DISK_FULL: Status.OutOfResources,
  MEDGE_ERR_INGEST_PARSE: Status.CannotUnderstand,
  MEDGE_ERR_INGEST_NOT_DICOM: Status.CannotUnderstand,
  MEDGE_ERR_INGEST_MISSING_UID: Status.CannotUnderstand,
  MEDGE_ERR_INGEST_UID_MISMATCH: Status.DatasetMismatch,
  // PS3.4 B.2.3 has no "unknown SOP class" status for C-STORE; PS3.7 C.5.7's 0122H says exactly that.
  MEDGE_ERR_INGEST_SOP_CLASS: Status.SopClassNotSupported,
  // PS3.4 C.4.1.1.4: Identifier does not match SOP Class.
  MEDGE_ERR_DIMSE_IDENTIFIER: Status.DatasetMismatch,
};

const ERROR_COMMENT_MAX = 64;

/** Maps anything thrown by ingest or a handler to a DIMSE failure status with an error comment. */
export function dimseStatusFor(err: unknown): DimseStatus {
  if (isMedgeError(err)) {
    const status = BY_CODE[err.code] ?? Status.ProcessingFailure;
    return { status, errorComment: truncate(err.message) };
  }
  return { status: Status.ProcessingFailure, errorComment: 'internal error' };
}

/** PS3.7 C: 0000 success, FF00/FF01 pending, FE00 cancel, B000/0107/0116 warnings, the rest failures. */
export function isFailureStatus(status: number): boolean {
  if (status === Status.Success || status === Status.Cancel) return false;
  if (status === 0xff00 || status === 0xff01) return false;
  if (isWarningStatus(status)) return false;
  return true;
}

export function isWarningStatus(status: number): boolean {
  return (status & 0xf000) === 0xb000 || status === 0x0107 || status === 0x0116;
}

function truncate(s: string): string {
  // LO is ISO 646 without backslash or control characters (PS3.5 6.2).
  const clean = s.replace(/[\\\x00-\x1f]/g, ' ');
  return clean.length <= ERROR_COMMENT_MAX ? clean : `${clean.slice(0, ERROR_COMMENT_MAX - 3)}...`;
}

/** Hex form for logs and messages, e.g. "C000". */
export function statusHex(status: number): string {
  return status.toString(16).toUpperCase().padStart(4, '0');
}
