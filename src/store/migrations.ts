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
  // 2: the pipeline (series readiness, the persisted analysis queue), analysis results, alerts with
  // their deliveries per channel, and the durable outbox everything that leaves the node goes through.
  `
  CREATE TABLE series_state (
    series_uid TEXT PRIMARY KEY,
    study_uid TEXT NOT NULL,
    -- receiving | queued | running | done
    state TEXT NOT NULL,
    -- higher first; 0 routine
    priority INTEGER NOT NULL DEFAULT 0,
    priority_reason TEXT,
    -- the last time the series was judged ready, and by which trigger (association-released,
    -- expected-count, geometry, quiet-timer, restart)
    ready_at INTEGER,
    ready_trigger TEXT,
    -- instances in the series when it was judged ready; more afterwards means analyse again
    instances_at_ready INTEGER,
    queued_at INTEGER,
    analysis_started_at INTEGER,
    analysis_finished_at INTEGER,
    attempts INTEGER NOT NULL DEFAULT 0
  );
  CREATE INDEX series_state_queue ON series_state(state, priority DESC, queued_at);
  CREATE INDEX series_state_study ON series_state(study_uid);

  CREATE TABLE analyses (
    id INTEGER PRIMARY KEY,
    series_uid TEXT NOT NULL,
    study_uid TEXT NOT NULL,
    analyzer_id TEXT,
    analyzer_version TEXT,
    -- positive | negative | not-applicable | not-assessable | failed
    status TEXT NOT NULL,
    reason TEXT,
    -- ReportedFinding[] as JSON (no masks)
    findings TEXT NOT NULL DEFAULT '[]',
    midline_shift_mm REAL,
    instance_count INTEGER NOT NULL,
    -- the last instance of the series received before the analysis: time-to-alert starts here
    last_received_at INTEGER NOT NULL,
    ready_at INTEGER,
    ready_trigger TEXT,
    started_at INTEGER NOT NULL,
    finished_at INTEGER NOT NULL,
    elapsed_ms REAL,
    superseded_by INTEGER REFERENCES analyses(id),
    -- results stored as DICOM in the study: [{ kind, sopInstanceUid, seriesInstanceUid, sopClassUid }]
    results TEXT
  );
  CREATE INDEX analyses_series ON analyses(series_uid);
  CREATE INDEX analyses_study ON analyses(study_uid);

  CREATE TABLE alerts (
    id TEXT PRIMARY KEY,
    study_uid TEXT NOT NULL,
    series_uid TEXT NOT NULL,
    analysis_id INTEGER NOT NULL REFERENCES analyses(id),
    -- one alert per study and rule: a new analysis updates it, never a second alert
    rule TEXT NOT NULL,
    severity TEXT NOT NULL,
    -- active | retracted (a superseding analysis no longer shows the finding)
    state TEXT NOT NULL DEFAULT 'active',
    -- bumped by each superseding analysis
    revision INTEGER NOT NULL DEFAULT 1,
    summary TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    dispatched_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    -- escalation tier reached so far (0 first)
    tier INTEGER NOT NULL DEFAULT 0,
    escalated_at INTEGER,
    acknowledged_at INTEGER,
    acknowledged_by TEXT,
    UNIQUE (study_uid, rule)
  );
  CREATE TABLE alert_deliveries (
    alert_id TEXT NOT NULL REFERENCES alerts(id),
    channel TEXT NOT NULL,
    revision INTEGER NOT NULL,
    tier INTEGER NOT NULL,
    dispatched_at INTEGER NOT NULL,
    delivered_at INTEGER,
    -- what the peer said (an HL7 ACK code, an HTTP status, the dashboard's client count)
    detail TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    PRIMARY KEY (alert_id, channel, revision)
  );

  -- Everything that must leave the node, written in the transaction that makes it due (house style 5).
  CREATE TABLE outbox (
    id INTEGER PRIMARY KEY,
    -- alert-delivery | uplink
    kind TEXT NOT NULL,
    -- channel or destination id
    destination TEXT NOT NULL,
    -- what is sent: an alert id, a SOP Instance UID...
    ref TEXT NOT NULL,
    -- JSON the sender needs
    payload TEXT NOT NULL,
    priority INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    due_at INTEGER NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_attempt_at INTEGER,
    last_error TEXT,
    -- a sender holds the item until then (it is in flight); a restart releases every claim
    claimed_until INTEGER,
    -- pending | done | parked (failed permanently, shown, not retried)
    state TEXT NOT NULL DEFAULT 'pending',
    done_at INTEGER,
    UNIQUE (kind, destination, ref)
  );
  CREATE INDEX outbox_due ON outbox(state, destination, priority DESC, due_at);

  -- De-identification (PS3.15 E.1.1): each replacement sent out and the original it stands for, so
  -- that what comes back under replaced UIDs or a patient pseudonym is re-identified on the node.
  CREATE TABLE deid_map (
    -- uid | patient
    kind TEXT NOT NULL,
    deidentified TEXT NOT NULL,
    -- the original UID, or the patient key (ID^^^ISSUER, name:..., study:...)
    original TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (kind, deidentified)
  ) WITHOUT ROWID;

  -- The uplink (docs/uplink.md): when each destination was first configured (what became due before
  -- is not sent to it: no surprise backfill), and the bytes put on the wire to it by kind of item.
  CREATE TABLE uplink_destinations (
    id TEXT PRIMARY KEY,
    added_at INTEGER NOT NULL
  ) WITHOUT ROWID;
  CREATE TABLE uplink_meter (
    destination TEXT NOT NULL,
    -- sr | seg | key-image | instance | alert
    kind TEXT NOT NULL,
    bytes INTEGER NOT NULL DEFAULT 0,
    items INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (destination, kind)
  ) WITHOUT ROWID;
  `,
  // 3: storage commitment (PS3.4 J): each request a sender made, with what the node found, until its
  // report (N-EVENT-REPORT) is delivered to the sender on an association of the node's own.
  `
  CREATE TABLE commitment_reports (
    pk INTEGER PRIMARY KEY,
    transaction_uid TEXT NOT NULL,
    -- the AE that asked, and where its report goes
    requester_ae TEXT NOT NULL,
    host TEXT NOT NULL,
    port INTEGER NOT NULL,
    -- JSON [{ sopClassUid, sopInstanceUid }]: what was asked; checked again at each attempt
    refs TEXT NOT NULL,
    requested_at INTEGER NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    due_at INTEGER NOT NULL,
    last_error TEXT,
    -- pending | delivered | expired (not delivered within the retry period)
    state TEXT NOT NULL DEFAULT 'pending',
    done_at INTEGER
  );
  CREATE INDEX commitment_reports_due ON commitment_reports(state, due_at);
  `,
  // 4: how far the instance files and the index are known to agree (store-marks.ts), so that a
  // start checks only what a crash can have left behind instead of every file.
  `
  CREATE TABLE store_marks (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    -- 1 when the node stopped cleanly: files and index agreed, nothing was being stored
    clean_stop INTEGER NOT NULL,
    -- ms since the epoch: every instance file renamed into place before it is indexed durably
    consistent_before INTEGER NOT NULL,
    written_at INTEGER NOT NULL
  );
  `,
  // 5: removing studies (store/study-removal.ts): each removal, by retention or by a person, kept as
  // a record after the study's rows are gone; while it runs, the files it still has to delete, so
  // that a crash in the middle neither leaves them behind nor lets the start-up check re-index them.
  `
  CREATE TABLE study_removals (
    id INTEGER PRIMARY KEY,
    study_uid TEXT NOT NULL,
    -- retention-age | retention-disk | operator
    reason TEXT NOT NULL,
    -- who asked (operator removals)
    requested_by TEXT,
    started_at INTEGER NOT NULL,
    -- null while files are still being deleted
    finished_at INTEGER,
    instances INTEGER NOT NULL,
    bytes INTEGER NOT NULL
  );
  CREATE INDEX study_removals_study ON study_removals(study_uid);
  CREATE TABLE removal_files (
    removal_id INTEGER NOT NULL REFERENCES study_removals(id),
    blob_key TEXT NOT NULL,
    PRIMARY KEY (removal_id, blob_key)
  ) WITHOUT ROWID;
  CREATE INDEX studies_last_received ON studies(last_received_at);
  `,
];
