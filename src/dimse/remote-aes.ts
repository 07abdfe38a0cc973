/**
 * The table of where remote AEs listen (dicom.remoteAes), for the associations the node opens on a
 * request: C-MOVE destinations (scp-move.ts) and storage commitment reports (commitment/). An
 * entry's TLS files are read once, at start: one that cannot be read stops the start, naming it.
 */
import type { DicomUser, RemoteAe } from '../config/schema.js';
import { readTlsFiles } from '../util/tls-files.js';
import { normalizeAddress } from './negotiation.js';
import type { ScuTlsOptions } from './scu-association.js';

export interface ResolvedRemoteAe {
  aeTitle: string;
  port: number;
  /** Absent: the address of the association whose request the node answers. */
  host?: string;
  /** DICOM TLS to it (PS3.15 B.1), when its entry has `tls`. */
  tls?: ScuTlsOptions;
  /** The User Identity to present to it, when its entry has `user`. */
  user?: DicomUser;
}

export interface RemoteAeTable {
  find(aeTitle: string): ResolvedRemoteAe | undefined;
}

export async function loadRemoteAes(entries: readonly RemoteAe[]): Promise<RemoteAeTable> {
  const byTitle = new Map<string, ResolvedRemoteAe>();
  for (const e of entries) {
    const tls = e.tls ? await readTlsFiles(e.tls, `dicom.remoteAes entry ${e.aeTitle}`) : undefined;
    byTitle.set(e.aeTitle.trim(), { aeTitle: e.aeTitle.trim(), port: e.port, host: e.host, tls, user: e.user });
  }
  return { find: (aeTitle) => byTitle.get(aeTitle.trim()) };
}

/** Where to reach `ae`: its host, or the requester's address (IPv4-mapped IPv6 unwrapped). */
export function hostOf(ae: ResolvedRemoteAe, requesterAddress: string): string {
  return ae.host ?? normalizeAddress(requesterAddress);
}
