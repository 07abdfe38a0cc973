/** De-identification (PS3.15 Annex E): what the uplink and `medge deid` use. docs/deid.md. */
export { deidentifyPart10, type DeidMapping, type DeidResult, type DeidStats } from './deidentify.js';
export { createDeidentifier, type Deidentifier, type DeidentifierDeps } from './deidentifier.js';
export { createMemoryDeidMap, createSqliteDeidMap, type DeidMap } from './deid-map.js';
export { dateShiftDays, deriveUid, loadOrCreateSecret, patientPseudonym, readSecret } from './keys.js';
export { PROFILE_TABLE_EDITION, methodCodes, resolveAction, type DeidOptions } from './profile.js';
export { buildSentinelStudy, type SentinelStudy, type SentinelStudyOptions } from './sentinel-study.js';
