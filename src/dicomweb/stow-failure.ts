import type { MedgeError } from '../errors.js';

/**
 * Failure Reason (0008,1197) values of a STOW-RS response, PS3.18 Annex I.2.2, Table I.2-2.
 * Named here so that no hex number appears inline (house style 10).
 */
export const FAILURE_REASON = {
  /** A7xx Refused: out of resources (the disk is below its floor). */
  outOfResources: 0xa700,
  /** A9xx Error: Data Set does not match SOP Class. Also used, as the lead chose, for an instance
   *  of another study than the one in the URL; dcm4chee uses the private C409 for that case. */
  studyMismatch: 0xa900,
  /** Cxxx Error: cannot understand (not DICOM, cannot parse, required UID missing). */
  cannotUnderstand: 0xc000,
  /** 0110 Processing failure. */
  processingFailure: 0x0110,
  /** 0122 Referenced SOP Class not supported. */
  sopClassNotSupported: 0x0122,
} as const;

export function failureReasonOf(err: MedgeError): number {
  switch (err.code) {
    case 'MEDGE_ERR_STORE_DISK_FULL':
      return FAILURE_REASON.outOfResources;
    case 'MEDGE_ERR_DICOMWEB_STUDY_MISMATCH':
      return FAILURE_REASON.studyMismatch;
    case 'MEDGE_ERR_INGEST_SOP_CLASS':
      return FAILURE_REASON.sopClassNotSupported;
    case 'MEDGE_ERR_INGEST_NOT_DICOM':
    case 'MEDGE_ERR_INGEST_PARSE':
    case 'MEDGE_ERR_INGEST_MISSING_UID':
    case 'MEDGE_ERR_DICOMWEB_MEDIA_TYPE':
      return FAILURE_REASON.cannotUnderstand;
    default:
      return FAILURE_REASON.processingFailure;
  }
}
