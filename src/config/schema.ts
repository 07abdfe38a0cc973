import type { DeidOptions } from '../dicom/deid/profile.js';

/**
 * The one typed configuration of a medge node (house style 8). Defaults live here; a YAML file,
 * then MEDGE_* environment variables, then command-line flags override them (see load.ts).
 * medge.sample.yaml at the repository root documents every key.
 */

export interface AllowedPeer {
  /** Calling AE title the peer uses. */
  aeTitle: string;
  /** Optional host names or IP addresses the peer may connect from; empty means any. */
  hosts?: string[];
}

/** A user who may associate by DICOM User Identity negotiation (PS3.7 D.3.3.7, dimse/user-identity.ts). */
export interface DicomUser {
  username: string;
  /** Required of this user when set (identity type 2, username and passcode); type 1 alone then fails. */
  passcode?: string;
}

/** A user of the HTTP API and DICOMweb (HTTP Basic, RFC 7617). */
export interface HttpUser {
  username: string;
  password: string;
}

/** Where a remote AE listens, for the associations the node opens to it. */
export interface RemoteAe {
  /** Its AE title: the called AE of the node's association to it. */
  aeTitle: string;
  port: number;
  /** Default: the address of the association whose request the node is answering. */
  host?: string;
  /**
   * DICOM TLS (PS3.15 B.1) to it: `caFile`, the PEM file of the CA(s) that signed its certificate
   * (default: the built-in list); `certFile` and `keyFile`, the node's own, for a peer that asks.
   */
  tls?: { caFile?: string; certFile?: string; keyFile?: string };
  /** A DICOM User Identity to present to it (PS3.7 D.3.3.7), for a peer that requires one. */
  user?: DicomUser;
}

/**
 * The DICOM TLS listener (PS3.15 B.1, the TLS Secure Transport Connection Profile; TLS 1.2 or
 * later with the ciphers of BCP 195, PS3.15 B.9). Associations on it are served exactly like those
 * on the plain port (same AE policy, limits and storage).
 */
export interface DicomTlsListenerConfig {
  /** TCP port; 2762 is DICOM's registered TLS port; 0 picks a free port. */
  port: number;
  /** The node's certificate chain and its unencrypted private key, PEM files. */
  certFile: string;
  keyFile: string;
  /**
   * PEM file of the CA(s) that sign the senders' certificates: when given, a sender must present a
   * certificate signed by one of them (mutual authentication) or its connection is refused; when
   * absent, senders need no certificate.
   */
  caFile?: string;
}

