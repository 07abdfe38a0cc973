import type { FastifyInstance } from 'fastify';
import type { Db } from '../store/index-db.js';
import { MedgeError } from '../errors.js';
import { readWorklist } from './api-worklist.js';
import { readStudyDetail } from './api-study.js';

/** Most rows GET /api/studies answers (?limit=, default 100). */
const MAX_LIMIT = 1000;

/** Parses ?limit= (1 to MAX_LIMIT); throws MEDGE_ERR_HTTP_BAD_REQUEST. */
export function parseLimit(value: unknown, fallback = 100): number {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > MAX_LIMIT) throw new MedgeError('MEDGE_ERR_HTTP_BAD_REQUEST', `limit must be an integer from 1 to ${MAX_LIMIT}`, { limit: String(value) });
  return n;
}

/** GET /api/studies (the worklist) and GET /api/studies/:studyUid (detail with the timeline). */
export function registerStudyRoutes(app: FastifyInstance, deps: { db: Db }): void {
  app.get('/api/studies', async (request) => {
    const q = request.query as { limit?: string };
    return { studies: readWorklist(deps.db, parseLimit(q.limit)) };
  });
  app.get('/api/studies/:studyUid', async (request) => {
    const { studyUid } = request.params as { studyUid: string };
    const detail = readStudyDetail(deps.db, studyUid);
    if (!detail) throw new MedgeError('MEDGE_ERR_HTTP_NOT_FOUND', `no study ${studyUid}`, { studyInstanceUid: studyUid });
    return detail;
  });
}
