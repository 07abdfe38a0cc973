import { PROFILE_TABLE, PROFILE_TABLE_EDITION, type BasicAction, type OptionActions, type ProfileRow } from './profile-table.js';

/**
 * The PS3.15 Annex E options medge implements, as flags (E.3). The Basic Application
 * Confidentiality Profile always applies; each option relaxes it for the attributes its column
 * in Table E.1-1 names. Not implemented (their attributes get the Basic Profile's action): Retain
 * Safe Private (every private element is removed), Clean Pixel Data, Clean Recognizable Visual
 * Features, Clean Graphics, Clean Structured Content.
 */
export interface DeidOptions {
  /** Retain UIDs Option (E.3.9): UIDs kept instead of replaced. Default false. */
  retainUids?: boolean;
  /**
   * 'remove' (default): the Basic Profile's action on dates and times. 'keep': Retain Longitudinal
   * Temporal Information with Full Dates Option (E.3.6). 'shift': with Modified Dates: every date
   * moved back by the same number of days for one patient (a keyed derivation, see keys.ts).
   */
  dates?: 'remove' | 'keep' | 'shift';
  /** Clean Descriptors Option (E.3.5): descriptions and comments kept, cleaned of identifying text. */
  cleanDescriptors?: boolean;
  /** Retain Device Identity Option (E.3.8). */
  retainDeviceIdentity?: boolean;
  /** Retain Institution Identity Option (E.3.11). */
  retainInstitutionIdentity?: boolean;
  /** Retain Patient Characteristics Option (E.3.7): sex, age, size, weight... kept; allergies etc. cleaned. */
  retainPatientCharacteristics?: boolean;
}

/** What is done to one attribute once the options have been applied. */
export type Action =
  | 'remove' // X
  | 'zero' // Z
  | 'dummy' // D
  | 'keep' // K
  | 'clean' // C: text cleaned of identifying values, sequences walked
  | 'shift' // C of the Modified Dates option: dates moved
  | 'uid' // U
  | 'zero-or-dummy' // Z/D, X/Z/D: empty stays empty, a value becomes a dummy (never breaks a Type 1)
  | 'remove-or-dummy' // X/D
  | 'remove-or-zero' // X/Z
  | 'walk'; // X/Z/U*: a sequence of references kept, the UIDs in it replaced

export interface ResolvedAction {
  action: Action;
  /** The table's VR ('' where PS3.6 allows several). */
  vr: string;
  name: string;
}

const PRIVATE_ROW = 'private';
const ROWS: ReadonlyMap<string, ProfileRow> = new Map(PROFILE_TABLE.map((r) => [r[0], r]));

/** The row of Table E.1-1 for a standard (even group) tag, including the repeating groups 50xx and 60xx. */
export function profileRow(tag: number): ProfileRow | undefined {
  const key = (tag >>> 0).toString(16).padStart(8, '0');
  const row = ROWS.get(key);
  if (row) return row;
  const group = tag >>> 16;
  // PS3.5 7.6: repeating groups 5000-501E (curves) and 6000-601E (overlays), even only.
  if (group >= 0x5000 && group <= 0x501e && group % 2 === 0) return ROWS.get('50xxxxxx');
  if (group >= 0x6000 && group <= 0x601e && group % 2 === 0) return ROWS.get(`60xx${key.slice(4)}`);
  return undefined;
}

/** The action on a tag under the options; undefined when the table does not name it (retained). */
export function resolveAction(tag: number, options: DeidOptions): ResolvedAction | undefined {
  const row = (tag >>> 16) % 2 === 1 ? ROWS.get(PRIVATE_ROW) : profileRow(tag);
  if (!row) return undefined;
  const [, vr, basic, opts, name] = row;
  return { action: optionAction(opts, options) ?? basicAction(basic), vr, name };
}

function optionAction(opts: OptionActions, o: DeidOptions): Action | undefined {
  // Where several options name an attribute, the least stringent wins: keep before clean.
  const chosen: Array<'K' | 'C' | 'shift'> = [];
  if (o.retainUids && opts.uids) chosen.push(opts.uids);
  if (o.dates === 'keep' && opts.fullDates) chosen.push(opts.fullDates);
  if (o.dates === 'shift' && opts.modifiedDates) chosen.push(opts.modifiedDates === 'C' ? 'shift' : 'K');
  if (o.cleanDescriptors && opts.descriptors) chosen.push(opts.descriptors);
  if (o.retainDeviceIdentity && opts.deviceIdentity) chosen.push(opts.deviceIdentity);
  if (o.retainInstitutionIdentity && opts.institutionIdentity) chosen.push(opts.institutionIdentity);
  if (o.retainPatientCharacteristics && opts.patientCharacteristics) chosen.push(opts.patientCharacteristics);
  if (chosen.includes('K')) return 'keep';
  if (chosen.includes('shift')) return 'shift';
  if (chosen.includes('C')) return 'clean';
  return undefined;
}

function basicAction(a: BasicAction): Action {
  switch (a) {
    case 'X': return 'remove';
    case 'Z': return 'zero';
    case 'D': return 'dummy';
    case 'K': return 'keep';
    case 'C': return 'clean';
    case 'U': return 'uid';
    case 'Z/D': case 'X/Z/D': return 'zero-or-dummy';
    case 'X/D': return 'remove-or-dummy';
    case 'X/Z': return 'remove-or-zero';
    case 'X/Z/U*': return 'walk';
  }
}

/** PS3.16 CID 7050 "De-identification Method": the codes of the profile and the options used (PS3.15 E.1.1 step 4). */
export function methodCodes(o: DeidOptions): Array<{ value: string; meaning: string }> {
  const codes = [{ value: '113100', meaning: 'Basic Application Confidentiality Profile' }];
  if (o.cleanDescriptors) codes.push({ value: '113105', meaning: 'Clean Descriptors Option' });
  if (o.dates === 'keep') codes.push({ value: '113106', meaning: 'Retain Longitudinal Temporal Information Full Dates Option' });
  if (o.dates === 'shift') codes.push({ value: '113107', meaning: 'Retain Longitudinal Temporal Information Modified Dates Option' });
  if (o.retainPatientCharacteristics) codes.push({ value: '113108', meaning: 'Retain Patient Characteristics Option' });
  if (o.retainDeviceIdentity) codes.push({ value: '113109', meaning: 'Retain Device Identity Option' });
  if (o.retainUids) codes.push({ value: '113110', meaning: 'Retain UIDs Option' });
  if (o.retainInstitutionIdentity) codes.push({ value: '113112', meaning: 'Retain Institution Identity Option' });
  return codes;
}

/** De-identification Method (0012,0063), LO values of at most 64 characters. */
export function methodDescription(o: DeidOptions): string[] {
  return [`medge PS3.15 ${PROFILE_TABLE_EDITION} Table E.1-1`, ...methodCodes(o).map((c) => c.meaning)];
}

export { PROFILE_TABLE_EDITION };
