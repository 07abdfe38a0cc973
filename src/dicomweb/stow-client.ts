import { performance } from 'node:perf_hooks';
import { HttpDestination, type HttpDestinationOptions } from './stow-client-http.js';
import { multipartBody, prepareInstances, type StowInstance } from './stow-client-body.js';
import { newBoundary } from './multipart-writer.js';
import { isStowResponse, outcomesFromResponse, type StowOutcome } from './stow-client-response.js';
import { httpStatusError, responseError } from './stow-client-errors.js';
import { header, instanceExists } from './qido-client.js';

export type { StowInstance } from './stow-client-body.js';
export type { StowOutcome, StowInstanceStatus } from './stow-client-response.js';
export type { DicomwebAuth } from './stow-client-http.js';
export { isRetryable } from './stow-client-errors.js';

export type StowClientOptions = HttpDestinationOptions;

export interface StowResult {
  /** The HTTP status of the request (200 all stored, 202 some, 409 none: PS3.18 10.5.3). */
  httpStatus: number;
  /** One per instance, in the order given. */
  outcomes: StowOutcome[];
  /** Bytes of the request body. */
  bytesSent: number;
  /** From the first byte sent to the end of the answer, in ms. */
  ms: number;
}

export interface StowClient {
  /** The base URL, without credentials. */
  readonly url: string;
  /**
   * Stores instances with one STOW-RS request (PS3.18 10.5): POST {base}/studies, or
   * {base}/studies/{studyInstanceUid} when given. Resolves with per-instance outcomes when the
   * destination answered with a Store Instances Response (200, 202, 409). Rejects with a
   * MedgeError MEDGE_ERR_UPLINK_* whose `fields.retryable` says whether to try again later:
   * network, timeout, 408, 429, 5xx retryable; TLS, 401/403 and other 4xx not.
   */
  store(instances: StowInstance | readonly StowInstance[], options?: { studyInstanceUid?: string }): Promise<StowResult>;
  /** Whether the destination holds the instance (QIDO-RS): the check before a resend. */
  exists(studyUid: string, seriesUid: string, sopUid: string): Promise<boolean>;
  /** Closes the kept-alive connections. */
  close(): void;
}

export function createStowClient(options: StowClientOptions): StowClient {
  const dest = new HttpDestination(options);
  return {
    url: dest.url,
    async store(input, storeOptions = {}) {
      const list: readonly StowInstance[] = Array.isArray(input) ? input : [input as StowInstance];
      if (list.length === 0) return { httpStatus: 0, outcomes: [], bytesSent: 0, ms: 0 };
      const prepared = await prepareInstances(list);
      const boundary = newBoundary();
      const body = multipartBody(prepared, boundary);
      const path = storeOptions.studyInstanceUid ? `/studies/${encodeURIComponent(storeOptions.studyInstanceUid)}` : '/studies';
      const t0 = performance.now();
      const answer = await dest.request('POST', path, {
        headers: {
          'content-type': `multipart/related; type="application/dicom"; boundary=${boundary}`,
          accept: 'application/dicom+json',
        },
        body,
      });
      const ms = performance.now() - t0;
      const text = answer.body.toString('utf8');
      let parsed: unknown;
      try {
        parsed = text ? JSON.parse(text) : undefined;
      } catch {
        parsed = undefined;
      }
      const { status } = answer;
      if ((status === 200 || status === 202 || status === 409) && isStowResponse(parsed)) {
        return { httpStatus: status, outcomes: outcomesFromResponse(parsed, prepared.map((p) => p.sopInstanceUid), status), bytesSent: body.length, ms };
      }
      if (status >= 200 && status < 300) throw responseError(status, dest, parsed === undefined ? 'its body is not dicom+json' : 'its body has no Referenced or Failed SOP Sequence');
      throw httpStatusError(status, dest, text.slice(0, 300), {
        retryAfter: header(answer.headers['retry-after']),
        wwwAuthenticate: header(answer.headers['www-authenticate']),
        location: header(answer.headers.location),
      });
    },
    exists: (studyUid, seriesUid, sopUid) => instanceExists(dest, studyUid, seriesUid, sopUid),
    close: () => dest.close(),
  };
}