export interface MedgeConfig {
  /** Directory holding the instance store, the SQLite index and ports.json. */
  dataDir: string;
  dicom: {
    /** TCP port of the DIMSE listener; 0 picks a free port. */
    port: number;
    /** Listen address. */
    host: string;
    /** This node's AE title (1 to 16 characters, PS3.5 6.2 AE). */
    aeTitle: string;
    /** Largest P-DATA-TF PDU we accept and announce (PS3.8 D.1), in bytes; 0 means unlimited. */
    maxPduLength: number;
    /** 'open' accepts any calling AE; 'allow-list' only those in allowedPeers. */
    aePolicy: 'open' | 'allow-list';
    allowedPeers: AllowedPeer[];
    /**
     * Users a requestor's User Identity (PS3.7 D.3.3.7, username or username and passcode) is
     * checked against: one that matches is answered with the positive response it may ask for.
     */
    users: DicomUser[];
    /** Refuse associations that do not present one of `users` (on top of aePolicy). */
    requireUserIdentity: boolean;
    /** ARTIM timer (PS3.8 9.1.5): how long to wait for an A-ASSOCIATE-RQ or a release reply, ms. */
    artimTimeoutMs: number;
    /** Association closed after this long without any PDU, ms. */
    idleTimeoutMs: number;
    /** Most associations served at once; further ones are rejected (transient, local limit). */
    maxAssociations: number;
    /**
     * Where remote AEs listen, for the associations the node opens to them on a request: the
     * report of a storage commitment request (PS3.4 J, docs/commitment.md) and the destination of
     * a C-MOVE (PS3.4 C.4.2). An AE not listed gets a refusal that names this key.
     */
    remoteAes: RemoteAe[];
    /** A second listener for DICOM TLS, beside the plain one; null: none (dimse/tls-listener.ts). */
    tls: DicomTlsListenerConfig | null;
  };
  http: {
    /** TCP port of the HTTP API, DICOMweb and metrics; 0 picks a free port. */
    port: number;
    host: string;
    /**
     * Who may use the HTTP API and DICOMweb (HTTP Basic, RFC 7617); empty: anyone who reaches the
     * port. /api/health and /metrics stay open to monitoring (http/basic-auth.ts).
     */
    users: HttpUser[];
    /** HTTPS on http.port with this certificate and key (PEM files); null: plain HTTP. */
    tls: { certFile: string; keyFile: string } | null;
  };
  store: {
    /** New instances are refused when free disk space falls below this many bytes. */
    minFreeBytes: number;
    /**
     * Warn (health, log, metric) when, at the last day's pace, free space reaches minFreeBytes
     * within this many hours (store/disk-forecast.ts); 0: never.
     */
    warnHoursToFloor: number;
    /**
     * Check every stored file against the index at start (after restoring a backup or removing
     * files by hand). Otherwise a start checks nothing after a clean stop, and after a crash only
     * the directories changed since the store's last consistency mark (ingest/recover.ts).
     */
    checkAllAtStart: boolean;
    /** Remove studies whose last instance arrived more than this many days ago (store/retention.ts); 0: keep them. */
    retentionDays: number;
    /** Below this many free bytes, remove the oldest studies until free space is back above it; 0: never. Above minFreeBytes. */
    reclaimBelowFreeBytes: number;
    /** Neither retention rule removes a study whose last instance arrived less than this many hours ago. */
    retentionMinHours: number;
  };
  log: {
    level: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  };
  pipeline: {
    /** Fallback only: a series with no other completion signal is ready after this long without a new instance, ms. */
    quietMs: number;
    /** A series whose slices form a contiguous run is ready after this long without a new instance, ms. */
    geometrySettleMs: number;
    /** The end of a STOW-RS request makes its series ready after this long unless a next request continues it, ms. */
    requestGraceMs: number;
    /** Worker threads running analyses (ingest stays on the main thread). */
    workers: number;
    /**
     * CPU priority of the analysis threads against ingest on the main thread: 'idle' (Linux
     * SCHED_IDLE: they run only on CPU time nothing else wants), 'low' (nice 10), 'normal'.
     */
    workerPriority: 'idle' | 'low' | 'normal';
    /** Calling AE titles of emergency scanners: their series go first. */
    emergencyAeTitles: string[];
    /** Case-insensitive regular expressions matched on study and series description and protocol name: a match goes first. */
    priorityPatterns: string[];
    /**
     * A series the start-up check indexed again (its index rows were lost) is analysed only when it
     * was received within this many hours; older ones are left unanalysed, so that a lost index
     * does not re-analyse the whole store and alert on old studies ahead of new ones. 0: none.
     */
    analyseRecoveredWithinHours: number;
  };
  alerts: {
    /** Findings that raise an alert, with the severity; the first matching rule wins. */
    rules: AlertRule[];
    /** An alert nobody acknowledged within this long goes to the next tier of channels, ms; 0 never escalates. */
    escalateAfterMs: number;
    /** Delivery retries: first delay and upper bound of the exponential backoff (with jitter), ms. */
    retryInitialMs: number;
    retryMaxMs: number;
    /** External channels; the dashboard (server-sent events) is always tier 0. */
    channels: AlertChannelConfig[];
  };
  uplink: {
    /** Where results (and studies) are forwarded; docs/uplink.md. Empty: nothing leaves the node. */
    destinations: UplinkDestinationConfig[];
    /** Failed sends are retried with exponential backoff and full jitter between these bounds, ms. */
    retryInitialMs: number;
    retryMaxMs: number;
    /** The circuit breaker of a destination opens after this many consecutive failed attempts... */
    breakerFailures: number;
    /** ...and lets one probe through after this long, ms. */
    breakerCoolDownMs: number;
  };
}

/** What a destination receives (docs/uplink.md): each includes the one before it. */
export type UplinkWhat = 'results' | 'results+alerts' | 'full-study';

export interface UplinkPolicy {
  what: UplinkWhat;
  /** immediate: as soon as due; window: only inside the daily window; capped: under maxBytesPerSecond. */
  when: 'immediate' | 'window' | 'capped';
  /** Daily window in the node's local time, 'HH:MM-HH:MM' (may cross midnight), for when: window. */
  window?: string;
  /** Token-bucket cap on the bytes sent to this destination, bytes/s (when: capped; optional with window). */
  maxBytesPerSecond?: number;
  /** Items of a study with an unacknowledged critical alert go at once even outside the window. Default true. */
  criticalOutsideWindow?: boolean;
  privacy: 'identified' | 'deidentified';
  /** PS3.15 Annex E options for privacy: deidentified. */
  deid?: DeidOptions;
}

