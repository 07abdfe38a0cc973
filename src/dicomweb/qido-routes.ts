import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { MedgeError } from '../errors.js';
import type { Db } from '../store/index-db.js';
import { runQuery, type QueryKeys, type QueryRow } from '../store/query.js';
import { ATTRIBUTE_BY_KEYWORD, ATTRIBUTE_BY_TAG, attributesUpTo, type QueryLevel } from '../store/query-attributes.js';
import { parseAccept } from './media-type.js';
import { attributeFromString, sortByTag, type DicomJsonDataset } from './dicom-json.js';
import { urlsFor, type DicomwebUrls } from './urls.js';

export interface QidoDeps {
  db: Db;
}

type Params = { study?: string; series?: string };
type Query = Record<string, string | string[] | undefined>;
type Req = FastifyRequest<{ Params: Params; Querystring: Query }>;

const RETRIEVE_URL = '00081190';
/** Query parameters that are not matching keys (PS3.18 8.3.4, Table 8.3.4-1). */
const CONTROL = new Set(['limit', 'offset', 'includefield', 'fuzzymatching']);

/**
 * QIDO-RS, the Search transaction (PS3.18 10.6): studies, series and instances of the index,
 * matched on the keys of src/store/query-attributes.ts by keyword or tag (8.3.4.1), answered as
 * application/dicom+json (F.2), each result with its Retrieve URL (0008,1190).
 */
export function registerQidoRoutes(app: FastifyInstance, deps: QidoDeps): void {
  const route = (level: QueryLevel) => (request: Req, reply: FastifyReply) => search(level, request, reply, deps);
  app.get('/studies', route('STUDY'));
  app.get('/series', route('SERIES'));
  app.get('/studies/:study/series', route('SERIES'));
  app.get('/instances', route('IMAGE'));
  app.get('/studies/:study/instances', route('IMAGE'));
  app.get('/studies/:study/series/:series/instances', route('IMAGE'));
}

async function search(level: QueryLevel, request: Req, reply: FastifyReply, deps: QidoDeps): Promise<unknown> {
  checkAccept(request.headers.accept);
  const { keys, ignored } = matchingKeys(request.query);
  if (request.params.study) keys.StudyInstanceUID = request.params.study;
  if (request.params.series) keys.SeriesInstanceUID = request.params.series;
  const rows = runQuery(deps.db, level, keys, { limit: count(request.query, 'limit'), offset: count(request.query, 'offset') });
  // PS3.18 8.3.4.4.1 (Table 8.3.4-4): a key the origin server does not support is ignored, with a warning.
  if (ignored.length > 0) reply.header('warning', `299 medge "The following query keys are not supported and were ignored: ${ignored.join(', ')}"`);
  // PS3.18 8.3.4.4.1: no match is 204 No Content with an empty payload. (CP-2473, not final in
  // 2025, would change this to 200 with []; clients handle both.)
  if (rows.length === 0) return reply.status(204).send();
  const urls = urlsFor(request);
  return reply
    .status(200)
    .header('content-type', 'application/dicom+json')
    .send(rows.map((row) => rowToJson(level, row, urls)));
}

/** One result in the DICOM JSON model: every attribute of the level and above, sorted by tag (F.2.1.1). */
export function rowToJson(level: QueryLevel, row: QueryRow, urls: DicomwebUrls): DicomJsonDataset {
  const out: DicomJsonDataset = { [RETRIEVE_URL]: attributeFromString('UR', retrieveUrl(level, row, urls)) };
  for (const a of attributesUpTo(level)) out[a.tag] = attributeFromString(a.vr, row[a.keyword]);
  return sortByTag(out);
}

function retrieveUrl(level: QueryLevel, row: QueryRow, urls: DicomwebUrls): string {
  const study = row.StudyInstanceUID ?? '';
  if (level === 'STUDY') return urls.study(study);
  if (level === 'SERIES') return urls.series(study, row.SeriesInstanceUID ?? '');
  return urls.instance(study, row.SeriesInstanceUID ?? '', row.SOPInstanceUID ?? '');
}

/**
 * Matching keys by keyword or by tag (PS3.18 8.3.4.1). A UID list may be separated by commas
 * or backslashes (8.3.4.1, PS3.4 C.2.2.2.2). Repeated parameters: the first one counts.
 */
export function matchingKeys(query: Query): { keys: QueryKeys; ignored: string[] } {
  const keys: QueryKeys = {};
  const ignored: string[] = [];
  for (const [name, raw] of Object.entries(query)) {
    if (CONTROL.has(name.toLowerCase()) || raw === undefined) continue;
    const attr = ATTRIBUTE_BY_KEYWORD.get(name) ?? ATTRIBUTE_BY_TAG.get(name.toUpperCase());
    if (!attr) {
      ignored.push(name);
      continue;
    }
    const value = Array.isArray(raw) ? (raw[0] ?? '') : raw;
    keys[attr.keyword] = attr.vr === 'UI' ? value.replace(/,/g, '\\') : value;
  }
  return { keys, ignored };
}

function count(query: Query, name: 'limit' | 'offset'): number | undefined {
  const raw = query[name];
  if (raw === undefined) return undefined;
  const value = Array.isArray(raw) ? raw[0] : raw;
  if (!/^\d+$/.test(value ?? '')) {
    throw new MedgeError('MEDGE_ERR_HTTP_BAD_REQUEST', `${name} must be a non-negative integer`, { parameter: name });
  }
  return Number(value);
}

/** QIDO-RS answers application/dicom+json (or application/json) only (PS3.18 10.6.3, 8.7.5). */
function checkAccept(accept: string | undefined): void {
  const ranges = parseAccept(accept);
  if (ranges.length === 0) return;
  const ok = new Set(['*/*', 'application/*', 'application/dicom+json', 'application/json']);
  if (ranges.some((r) => ok.has(r.essence))) return;
  throw new MedgeError('MEDGE_ERR_DICOMWEB_NOT_ACCEPTABLE', `cannot answer ${accept}; QIDO-RS here answers application/dicom+json`, { accept });
}
