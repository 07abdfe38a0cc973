import type { FastifyRequest } from 'fastify';

/**
 * Retrieve URLs (0008,1190) of the resources this node serves, in STOW-RS (PS3.18 10.5.3, Annex I)
 * and QIDO-RS (10.6.3) answers: absolute URLs, so that a client can follow them as they are.
 */
export interface DicomwebUrls {
  study(study: string): string;
  series(study: string, series: string): string;
  instance(study: string, series: string, sop: string): string;
}

/** The service root as the client reached it: scheme, host (and port) and the route prefix. */
export function urlsFor(request: FastifyRequest, prefix = '/dicom-web'): DicomwebUrls {
  const root = `${request.protocol}://${request.host}${prefix}`;
  const e = encodeURIComponent;
  return {
    study: (study) => `${root}/studies/${e(study)}`,
    series: (study, series) => `${root}/studies/${e(study)}/series/${e(series)}`,
    instance: (study, series, sop) => `${root}/studies/${e(study)}/series/${e(series)}/instances/${e(sop)}`,
  };
}