interface UplinkBase {
  /** Unique id, used in the outbox, the status, the CLI and metrics (e.g. 'cloud'). */
  id: string;
  policy: UplinkPolicy;
  /** For what: results+alerts: alerts are POSTed here as JSON (docs/uplink.md), with the destination's credentials. */
  alertUrl?: string;
  /** Per attempt: no progress for this long fails it, ms. */
  timeoutMs?: number;
  /** Results (SR, SEG, key image) leave losslessly compressed: Deflated, JPEG-LS (docs/uplink.md). Default true. */
  compressResults?: boolean;
  /** STOW-RS requests or DIMSE associations in flight at once (docs/uplink.md). Default 3. */
  concurrency?: number;
}

export type UplinkDestinationConfig =
  | (UplinkBase & {
      type: 'stow-rs';
      /** DICOMweb base URL, e.g. https://pacs.example.org/dicom-web. */
      baseUrl: string;
      /** Never logged nor shown in the status. */
      auth?: { basic: { user: string; password: string } } | { bearer: string };
      /** PEM file of the CA(s) that signed the destination's certificate (replaces the built-in list for it). */
      caFile?: string;
      /** The node's certificate chain and unencrypted private key, PEM files, for a destination that requires a client certificate. */
      certFile?: string;
      keyFile?: string;
    })
  | (UplinkBase & {
      type: 'dimse';
      /** Called AE title of the archive. */
      aeTitle: string;
      host: string;
      port: number;
      /** Calling AE title; default dicom.aeTitle. */
      callingAeTitle?: string;
      /**
       * DICOM TLS (PS3.15 B.1, B.9) to the archive: `caFile`, the PEM file of the CA(s) that signed its
       * certificate (default: the built-in list); `certFile` and `keyFile`, the node's own certificate
       * chain and unencrypted private key, PEM, for an archive that requires one (mutual authentication).
       */
      tls?: { caFile?: string; certFile?: string; keyFile?: string };
      /** A DICOM User Identity to present to the archive (PS3.7 D.3.3.7), for one that requires it. */
      user?: DicomUser;
    });

export type AlertSeverity = 'critical' | 'urgent' | 'routine';

export interface AlertRule {
  /** Finding type, e.g. 'intracranial-hemorrhage'. */
  finding: string;
  /** Only findings of at least this volume, mL (0: any). */
  minVolumeMl?: number;
  severity: AlertSeverity;
}

interface ChannelBase {
  /** Unique id, used in delivery records and metrics (e.g. 'pager', 'ris', 'ehr'). */
  id: string;
  /** Escalation tier: 0 at once, 1 when tier 0 got no acknowledgement in escalateAfterMs, and so on. */
  tier: number;
  /** Per attempt, ms. */
  timeoutMs?: number;
}

export type AlertChannelConfig =
  | (ChannelBase & { type: 'webhook'; url: string; /** HMAC-SHA256 key of the signature header. */ secret: string })
  | (ChannelBase & {
      type: 'hl7';
      host: string;
      port: number;
      sendingApplication?: string;
      sendingFacility?: string;
      receivingApplication?: string;
      receivingFacility?: string;
    })
  | (ChannelBase & { type: 'fhir'; baseUrl: string; /** Sent as Authorization: Bearer. */ bearerToken?: string });

export const DEFAULT_CONFIG: MedgeConfig = {
  dataDir: './data',
  dicom: {
    port: 11112,
    host: '0.0.0.0',
    aeTitle: 'MEDGE',
    maxPduLength: 262144,
    aePolicy: 'open',
    allowedPeers: [],
    users: [],
    requireUserIdentity: false,
    artimTimeoutMs: 30_000,
    idleTimeoutMs: 300_000,
    maxAssociations: 64,
    remoteAes: [],
    tls: null,
  },
  http: {
    port: 8080,
    host: '0.0.0.0',
    users: [],
    tls: null,
  },
  store: {
    minFreeBytes: 1024 * 1024 * 1024,
    warnHoursToFloor: 48,
    checkAllAtStart: false,
    retentionDays: 0,
    reclaimBelowFreeBytes: 0,
    retentionMinHours: 24,
  },
  log: {
    level: 'info',
  },
  pipeline: {
    quietMs: 5000,
    geometrySettleMs: 1000,
    requestGraceMs: 250,
    workers: 1,
    workerPriority: 'idle',
    emergencyAeTitles: [],
    priorityPatterns: ['stroke', 'trauma', 'code', 'hemorrhage', 'haemorrhage', 'ich'],
    analyseRecoveredWithinHours: 24,
  },
  alerts: {
    rules: [{ finding: 'intracranial-hemorrhage', minVolumeMl: 0, severity: 'critical' }],
    escalateAfterMs: 300_000,
    retryInitialMs: 1000,
    retryMaxMs: 60_000,
    channels: [],
  },
  uplink: {
    destinations: [],
    retryInitialMs: 2000,
    retryMaxMs: 300_000,
    breakerFailures: 5,
    breakerCoolDownMs: 30_000,
  },
};
