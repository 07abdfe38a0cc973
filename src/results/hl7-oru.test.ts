import { test } from 'node:test';
import assert from 'node:assert/strict';
import hl7v2, { type Hl7Json } from '@redoxengine/redox-hl7-v2';
import { raisedIchAlert, updatedIchAlert } from '../alerts/channels/test-support.js';
import { buildOruR01 } from './hl7-oru.js';
import { escapeHl7, hl7FromDicom, xpnFromDicom } from './hl7-encoding.js';

// The message is read back by an independent parser (Redox's schema-driven HL7 v2 parser), which
// places every segment in the ORU_R01 group structure and undoes the escape sequences.
type J = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

function parse(text: string): J {
  return new hl7v2.Parser().parse(text) as J;
}

function obxList(parsed: J): J[] {
  const order = parsed.PATIENT_RESULT[0].ORDER_OBSERVATION[0];
  return (order.OBSERVATION as J[]).map((o) => o.OBX as J);
}

const value = (obx: J): string => (Array.isArray(obx['5']) ? (obx['5'] as Hl7Json[]).map((v) => (typeof v === 'string' ? v : Object.values(v).join('^'))).join('~') : String(obx['5']));

test('ORU^R01: header, patient and order as an independent parser reads them', () => {
  const oru = buildOruR01(raisedIchAlert(), { sendingApplication: 'MEDGE', sendingFacility: 'ED-CT1', receivingApplication: 'RIS', now: new Date('2026-03-01T08:15:02.500Z') });
  const m = parse(oru.text);
  assert.deepEqual(m.MSH['9'], { 1: 'ORU', 2: 'R01', 3: 'ORU_R01' });
  assert.equal(m.MSH['2'], '^~\\&');
  assert.equal(m.MSH['10'], oru.controlId);
  assert.equal(m.MSH['12']['1'], '2.5.1');
  assert.equal(m.MSH['3']['1'], 'MEDGE');
  assert.equal(m.MSH['5']['1'], 'RIS');
  assert.equal(m.MSH['7']['1'], '20260301081502.500+0000');

  const pid = m.PATIENT_RESULT[0].PATIENT.PID;
  assert.equal(pid['3'][0]['1'], 'PAT-0042');
  assert.equal(pid['3'][0]['4']['1'], 'HOSP^A', 'the issuer keeps its ^ through \\S\\');
  assert.equal(pid['5'][0]['1']['1'], "O'Brien-Smith");
  assert.equal(pid['5'][0]['2'], 'Mary&Ann', 'the given name keeps its & through \\T\\');
  assert.equal(pid['5'][0]['4'], '', 'XPN-4 suffix (DICOM has none)');
  assert.equal(pid['5'][0]['5'], 'Dr.', 'XPN-5 prefix: DICOM PN component 4');
  assert.equal(pid['7']['1'], '19560412');
  assert.equal(pid['8'], 'F');

  const order = m.PATIENT_RESULT[0].ORDER_OBSERVATION[0];
  assert.equal(order.ORC['1'], 'RE');
  assert.equal(order.ORC['2']['1'], 'ACC20260301-7');
  assert.equal(order.OBR['2']['1'], 'ACC20260301-7');
  assert.equal(order.OBR['3']['1'], 'ACC20260301-7');
  assert.deepEqual(order.OBR['4'], { 1: '24725-4', 2: 'CT Head', 3: 'LN' });
  assert.equal(order.OBR['7']['1'], '20260301081200.2500');
  assert.equal(order.OBR['25'], 'F');
  assert.equal(order.NTE[0]['3'][0], 'Machine-generated triage result: not for diagnosis');
  assert.equal(order.NTE[1]['3'][0], raisedIchAlert().headline, 'the headline keeps its | through \\F\\');
  const segments = oru.text.split('\r');
  assert.throws(() => parse([segments[0], segments[1], segments[6], segments[2], segments[3]].join('\r')), /missing required segment OBR/, 'the parser checks the ORU_R01 structure');
});

