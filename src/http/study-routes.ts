import type { FastifyInstance } from 'fastify';
import type { Db } from '../store/index-db.js';
import { MedgeError } from '../errors.js';
import { readWorklist } from './api-worklist.js';
import { readStudyDetail } from './api-study.js';
import type { RemovedStudy, StudyRemover } from '../store/study-removal.js';
import { accountableName, requireLocalOrAuthenticated } from './writes-allowed.js';

/** Most rows GET /api/studies answers (?limit=, default 100). */
const MAX_LIMIT = 1000;

/** Parses ?limit= (1 to MAX_LIMIT); throws MEDGE_ERR_HTTP_BAD_REQUEST. */
export function parseLimit(value: unknown, fallback = 100): number {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > MAX_LIMIT) throw new MedgeError('MEDGE_ERR_HTTP_BAD_REQUEST', `limit must be an integer from 1 to ${MAX_LIMIT}`, { limit: String(value) });
  return n;
}

/**
 * GET /api/studies (the worklist), GET /api/studies/:studyUid (detail with the timeline) and, with
 * a remover, DELETE /api/studies/:studyUid { "by": "..." }: the study's files and index rows are
 * removed (store/study-removal.ts), from loopback only until http.users is configured; GET
 * /api/removals lists the removals, newest first (?limit=, default 100).
 */
export function registerStudyRoutes(app: FastifyInstance, deps: { db: Db; remover?: StudyRemover; authenticated?: boolean }): void {
  app.get('/api/studies', async (request) => {
    const q = request.query as { limit?: string };
    return { studies: readWorklist(deps.db, parseLimit(q.limit)) };
  });
  app.get('/api/studies/:studyUid', async (request) => {
    const { studyUid } = request.params as { studyUid: string };
    const detail = readStudyDetail(deps.db, studyUid);
    if (!detail) throw notFound(studyUid, deps.remover?.lastRemoval(studyUid));
    return detail;
  });

  const remover = deps.remover;
  if (!remover) return;
  app.get('/api/removals', async (request) => {
    const q = request.query as { limit?: string };
    return { removals: remover.recent(parseLimit(q.limit)).map((r) => ({ ...r, removedAt: new Date(r.removedAt).toISOString() })) };
  });
  app.delete('/api/studies/:studyUid', async (request) => {
    const { studyUid } = request.params as { studyUid: string };
    requireLocalOrAuthenticated(request, deps.authenticated, 'studies can be removed');
    const by = accountableName(request.body, 'removes it');
    try {
      return await remover.remove(studyUid, 'operator', by);
    } catch (err) {
      if (err instanceof MedgeError && err.code === 'MEDGE_ERR_STORE_NOT_FOUND') throw notFound(studyUid, remover.lastRemoval(studyUid));
      throw err;
    }
  });
}

/** 404 for a study not in the store, saying when and why it left if it was removed. */
function notFound(studyUid: string, removed: RemovedStudy | undefined): MedgeError {
  if (!removed) return new MedgeError('MEDGE_ERR_HTTP_NOT_FOUND', `no study ${studyUid}`, { studyInstanceUid: studyUid });
  const who = removed.reason === 'operator' ? `by ${removed.requestedBy}` : `by retention (${removed.reason})`;
  return new MedgeError('MEDGE_ERR_HTTP_NOT_FOUND', `no study ${studyUid}: it was removed ${who} at ${new Date(removed.removedAt).toISOString()}`, {
    studyInstanceUid: studyUid,
    removed,
  });
}
