/** What a JPEG-family codestream says about itself before decoding (ITU-T T.81 B.1, T.87 for JPEG-LS). */
export interface JpegProbe {
  /** The SOF marker's low byte: 0xc0 baseline, 0xc1 extended, 0xc2 progressive, 0xc3 lossless, 0xf7 JPEG-LS; 0x4f for a J2K codestream. */
  sof: number;
  precision: number;
  rows: number;
  columns: number;
  components: number;
}

const SOI = 0xd8;
const J2K_SOC = 0x4f;
const JLS_SOF55 = 0xf7;

/** Reads markers up to the first start-of-frame; undefined when the bytes are not a JPEG/J2K codestream. */
export function probeJpeg(b: Uint8Array): JpegProbe | undefined {
  if (b.length < 4 || b[0] !== 0xff) return undefined;
  if (b[1] === J2K_SOC) return { sof: J2K_SOC, precision: 0, rows: 0, columns: 0, components: 0 };
  if (b[1] !== SOI) return undefined;
  let i = 2;
  while (i + 4 <= b.length) {
    if (b[i] !== 0xff) return undefined;
    const marker = b[i + 1]!;
    if (marker === 0xff) {
      i++; // fill byte (T.81 B.1.1.2)
      continue;
    }
    const length = (b[i + 2]! << 8) | b[i + 3]!;
    const isSof = (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) || marker === JLS_SOF55;
    if (isSof) {
      if (i + 10 > b.length) return undefined;
      return {
        sof: marker,
        precision: b[i + 4]!,
        rows: (b[i + 5]! << 8) | b[i + 6]!,
        columns: (b[i + 7]! << 8) | b[i + 8]!,
        components: b[i + 9]!,
      };
    }
    i += 2 + length;
  }
  return undefined;
}

/**
 * DICOM says a JPEG with Photometric Interpretation RGB was compressed without colour transform (PS3.5
 * 8.2.1), but libjpeg decides from the codestream alone: with no JFIF (APP0) or Adobe (APP14) marker
 * it assumes YCbCr unless the component identifiers are 'R', 'G', 'B'. For such an RGB codestream
 * whose identifiers are not the conventional YCbCr 1, 2, 3, this returns a copy with the identifiers
 * (in SOF and every SOS) renamed to 'R', 'G', 'B', so that libjpeg leaves the samples alone; otherwise
 * the bytes unchanged. Identifiers 1, 2, 3 are left: encoders that label YCbCr data RGB use them.
 */
export function markRgbWithoutTransform(b: Uint8Array, photometric: string): Uint8Array {
  if (photometric !== 'RGB' || b[0] !== 0xff || b[1] !== SOI) return b;
  const segments: Array<{ marker: number; at: number }> = [];
  let i = 2;
  while (i + 4 <= b.length && b[i] === 0xff) {
    const marker = b[i + 1]!;
    if (marker === 0xff) {
      i++;
      continue;
    }
    segments.push({ marker, at: i });
    if (marker === 0xda) break; // entropy-coded data follows; later SOS (progressive) are found below
    i += 2 + ((b[i + 2]! << 8) | b[i + 3]!);
  }
  const app = (m: number, tag: string): boolean =>
    segments.some((s) => s.marker === m && String.fromCharCode(...b.subarray(s.at + 4, s.at + 4 + tag.length)) === tag);
  if (app(0xe0, 'JFIF') || app(0xee, 'Adobe')) return b;
  const sof = segments.find((s) => (s.marker >= 0xc0 && s.marker <= 0xc2));
  if (!sof || b[sof.at + 9] !== 3) return b;
  const ids = [0, 1, 2].map((k) => b[sof.at + 10 + 3 * k]!);
  if (ids[0] === 1 && ids[1] === 2 && ids[2] === 3) return b;
  const rgb = [0x52, 0x47, 0x42];
  const out = b.slice();
  ids.forEach((_, k) => (out[sof.at + 10 + 3 * k] = rgb[k]!));
  // Every SOS (a progressive stream has several) names its components by identifier.
  for (let p = sof.at; p + 4 < out.length; p++) {
    if (out[p] !== 0xff || out[p + 1] !== 0xda) continue;
    const n = out[p + 4]!;
    for (let k = 0; k < n; k++) {
      const at = p + 5 + 2 * k;
      const index = ids.indexOf(out[at]!);
      if (index >= 0) out[at] = rgb[index]!;
    }
  }
  return out;
}