test('ORU^R01: OBX presence, per-finding subtype, volume with UCUM units, location, thickness, midline shift, study UID', () => {
  const obx = obxList(parse(buildOruR01(raisedIchAlert()).text));
  const rows = obx.map((o) => ({ set: o['1'], type: o['2'], id: o['3']['1'], sub: o['4'] ?? '', value: value(o), units: o['6'] ? `${o['6']['1']}^${o['6']['2']}^${o['6']['3']}` : '', flag: o['8'] ?? '', status: o['11'] }));
  assert.deepEqual(rows.map((r) => r.set), rows.map((_, i) => String(i + 1)), 'OBX-1 numbers the segments');
  assert.ok(rows.every((r) => r.status === 'F'));
  assert.deepEqual(rows[0], { set: '1', type: 'CWE', id: '1386000', sub: '', value: '52101004^Present^SCT', units: '', flag: ['AA'], status: 'F' });
  const f1 = rows.filter((r) => r.sub === '1');
  const f2 = rows.filter((r) => r.sub === '2');
  assert.deepEqual(f1.map((r) => [r.type, r.id, r.value, r.units]), [
    ['CWE', '121071', '274100004^Cerebral hemorrhage^SCT', ''],
    ['NM', '118565006', '12.3', 'mL^milliliter^UCUM'],
    ['ST', '363698007', 'left frontal', ''],
  ]);
  assert.deepEqual(f2.map((r) => [r.type, r.id, r.value, r.units]), [
    ['CWE', '121071', '35486000^Subdural intracranial hemorrhage^SCT', ''],
    ['NM', '118565006', '4.75', 'mL^milliliter^UCUM'],
    ['ST', '363698007', 'right frontoparietal & convexity', ''],
    ['NM', '59089-3', '6.4', 'mm^millimeter^UCUM'],
  ]);
  const shift = rows.find((r) => r.id === 'MLS');
  assert.deepEqual([shift?.type, shift?.value, shift?.units], ['NM', '3.2', 'mm^millimeter^UCUM']);
  const uid = rows.find((r) => r.id === '110180');
  assert.deepEqual([uid?.type, uid?.value], ['ST', '1.2.826.0.1.3680043.8.498.10001']);
});

test('ORU^R01: a revision is a correction (OBR-25 and OBX-11 C) of the same order with the new values', () => {
  const m = parse(buildOruR01(updatedIchAlert()).text);
  const order = m.PATIENT_RESULT[0].ORDER_OBSERVATION[0];
  assert.equal(order.OBR['25'], 'C');
  assert.equal(order.OBR['3']['1'], 'ACC20260301-7');
  const obx = obxList(m);
  assert.ok(obx.every((o) => o['11'] === 'C'));
  assert.equal(value(obx.find((o) => o['3']['1'] === '118565006' && o['4'] === '2')!), '9.1');
});

test('ORU^R01: a negative retraction says absent; no accession falls back to the alert id; control ids differ', () => {
  const alert = raisedIchAlert({ revision: 3, event: 'retracted', study: { ...raisedIchAlert().study, accessionNumber: null } });
  alert.analysis = { ...alert.analysis, status: 'negative', findings: [], midlineShiftMm: undefined };
  const a = buildOruR01(alert);
  const m = parse(a.text);
  const obx = obxList(m);
  assert.equal(value(obx[0]!), '272519000^Absent^SCT');
  assert.equal(obx[0]!['8'], undefined);
  assert.equal(obx.length, 2, 'presence and study UID only');
  assert.deepEqual(m.PATIENT_RESULT[0].ORDER_OBSERVATION[0].OBR['3'], { 1: alert.alertId, 2: 'MEDGE' });
  assert.notEqual(buildOruR01(alert).controlId, a.controlId);
  assert.match(a.controlId, /^[0-9A-F]{20}$/);
});

test('escapeHl7 (HL7 v2.5.1 2.7): delimiters become escape sequences, the escape character first; CR/LF become spaces', () => {
  assert.equal(escapeHl7('a|b^c&d~e\\f'), 'a\\F\\b\\S\\c\\T\\d\\R\\e\\E\\f');
  assert.equal(escapeHl7('\\F\\'), '\\E\\F\\E\\', 'a literal escape sequence is not passed through');
  assert.equal(escapeHl7('line1\r\nline2'), 'line1  line2');
  const m = parse(buildOruR01(raisedIchAlert({ headline: 'x|y^z&w~v\\u end' })).text);
  assert.equal(m.PATIENT_RESULT[0].ORDER_OBSERVATION[0].NTE[1]['3'][0], 'x|y^z&w~v\\u end');
});

test('DICOM to HL7 conversions: DA/TM to DTM, PN to XPN', () => {
  assert.equal(hl7FromDicom('20260301', '081200.250000'), '20260301081200.2500');
  assert.equal(hl7FromDicom('20260301', '0812'), '202603010812');
  assert.equal(hl7FromDicom('20260301', null), '20260301');
  assert.equal(hl7FromDicom('2026-03-01', '0812'), '');
  assert.equal(xpnFromDicom('Doe^John^Q^Mr^Jr=ドウ^ジョン'), 'Doe^John^Q^Jr^Mr');
});
