import { MedgeError } from '../../errors.js';

/** Per-attempt limit when the channel's configuration sets no timeoutMs, ms. */
export const DEFAULT_CHANNEL_TIMEOUT_MS = 10_000;

/**
 * A failed delivery (MEDGE_ERR_ALERT_DELIVERY). `permanent` tells the dispatcher to park the item
 * instead of retrying: only when the peer rejected the message itself. Messages name the channel and
 * the peer's answer, never patient data (house style 12).
 */
export function deliveryError(channel: string, message: string, fields: { permanent: boolean } & Record<string, unknown>, cause?: unknown): MedgeError {
  return new MedgeError('MEDGE_ERR_ALERT_DELIVERY', `channel ${channel}: ${message}`, { channel, ...fields }, cause);
}

/**
 * Whether an HTTP status means retrying the same request cannot help (RFC 9110 15.5): a 4xx, except
 * 408 Request Timeout and 429 Too Many Requests, which invite a retry, and 409 Conflict, which a
 * FHIR server answers to a concurrent update of the same resource. 3xx counts as permanent because
 * the channel does not follow redirects (a POST redirected to a GET would lose the body): the URL
 * in the configuration needs fixing.
 */
export function isPermanentHttpStatus(status: number): boolean {
  if (status >= 300 && status < 400) return true;
  return status >= 400 && status < 500 && status !== 408 && status !== 429 && status !== 409;
}

/**
 * The signal of one attempt: aborted when the dispatcher aborts or after `timeoutMs`. `timedOut()`
 * says which, for the error message.
 */
export function attemptSignal(outer: AbortSignal, timeoutMs: number): { signal: AbortSignal; timedOut: () => boolean; dispose: () => void } {
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort(new Error(`no answer within ${timeoutMs} ms`));
  }, timeoutMs);
  const onAbort = () => controller.abort(outer.reason);
  if (outer.aborted) onAbort();
  else outer.addEventListener('abort', onAbort, { once: true });
  return {
    signal: controller.signal,
    timedOut: () => timedOut,
    dispose: () => {
      clearTimeout(timer);
      outer.removeEventListener('abort', onAbort);
    },
  };
}
