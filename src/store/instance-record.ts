import type { InstanceHeader } from '../dicom/header.js';

/** One row's worth of what the index keeps about a received instance: its header plus where and how it came. */
export interface InstanceRecord extends InstanceHeader {
  sopInstanceUid: string;
  sopClassUid: string;
  seriesInstanceUid: string;
  studyInstanceUid: string;
  transferSyntaxUid: string;
  /** Blob key of the Part 10 file. */
  blobKey: string;
  /** Bytes of the whole Part 10 file. */
  size: number;
  /** Offset of the dataset in the file: the end of the PS3.10 file meta information. */
  datasetOffset: number;
  /** Arrival time, ms since the epoch. */
  receivedAt: number;
  /** How it came in; 'recovered' when re-indexed from its file at start-up (see ingest/recover.ts). */
  protocol: 'dimse' | 'stow' | 'local' | 'recovered';
  callingAe: string | null;
  associationId: string | null;
  remoteAddress: string | null;
}
