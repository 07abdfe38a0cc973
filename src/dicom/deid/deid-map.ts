import type { Db } from '../../store/index-db.js';
import type { DeidMapping } from './deidentify.js';

/**
 * The node's memory of what it replaced (PS3.15 E.1.1: "the mapping kept locally"): a result that
 * comes back naming a replacement UID or a patient pseudonym is turned back into the original here.
 * Replacements are derived (keys.ts), so recording the same one twice is harmless; only this table
 * can go back, since the derivation is one-way.
 */
export interface DeidMap {
  /** Records what one instance's de-identification replaced (idempotent). */
  record(mappings: readonly DeidMapping[]): void;
  /** The original of a replacement UID, or undefined when this node never issued it. */
  reidentifyUid(uid: string): string | undefined;
  /** The patient key (ID^^^ISSUER as received) of a pseudonym, or undefined. */
  reidentifyPatient(pseudonym: string): string | undefined;
}

/** The deid_map table of the index (migration 2). */
export function createSqliteDeidMap(db: Db, clock: () => number = Date.now): DeidMap {
  const insert = db.prepare('INSERT OR IGNORE INTO deid_map (kind, deidentified, original, created_at) VALUES (?, ?, ?, ?)');
  const lookup = db.prepare('SELECT original FROM deid_map WHERE kind = ? AND deidentified = ?').pluck();
  const recordAll = db.transaction((mappings: readonly DeidMapping[], at: number) => {
    for (const m of mappings) insert.run(m.kind, m.deidentified, m.original, at);
  });
  return {
    record: (mappings) => recordAll(mappings, clock()),
    reidentifyUid: (uid) => lookup.get('uid', uid) as string | undefined,
    reidentifyPatient: (pseudonym) => lookup.get('patient', pseudonym) as string | undefined,
  };
}

/** The in-memory twin, for tests and the offline CLI. */
export function createMemoryDeidMap(): DeidMap & { entries(): DeidMapping[] } {
  const maps = { uid: new Map<string, string>(), patient: new Map<string, string>() };
  return {
    record(mappings) {
      for (const m of mappings) if (!maps[m.kind].has(m.deidentified)) maps[m.kind].set(m.deidentified, m.original);
    },
    reidentifyUid: (uid) => maps.uid.get(uid),
    reidentifyPatient: (pseudonym) => maps.patient.get(pseudonym),
    entries: () => (['uid', 'patient'] as const).flatMap((kind) => [...maps[kind]].map(([deidentified, original]) => ({ kind, original, deidentified }))),
  };
}
