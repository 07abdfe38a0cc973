import { el, tag, writePart10, type DataElement } from '../dicom/dataset-writer.js';
import { TS } from '../dicom/uids.js';
import type { Vec3, Volume } from '../imaging/volume.js';
import { CODES, SUBTYPE_WORDS } from './ich-codes.js';
import { CELL_HEIGHT, drawText, fillRect, textWidth, type IndexedImage } from './key-image-font.js';
import { BRAIN_WINDOW, INDEX, paletteElements, subtypeIndex, windowIndexLut } from './key-image-palette.js';
import { algorithmName, codeSequence, commonElements, dateTime, SERIES_NUMBERS, type Provenance } from './result-modules.js';
import type { ResultsContext } from './results-context.js';
import { NOT_FOR_DIAGNOSIS, round1, type ReportedFinding } from './sr-document.js';

/** Secondary Capture Image Storage (PS3.4 B.5, PS3.3 A.8.1). */
export const SECONDARY_CAPTURE = '1.2.840.10008.5.1.4.1.1.7';

export { BRAIN_WINDOW } from './key-image-palette.js';

export interface KeyImageInput {
  ctx: ResultsContext;
  prov: Provenance;
  volume: Volume;
  findings: Array<ReportedFinding & { sliceCounts: Int32Array; boxes: Int32Array }>;
  sopInstanceUid: string;
  seriesInstanceUid: string;
}

/** The slice with the largest bleed cross-section (all findings' voxels in it), and the finding with most of them. */
export function keySlice(findings: KeyImageInput['findings']): { k: number; main: number } {
  let best = -1;
  let bestArea = -1;
  const slices = findings[0]?.sliceCounts.length ?? 0;
  for (let k = 0; k < slices; k++) {
    let area = 0;
    for (const f of findings) area += f.sliceCounts[k]!;
    if (area > bestArea) { bestArea = area; best = k; }
  }
  let main = 0;
  for (let i = 1; i < findings.length; i++) if (findings[i]!.sliceCounts[best]! > findings[main]!.sliceCounts[best]!) main = i;
  return { k: best, main };
}

/** Patient Orientation (0020,0020) letters of a direction (PS3.3 C.7.6.1.1.1): main axes first. */
export function orientationLetters(d: Vec3): string {
  const axes: Array<[number, string, string]> = [[d[0], 'L', 'R'], [d[1], 'P', 'A'], [d[2], 'H', 'F']];
  return axes.filter(([c]) => Math.abs(c) >= 0.25).sort((a, b) => Math.abs(b[0]) - Math.abs(a[0])).map(([c, p, n]) => (c > 0 ? p : n)).join('') || 'L';
}

/** Renders the key image as palette indices (key-image-palette.ts): windowed slice, outlines, banner and caption bands. */
export function renderKeyImage(input: KeyImageInput, k: number, main: number): IndexedImage {
  const { volume, prov } = input;
  const [cols, rows, slices] = volume.dims;
  const scale = cols >= 384 ? 2 : 1;
  const pad = 2 * scale;
  const line = CELL_HEIGHT * scale;
  const top = line + 2 * pad;
  const bottom = 2 * line + 2 * pad;
  // Bands start black (index 0, the ramp's first entry).
  const img: IndexedImage = { width: cols, height: top + rows + bottom, pixels: new Uint8Array(cols * (top + rows + bottom)) };
  const lut = windowIndexLut(BRAIN_WINDOW.center, BRAIN_WINDOW.width);
  const n = cols * rows;
  const base = k * n;
  const data = volume.data;
  for (let i = 0, o = top * cols; i < n; i++, o++) img.pixels[o] = lut[data[base + i]! + 32768]!;
  for (const f of input.findings) {
    if (f.sliceCounts[k]! > 0) outline(img, top, f.finding.mask, base, cols, rows, f.boxes.subarray(4 * k, 4 * k + 4), subtypeIndex(f.finding.subtype));
  }
  // Banner: white on red, centred; caption: the main finding in its colour, then the provenance.
  fillRect(img, 0, 0, cols, top, INDEX.bannerRed);
  const banner = fit(NOT_FOR_DIAGNOSIS, cols, scale);
  drawText(img, Math.max(0, (cols - textWidth(banner, scale)) >> 1), pad, banner, INDEX.white, scale);
  const m = input.findings[main]!.finding;
  const others = input.findings.length - 1;
  // "+n more" is kept whole: the region is what gets cut when the line is too long.
  const more = others > 0 ? ` +${others} more` : '';
  const caption = fit(`${SUBTYPE_WORDS[m.subtype]} ${round1(m.volumeMl)} mL ${m.side} ${m.region}`, cols - 2 * pad - textWidth(more, scale), scale) + more;
  drawText(img, pad, top + rows + pad, fit(caption, cols - 2 * pad, scale), subtypeIndex(m.subtype), scale);
  const source = `${algorithmName(prov.analyzer)} ${prov.analyzer.version} image ${k + 1}/${slices} W${BRAIN_WINDOW.width} L${BRAIN_WINDOW.center}`;
  drawText(img, pad, top + rows + pad + line, fit(source, cols - 2 * pad, scale), INDEX.white, scale);
  return img;
}

function fit(text: string, width: number, scale: number): string {
  let t = text;
  while (t.length > 0 && textWidth(t, scale) > width) t = t.slice(0, -1);
  return t;
}

