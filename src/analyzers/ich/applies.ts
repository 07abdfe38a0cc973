import type { Volume } from '../../imaging/volume.js';

/** Thickest slices accepted, mm: beyond 5 mm a 0.4 mL bleed is smeared below the blood range. */
export const MAX_SLICE_THICKNESS_MM = 5;
/** Least coverage along the normal, mm, and least number of slices: most of the brain must be there. */
export const MIN_COVERAGE_MM = 60;
export const MIN_SLICES = 8;

const HEAD_BODY_PARTS = new Set(['HEAD', 'BRAIN', 'SKULL', 'CRANIUM', 'HEADNECK', 'HEAD_NECK']);
const HEAD_WORDS = /\b(head|brain|skull|cran|cerebr|kopf|sch[aä]del|hirn|cerveau|t[eê]te|cabeza|cerebro)/i;

/**
 * The applicability rule: CT in HU; head (Body Part Examined HEAD/BRAIN/SKULL, or a series
 * description naming the head or brain, or, when Body Part is empty, a skull ring of head size in the
 * middle slice); no contrast agent; slice thickness (nominal, else the median spacing) at most 5 mm;
 * at least 8 slices covering at least 60 mm; in-plane pixels at most 1.5 mm.
 */
export function ichApplies(v: Volume): { ok: true } | { ok: false; reason: string } {
  if (v.meta.modality !== 'CT') return { ok: false, reason: `modality ${v.meta.modality || '(none)'} is not CT` };
  if (!v.hounsfield) return { ok: false, reason: 'pixel values are not in Hounsfield units (no rescale)' };
  if (v.meta.contrast) return { ok: false, reason: 'contrast-enhanced series (Contrast/Bolus Agent present): blood and contrast look alike' };
  const part = (v.meta.bodyPart ?? '').trim().toUpperCase();
  const described = HEAD_WORDS.test(v.meta.seriesDescription ?? '');
  if (part && !HEAD_BODY_PARTS.has(part) && !described) return { ok: false, reason: `body part ${part} is not the head` };
  if (!part && !described && !headShaped(v)) return { ok: false, reason: 'no body part or head description, and no head-sized skull ring in the middle slice' };
  const thickness = v.sliceThickness ?? medianSpacing(v);
  if (!(thickness <= MAX_SLICE_THICKNESS_MM + 0.01)) return { ok: false, reason: `slice thickness ${thickness.toFixed(2)} mm is over ${MAX_SLICE_THICKNESS_MM} mm` };
  const slices = v.dims[2];
  const coverage = v.sliceSpan.reduce((a, b) => a + b, 0);
  if (slices < MIN_SLICES) return { ok: false, reason: `${slices} slices: at least ${MIN_SLICES} are needed` };
  if (coverage < MIN_COVERAGE_MM) return { ok: false, reason: `the series covers ${coverage.toFixed(0)} mm: at least ${MIN_COVERAGE_MM} mm of the head are needed` };
  if (Math.max(...v.pixelSpacing) > 1.5) return { ok: false, reason: `pixel spacing ${v.pixelSpacing.join(' x ')} mm is too coarse (over 1.5 mm)` };
  return { ok: true };
}

function medianSpacing(v: Volume): number {
  const d: number[] = [];
  for (let k = 0; k + 1 < v.sliceLocations.length; k++) d.push(v.sliceLocations[k + 1]! - v.sliceLocations[k]!);
  d.sort((a, b) => a - b);
  return d.length ? d[d.length >> 1]! : Infinity;
}

/**
 * Whether the middle slice shows a closed bone ring (> 250 HU) enclosing 50-350 cm2: a skull, seen
 * at a quarter of the resolution.
 */
export function headShaped(v: Volume): boolean {
  const [cols, rows, nz] = v.dims;
  const k = nz >> 1;
  const s = 4;
  const nx = Math.floor(cols / s), ny = Math.floor(rows / s);
  const bone = new Uint8Array(nx * ny);
  const base = k * cols * rows;
  for (let j = 0; j < ny; j++) for (let i = 0; i < nx; i++) {
    let hit = 0;
    for (let b = 0; b < s && !hit; b++) for (let a = 0; a < s; a++) {
      const p = base + (j * s + b) * cols + i * s + a;
      if (!v.outside[p] && v.data[p]! > 250) { hit = 1; break; }
    }
    bone[j * nx + i] = hit;
  }
  const reached = new Uint8Array(nx * ny);
  const stack: number[] = [];
  const push = (p: number): void => { if (!bone[p] && !reached[p]) { reached[p] = 1; stack.push(p); } };
  for (let i = 0; i < nx; i++) { push(i); push((ny - 1) * nx + i); }
  for (let j = 0; j < ny; j++) { push(j * nx); push(j * nx + nx - 1); }
  while (stack.length) {
    const p = stack.pop()!;
    const i = p % nx;
    if (i > 0) push(p - 1);
    if (i < nx - 1) push(p + 1);
    if (p >= nx) push(p - nx);
    if (p < (ny - 1) * nx) push(p + nx);
  }
  let enclosed = 0;
  for (let p = 0; p < nx * ny; p++) if (!reached[p] && !bone[p]) enclosed++;
  const cm2 = (enclosed * s * s * v.pixelSpacing[0] * v.pixelSpacing[1]) / 100;
  return cm2 >= 50 && cm2 <= 350;
}
