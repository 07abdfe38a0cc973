/**
 * The one place a dataset is re-encoded on the way out: when the peer accepted neither the file's
 * own transfer syntax nor anything but another uncompressed one, convert between Implicit and
 * Explicit VR Little Endian (PS3.5 A.1, A.2) with dcmjs. Compressed files are never converted.
 */
import { readFile } from 'node:fs/promises';
import { MedgeError } from '../errors.js';
import { readFileMeta } from '../dicom/part10.js';
import { TS } from '../dicom/uids.js';

/** Syntaxes dcmjs reads and writes faithfully for this purpose. */
export const CONVERTIBLE: ReadonlySet<string> = new Set([TS.ImplicitVRLittleEndian, TS.ExplicitVRLittleEndian]);

interface DcmjsDict {
  meta: Record<string, { vr: string; Value: unknown[] }>;
  write(options?: Record<string, unknown>): ArrayBuffer;
}
interface Dcmjs {
  data: { DicomMessage: { readFile(buffer: ArrayBuffer, options?: Record<string, unknown>): DcmjsDict } };
}

/** Returns the file's dataset re-encoded in `targetTs` (no meta group). */
export async function convertDataset(path: string, targetTs: string): Promise<Buffer> {
  const bytes = await readFile(path);
  const meta = readFileMeta(bytes);
  if (!meta || !CONVERTIBLE.has(meta.transferSyntaxUid) || !CONVERTIBLE.has(targetTs)) {
    throw new MedgeError('MEDGE_ERR_DIMSE_NO_CONTEXT', `cannot convert ${meta?.transferSyntaxUid ?? 'a non-DICOM file'} to ${targetTs}`, { path, targetTs });
  }
  // dcmjs ships no type declarations; the two calls used are typed above.
  const name = 'dcmjs';
  const mod = (await import(name)) as { default?: Dcmjs } & Dcmjs;
  const dcmjs = mod.default ?? mod;
  const ab = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  const dict = dcmjs.data.DicomMessage.readFile(ab, { ignoreErrors: true });
  dict.meta['00020010'] = { vr: 'UI', Value: [targetTs] };
  // Read leniently, write what was read: real files carry over-long values (an AE of 18 spaces, say).
  const out = Buffer.from(dict.write({ allowInvalidVRLength: true }));
  const outMeta = readFileMeta(out);
  if (!outMeta) throw new MedgeError('MEDGE_ERR_INTERNAL', 'dcmjs wrote no file meta', { path });
  return out.subarray(outMeta.datasetOffset);
}
