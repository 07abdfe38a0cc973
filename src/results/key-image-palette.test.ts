import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BRAIN_WINDOW, GREY_LEVELS, INDEX, paletteElements, paletteRgb, PALETTE_ENTRIES, subtypeIndex, windowIndexLut } from './key-image-palette.js';
import { SUBTYPE_COLOURS } from './ich-codes.js';

const entry = (rgb: Uint8Array, i: number) => [rgb[3 * i]!, rgb[3 * i + 1]!, rgb[3 * i + 2]!];

test('the grey ramp runs black to white evenly; reserved entries follow it and hold the burned-in colours', () => {
  const rgb = paletteRgb();
  assert.deepEqual(entry(rgb, 0), [0, 0, 0]);
  assert.deepEqual(entry(rgb, GREY_LEVELS - 1), [255, 255, 255]);
  for (let i = 1; i < GREY_LEVELS; i++) {
    const [r, g, b] = entry(rgb, i);
    assert.ok(r === g && g === b && r > rgb[3 * (i - 1)]!, `entry ${i} is a grey brighter than the one before`);
  }
  assert.deepEqual(entry(rgb, INDEX.bannerRed), [160, 0, 0]);
  assert.deepEqual(entry(rgb, INDEX.white), [255, 255, 255]);
  const reserved = new Set<number>([INDEX.bannerRed, INDEX.white]);
  for (const [subtype, { rgb: colour }] of Object.entries(SUBTYPE_COLOURS)) {
    const i = subtypeIndex(subtype as keyof typeof SUBTYPE_COLOURS);
    assert.ok(i >= GREY_LEVELS && i < PALETTE_ENTRIES && !reserved.has(i), `${subtype}: its own entry after the ramp`);
    reserved.add(i);
    assert.deepEqual(entry(rgb, i), colour);
  }
});

test('the window maps to the ramp: at or below its bottom 0, above its top the last grey, the centre mid-ramp', () => {
  const lut = windowIndexLut(40, 80);
  const at = (hu: number) => lut[hu + 32768]!;
  assert.equal(at(-1000), 0);
  assert.equal(at(0), 0);
  assert.equal(at(80), GREY_LEVELS - 1);
  assert.equal(at(3000), GREY_LEVELS - 1);
  assert.ok(Math.abs(at(40) - (GREY_LEVELS - 1) / 2) <= 2);
  for (let hu = 1; hu <= 80; hu++) assert.ok(at(hu) >= at(hu - 1), 'monotone');
});

test('descriptors say 256 entries from pixel value 0 at 16 bits (US); data is the palette x 257 (OW)', () => {
  const els = paletteElements();
  const rgb = paletteRgb();
  for (let c = 0; c < 3; c++) {
    const desc = els.find((e) => e.tag === ((0x0028 << 16) | (0x1101 + c)))!;
    assert.equal(desc.vr, 'US');
    assert.deepEqual(desc.value, [256, 0, 16]);
    const data = els.find((e) => e.tag === ((0x0028 << 16) | (0x1201 + c)))!;
    assert.equal(data.vr, 'OW');
    const words = Buffer.from(data.value as Uint8Array);
    assert.equal(words.length, 2 * PALETTE_ENTRIES);
    for (let i = 0; i < PALETTE_ENTRIES; i++) assert.equal(words.readUInt16LE(2 * i), rgb[3 * i + c]! * 257);
  }
});

test('for integer HU, the ramp entry shows the grey of the 8-bit linear window (PS3.3 C.11.2.1.2.1): nothing lost against RGB', () => {
  const { center: c, width: w } = BRAIN_WINDOW;
  const lut = windowIndexLut(c, w);
  const rgb = paletteRgb();
  const lo = c - 0.5 - (w - 1) / 2;
  const hi = c - 0.5 + (w - 1) / 2;
  for (let hu = -1100; hu <= 3000; hu++) {
    const grey8 = hu <= lo ? 0 : hu > hi ? 255 : Math.round(((hu - (c - 0.5)) / (w - 1) + 0.5) * 255);
    const i = lut[hu + 32768]!;
    assert.ok(i < GREY_LEVELS);
    assert.equal(rgb[3 * i], grey8, `HU ${hu}`);
  }
});
