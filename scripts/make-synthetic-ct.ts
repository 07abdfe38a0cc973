/**
 * Writes a synthetic head CT series for manual use (no patient data):
 *   node dist/scripts/make-synthetic-ct.js DIR [slices=200] [rows=512] [columns=512]
 *   node dist/scripts/make-synthetic-ct.js --multi-frame FILE [frames=1000]
 */
import { writeSyntheticCtSeries } from '../src/dicom/synthetic/ct-series.js';
import { writeSyntheticMultiFrame } from '../src/dicom/synthetic/multi-frame.js';

async function main(argv: string[]): Promise<void> {
  const started = performance.now();
  if (argv[0] === '--multi-frame') {
    const file = argv[1];
    if (!file) throw new Error('usage: make-synthetic-ct --multi-frame FILE [frames]');
    const r = await writeSyntheticMultiFrame({ file, frames: argv[2] ? Number(argv[2]) : undefined });
    console.log(`${r.file}: ${(r.bytes / 1e6).toFixed(1)} MB, study ${r.studyUid}, in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    return;
  }
  const dir = argv[0];
  if (!dir) throw new Error('usage: make-synthetic-ct DIR [slices] [rows] [columns]');
  const num = (i: number) => (argv[i] ? Number(argv[i]) : undefined);
  const r = await writeSyntheticCtSeries({ dir, slices: num(1), rows: num(2), columns: num(3) });
  console.log(`${r.files.length} files, ${(r.bytes / 1e6).toFixed(1)} MB in ${dir}, study ${r.studyUid}, series ${r.seriesUid}, in ${((performance.now() - started) / 1000).toFixed(1)} s`);
}

main(process.argv.slice(2)).catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
});
