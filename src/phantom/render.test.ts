import assert from 'node:assert/strict';
import { test } from 'node:test';
import { voxelMl, type Vec3, type Volume } from '../imaging/volume.js';
import { renderHeadPhantom } from './render.js';
import type { BleedSpec } from './types.js';

/** HU of the voxel nearest to patient point p (inverts the geometry, tilt included). */
function huAt(v: Volume, p: Vec3): number {
  const n = v.normal;
  let k = 0;
  let best = Infinity;
  v.slicePositions.forEach((q, s) => {
    const d = Math.abs((p[0] - q[0]) * n[0] + (p[1] - q[1]) * n[1] + (p[2] - q[2]) * n[2]);
    if (d < best) { best = d; k = s; }
  });
  const q = v.slicePositions[k]!;
  const d = [p[0] - q[0], p[1] - q[1], p[2] - q[2]];
  const i = Math.round((d[0]! * v.rowDirection[0] + d[1]! * v.rowDirection[1] + d[2]! * v.rowDirection[2]) / v.pixelSpacing[0]);
  const j = Math.round((d[0]! * v.columnDirection[0] + d[1]! * v.columnDirection[1] + d[2]! * v.columnDirection[2]) / v.pixelSpacing[1]);
  const [c, r] = v.dims;
  return v.data[(k * r + j) * c + i]!;
}

test('tissue classes at known points (straight and tilted)', () => {
  for (const tiltDegrees of [0, 15]) {
    const { volume } = renderHeadPhantom({ sliceThickness: 2.5, noiseHu: 0, tiltDegrees, confounders: { pinealCalcification: true } });
    assert.equal(huAt(volume, [-110, -110, 20]), -1000, 'air outside the head');
    const bone = huAt(volume, [0, -86 - 2.5, 0]);
    assert.ok(bone > 500, `frontal bone ${bone}`);
    const vent = huAt(volume, [8, -20, 14]);
    assert.ok(vent >= 0 && vent <= 12, `frontal horn CSF ${vent}`);
    const white = huAt(volume, [30, 20, 30]);
    assert.ok(white >= 22 && white <= 32, `white matter ${white}`);
    const scalp = huAt(volume, [0, -86 - 5 - 2.2, 0]);
    assert.ok(scalp >= 30 && scalp <= 50, `scalp ${scalp}`);
    const pineal = huAt(volume, [0, 19, -2]);
    assert.ok(pineal >= 90, `calcified pineal ${pineal}`);
  }
});

test('gantry tilt: slices stacked along z, normal tilted, spacing along the normal = thickness', () => {
  const { volume } = renderHeadPhantom({ rows: 64, columns: 64, sliceThickness: 1.25, coverageMm: 20, tiltDegrees: 20 });
  const t = (20 * Math.PI) / 180;
  assert.deepEqual(volume.columnDirection.map((x) => +x.toFixed(6)), [0, +Math.cos(t).toFixed(6), +Math.sin(t).toFixed(6)]);
  assert.ok(Math.abs(volume.normal[1] + Math.sin(t)) < 1e-9 && Math.abs(volume.normal[2] - Math.cos(t)) < 1e-9);
  for (let k = 1; k < volume.slicePositions.length; k++) {
    const a = volume.slicePositions[k - 1]!, b = volume.slicePositions[k]!;
    assert.equal(b[0], a[0]);
    assert.ok(Math.abs(b[1] - a[1]) < 1e-9, 'IPP steps along z only');
    assert.ok(Math.abs(b[2] - a[2] - 1.25 / Math.cos(t)) < 1e-9);
    assert.ok(Math.abs(volume.sliceLocations[k]! - volume.sliceLocations[k - 1]! - 1.25) < 1e-9);
  }
  assert.equal(volume.tiltDegrees, 20);
});

function voxelVolume(spec: BleedSpec[], thickness: number, tilt = 0): { truth: number[]; voxels: number[] } {
  const { volume, truth, labels } = renderHeadPhantom({ rows: 400, columns: 400, sliceThickness: thickness, coverageMm: 130, noiseHu: 0, tiltDegrees: tilt, bleeds: spec, labels: true });
  const voxels = truth.bleeds.map(() => 0);
  const per = volume.dims[0] * volume.dims[1];
  for (let i = 0; i < labels!.coverage.length; i++) {
    const c = labels!.coverage[i]!;
    if (c > 0) {
      const id = labels!.label[i]! || nearestId(labels!.label, i);
      if (id) voxels[id - 1] += c * voxelMl(volume, Math.floor(i / per));
    }
  }
  return { truth: truth.bleeds.map((b) => b.volumeMl), voxels };
}

/** Partial-volume voxels below 50 % carry no label: take the label of a neighbour along x. */
function nearestId(label: Uint8Array, i: number): number {
  for (let d = 1; d < 4; d++) { if (label[i - d]) return label[i - d]!; if (label[i + d]) return label[i + d]!; }
  return 0;
}

test('bleed truth volumes match the voxel coverage at fine resolution', () => {
  const spec: BleedSpec[] = [
    { subtype: 'intraparenchymal', volumeMl: 12 },
    { subtype: 'subdural', volumeMl: 25, side: 'right' },
    { subtype: 'epidural', volumeMl: 8, location: 'parietal' },
    { subtype: 'intraventricular', volumeMl: 2, side: 'right' },
  ];
  const { truth, voxels } = voxelVolume(spec, 0.625, 10);
  truth.forEach((t, i) => assert.ok(Math.abs(voxels[i]! - t) / t < 0.03, `${spec[i]!.subtype}: truth ${t} mL, voxels ${voxels[i]!.toFixed(3)} mL`));
  assert.ok(Math.abs(truth[0]! - 12) < 0.1);
});

test('subarachnoid blood fills CSF spaces; truth within 10 % of the voxels', () => {
  const { truth, voxels } = voxelVolume([{ subtype: 'subarachnoid', volumeMl: 4, location: 'convexity' }], 0.625);
  assert.ok(Math.abs(voxels[0]! - truth[0]!) / truth[0]! < 0.1, `truth ${truth[0]} voxels ${voxels[0]}`);
});

test('same seed, same voxels; 5 mm series renders fast', () => {
  const t0 = performance.now();
  const a = renderHeadPhantom({ seed: 7, noiseHu: 5, bleeds: [{ subtype: 'intraparenchymal', volumeMl: 3 }] });
  const ms = performance.now() - t0;
  const b = renderHeadPhantom({ seed: 7, noiseHu: 5, bleeds: [{ subtype: 'intraparenchymal', volumeMl: 3 }] });
  assert.deepEqual(a.truth, b.truth);
  assert.ok(Buffer.from(a.volume.data.buffer).equals(Buffer.from(b.volume.data.buffer)));
  assert.equal(a.volume.dims[2], 30);
  assert.ok(ms < 5000, `5 mm series took ${ms} ms`);
});
