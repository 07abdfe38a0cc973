import dicomParser from 'dicom-parser';
import { MedgeError } from '../errors.js';
import type { BlobStore } from '../store/blob-store.js';
import { parseDataSetHeader } from '../dicom/header.js';
import { datasetToJson } from './dataset-json.js';
import type { DicomJsonDataset } from './dicom-json.js';

/** A header longer than this is not read for metadata (bytes). */
const HEADER_LIMIT = 64 * 1024 * 1024;

/**
 * The metadata of one stored instance (PS3.18 10.4.1.1.2): its file is read only up to Pixel
 * Data, so that a 500 MB multi-frame instance costs its header, not its pixels.
 */
export async function readInstanceMetadata(store: BlobStore, blobKey: string, transferSyntaxUid: string): Promise<DicomJsonDataset> {
  const chunks: Buffer[] = [];
  let bytes = 0;
  let nextTry = 64 * 1024;
  const stream = store.createReadStream(blobKey);
  try {
    for await (const chunk of stream) {
      chunks.push(chunk as Buffer);
      bytes += (chunk as Buffer).length;
      if (bytes >= nextTry) {
        nextTry = bytes * 2;
        const ds = tryParse(Buffer.concat(chunks), transferSyntaxUid, false);
        if (ds) return datasetToJson(ds);
        if (bytes > HEADER_LIMIT) break;
      }
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new MedgeError('MEDGE_ERR_STORE_NOT_FOUND', `no stored blob ${blobKey}`, { key: blobKey }, err);
    throw new MedgeError('MEDGE_ERR_STORE_IO', `cannot read a stored instance: ${(err as Error).message}`, { key: blobKey }, err);
  } finally {
    stream.destroy();
  }
  const ds = tryParse(Buffer.concat(chunks), transferSyntaxUid, true);
  if (!ds) throw new MedgeError('MEDGE_ERR_STORE_IO', 'a stored instance cannot be parsed for its metadata', { key: blobKey });
  return datasetToJson(ds);
}

/** Parses up to Pixel Data; undefined when the bytes end inside the header (and more may come). */
function tryParse(bytes: Buffer, transferSyntaxUid: string, complete: boolean): dicomParser.DataSet | undefined {
  try {
    const parsed = parseDataSetHeader(bytes, transferSyntaxUid, complete ? bytes.length : Number.MAX_SAFE_INTEGER);
    return parsed.kind === 'ok' ? parsed.dataSet : undefined;
  } catch {
    return undefined;
  }
}
