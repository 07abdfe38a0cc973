import type { Readable } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isMedgeError, MedgeError } from '../errors.js';
import type { NodeEvents } from '../events/node-events.js';
import type { Ingest, IngestContext } from '../ingest/types.js';
import type { Logger } from '../observability/log.js';
import { parseMediaType } from './media-type.js';
import { readMultipart } from './multipart-reader.js';
import { chunksOf } from '../util/stream-chunks.js';
import { StowPart, type PartResult } from './stow-part.js';
import { stowAnswer } from './stow-response.js';
import { FAILURE_REASON } from './stow-failure.js';
import { urlsFor } from './urls.js';

export interface StowDeps {
  ingest: Ingest;
  log: Logger;
  /** Told of the end of each request ('request-complete'), the pipeline's completion signal for STOW-RS. */
  events?: NodeEvents;
}

const DICOM = 'application/dicom';
/** Parts of one request whose commit (fsync, rename, index) may run while later parts stream in. */
const MAX_COMMITS_IN_FLIGHT = 16;
const DICOM_JSON = 'application/dicom+json';

/**
 * STOW-RS, the Studies Store transaction (PS3.18 10.5): `POST /studies` and `POST /studies/{study}`
 * with a multipart/related body of application/dicom parts (10.5.1.2, 8.6.1.2). The body is
 * streamed part by part into the ingest; it is never held in memory.
 *
 * Must be registered in its own encapsulated scope: it replaces the scope's body parsers with one
 * that hands the raw request stream to the handler.
 */
export function registerStowRoutes(app: FastifyInstance, deps: StowDeps): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_request, payload, done) => done(null, payload));
  const handler = (request: FastifyRequest<{ Params: { study?: string } }>, reply: FastifyReply) => storeInstances(request, reply, deps);
  app.post('/studies', handler);
  app.post('/studies/:study', handler);
}

async function storeInstances(request: FastifyRequest<{ Params: { study?: string } }>, reply: FastifyReply, deps: StowDeps): Promise<unknown> {
  const { boundary, rootType } = checkContentType(request.headers['content-type']);
  const targetStudy = request.params.study;
  const ctx: IngestContext = { protocol: 'stow', associationId: request.id, remoteAddress: request.ip };
  // In order of the parts; a part being committed is a promise (see MAX_COMMITS_IN_FLIGHT).
  const results: Array<PartResult | Promise<PartResult>> = [];
  const committing = new Set<Promise<PartResult>>();
  let current: StowPart | undefined;
  let inPart = false;
  const started = Date.now();

  try {
    // fastify hands no stream when the request has no body (Content-Length: 0): read it as empty.
    const body = request.body as Readable | undefined;
    const source = body ? chunksOf(body) : [];
    for await (const ev of readMultipart(source, boundary)) {
      if (ev.kind === 'part') {
        inPart = true;
        const type = parseMediaType(ev.headers['content-type'])?.essence ?? rootType;
        if (type === DICOM) {
          current = new StowPart(deps.ingest, ctx, targetStudy);
        } else {
          current = undefined;
          results.push(StowPart.refused(new MedgeError('MEDGE_ERR_DICOMWEB_MEDIA_TYPE', `part ${ev.index} is ${type}, not ${DICOM}`, { part: ev.index, type })));
        }
      } else if (ev.kind === 'data') {
        // Awaiting the ingest here is the backpressure: the next chunk is read only after this one is written.
        if (current) await current.write(ev.chunk);
      } else {
        inPart = false;
        if (current) {
          // The answer waits for every part, not the next part for this one: its fsyncs run while
          // the next part streams in (group commit), so a request pays the disk's latency about
          // once instead of once per part. At most MAX_COMMITS_IN_FLIGHT wait at once.
          const done = current.end();
          results.push(done);
          committing.add(done);
          void done.finally(() => committing.delete(done));
          if (committing.size >= MAX_COMMITS_IN_FLIGHT) await Promise.race(committing);
        }
        current = undefined;
      }
    }
  } catch (err) {
    await current?.abort();
    await Promise.all(committing);
    const e = isMedgeError(err) ? err : new MedgeError('MEDGE_ERR_INGEST_ABORTED', `the STOW-RS request body was cut off: ${(err as Error).message}`, {}, err);
    // Parts already stored stay stored and are reported; with none, the request is a bad request.
    if (results.length === 0) throw e;
    if (inPart) results.push({ ok: false, reason: FAILURE_REASON.cannotUnderstand, error: e });
    deps.log.warn({ req: request.id, code: e.code, err: e.message }, 'STOW-RS body ended badly after some parts');
  }
  if (results.length === 0) throw new MedgeError('MEDGE_ERR_DICOMWEB_MULTIPART', 'the multipart/related body has no parts', {});
  return sendAnswer(request, reply, deps, await Promise.all(results), targetStudy, started);
}

/** The dicom+json answer (PS3.18 10.5.3) once every part is settled, and the end of the request for the pipeline. */
function sendAnswer(request: FastifyRequest, reply: FastifyReply, deps: StowDeps, results: PartResult[], targetStudy: string | undefined, started: number): FastifyReply {
  const answer = stowAnswer(results, urlsFor(request), targetStudy);
  const failed = results.filter((r) => !r.ok) as Extract<PartResult, { ok: false }>[];
  if (failed.length < results.length) deps.events?.emit('request-complete', { requestId: request.id, instances: results.length - failed.length });
  deps.log.info(
    { req: request.id, event: 'stow', stored: results.length - failed.length, failed: failed.length, status: answer.status, ms: Date.now() - started, failures: failed.map((f) => `${f.error.code}: ${f.error.message}`) },
    'STOW-RS request answered',
  );
  return reply.status(answer.status).header('content-type', DICOM_JSON).send(answer.body);
}

/**
 * PS3.18 10.5.1.2: `multipart/related; type="application/dicom"; boundary=...`. A missing type
 * parameter is tolerated (each part's own Content-Type then decides); another root type, such as
 * application/dicom+json with bulk data parts, is not supported and answered 415.
 */
function checkContentType(header: string | undefined): { boundary: string; rootType: string } {
  const mt = parseMediaType(header);
  if (!mt || mt.essence !== 'multipart/related') {
    throw new MedgeError('MEDGE_ERR_DICOMWEB_MEDIA_TYPE', `STOW-RS takes multipart/related; type="${DICOM}", not ${mt?.essence ?? 'a body without Content-Type'}`, {
      contentType: mt?.essence ?? null,
    });
  }
  const rootType = (mt.params.type ?? DICOM).toLowerCase();
  if (rootType !== DICOM) {
    throw new MedgeError('MEDGE_ERR_DICOMWEB_MEDIA_TYPE', `STOW-RS here takes multipart/related parts of type ${DICOM} only, not ${rootType}`, { type: rootType });
  }
  const boundary = mt.params.boundary;
  if (!boundary) throw new MedgeError('MEDGE_ERR_DICOMWEB_MULTIPART', 'the multipart/related Content-Type has no boundary parameter', {});
  return { boundary, rootType };
}
