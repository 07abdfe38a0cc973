import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fhirSchemaErrors } from '../../test/helpers/fhir-schema.js';
import { raisedIchAlert, updatedIchAlert } from '../alerts/channels/test-support.js';
import { buildFhirTransaction, patientIdSystem, type TransactionBundle } from './fhir-bundle.js';

type Res = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

function byType(bundle: TransactionBundle, type: string): { fullUrl: string; resource: Res; request: Res }[] {
  return bundle.entry.filter((e) => e.resource.resourceType === type) as never;
}

/** Every `reference` anywhere in the bundle, with the path it sits at. */
function references(value: unknown, path = ''): { path: string; reference: string }[] {
  if (Array.isArray(value)) return value.flatMap((v, i) => references(v, `${path}[${i}]`));
  if (value && typeof value === 'object') {
    return Object.entries(value).flatMap(([k, v]) => (k === 'reference' && typeof v === 'string' ? [{ path, reference: v }] : references(v, `${path}.${k}`)));
  }
  return [];
}

test('FHIR transaction Bundle validates against the official R4 JSON schema (first alert and its revision)', () => {
  for (const alert of [raisedIchAlert(), updatedIchAlert()]) {
    const bundle = buildFhirTransaction(alert);
    assert.deepEqual(fhirSchemaErrors(bundle), [], `revision ${alert.revision}`);
    for (const e of bundle.entry) assert.deepEqual(fhirSchemaErrors(e.resource), [], e.resource.resourceType);
  }
});

test('the schema check is not vacuous: a wrong status code and an unknown member fail', () => {
  const bundle = buildFhirTransaction(raisedIchAlert()) as unknown as Res;
  const report = bundle.entry.find((e: Res) => e.resource.resourceType === 'DiagnosticReport');
  report.resource.status = 'done';
  assert.notDeepEqual(fhirSchemaErrors(bundle as never), []);
  report.resource.status = 'final';
  report.resource.finding = 'x';
  assert.notDeepEqual(fhirSchemaErrors(report.resource), []);
});

test('every reference resolves inside the bundle, except the logical ImagingStudy reference by DICOM UID', () => {
  const bundle = buildFhirTransaction(raisedIchAlert());
  const fullUrls = new Set(bundle.entry.map((e) => e.fullUrl));
  assert.equal(fullUrls.size, bundle.entry.length, 'fullUrls are unique');
  for (const e of bundle.entry) assert.match(e.fullUrl, /^urn:uuid:[0-9a-f-]{36}$/);
  const refs = references(bundle.entry.map((e) => e.resource));
  assert.ok(refs.length >= 7, `${refs.length} references`);
  for (const r of refs) assert.ok(fullUrls.has(r.reference), `${r.path} -> ${r.reference}`);
  const [report] = byType(bundle, 'DiagnosticReport');
  assert.deepEqual(report!.resource.imagingStudy, [{ type: 'ImagingStudy', identifier: { system: 'urn:dicom:uid', value: 'urn:oid:1.2.826.0.1.3680043.8.498.10001' }, display: 'CT HEAD WO CONTRAST ~ STROKE' }]);
});

