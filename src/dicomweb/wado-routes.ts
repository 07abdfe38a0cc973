import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { MedgeError } from '../errors.js';
import type { BlobStore } from '../store/blob-store.js';
import type { InstanceIndex, StoredInstance } from '../store/index-db.js';
import type { Logger } from '../observability/log.js';
import { checkInstancesAccept, checkMetadataAccept } from './wado-accept.js';
import { readInstanceMetadata } from './instance-metadata.js';
import { closeDelimiter, newBoundary, PART_END, partHead } from './multipart-writer.js';

export interface WadoDeps {
  index: InstanceIndex;
  store: BlobStore;
  log: Logger;
}

type Params = { study: string; series?: string; instance?: string };
type Req = FastifyRequest<{ Params: Params }>;

/**
 * WADO-RS, the Retrieve transaction (PS3.18 10.4): studies, series and instances as
 * multipart/related application/dicom parts, each the stored Part 10 file byte for byte, streamed
 * from the store; and their metadata as application/dicom+json (10.4.1.1.2). Frames: wado-frames.ts.
 */
export function registerWadoRoutes(app: FastifyInstance, deps: WadoDeps): void {
  const instances = (request: Req, reply: FastifyReply) => retrieveInstances(request, reply, deps);
  const metadata = (request: Req, reply: FastifyReply) => retrieveMetadata(request, reply, deps);
  app.get('/studies/:study', instances);
  app.get('/studies/:study/series/:series', instances);
  app.get('/studies/:study/series/:series/instances/:instance', instances);
  app.get('/studies/:study/metadata', metadata);
  app.get('/studies/:study/series/:series/metadata', metadata);
  app.get('/studies/:study/series/:series/instances/:instance/metadata', metadata);
}

/** The stored instances a WADO-RS URL names, in series then instance number order; 404 when none. */
export function findInstances(index: InstanceIndex, p: Params): StoredInstance[] {
  let sops: string[];
  if (p.instance) sops = [p.instance];
  else if (p.series) sops = index.instancesOfSeries(p.series);
  else sops = index.instancesOfStudy(p.study);
  const found = sops
    .map((sop) => index.getInstance(sop))
    .filter((i): i is StoredInstance => !!i && i.studyInstanceUid === p.study && (!p.series || i.seriesInstanceUid === p.series));
  if (found.length === 0) {
    const what = p.instance ? `instance ${p.instance}` : p.series ? `series ${p.series}` : `study ${p.study}`;
    throw new MedgeError('MEDGE_ERR_HTTP_NOT_FOUND', `no ${what} is stored here${p.instance || p.series ? ` in study ${p.study}` : ''}`, { ...p });
  }
  return found;
}

async function retrieveInstances(request: Req, reply: FastifyReply, deps: WadoDeps): Promise<unknown> {
  const found = findInstances(deps.index, request.params);
  checkInstancesAccept(request.headers.accept, found.map((i) => i.transferSyntaxUid));
  // Check every file before the status line goes out: once streaming, an error can only cut the connection.
  for (const i of found) {
    if ((await deps.store.stat(i.blobKey)) === undefined) {
      throw new MedgeError('MEDGE_ERR_STORE_NOT_FOUND', `the file of instance ${i.sopInstanceUid} is missing from the store`, { sop: i.sopInstanceUid });
    }
  }
  const boundary = newBoundary();
  const body = Readable.from(multipartBody(found, boundary, deps.store), { objectMode: false });
  body.on('error', (err) => deps.log.warn({ req: request.id, err: err.message }, 'WADO-RS stream failed'));
  return reply
    .status(200)
    .header('content-type', `multipart/related; type="application/dicom"; boundary=${boundary}`)
    .send(body);
}

/** PS3.18 8.7.3.5 (RFC 2387): one application/dicom part per instance, each named by its transfer syntax. */
async function* multipartBody(instances: StoredInstance[], boundary: string, store: BlobStore): AsyncGenerator<Buffer> {
  for (const i of instances) {
    const type = `application/dicom; transfer-syntax=${i.transferSyntaxUid}`;
    yield partHead(boundary, type, i.size);
    for await (const chunk of store.createReadStream(i.blobKey)) yield chunk as Buffer;
    yield PART_END;
  }
  yield closeDelimiter(boundary);
}

async function retrieveMetadata(request: Req, reply: FastifyReply, deps: WadoDeps): Promise<unknown> {
  checkMetadataAccept(request.headers.accept);
  const found = findInstances(deps.index, request.params);
  const out: unknown[] = [];
  for (const i of found) out.push(await readInstanceMetadata(deps.store, i.blobKey, i.transferSyntaxUid));
  return reply.status(200).header('content-type', 'application/dicom+json').send(out);
}