/**
 * A two-pixel outline: the mask's edge pixels and the pixels just outside them (4-neighbourhood),
 * looked for only in the slice's bounding box of the mask grown by one pixel.
 */
function outline(img: IndexedImage, top: number, mask: Uint8Array, base: number, cols: number, rows: number, box: Int32Array, index: number): void {
  const inside = (x: number, y: number) => x >= 0 && y >= 0 && x < cols && y < rows && mask[base + y * cols + x] !== 0;
  for (let y = Math.max(0, box[1]! - 1), ye = Math.min(rows - 1, box[3]! + 1); y <= ye; y++) {
    for (let x = Math.max(0, box[0]! - 1), xe = Math.min(cols - 1, box[2]! + 1); x <= xe; x++) {
      const here = inside(x, y);
      const edge = here !== inside(x - 1, y) || here !== inside(x + 1, y) || here !== inside(x, y - 1) || here !== inside(x, y + 1);
      // Outside the image counts as "not in the mask": a mask touching the border still shows its edge there.
      if (!edge) continue;
      img.pixels[(top + y) * cols + x] = index;
    }
  }
}

/**
 * The key image as a Secondary Capture (PS3.3 A.8.1), PALETTE COLOR, annotations burned in. The SC
 * Image IOD takes any Photometric Interpretation of the Image Pixel module (C.7.6.3.1.2); PALETTE
 * COLOR needs Samples per Pixel 1 and the three palette descriptors and data (key-image-palette.ts).
 * One 8-bit sample per pixel is what JPEG-LS lossless sends best (issue 5, docs/uplink.md).
 */
export function buildKeyImage(input: KeyImageInput): Buffer {
  const { ctx, prov, volume } = input;
  const { k, main } = keySlice(input.findings);
  const img = renderKeyImage(input, k, main);
  const ref = ctx.slices[k]!;
  const { date, time } = dateTime(prov.now);
  const source: DataElement[] = [
    el(tag(0x0008, 0x1150), 'UI', ref.sopClassUid),
    el(tag(0x0008, 0x1155), 'UI', ref.sopInstanceUid),
    codeSequence(tag(0x0040, 0xa170), CODES.sourceImageForProcessing),
  ];
  if (ref.frame !== undefined) source.push(el(tag(0x0008, 0x1160), 'IS', ref.frame));
  const elements: DataElement[] = [
    ...commonElements({
      ctx, prov, sopClassUid: SECONDARY_CAPTURE, sopInstanceUid: input.sopInstanceUid, seriesInstanceUid: input.seriesInstanceUid,
      modality: 'OT', seriesNumber: SERIES_NUMBERS.keyImage, seriesDescription: `${algorithmName(prov.analyzer)} key image (${NOT_FOR_DIAGNOSIS})`, instanceNumber: 1,
    }),
    el(tag(0x0008, 0x0008), 'CS', ['DERIVED', 'SECONDARY']),
    el(tag(0x0008, 0x0064), 'CS', 'WSD'), // Conversion Type: workstation (SC Equipment, C.8.6.1)
    el(tag(0x0008, 0x2111), 'ST', `Brain window W${BRAIN_WINDOW.width} L${BRAIN_WINDOW.center} applied, finding outlines and text burned in; ${NOT_FOR_DIAGNOSIS}`),
    el(tag(0x0008, 0x2112), 'SQ', [source]), // Source Image Sequence (General Reference, C.12.4)
    el(tag(0x0018, 0x1012), 'DA', date), // Date and Time of Secondary Capture (SC Image, C.8.6.2)
    el(tag(0x0018, 0x1014), 'TM', time),
    el(tag(0x0018, 0x0015), 'CS', 'HEAD'), // Body Part Examined: an unpaired part, so Laterality (Type 2C) is absent
    el(tag(0x0020, 0x0020), 'CS', [orientationLetters(volume.rowDirection), orientationLetters(volume.columnDirection)]),
    el(tag(0x0020, 0x4000), 'LT', `Key image of an automated analysis (${algorithmName(prov.analyzer)} ${prov.analyzer.version}); ${NOT_FOR_DIAGNOSIS}.`),
    el(tag(0x0028, 0x0002), 'US', 1),
    el(tag(0x0028, 0x0004), 'CS', 'PALETTE COLOR'), // no Planar Configuration: one sample per pixel (C.7.6.3.1.3)
    el(tag(0x0028, 0x0010), 'US', img.height),
    el(tag(0x0028, 0x0011), 'US', img.width),
    el(tag(0x0028, 0x0100), 'US', 8),
    el(tag(0x0028, 0x0101), 'US', 8),
    el(tag(0x0028, 0x0102), 'US', 7),
    el(tag(0x0028, 0x0103), 'US', 0),
    el(tag(0x0028, 0x0301), 'CS', 'YES'), // Burned In Annotation
    el(tag(0x0028, 0x2110), 'CS', '00'),
    ...paletteElements(),
    el(tag(0x7fe0, 0x0010), 'OB', img.pixels),
  ];
  return writePart10({ mediaStorageSopClassUid: SECONDARY_CAPTURE, mediaStorageSopInstanceUid: input.sopInstanceUid, transferSyntaxUid: TS.ExplicitVRLittleEndian }, elements);
}
