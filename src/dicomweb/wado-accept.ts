import { MedgeError } from '../errors.js';
import { parseAccept } from './media-type.js';

/**
 * Accept negotiation for WADO-RS (PS3.18 8.7.3 and 8.7.5). This node stores instances as received
 * and does not transcode, so it answers with the stored transfer syntax whenever the client allows
 * it: no Accept, `*\/*`, `multipart/related` with type application/dicom and transfer-syntax absent,
 * `*`, or equal to the stored one for every instance. PS3.18 8.7.3.5.2 makes Explicit VR Little
 * Endian the default when the parameter is absent; we return the stored syntax instead (the
 * `transfer-syntax=*` behaviour), as Orthanc and dcm4chee do without transcoding, and say so in
 * each part's Content-Type. Anything else is 406 (PS3.18 8.5, Table 8.5-1).
 */
export function checkInstancesAccept(accept: string | undefined, storedTransferSyntaxes: Iterable<string>): void {
  const ranges = parseAccept(accept);
  if (ranges.length === 0) return;
  const stored = new Set(storedTransferSyntaxes);
  for (const r of ranges) {
    if (r.essence === '*/*' || r.essence === 'multipart/*') return;
    if (r.essence !== 'multipart/related') continue;
    const type = (r.params.type ?? 'application/dicom').toLowerCase();
    if (type !== 'application/dicom') continue;
    const ts = r.params['transfer-syntax'];
    if (ts === undefined || ts === '*' || [...stored].every((s) => s === ts)) return;
  }
  throw notAcceptable(accept!, 'multipart/related; type="application/dicom" in the stored transfer syntax (or transfer-syntax=*)');
}

/** Metadata (PS3.18 10.4.1.1.2) is answered as application/dicom+json only. */
export function checkMetadataAccept(accept: string | undefined): void {
  const ranges = parseAccept(accept);
  if (ranges.length === 0) return;
  const ok = new Set(['*/*', 'application/*', 'application/dicom+json', 'application/json']);
  if (ranges.some((r) => ok.has(r.essence))) return;
  throw notAcceptable(accept!, 'application/dicom+json');
}

function notAcceptable(accept: string, offer: string): MedgeError {
  return new MedgeError('MEDGE_ERR_DICOMWEB_NOT_ACCEPTABLE', `cannot answer ${accept}; this node offers ${offer}`, { accept, offer });
}
