import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CELL_WIDTH, drawText, GLYPH_HEIGHT, textWidth, type IndexedImage } from './key-image-font.js';

function image(width: number, height: number): IndexedImage {
  return { width, height, pixels: new Uint8Array(width * height) };
}

/** The image as rows of '#' (index set) and '.'. */
function ascii(img: IndexedImage): string[] {
  const rows: string[] = [];
  for (let y = 0; y < img.height; y++) {
    let r = '';
    for (let x = 0; x < img.width; x++) r += img.pixels[y * img.width + x]! ? '#' : '.';
    rows.push(r);
  }
  return rows;
}

test('a glyph is drawn in its 5x7 cell, in the palette index asked', () => {
  const img = image(5, 7);
  drawText(img, 0, 0, 'T', 243);
  assert.deepEqual(ascii(img), ['#####', '..#..', '..#..', '..#..', '..#..', '..#..', '..#..']);
  assert.deepEqual([...new Set(img.pixels)].sort((p, q) => p - q), [0, 243]);
});

test('letters are a cell apart; lower case is upper case; unknown characters are "?"', () => {
  const a = image(17, 7);
  const b = image(17, 7);
  drawText(a, 0, 0, 'L1?', 255);
  drawText(b, 0, 0, 'l1\u00e9', 255);
  assert.deepEqual(ascii(a), ascii(b));
  assert.equal(ascii(a)[6], '#####..###....#..');
  assert.equal(textWidth('L1?', 1), 17);
  assert.equal(textWidth('', 3), 0);
});

test('scale 2 doubles every font pixel', () => {
  const one = image(5, 7);
  const two = image(10, 14);
  drawText(one, 0, 0, 'A', 255);
  drawText(two, 0, 0, 'A', 255, 2);
  const small = ascii(one);
  ascii(two).forEach((row, y) => assert.equal(row, [...small[y >> 1]!].map((c) => c + c).join('')));
  assert.equal(textWidth('AB', 2), (2 * CELL_WIDTH - 1) * 2);
});

test('text running off the image is clipped, not wrapped, and nothing throws', () => {
  const img = image(8, GLYPH_HEIGHT);
  drawText(img, -3, 2, 'HH', 255);
  const rows = ascii(img);
  assert.equal(rows.length, GLYPH_HEIGHT);
  assert.equal(rows[2], '.#.#...#'); // the first H's right column at x = 1, the second H's columns at x = 3 and 7
  assert.equal(rows[0], '........');
});
