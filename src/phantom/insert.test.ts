import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import dicomParser from 'dicom-parser';
import { insertBleeds } from './insert.js';

const GE = join(process.cwd(), '..', 'shared', 'data', 'real', 'ge-head-ct');

function read(path: string) {
  const bytes = readFileSync(path);
  const ds = dicomParser.parseDicom(bytes);
  const px = ds.elements.x7fe00010!;
  const pixels = new Int16Array(bytes.buffer.slice(bytes.byteOffset + px.dataOffset, bytes.byteOffset + px.dataOffset + px.length));
  return { ds, pixels };
}

test('insert-into the real GE head CT: new UIDs, same study, changed voxels match truth', { skip: !existsSync(GE) && 'no GE series here' }, async () => {
  const out = mkdtempSync(join(tmpdir(), 'medge-insert-'));
  try {
    const r = await insertBleeds({ inputDir: GE, outDir: out, bleeds: [{ subtype: 'intraparenchymal', volumeMl: 6 }], seed: 3 });
    assert.equal(r.files.length, 28);
    const t = r.truth.bleeds[0]!;
    assert.ok(Math.abs(t.volumeMl - 6) / 6 < 0.02, `volume ${t.volumeMl}`);
    let changed = 0;
    const sops = new Set<string>();
    for (const f of readdirSync(out).filter((n) => n.endsWith('.dcm'))) {
      const a = read(join(GE, f));
      const b = read(join(out, f));
      assert.equal(b.ds.string('x0020000d'), a.ds.string('x0020000d'), 'same study');
      assert.notEqual(b.ds.string('x0020000e'), a.ds.string('x0020000e'));
      assert.equal(b.ds.string('x0020000e'), r.seriesInstanceUid);
      assert.notEqual(b.ds.string('x00080018'), a.ds.string('x00080018'));
      sops.add(b.ds.string('x00080018')!);
      assert.match(b.ds.string('x0008103e') ?? '', /\+ synthetic bleed$/);
      assert.equal(b.ds.string('x00200032'), a.ds.string('x00200032'));
      for (let i = 0; i < a.pixels.length; i++) if (a.pixels[i] !== b.pixels[i]) { changed++; assert.ok(a.pixels[i]! >= 0 && a.pixels[i]! <= 80, 'only brain-range voxels change'); }
    }
    assert.equal(sops.size, 28);
    // Rounding leaves the faintest edge voxels unchanged: most counted voxels do change.
    assert.ok(changed <= t.changedVoxels && changed > 0.8 * t.changedVoxels, `changed ${changed}, truth ${t.changedVoxels}`);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
