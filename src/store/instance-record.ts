/** One row's worth of what the index keeps about a received instance. null: absent in the dataset. */
export interface InstanceRecord {
  sopInstanceUid: string;
  sopClassUid: string;
  seriesInstanceUid: string;
  studyInstanceUid: string;
  transferSyntaxUid: string;
  patientId: string | null;
  issuerOfPatientId: string | null;
  patientName: string | null;
  patientBirthDate: string | null;
  patientSex: string | null;
  studyDate: string | null;
  studyTime: string | null;
  accessionNumber: string | null;
  studyId: string | null;
  studyDescription: string | null;
  referringPhysicianName: string | null;
  modality: string | null;
  seriesNumber: string | null;
  seriesDescription: string | null;
  bodyPartExamined: string | null;
  seriesDate: string | null;
  instanceNumber: string | null;
  rows: number | null;
  columns: number | null;
  numberOfFrames: string | null;
  /** Image Position (Patient), backslash-separated as in the dataset. */
  imagePosition: string | null;
  imageOrientation: string | null;
  /** Blob key of the Part 10 file. */
  blobKey: string;
  /** Bytes of the whole Part 10 file. */
  size: number;
  /** Offset of the dataset in the file: the end of the PS3.10 file meta information. */
  datasetOffset: number;
  /** Arrival time, ms since the epoch. */
  receivedAt: number;
  /** How it came in; 'recovered' when re-indexed from its file at start-up (see reconcile.ts). */
  protocol: 'dimse' | 'stow' | 'recovered';
  callingAe: string | null;
  associationId: string | null;
  remoteAddress: string | null;
}
