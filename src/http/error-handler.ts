import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { MedgeError, type ErrorCode } from '../errors.js';
import type { Logger } from '../observability/log.js';

/**
 * The one translator from errors to HTTP responses (house style 4). Every route throws a
 * MedgeError; this gives all of them the same shape: `{ error: { code, message, fields } }`.
 */

/** HTTP status per error code (RFC 9110 15; 507 is RFC 4918 11.5). Codes not listed are 500. */
const STATUS_BY_CODE: Partial<Record<ErrorCode, number>> = {
  MEDGE_ERR_HTTP_NOT_FOUND: 404,
  MEDGE_ERR_STORE_NOT_FOUND: 404,
  MEDGE_ERR_ALERT_NOT_FOUND: 404,
  MEDGE_ERR_HTTP_FORBIDDEN: 403,
  MEDGE_ERR_HTTP_UNAUTHORIZED: 401,
  MEDGE_ERR_HTTP_BAD_REQUEST: 400,
  MEDGE_ERR_DICOMWEB_MULTIPART: 400,
  MEDGE_ERR_INGEST_ABORTED: 400,
  MEDGE_ERR_DICOMWEB_MEDIA_TYPE: 415,
  MEDGE_ERR_DICOMWEB_NOT_ACCEPTABLE: 406,
  MEDGE_ERR_STORE_DISK_FULL: 507,
  MEDGE_ERR_STORE_STUDY_HELD: 409,
};

export function httpStatusOf(code: ErrorCode): number {
  return STATUS_BY_CODE[code] ?? 500;
}

export interface ErrorBody {
  error: { code: ErrorCode; message: string; fields: Record<string, unknown> };
}

/**
 * Turns anything thrown into the MedgeError to answer with. fastify's own client errors (a body
 * it cannot parse, an unsupported media type, a bad URL) keep their 4xx meaning; anything else is
 * an internal error whose details go to the log, not to the client.
 */
export function toHttpError(err: unknown): MedgeError {
  if (err instanceof MedgeError) return err;
  const fe = err as Partial<FastifyError>;
  const status = typeof fe.statusCode === 'number' ? fe.statusCode : 500;
  const fields = fe.code ? { cause: fe.code } : {};
  if (status === 404) return new MedgeError('MEDGE_ERR_HTTP_NOT_FOUND', fe.message ?? 'not found', fields, err);
  if (status === 415) return new MedgeError('MEDGE_ERR_DICOMWEB_MEDIA_TYPE', fe.message ?? 'unsupported media type', fields, err);
  if (status >= 400 && status < 500) return new MedgeError('MEDGE_ERR_HTTP_BAD_REQUEST', fe.message ?? 'bad request', fields, err);
  return new MedgeError('MEDGE_ERR_INTERNAL', 'an unexpected internal error; see the node log', {}, err);
}

/** Installs the error handler and the not-found handler on `app` (the root instance). */
export function installErrorHandler(app: FastifyInstance, log: Logger): void {
  app.setErrorHandler((err: unknown, request: FastifyRequest, reply: FastifyReply) => {
    const e = toHttpError(err);
    // fastify's 4xx keep their own status (413 body too large, 400 bad JSON, ...).
    const fastifyStatus = (err as Partial<FastifyError>).statusCode;
    const status = !(err instanceof MedgeError) && fastifyStatus && fastifyStatus < 500 ? fastifyStatus : httpStatusOf(e.code);
    // URLs and queries may carry patient IDs (QIDO): log the route pattern, never request.url.
    const entry = { req: request.id, route: request.routeOptions.url, method: request.method, status, code: e.code };
    if (status >= 500) log.error({ ...entry, err: (err as Error)?.message, stack: (err as Error)?.stack }, 'request failed');
    else log.debug({ ...entry, err: e.message }, 'request refused');
    if (reply.sent || reply.raw.headersSent) {
      // The answer was already streaming (WADO-RS): all we can do is cut the connection.
      reply.raw.destroy();
      return;
    }
    const body: ErrorBody = { error: { code: e.code, message: e.message, fields: { ...e.fields } } };
    return reply.status(status).header('content-type', 'application/json; charset=utf-8').send(body);
  });
  app.setNotFoundHandler((request: FastifyRequest) => {
    throw new MedgeError('MEDGE_ERR_HTTP_NOT_FOUND', `no route ${request.method} ${request.url.split('?')[0]}`, { method: request.method });
  });
}
