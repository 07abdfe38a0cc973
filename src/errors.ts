/**
 * The one catalogue of medge errors (house style 3). Every error has a stable code
 * `MEDGE_ERR_<AREA>_<WHAT>`, a message a person can act on, typed fields, and a chained cause.
 * docs/errors.md lists the same codes; src/errors.test.ts keeps the two in step.
 * Messages carry no patient data (house style 12): UIDs, AE titles and paths only.
 */

export const ERROR_CATALOGUE = {
  MEDGE_ERR_CONFIG_INVALID: 'the configuration is invalid',
  MEDGE_ERR_CONFIG_FILE: 'the configuration file, or a file it names, cannot be read or parsed',
  MEDGE_ERR_STORE_DISK_FULL: 'free disk space is below the configured floor',
  MEDGE_ERR_STORE_IO: 'the instance store could not write or read a file',
  MEDGE_ERR_STORE_NOT_FOUND: 'the requested stored object does not exist',
  MEDGE_ERR_STORE_INDEX_DAMAGED: 'the SQLite index cannot be opened or read: it is damaged',
  MEDGE_ERR_STORE_STUDY_HELD: 'the study cannot be removed now: something still needs it',
  MEDGE_ERR_INGEST_NOT_DICOM: 'the received object is not a DICOM Part 10 file or dataset',
  MEDGE_ERR_INGEST_PARSE: 'the received dataset cannot be parsed',
  MEDGE_ERR_INGEST_MISSING_UID: 'a required UID is missing from the received dataset',
  MEDGE_ERR_INGEST_UID_MISMATCH: 'the UIDs in the DIMSE command and the dataset disagree',
  MEDGE_ERR_INGEST_SOP_CLASS: 'the SOP class is not a storage SOP class this node accepts',
  MEDGE_ERR_INGEST_ABORTED: 'the transfer of the instance was interrupted before it completed',
  MEDGE_ERR_DIMSE_PDU: 'a malformed or unexpected PDU was received',
  MEDGE_ERR_DIMSE_REJECTED: 'the peer rejected the association',
  MEDGE_ERR_DIMSE_ABORTED: 'the association was aborted',
  MEDGE_ERR_DIMSE_TIMEOUT: 'the peer did not answer in time',
  MEDGE_ERR_DIMSE_NO_CONTEXT: 'the peer accepted no presentation context for this SOP class and transfer syntax',
  MEDGE_ERR_DIMSE_STATUS: 'the peer answered with a failure status',
  MEDGE_ERR_DIMSE_CONNECT: 'the peer cannot be reached',
  MEDGE_ERR_DIMSE_IDENTIFIER: 'the C-FIND identifier is invalid or asks for an unsupported level',
  MEDGE_ERR_COMMITMENT_REQUEST: 'the storage commitment request cannot be processed',
  MEDGE_ERR_COMMITMENT_REPORT: 'the storage commitment report could not be delivered to the requester',
  MEDGE_ERR_DICOMWEB_MEDIA_TYPE: 'the request media type is not supported',
  MEDGE_ERR_DICOMWEB_MULTIPART: 'the multipart/related body is malformed',
  MEDGE_ERR_DICOMWEB_NOT_ACCEPTABLE: 'no representation the Accept header allows can be returned',
  MEDGE_ERR_DICOMWEB_STUDY_MISMATCH: 'the instance belongs to another study than the one named in the request URL',
  MEDGE_ERR_HTTP_NOT_FOUND: 'the requested resource does not exist',
  MEDGE_ERR_HTTP_BAD_REQUEST: 'the request is malformed',
  MEDGE_ERR_CODEC_UNSUPPORTED: 'no decoder for the pixel data of this transfer syntax or photometric interpretation',
  MEDGE_ERR_IMAGING_NO_SLICES: 'no image slice of the series can be built into a volume',
  MEDGE_ERR_CODEC_DECODE: 'the pixel data of a frame cannot be decoded (corrupt or truncated)',
  MEDGE_ERR_NODE_LISTEN: 'a listener of the node cannot start',
  MEDGE_ERR_CLI_USAGE: 'the command line is invalid',
  MEDGE_ERR_PIPELINE_TIMEOUT: 'an analysis ran past its time limit and was stopped',
  MEDGE_ERR_PIPELINE_WORKER: 'an analysis worker thread failed',
  MEDGE_ERR_RESULTS_BUILD: 'the DICOM result objects of an analysis could not be built',
  MEDGE_ERR_ALERT_DELIVERY: 'an alert could not be delivered on a channel',
  MEDGE_ERR_ALERT_NOT_FOUND: 'no alert has this id',
  MEDGE_ERR_HTTP_FORBIDDEN: 'the request is not allowed from this address',
  MEDGE_ERR_HTTP_UNAUTHORIZED: 'the request carries no valid credentials of http.users',
  MEDGE_ERR_UPLINK_NETWORK: 'the destination cannot be reached or the connection failed',
  MEDGE_ERR_UPLINK_TLS: 'the TLS connection to the destination cannot be established',
  MEDGE_ERR_UPLINK_AUTH: 'the destination refused the credentials',
  MEDGE_ERR_UPLINK_UNAVAILABLE: 'the destination is busy or failing and may accept the request later',
  MEDGE_ERR_UPLINK_REJECTED: 'the destination rejected the request itself',
  MEDGE_ERR_UPLINK_RESPONSE: 'the answer of the destination cannot be understood',
  MEDGE_ERR_DEID_MALFORMED: 'the instance cannot be de-identified: its dataset is malformed',
  MEDGE_ERR_DEID_UNSUPPORTED: 'the instance cannot be de-identified in its transfer syntax',
  MEDGE_ERR_DEID_SECRET: 'the de-identification secret is missing, unreadable or too short',
  MEDGE_ERR_INTERNAL: 'an unexpected internal error',
} as const;

export type ErrorCode = keyof typeof ERROR_CATALOGUE;

export class MedgeError extends Error {
  readonly code: ErrorCode;
  readonly fields: Readonly<Record<string, unknown>>;

  constructor(code: ErrorCode, message: string, fields: Record<string, unknown> = {}, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'MedgeError';
    this.code = code;
    this.fields = fields;
  }
}

export function isMedgeError(err: unknown, code?: ErrorCode): err is MedgeError {
  return err instanceof MedgeError && (code === undefined || err.code === code);
}

/** Wraps anything thrown into a MedgeError, keeping a MedgeError as it is. */
export function toMedgeError(err: unknown, code: ErrorCode = 'MEDGE_ERR_INTERNAL'): MedgeError {
  if (err instanceof MedgeError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new MedgeError(code, message, {}, err);
}
