import { join } from 'node:path';
import { renderHeadPhantom } from '../../src/phantom/render.js';
import { writePhantomSeries } from '../../src/phantom/write-series.js';
import { generateUid } from '../../src/dicom/uids.js';
import { reissueSeries } from './reissue-uids.js';

/**
 * The head CT study set of the uplink benchmark: like a real non-contrast head CT, each study holds a
 * thick reconstruction (5 mm, 30 slices) and a thin one (0.625 mm, 240 slices) of the same scan,
 * 512 x 512 at 0.45 mm, in one study. Half the studies have a 15 mL basal ganglia bleed. Each
 * template pair is rendered once (same seed and bleeds for both thicknesses, same Study Instance
 * UID and patient) and every study is a byte-for-byte copy under new UIDs (reissue-uids.ts): the
 * thick and thin copies of study n share its new Study Instance UID because they shared the old one.
 */

export type Thickness = 'thick' | 'thin';

export interface SetStudy {
  studyInstanceUid: string;
  positive: boolean;
  series: { thickness: Thickness; seriesInstanceUid: string; files: string[] }[];
}

const THICKNESS_MM: Record<Thickness, number> = { thick: 5, thin: 0.625 };
const COVERAGE_MM = 150;
const BLEED = [{ subtype: 'intraparenchymal' as const, volumeMl: 15, location: 'basal-ganglia' as const }];

/** Renders the four templates (positive and negative, thick and thin) under `dir`. */
export async function writeStudySetTemplates(dir: string): Promise<Record<'pos' | 'neg', Record<Thickness, string>>> {
  const out = { pos: {}, neg: {} } as Record<'pos' | 'neg', Record<Thickness, string>>;
  for (const [key, bleeds] of [['pos', BLEED], ['neg', []]] as const) {
    const studyInstanceUid = generateUid();
    for (const thickness of ['thick', 'thin'] as const) {
      const { volume, truth } = renderHeadPhantom({ seed: 3, rows: 512, columns: 512, pixelSpacing: 0.45, sliceThickness: THICKNESS_MM[thickness], coverageMm: COVERAGE_MM, bleeds: [...bleeds] });
      const target = join(dir, `${key}-${thickness}`);
      await writePhantomSeries(volume, truth, { dir: target, intercept: -1024, studyInstanceUid, patientId: `PHANTOM-ICH-${key.toUpperCase()}` });
      out[key][thickness] = target;
    }
  }
  return out;
}

/** Study `n` of the set (positive when n is odd): both series under one new Study Instance UID. */
export async function setStudy(templates: Record<'pos' | 'neg', Record<Thickness, string>>, dir: string, n: number): Promise<SetStudy> {
  const positive = n % 2 === 1;
  const pair = templates[positive ? 'pos' : 'neg'];
  const series: SetStudy['series'] = [];
  let study: string | undefined;
  for (const thickness of ['thick', 'thin'] as const) {
    const s = await reissueSeries(pair[thickness], join(dir, `study-${n}-${thickness}`), n);
    if (study !== undefined && s.studyInstanceUid !== study) throw new Error('the thick and thin series of a study must share its Study Instance UID');
    study = s.studyInstanceUid;
    series.push({ thickness, seriesInstanceUid: s.seriesInstanceUid, files: s.files });
  }
  return { studyInstanceUid: study!, positive, series };
}
