/**
 * Thresholds of the ICH pipeline, in one place with the reason for each value (docs/ich.md explains
 * them at length). HU are Hounsfield units, distances mm, volumes mL.
 */
export const ICH = {
  /** Bone: cortical bone is 700-2000 HU; 250 keeps the thin inner table at working resolution. */
  boneHu: 250,
  /** Values below this are air / outside the field of view (clamped, so -1500 or -3024 padding acts as air). */
  airHu: -1000,
  /** Soft tissue window used by the denoising filter: bone and air never bleed into the average. */
  softLoHu: -100,
  softHiHu: 150,
  /** Brain tissue (for the not-assessable rule and the background level): CSF to grey matter to blood. */
  brainLoHu: 0,
  brainHiHu: 80,
  /** Less than this much 0-80 HU tissue inside the skull: no brain (a phantom, an empty shell). */
  minBrainMl: 100,
  /** Acute blood after denoising: 60-75 HU clot; the lower bound sits between grey matter (~40) and blood. */
  bloodLoHu: 52,
  bloodHiHu: 100,
  /** Hysteresis: voxels from here up to bloodLoHu join a group only through a core voxel (thin sulcal blood, edges). */
  bloodWeakHu: 46,
  /** Blood must exceed the slice's tissue at the same depth under the table (35th percentile) by this much. */
  minExcessHu: 18,
  /** Calcification cores: above any clot (acute blood stays under ~95 HU even with a high haematocrit). */
  calcHu: 120,
  /** Rim around calcifications excluded from candidates (blur of a dense focus falls into the blood range). */
  calcRimMm: 2.5,
  /** Band at the inner table where partial volume of bone fakes blood; extra-axial bleeds must be thicker. */
  bandMm: 1.2,
  /** Closing radius that bridges sutures and small foramina when the bone ring is open. */
  closeMm: 4,
  /** Smallest cavity region per slice kept as intracranial, cm2 (smaller enclosed pockets: sinuses, air cells). */
  minCavityCm2: 2,
  /** Smallest finding reported, mL: below the 0.4 mL the goals are set for, where veins and noise live. */
  minFindingMl: 0.25,
  /** ... counted by the partial-volume estimate for a layer with this fraction of its voxels against the table. */
  layerMinContact: 0.9,
  /** Mean denoised HU of a finding minus the brain background must be at least this. */
  minContrastHu: 16,
  /** ... and minus its own surroundings (2-6 mm ring): beam hardening and cupping raise both. */
  minLocalContrastHu: 15,
  /** Layers against the table thinner than this (bone blooming on real scanners) are not reported
   *  when their 80th percentile reaches thinLayerMaxBloodHu or their surroundings thinLayerMaxRingHu. */
  minExtraAxialMm: 4.5,
  thinLayerMaxBloodHu: 79,
  thinLayerMaxRingHu: 35,
  /** Groups against the table (half their voxels) in surroundings this bright that stand less than
   *  faintLocalContrastHu above them are not reported, whatever their thickness: every such group
   *  that passed the other filters on seeds 1128 and 20261128 (600 cases) was false, at the tilted
   *  skull base of 0.625 mm series (rim 39.9-40.5 HU, 19.2-20.6 HU above it); convexity subarachnoid
   *  blood against the table lies in rims of at most 33.9 HU. */
  brightRimHu: 37,
  /** A component against the table whose part next to the bone is this much brighter than its deeper part is bone blooming
   *  (>= 19.6 HU on negatives; thin convexity epidurals of 0.7-1 mL reach 13.7 HU, so 13 missed them). */
  maxTableGradientHu: 16,
  /** Findings under faintMaxMl need a blood level (80th percentile) of at least smallMinBloodHu. */
  smallMinBloodHu: 62,
  faintMaxMl: 0.6,
  /** ... and larger groups whose mean is under the seed threshold need this local contrast
   *  (sulcal subarachnoid blood 23-26 HU; beam-hardening streaks at most 19.4 over 150 negatives). */
  faintLocalContrastHu: 22,
  /** ... which also lets faint groups from this partial-volume size up pass under faintMaxMl and under
   *  minFindingMl of counted voxels (sulcal SAH of 0.46-0.8 mL: 22.1-23.5 HU; faint groups of
   *  0.3-0.6 mL on 600 negatives of seeds 1128 and 20261128 and the real GE series: at most 20.8 HU). */
  faintSulcalMinMl: 0.3,
  /** ... or 20 HU from faintLargeMl up (parietal sulcal SAH of 3 mL: 20.9 HU; faint groups of 1 mL or
   *  more on 300 negatives of seeds 20261128 and 4242: at most 16.1 HU). */
  faintLargeMl: 2,
  faintLargeLocalContrastHu: 20,
  /** Groups under deepMimicMaxMl, deeper than deepMimicMinDepthMm from the table, in the ventricles or
   *  astride the midline are choroid plexus or pineal (dense, 100-120 HU, under calcHu); below the
   *  0.4 mL the goals are set for. */
  deepMimicMaxMl: 0.4,
  deepMimicMinDepthMm: 30,
  /** At the skull base a finding must stand this far above its surroundings. */
  baseLocalContrastHu: 22,
  /** ... and its part next to the bone must be less than this much brighter than its deeper part
   *  (temporal epidurals of 0.8-1.4 mL: 9.0-9.1 HU; skull-base groups of the negatives that clear
   *  the other base rules: 13.3 HU or more, the real GE series included). */
  baseMaxTableGradientHu: 11,
} as const;
