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
