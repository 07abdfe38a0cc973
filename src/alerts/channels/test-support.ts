/**
 * Alert fixtures for the channel tests only, shaped like what the dispatcher sends: a positive ICH
 * with two findings (revision 1, raised) and its correction (revision 2, updated). The patient name,
 * region and headline hold HL7 delimiters on purpose, to exercise escaping end to end.
 */
import type { AlertMessage } from '../types.js';

export function raisedIchAlert(overrides: Partial<AlertMessage> = {}): AlertMessage {
  return {
    alertId: 'a1b2c3d4-0000-4000-8000-000000000001',
    revision: 1,
    event: 'raised',
    severity: 'critical',
    rule: 'intracranial-hemorrhage',
    headline: 'Intracranial hemorrhage, 12.3 mL, left frontal intraparenchymal | + 1 more',
    createdAt: '2026-03-01T08:15:02.120Z',
    dispatchedAt: '2026-03-01T08:15:02.480Z',
    patient: { id: 'PAT-0042', issuer: 'HOSP^A', name: "O'Brien-Smith^Mary&Ann^J^Dr.^", birthDate: '19560412', sex: 'F' },
    study: {
      studyInstanceUid: '1.2.826.0.1.3680043.8.498.10001',
      accessionNumber: 'ACC20260301-7',
      studyId: '7',
      studyDate: '20260301',
      studyTime: '081200.250000',
      description: 'CT HEAD WO CONTRAST ~ STROKE',
      referringPhysician: 'Who^Doctor',
    },
    series: { seriesInstanceUid: '1.2.826.0.1.3680043.8.498.10001.2', modality: 'CT', description: 'AX 1.25 mm', instances: 160 },
    analysis: {
      id: 17,
      analyzerId: 'ich',
      analyzerVersion: '1.0.0',
      status: 'positive',
      findings: [
        {
          type: 'intracranial-hemorrhage',
          subtype: 'intraparenchymal',
          side: 'left',
          region: 'frontal',
          volumeMl: 12.3,
          centroidMm: [-32.5, -40.1, 55.2],
          sliceRange: [60, 84],
          confidence: 0.94,
        },
        {
          type: 'intracranial-hemorrhage',
          subtype: 'subdural',
          side: 'right',
          region: 'frontoparietal & convexity',
          volumeMl: 4.75,
          centroidMm: [61.0, -10.2, 70.4],
          sliceRange: [70, 101],
          maxThicknessMm: 6.4,
          confidence: 0.88,
        },
      ],
      midlineShiftMm: 3.2,
      finishedAt: '2026-03-01T08:15:01.900Z',
    },
    links: { study: 'http://medge.local:8080/studies/1.2.826.0.1.3680043.8.498.10001' },
    ...overrides,
  };
}

/** The same alert after a superseding analysis: revision 2, 'updated', the subdural grew. */
export function updatedIchAlert(): AlertMessage {
  const first = raisedIchAlert();
  const [iph, sdh] = first.analysis.findings;
  return {
    ...first,
    revision: 2,
    event: 'updated',
    headline: 'Intracranial hemorrhage, 12.3 mL, left frontal intraparenchymal | + 1 more (corrected)',
    dispatchedAt: '2026-03-01T08:16:40.010Z',
    analysis: { ...first.analysis, id: 18, findings: [iph!, { ...sdh!, volumeMl: 9.1, maxThicknessMm: 8.0 }], finishedAt: '2026-03-01T08:16:39.700Z' },
  };
}
