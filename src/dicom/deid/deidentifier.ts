import type { DeidMap } from './deid-map.js';
import { deidentifyPart10, type DeidResult } from './deidentify.js';
import { checkSecret } from './keys.js';
import type { DeidOptions } from './profile.js';

/** What the uplink holds: one profile, one secret, one mapping table. */
export interface Deidentifier {
  readonly options: Readonly<DeidOptions>;
  /** De-identifies a Part 10 file and records its replacements in the map before returning, so a
   *  result can come back for anything that was sent (house style 5). Throws MEDGE_ERR_DEID_*. */
  deidentify(part10: Buffer): DeidResult;
  /** The original of a replacement UID (a result's Study, Series, SOP or referenced UID). */
  reidentifyUid(uid: string): string | undefined;
  reidentifyPatient(pseudonym: string): string | undefined;
}

export interface DeidentifierDeps {
  /** The node's secret (keys.ts loadOrCreateSecret), at least 16 bytes. */
  secret: Uint8Array;
  map: DeidMap;
  options?: DeidOptions;
}

export function createDeidentifier({ secret, map, options = {} }: DeidentifierDeps): Deidentifier {
  checkSecret(secret);
  const frozen = Object.freeze({ ...options });
  return {
    options: frozen,
    deidentify(part10) {
      const result = deidentifyPart10(part10, secret, frozen);
      map.record(result.mappings);
      return result;
    },
    reidentifyUid: (uid) => map.reidentifyUid(uid),
    reidentifyPatient: (pseudonym) => map.reidentifyPatient(pseudonym),
  };
}
