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
    /** ARTIM timer (PS3.8 9.1.5): how long to wait for an A-ASSOCIATE-RQ or a release reply, ms. */
    artimTimeoutMs: number;
    /** Association closed after this long without any PDU, ms. */
    idleTimeoutMs: number;
    /** Most associations served at once; further ones are rejected (transient, local limit). */
    maxAssociations: number;
  };
  http: {
    /** TCP port of the HTTP API, DICOMweb and metrics; 0 picks a free port. */
    port: number;
    host: string;
  };
  store: {
    /** New instances are refused when free disk space falls below this many bytes. */
    minFreeBytes: number;
  };
  log: {
    level: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  };
}

export const DEFAULT_CONFIG: MedgeConfig = {
  dataDir: './data',
  dicom: {
    port: 11112,
    host: '0.0.0.0',
    aeTitle: 'MEDGE',
    maxPduLength: 262144,
    aePolicy: 'open',
    allowedPeers: [],
    artimTimeoutMs: 30_000,
    idleTimeoutMs: 300_000,
    maxAssociations: 64,
  },
  http: {
    port: 8080,
    host: '0.0.0.0',
  },
  store: {
    minFreeBytes: 1024 * 1024 * 1024,
  },
  log: {
    level: 'info',
  },
};
