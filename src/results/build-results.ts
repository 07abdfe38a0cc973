import { MedgeError } from '../errors.js';
import type { ResultObjects, ResultsInput } from './types.js';

/** Builds the SR (TID 1500), SEG and key image of one analysis. Being written (issue 4). */
export function buildResults(_input: ResultsInput): ResultObjects {
  throw new MedgeError('MEDGE_ERR_RESULTS_BUILD', 'result objects are not built yet', {});
}
