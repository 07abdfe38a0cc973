/**
 * VRs of common attributes (PS3.6 Table 6-1), for datasets in Implicit VR Little Endian, where the
 * file does not say them. Only what metadata answers need most (patient, study, series, image,
 * frame of reference and pixel modules); an attribute not listed is answered as UN (PS3.18 F.2.7).
 * Keyed as dicom-parser names tags: 'x' + 8 lower-case hex digits.
 */
const TABLE: Record<string, string> = {
  // SOP Common, General Study, Patient (PS3.3 C.12.1, C.7.2.1, C.7.1.1)
  x00080005: 'CS', x00080008: 'CS', x00080012: 'DA', x00080013: 'TM', x00080016: 'UI', x00080018: 'UI',
  x00080020: 'DA', x00080021: 'DA', x00080022: 'DA', x00080023: 'DA', x00080030: 'TM', x00080031: 'TM',
  x00080032: 'TM', x00080033: 'TM', x00080050: 'SH', x00080060: 'CS', x00080061: 'CS', x00080064: 'CS',
  x00080070: 'LO', x00080080: 'LO', x00080090: 'PN', x00081010: 'SH', x00081030: 'LO', x0008103e: 'LO',
  x00081040: 'LO', x00081090: 'LO', x00081140: 'SQ', x00081150: 'UI', x00081155: 'UI', x00082111: 'ST',
  x00100010: 'PN', x00100020: 'LO', x00100021: 'LO', x00100030: 'DA', x00100040: 'CS', x00101010: 'AS',
  x00101020: 'DS', x00101030: 'DS',
  // Acquisition (CT and MR image modules, PS3.3 C.8.2.1 and C.8.3.1)
  x00180015: 'CS', x00180020: 'CS', x00180021: 'CS', x00180022: 'CS', x00180023: 'CS', x00180050: 'DS',
  x00180060: 'DS', x00180080: 'DS', x00180081: 'DS', x00180083: 'DS', x00180084: 'DS', x00180087: 'DS',
  x00180088: 'DS', x00180090: 'DS', x00180091: 'IS', x00181000: 'LO', x00181020: 'LO', x00181030: 'LO',
  x00181100: 'DS', x00181110: 'DS', x00181111: 'DS', x00181120: 'DS', x00181130: 'DS', x00181140: 'CS',
  x00181150: 'IS', x00181151: 'IS', x00181152: 'IS', x00181160: 'SH', x00181170: 'IS', x00181210: 'SH',
  x00181250: 'SH', x00181310: 'US', x00181314: 'DS', x00185100: 'CS',
  // General Series, Image, Plane and Frame of Reference (PS3.3 C.7.3.1, C.7.6.1, C.7.6.2, C.7.4.1)
  x0020000d: 'UI', x0020000e: 'UI', x00200010: 'SH', x00200011: 'IS', x00200012: 'IS', x00200013: 'IS',
  x00200020: 'CS', x00200032: 'DS', x00200037: 'DS', x00200052: 'UI', x00201040: 'LO', x00201041: 'DS',
  x00204000: 'LT',
  // Image Pixel and VOI LUT (PS3.3 C.7.6.3, C.11.2)
  x00280002: 'US', x00280004: 'CS', x00280006: 'US', x00280008: 'IS', x00280010: 'US', x00280011: 'US',
  x00280030: 'DS', x00280100: 'US', x00280101: 'US', x00280102: 'US', x00280103: 'US', x00280106: 'US',
  x00280107: 'US', x00280120: 'US', x00281050: 'DS', x00281051: 'DS', x00281052: 'DS', x00281053: 'DS',
  x00281054: 'LO', x00281055: 'LO', x00282110: 'CS',
  x7fe00010: 'OW',
};

export function implicitVr(tag: string): string | undefined {
  return TABLE[tag];
}
