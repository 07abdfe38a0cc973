/**
 * Numbered schema migrations of the SQLite index, applied in order inside one transaction each and
 * recorded in PRAGMA user_version. Never edit a released migration: add the next number.
 */
export const MIGRATIONS: readonly string[] = [
  // 1: patients, studies, series, instances with what the worklist, the viewer and C-FIND/QIDO need.
  `
  CREATE TABLE patients (
    pk INTEGER PRIMARY KEY,
    patient_id TEXT NOT NULL DEFAULT '',
    issuer TEXT NOT NULL DEFAULT '',
    patient_name TEXT,
    birth_date TEXT,
    sex TEXT,
    UNIQUE (patient_id, issuer)
  );
  CREATE TABLE studies (
    study_uid TEXT PRIMARY KEY,
    patient_pk INTEGER NOT NULL REFERENCES patients(pk),
    study_date TEXT,
    study_time TEXT,
    accession_number TEXT,
    study_id TEXT,
    description TEXT,
    referring_physician TEXT,
    first_received_at INTEGER NOT NULL,
    last_received_at INTEGER NOT NULL
  );
  CREATE INDEX studies_patient ON studies(patient_pk);
  CREATE INDEX studies_date ON studies(study_date);
  CREATE TABLE series (
    series_uid TEXT PRIMARY KEY,
    study_uid TEXT NOT NULL REFERENCES studies(study_uid),
    modality TEXT,
    series_number TEXT,
    description TEXT,
    body_part TEXT,
    series_date TEXT,
    first_received_at INTEGER NOT NULL,
    last_received_at INTEGER NOT NULL
  );
  CREATE INDEX series_study ON series(study_uid);
  CREATE TABLE instances (
    sop_uid TEXT PRIMARY KEY,
    series_uid TEXT NOT NULL REFERENCES series(series_uid),
    sop_class_uid TEXT NOT NULL,
    instance_number TEXT,
    transfer_syntax_uid TEXT NOT NULL,
    rows INTEGER,
    columns INTEGER,
    number_of_frames TEXT,
    image_position TEXT,
    image_orientation TEXT,
    blob_key TEXT NOT NULL,
    size INTEGER NOT NULL,
    dataset_offset INTEGER NOT NULL,
    received_at INTEGER NOT NULL,
    protocol TEXT NOT NULL,
    calling_ae TEXT,
    association_id TEXT,
    remote_address TEXT
  );
  CREATE INDEX instances_series ON instances(series_uid);
  CREATE UNIQUE INDEX instances_blob ON instances(blob_key);
  `,
];
