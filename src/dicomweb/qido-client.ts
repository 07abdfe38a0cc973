import { httpStatusError, responseError } from './stow-client-errors.js';
import type { HttpDestination } from './stow-client-http.js';

/** SOP Instance UID (0008,0018) in a QIDO-RS result (PS3.18 10.6.3.3.3). */
const SOP_INSTANCE_UID = '00080018';

/**
 * Whether the destination holds the instance, asked with QIDO-RS Search for Instances of a series
 * (PS3.18 10.6, `GET {base}/studies/{study}/series/{series}/instances?SOPInstanceUID={uid}`).
 * The answer is checked for the UID itself, so that a server that ignores the filter and lists
 * the whole series is not mistaken for a yes. 204 or an empty list is no; 404 (an unknown study
 * or series, as some servers answer) is no as well.
 */
export async function instanceExists(dest: HttpDestination, studyUid: string, seriesUid: string, sopUid: string): Promise<boolean> {
  const path = `/studies/${encodeURIComponent(studyUid)}/series/${encodeURIComponent(seriesUid)}/instances?SOPInstanceUID=${encodeURIComponent(sopUid)}&includefield=${SOP_INSTANCE_UID}`;
  const answer = await dest.request('GET', path, { headers: { accept: 'application/dicom+json' } });
  if (answer.status === 204 || answer.status === 404) return false;
  if (answer.status !== 200) throw httpStatusError(answer.status, dest, answer.body.toString('utf8', 0, 300), { retryAfter: header(answer.headers['retry-after']), wwwAuthenticate: header(answer.headers['www-authenticate']) });
  if (answer.body.length === 0) return false;
  let list: unknown;
  try {
    list = JSON.parse(answer.body.toString('utf8'));
  } catch {
    throw responseError(answer.status, dest, 'its QIDO-RS answer is not JSON');
  }
  if (!Array.isArray(list)) throw responseError(answer.status, dest, 'its QIDO-RS answer is not a JSON array');
  return list.some((item) => {
    const v = (item as Record<string, { Value?: unknown[] }> | null)?.[SOP_INSTANCE_UID]?.Value?.[0];
    return typeof v === 'string' && v.trim() === sopUid;
  });
}

export function header(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}
