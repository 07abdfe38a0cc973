import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { MedgeError } from '../errors.js';
import { readFileMeta } from '../dicom/part10.js';
import type { BodySource } from './stow-client-http.js';
import { closeDelimiter, PART_END, partHead } from './multipart-writer.js';

/** One instance to send: its Part 10 bytes in memory, or a file streamed from disk. */
export interface StowInstance {
  part10: Buffer | { path: string; size?: number };
  /** Known to the caller (from the index); read from the file meta (0002,0003) when absent. */
  sopInstanceUid?: string;
}

export interface PreparedInstance {
  sopInstanceUid: string;
  size: number;
  bytes?: Buffer;
  path?: string;
}

/** The file meta group is a few hundred bytes; this much of a file always holds it. */
const META_PEEK_BYTES = 16 * 1024;
/** Read size for files streamed into the body. */
const FILE_CHUNK_BYTES = 256 * 1024;

/** Resolves each instance's size and SOP Instance UID without reading more than its head. */
export async function prepareInstances(instances: readonly StowInstance[]): Promise<PreparedInstance[]> {
  return Promise.all(
    instances.map(async (inst, i): Promise<PreparedInstance> => {
      if (Buffer.isBuffer(inst.part10)) {
        const uid = inst.sopInstanceUid ?? uidFromMeta(inst.part10, `instance ${i}`);
        return { sopInstanceUid: uid, size: inst.part10.length, bytes: inst.part10 };
      }
      const { path } = inst.part10;
      const size = inst.part10.size ?? (await stat(path)).size;
      let uid = inst.sopInstanceUid;
      if (!uid) {
        const fh = await open(path, 'r');
        try {
          const head = Buffer.alloc(Math.min(size, META_PEEK_BYTES));
          await fh.read(head, 0, head.length, 0);
          uid = uidFromMeta(head, path);
        } finally {
          await fh.close();
        }
      }
      return { sopInstanceUid: uid, size, path };
    }),
  );
}

function uidFromMeta(head: Buffer, what: string): string {
  const meta = readFileMeta(head);
  if (!meta || !meta.mediaStorageSopInstanceUid) {
    throw new MedgeError('MEDGE_ERR_INGEST_NOT_DICOM', `${what} is not a DICOM Part 10 file with a Media Storage SOP Instance UID (PS3.10 7.1)`, { what });
  }
  return meta.mediaStorageSopInstanceUid.replace(/\0/g, '').trim();
}

/**
 * The multipart/related; type="application/dicom" body of a STOW-RS request (PS3.18 10.5.1.1,
 * 8.6.1.2): one part per instance, CRLF line ends. Its length is known up front, so the request
 * carries Content-Length rather than chunked encoding, which some archives refuse. Files are
 * streamed, never held in memory; one that changed size since `prepareInstances` stops the body.
 */
export function multipartBody(parts: readonly PreparedInstance[], boundary: string): BodySource {
  const head = partHead(boundary, 'application/dicom');
  const tail = closeDelimiter(boundary);
  const length = parts.reduce((n, p) => n + head.length + p.size + PART_END.length, tail.length);
  return {
    length,
    async *chunks() {
      for (const part of parts) {
        yield head;
        if (part.bytes) {
          yield part.bytes;
        } else {
          let read = 0;
          for await (const chunk of createReadStream(part.path!, { highWaterMark: FILE_CHUNK_BYTES, end: part.size - 1 })) {
            read += (chunk as Buffer).length;
            yield chunk as Buffer;
          }
          if (read !== part.size) {
            throw new MedgeError('MEDGE_ERR_STORE_IO', `${part.path} has ${read} bytes, not the ${part.size} announced: it changed while being sent`, { path: part.path });
          }
        }
        yield PART_END;
      }
      yield tail;
    },
  };
}
