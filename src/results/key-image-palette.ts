import { el, tag, type DataElement } from '../dicom/dataset-writer.js';
import type { IchSubtype } from '../analyzers/types.js';
import { SUBTYPE_COLOURS } from './ich-codes.js';

/**
 * The key image's palette (PALETTE COLOR, PS3.3 C.7.6.3.1.2, C.7.6.3.1.5, C.7.6.3.1.6): one 8-bit
 * index per pixel instead of three RGB samples. JPEG-LS lossless (the uplink's syntax for it, PS3.5
 * 8.2.3: no colour transform) codes the three equal channels of a grey RGB image one by one, so a
 * single index channel sends about a quarter of the bytes (issue 5).
 *
 * Entries 0..GREY_LEVELS-1 are an even grey ramp, black to white, one entry per HU of the brain
 * window: the voxels are integer HU (src/imaging/volume.ts), and the linear VOI LUT function of
 * PS3.3 C.11.2.1.2.1 with W 80 L 40 maps them to exactly 80 distinct outputs (HU <= 0 black,
 * HU >= 79 white, round(HU x 255 / 79) between), so entry i = round(i x 255 / 79) shows the same
 * grey the 8-bit windowed RGB image had for HU i: nothing is lost against it. (Quantising the window
 * to any other number of levels would also do: the image is windowed already and NOT FOR DIAGNOSIS.
 * One level per HU also keeps neighbouring greys one index apart, which JPEG-LS codes in fewer bits
 * than the same greys spread over 240 indices: 65 KB against 83 KB for the 5 mm phantom with four
 * bleeds.) The entries after the ramp are reserved for what is burned in (banner, text, one outline
 * colour per subtype), so an outline pixel is never a grey that happens to look like it; the rest
 * of the 256 entries are black and unused.
 */

/** Brain window (the usual non-contrast head CT window), HU. */
export const BRAIN_WINDOW = { center: 40, width: 80 } as const;

export const GREY_LEVELS = BRAIN_WINDOW.width;
export const PALETTE_ENTRIES = 256;

const SUBTYPES: readonly IchSubtype[] = ['intraparenchymal', 'intraventricular', 'subdural', 'epidural', 'subarachnoid'];

/** Reserved indices after the grey ramp. */
export const INDEX = {
  black: 0,
  bannerRed: GREY_LEVELS,
  white: GREY_LEVELS + 1,
} as const;

/** The palette index of a subtype's outline and caption colour. */
export function subtypeIndex(subtype: IchSubtype): number {
  return GREY_LEVELS + 2 + SUBTYPES.indexOf(subtype);
}

/** The 256 palette colours, 8 bits per channel: [r, g, b] of entry i at 3i. */
export function paletteRgb(): Uint8Array {
  const rgb = new Uint8Array(PALETTE_ENTRIES * 3);
  for (let i = 0; i < GREY_LEVELS; i++) rgb.fill(Math.round((i * 255) / (GREY_LEVELS - 1)), 3 * i, 3 * i + 3);
  rgb.set([160, 0, 0], 3 * INDEX.bannerRed);
  rgb.set([255, 255, 255], 3 * INDEX.white);
  for (const s of SUBTYPES) rgb.set(SUBTYPE_COLOURS[s].rgb, 3 * subtypeIndex(s));
  return rgb;
}

/**
 * Window lookup table over the whole Int16 range to grey-ramp indices: the linear VOI LUT function
 * of PS3.3 C.11.2.1.2.1 with output range 0..GREY_LEVELS-1, indexed by value + 32768. For the brain
 * window and integer HU this is HU - (L - W/2), clamped to the ramp.
 */
export function windowIndexLut(center: number, width: number): Uint8Array {
  const lut = new Uint8Array(65536);
  const top = GREY_LEVELS - 1;
  const lo = center - 0.5 - (width - 1) / 2;
  const hi = center - 0.5 + (width - 1) / 2;
  for (let i = 0; i < 65536; i++) {
    const x = i - 32768;
    lut[i] = x <= lo ? 0 : x > hi ? top : Math.round(((x - (center - 0.5)) / (width - 1) + 0.5) * top);
  }
  return lut;
}

/**
 * The Red, Green and Blue Palette Color Lookup Table Descriptors and Data (Image Pixel module,
 * Type 1C for PALETTE COLOR, PS3.3 C.7.6.3.1.5 and C.7.6.3.1.6). Descriptor: 256 entries, the first
 * mapped to pixel value 0, 16 bits per entry; its VR is US because Pixel Representation is 0
 * (PS3.3 C.7.6.3.1.5: US or SS as the pixel values). Data: OW, the 8-bit colour scaled to 16 bits
 * (x 257, so 255 is 65535).
 */
export function paletteElements(): DataElement[] {
  const rgb = paletteRgb();
  const out: DataElement[] = [];
  for (let c = 0; c < 3; c++) {
    const data = Buffer.alloc(PALETTE_ENTRIES * 2);
    for (let i = 0; i < PALETTE_ENTRIES; i++) data.writeUInt16LE(rgb[3 * i + c]! * 257, 2 * i);
    out.push(el(tag(0x0028, 0x1101 + c), 'US', [PALETTE_ENTRIES, 0, 16]));
    out.push(el(tag(0x0028, 0x1201 + c), 'OW', data));
  }
  return out; // the writer sorts by tag
}