test('resources: Patient conditional create, DiagnosticReport conditional update by alert id, Observation per finding, Communication stat', () => {
  const alert = raisedIchAlert();
  const bundle = buildFhirTransaction(alert);
  const [patient] = byType(bundle, 'Patient');
  assert.equal(patient!.request.method, 'POST');
  assert.equal(decodeURIComponent(patient!.request.ifNoneExist), 'identifier=urn:medge:patient-id-issuer:HOSP%5EA|PAT-0042');
  assert.deepEqual(patient!.resource.name, [{ family: "O'Brien-Smith", given: ['Mary&Ann', 'J'], prefix: ['Dr.'] }]);
  assert.equal(patient!.resource.birthDate, '1956-04-12');
  assert.equal(patient!.resource.gender, 'female');

  const [report] = byType(bundle, 'DiagnosticReport');
  assert.equal(report!.request.method, 'PUT');
  assert.equal(decodeURIComponent(report!.request.url), `DiagnosticReport?identifier=urn:medge:alert-id|${alert.alertId}`);
  assert.equal(report!.resource.status, 'final');
  assert.equal(report!.resource.code.coding[0].code, '24725-4');
  assert.ok(report!.resource.category.some((c: Res) => c.coding[0].code === 'imaging'));
  assert.equal(report!.resource.effectiveDateTime, '2026-03-01');
  assert.match(report!.resource.conclusion, /^Intracranial hemorrhage, 12\.3 mL.*not for diagnosis\.$/);
  assert.equal(report!.resource.basedOn[0].identifier.value, 'ACC20260301-7');

  const obs = byType(bundle, 'Observation');
  assert.equal(obs.length, 3, 'two findings and the midline shift');
  assert.deepEqual(obs.map((o) => o.resource.valueQuantity), [
    { value: 12.3, unit: 'mL', system: 'http://unitsofmeasure.org', code: 'mL' },
    { value: 4.75, unit: 'mL', system: 'http://unitsofmeasure.org', code: 'mL' },
    { value: 3.2, unit: 'mm', system: 'http://unitsofmeasure.org', code: 'mm' },
  ]);
  assert.equal(obs[0]!.resource.interpretation[0].coding[0].code, 'AA');
  assert.deepEqual(obs[0]!.resource.code.coding, [{ system: 'http://snomed.info/sct', code: '1386000', display: 'Intracranial hemorrhage' }]);
  assert.deepEqual(obs[0]!.resource.bodySite.coding[0], { system: 'http://snomed.info/sct', code: '83251001', display: 'Frontal lobe' });
  assert.equal(obs[1]!.resource.bodySite.text, 'right frontoparietal & convexity');
  assert.deepEqual(obs[1]!.resource.component.map((c: Res) => c.valueCodeableConcept?.coding[0].code ?? c.valueQuantity.value), ['35486000', 6.4]);
  assert.deepEqual(report!.resource.result.map((r: Res) => r.reference), obs.map((o) => o.fullUrl));

  const [comm] = byType(bundle, 'Communication');
  assert.equal(comm!.resource.priority, 'stat');
  assert.deepEqual(comm!.resource.about, [{ reference: report!.fullUrl }]);
  assert.equal(comm!.resource.payload[0].contentString, alert.headline);
  assert.equal(decodeURIComponent(comm!.request.ifNoneExist), `identifier=urn:medge:alert-delivery|${alert.alertId}:1:raised`);
});

test('a revision updates the same DiagnosticReport and Observations (same conditional URLs), status corrected', () => {
  const first = buildFhirTransaction(raisedIchAlert());
  const second = buildFhirTransaction(updatedIchAlert());
  const urls = (b: TransactionBundle) => b.entry.filter((e) => e.request.method === 'PUT').map((e) => e.request.url);
  assert.deepEqual(urls(second), urls(first));
  assert.equal(byType(second, 'DiagnosticReport')[0]!.resource.status, 'corrected');
  assert.ok(byType(second, 'Observation').every((o) => o.resource.status === 'corrected'));
  assert.equal(byType(second, 'Observation')[1]!.resource.valueQuantity.value, 9.1);
  assert.notEqual(byType(second, 'Communication')[0]!.request.ifNoneExist, byType(first, 'Communication')[0]!.request.ifNoneExist);
});

test('no patient id: no Patient entry, no subject, still valid; issuers map to identifier systems', () => {
  const alert = raisedIchAlert({ patient: { id: null, issuer: null, name: null, birthDate: null, sex: null } });
  const bundle = buildFhirTransaction(alert);
  assert.equal(byType(bundle, 'Patient').length, 0);
  assert.equal(byType(bundle, 'DiagnosticReport')[0]!.resource.subject, undefined);
  assert.deepEqual(fhirSchemaErrors(bundle), []);
  assert.equal(patientIdSystem('1.2.3.4'), 'urn:oid:1.2.3.4');
  assert.equal(patientIdSystem('http://hospital.example/mrn'), 'http://hospital.example/mrn');
  assert.equal(patientIdSystem('St Mary'), 'urn:medge:patient-id-issuer:St%20Mary');
});
