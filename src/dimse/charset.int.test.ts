/**
 * Patient names in other character sets, end to end: pydicom's charset test files (Debian's
 * python3-pydicom) sent by storescu, their names indexed as the people they name, and found by
 * findscu with a UTF-8 query, answered in UTF-8 (Specific Character Set ISO_IR 192).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { DCMTK_HINT, isCi, requireTool, skipMessage } from '../../test/helpers/peers.js';
import { runQuery } from '../store/query.js';
import { runTool, startTestScp } from './int-test-harness.js';

const DIR = '/usr/lib/python3/dist-packages/pydicom/data/charset_files';
const present = existsSync(DIR);
if (!present && isCi()) throw new Error(`${DIR} is required in CI (apt-get install python3-pydicom)`);
const missing = ['storescu', 'findscu'].filter((t) => !requireTool(t, DCMTK_HINT));
const skip = !present ? `${DIR} absent: apt-get install python3-pydicom` : missing.length ? skipMessage(missing.join(', '), DCMTK_HINT) : false;

const NAMES: Record<string, string> = {
  X1EXAMPLE: 'Wang^XiaoDong=王^小東=',
  X2EXAMPLE: 'Wang^XiaoDong=王^小东=',
  H31EXAMPLE: 'Yamada^Tarou=山田^太郎=やまだ^たろう',
  SCSGERM: 'Äneas^Rüdiger',
  SCSGREEK: 'Διονυσιος',
  SCSRUSS: 'Люкceмбypг',
};

test('names in ISO 8859, UTF-8, GB18030 and ISO 2022 are indexed as written, and C-FIND finds and returns them in UTF-8', { skip }, async (t) => {
  const scp = await startTestScp();
  t.after(() => scp.close());
  const files = ['chrX1', 'chrX2', 'chrH31', 'chrGerm', 'chrGreek', 'chrRuss'].map((f) => join(DIR, `${f}.dcm`));
  const sent = await runTool('storescu', ['-aec', 'MEDGE', '127.0.0.1', String(scp.port), ...files]);
  assert.equal(sent.code, 0, sent.output);
  const indexed = new Map(runQuery(scp.index.db, 'PATIENT', {}).map((r) => [r.PatientID, r.PatientName]));
  for (const [id, name] of Object.entries(NAMES)) assert.equal(indexed.get(id), name, id);

  const find = await runTool('findscu', ['-v', '-S', '-aec', 'MEDGE', '-k', 'QueryRetrieveLevel=STUDY', '-k', 'SpecificCharacterSet=ISO_IR 192',
    '-k', `PatientName=${NAMES.H31EXAMPLE}`, '-k', 'PatientID', '127.0.0.1', String(scp.port)]);
  assert.equal((find.output.match(/Find Response: \d+ \(Pending\)/g) ?? []).length, 1, find.output);
  assert.match(find.output, /\(0008,0005\) CS \[ISO_IR 192\]/);
  assert.ok(find.output.includes('山田^太郎=やまだ^たろう'), find.output);
  assert.match(find.output, /\(0010,0020\) LO \[H31EXAMPLE\]/);
});
