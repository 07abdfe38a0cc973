/**
 * C-FIND as a performer (PS3.7 9.1.2, PS3.4 C.4.1): Study Root and Patient Root queries (PATIENT,
 * STUDY, SERIES, IMAGE) answered from the index through runQuery. One C-FIND-RSP with status FF00 and an
 * identifier per match, then a final response; a C-CANCEL-RQ ends the matches with FE00 (PS3.7 9.3.2.3).
 */
import { MedgeError } from '../errors.js';
import type { Logger } from '../observability/log.js';
import { runQuery, type QueryKeys } from '../store/query.js';
import { ATTRIBUTE_BY_TAG, type QueryLevel } from '../store/query-attributes.js';
import type { Db } from '../store/index-db.js';
import type { DimseCommand } from './command.js';
import { QUERY_RETRIEVE_LEVEL, SPECIFIC_CHARACTER_SET, decodeIdentifier, encodeIdentifier, type IdentifierElement } from './dataset-codec.js';
import type { AcceptedContext } from './negotiation.js';
import { CommandField, PATIENT_ROOT_FIND } from './pdu-constants.js';
import { Status, dimseStatusFor, type DimseStatus } from './status.js';

export interface FindDeps {
  db: Db;
  log: Logger;
  respond(command: DimseCommand, identifier?: Buffer): Promise<void>;
}

export interface FindJob {
  cancel(): void;
  done: Promise<void>;
}

/** Unique keys returned at each level whatever was asked (PS3.4 C.2.2.1.1, C.4.1.2.1). */
const LEVEL_KEYS: Record<QueryLevel, number[]> = {
  PATIENT: [0x00100020],
  STUDY: [0x0020000d],
  SERIES: [0x0020000d, 0x0020000e],
  IMAGE: [0x0020000d, 0x0020000e, 0x00080018],
};
const LEVELS = new Set<string>(['STUDY', 'SERIES', 'IMAGE']);
/** Patient Root has a PATIENT level above STUDY (PS3.4 C.6.1); Study Root does not (C.6.2). */
const PATIENT_ROOT_LEVELS = new Set<string>(['PATIENT', ...LEVELS]);
/** Yield to the event loop every this many matches so a C-CANCEL-RQ can be read. */
const YIELD_EVERY = 16;

/** Starts answering; runs on its own so the association keeps reading (for C-CANCEL-RQ). */
export function startFind(deps: FindDeps, cmd: DimseCommand, pc: AcceptedContext, identifier: Buffer): FindJob {
  let cancelled = false;
  const done = run().catch((err) => deps.log.warn({ event: 'c-find-send-failed', reason: (err as Error).message }));
  return { cancel: () => void (cancelled = true), done };

  async function run(): Promise<void> {
    let final: DimseStatus = { status: Status.Success };
    try {
      const { level, keys, requested } = parseIdentifier(identifier, pc.transferSyntax, pc.abstractSyntax === PATIENT_ROOT_FIND);
      const rows = runQuery(deps.db, level, keys);
      deps.log.debug({ event: 'c-find', level, matches: rows.length });
      let n = 0;
      for (const row of rows) {
        if (cancelled) {
          final = { status: Status.Cancel };
          break;
        }
        const elements: IdentifierElement[] = [{ tag: QUERY_RETRIEVE_LEVEL, vr: 'CS', value: level }];
        const tags = new Set([...requested, ...LEVEL_KEYS[level]]);
        for (const tag of tags) {
          const attr = ATTRIBUTE_BY_TAG.get(hexTag(tag));
          if (attr) elements.push({ tag, vr: attr.vr, value: row[attr.keyword] ?? '' });
        }
        await deps.respond(response(Status.Pending, true), encodeIdentifier(elements, pc.transferSyntax));
        if (++n % YIELD_EVERY === 0) await new Promise((r) => setImmediate(r));
      }
    } catch (err) {
      final = dimseStatusFor(err);
      deps.log.warn({ event: 'c-find-failed', reason: final.errorComment });
    }
    await deps.respond({ ...response(final.status, false), errorComment: final.errorComment });
  }

  function response(status: number, hasDataset: boolean): DimseCommand {
    return {
      commandField: CommandField.CFindRsp,
      messageIdBeingRespondedTo: cmd.messageId,
      affectedSopClassUid: cmd.affectedSopClassUid,
      hasDataset,
      status,
    };
  }
}

/** Identifier to level, matching keys by keyword, and the tags asked for (PS3.4 C.4.1.1.3). */
export function parseIdentifier(identifier: Buffer, tsUid: string, patientRoot = false): { level: QueryLevel; keys: QueryKeys; requested: number[] } {
  const elements = decodeIdentifier(identifier, tsUid);
  const level = elements.find((e) => e.tag === QUERY_RETRIEVE_LEVEL)?.value.trim().toUpperCase() ?? '';
  if (!(patientRoot ? PATIENT_ROOT_LEVELS : LEVELS).has(level)) {
    throw new MedgeError('MEDGE_ERR_DIMSE_IDENTIFIER', `Query/Retrieve Level '${level.slice(0, 16)}' not supported`, { level });
  }
  const keys: QueryKeys = {};
  const requested: number[] = [];
  for (const e of elements) {
    if (e.tag === QUERY_RETRIEVE_LEVEL || e.tag === SPECIFIC_CHARACTER_SET) continue;
    const attr = ATTRIBUTE_BY_TAG.get(hexTag(e.tag));
    if (!attr) continue; // PS3.4 C.2.2.1.2: unsupported optional keys are ignored.
    keys[attr.keyword] = e.value;
    requested.push(e.tag);
  }
  return { level: level as QueryLevel, keys, requested };
}

function hexTag(tag: number): string {
  return tag.toString(16).toUpperCase().padStart(8, '0');
}
