/**
 * The attributes the index keeps and answers queries on (C-FIND, QIDO-RS), one table for both
 * adapters. Tags and VRs are from PS3.6; the levels and the required/unique keys follow PS3.4 C.6.1
 * (Patient Root: PATIENT, the level a Study Root query reaches through its STUDY level) and C.6.2. `column` is the SQL expression in the index (aliases p, st, se, i).
 */

export type QueryLevel = 'PATIENT' | 'STUDY' | 'SERIES' | 'IMAGE';

export interface QueryAttribute {
  keyword: string;
  /** Tag as 8 upper-case hex digits, group then element. */
  tag: string;
  vr: 'AE' | 'CS' | 'DA' | 'DS' | 'IS' | 'LO' | 'PN' | 'SH' | 'TM' | 'UI' | 'US' | 'UL';
  level: QueryLevel;
  column: string;
  /** Computed on the fly (counts, lists): returned but not matched. */
  computed?: boolean;
}

const A = (keyword: string, tag: string, vr: QueryAttribute['vr'], level: QueryLevel, column: string, computed = false): QueryAttribute =>
  ({ keyword, tag, vr, level, column, computed });

export const QUERY_ATTRIBUTES: readonly QueryAttribute[] = [
  A('PatientName', '00100010', 'PN', 'PATIENT', 'p.patient_name'),
  A('PatientID', '00100020', 'LO', 'PATIENT', 'p.patient_id'),
  A('PatientBirthDate', '00100030', 'DA', 'PATIENT', 'p.birth_date'),
  A('PatientSex', '00100040', 'CS', 'PATIENT', 'p.sex'),
  A('StudyInstanceUID', '0020000D', 'UI', 'STUDY', 'st.study_uid'),
  A('StudyDate', '00080020', 'DA', 'STUDY', 'st.study_date'),
  A('StudyTime', '00080030', 'TM', 'STUDY', 'st.study_time'),
  A('AccessionNumber', '00080050', 'SH', 'STUDY', 'st.accession_number'),
  A('StudyID', '00200010', 'SH', 'STUDY', 'st.study_id'),
  A('StudyDescription', '00081030', 'LO', 'STUDY', 'st.description'),
  A('ReferringPhysicianName', '00080090', 'PN', 'STUDY', 'st.referring_physician'),
  A('ModalitiesInStudy', '00080061', 'CS', 'STUDY', '(SELECT group_concat(DISTINCT x.modality) FROM series x WHERE x.study_uid = st.study_uid)', true),
  A('NumberOfStudyRelatedSeries', '00201206', 'IS', 'STUDY', '(SELECT count(*) FROM series x WHERE x.study_uid = st.study_uid)', true),
  A('NumberOfStudyRelatedInstances', '00201208', 'IS', 'STUDY', '(SELECT count(*) FROM instances x JOIN series y ON y.series_uid = x.series_uid WHERE y.study_uid = st.study_uid)', true),
  A('SeriesInstanceUID', '0020000E', 'UI', 'SERIES', 'se.series_uid'),
  A('Modality', '00080060', 'CS', 'SERIES', 'se.modality'),
  A('SeriesNumber', '00200011', 'IS', 'SERIES', 'se.series_number'),
  A('SeriesDescription', '0008103E', 'LO', 'SERIES', 'se.description'),
  A('BodyPartExamined', '00180015', 'CS', 'SERIES', 'se.body_part'),
  A('PerformedProcedureStepStartDate', '00400244', 'DA', 'SERIES', 'se.series_date'),
  A('NumberOfSeriesRelatedInstances', '00201209', 'IS', 'SERIES', '(SELECT count(*) FROM instances x WHERE x.series_uid = se.series_uid)', true),
  A('SOPInstanceUID', '00080018', 'UI', 'IMAGE', 'i.sop_uid'),
  A('SOPClassUID', '00080016', 'UI', 'IMAGE', 'i.sop_class_uid'),
  A('InstanceNumber', '00200013', 'IS', 'IMAGE', 'i.instance_number'),
  A('Rows', '00280010', 'US', 'IMAGE', 'i.rows'),
  A('Columns', '00280011', 'US', 'IMAGE', 'i.columns'),
  A('NumberOfFrames', '00280008', 'IS', 'IMAGE', 'i.number_of_frames'),
];

export const ATTRIBUTE_BY_KEYWORD = new Map(QUERY_ATTRIBUTES.map((a) => [a.keyword, a]));
export const ATTRIBUTE_BY_TAG = new Map(QUERY_ATTRIBUTES.map((a) => [a.tag, a]));

export const LEVEL_ORDER: Record<QueryLevel, number> = { PATIENT: 0, STUDY: 1, SERIES: 2, IMAGE: 3 };

/** Attributes returned at a level: those of that level and the levels above it. */
export function attributesUpTo(level: QueryLevel): QueryAttribute[] {
  return QUERY_ATTRIBUTES.filter((a) => LEVEL_ORDER[a.level] <= LEVEL_ORDER[level]);
}
