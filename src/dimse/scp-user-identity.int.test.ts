/**
 * User Identity negotiation (PS3.7 D.3.3.7) against dcmtk's storescu (`--user`, `--password`,
 * `--pos-response`): a known user is answered with the positive response it asks for and stores;
 * with `requireUserIdentity` a wrong passcode or no identity is rejected; a node without users
 * answers nothing, as the standard says, and storescu then gives up on its own. `medge send` and
 * `medge echo` present an identity with --user and --password.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { repoRoot } from '../../test/helpers/real-data.js';
import { DCMTK_HINT, requireTool, skipMessage } from '../../test/helpers/peers.js';
import { realData } from '../../test/helpers/real-data.js';
import { runTool, startTestScp, type TestScp } from './int-test-harness.js';

const file = realData('transfer-syntaxes', 'ct', 'CTImage.dcm_LittleEndianExplicitTransferSyntax_1.2.840.10008.1.2.1.dcm');
const missingTool = ['storescu', 'movescu'].find((t) => !requireTool(t, DCMTK_HINT));
const skip = missingTool ? skipMessage(missingTool, DCMTK_HINT) : file === undefined ? 'the real transfer syntax files are missing (../shared/data/real)' : false;
const users = [{ username: 'ct-room-1', passcode: 's3cret' }];

const store = (scp: TestScp, identity: string[]) => runTool('storescu', ['-aet', 'CT1', '-aec', 'MEDGE', ...identity, '127.0.0.1', String(scp.port), file!]);
const stored = (scp: TestScp) => (scp.index.db.prepare('SELECT count(*) FROM instances').pluck().get() as number);

test('user identity required: the right passcode is answered positively and stores; a wrong one or none is rejected', { skip }, async () => {
  const scp = await startTestScp({ users, requireUserIdentity: true });
  try {
    const good = await store(scp, ['--user', 'ct-room-1', '--password', 's3cret', '--pos-response']);
    assert.equal(good.code, 0, good.output);
    assert.equal(stored(scp), 1);
    for (const identity of [['--user', 'ct-room-1', '--password', 'wrong', '--pos-response'], ['--user', 'ct-room-1'], []]) {
      const bad = await store(scp, identity);
      assert.notEqual(bad.code, 0, `${identity.join(' ')}: ${bad.output}`);
      assert.match(bad.output, /Association Rejected/i, bad.output);
    }
    assert.equal(scp.metrics.value('medge_dimse_associations_total', { result: 'rejected' }), 3);
    assert.equal(stored(scp), 1);
  } finally {
    await scp.close();
  }
});

test('user identity optional: an unknown identity is accepted without the positive response; no users: never answered', { skip }, async () => {
  const optional = await startTestScp({ users });
  try {
    const plain = await store(optional, ['--user', 'ct-room-1', '--password', 'wrong']);
    assert.equal(plain.code, 0, plain.output);
    const asked = await store(optional, ['--user', 'ct-room-1', '--password', 'wrong', '--pos-response']);
    assert.notEqual(asked.code, 0);
    assert.match(asked.output, /Positive response requested but none received/, asked.output);
    assert.equal((await store(optional, ['--user', 'ct-room-1', '--password', 's3cret', '--pos-response'])).code, 0);
  } finally {
    await optional.close();
  }
  const none = await startTestScp({});
  try {
    assert.equal((await store(none, ['--user', 'ct-room-1', '--password', 's3cret'])).code, 0);
    const asked = await store(none, ['--user', 'ct-room-1', '--password', 's3cret', '--pos-response']);
    assert.match(asked.output, /Positive response requested but none received/, asked.output);
  } finally {
    await none.close();
  }
});

test('medge send and medge echo present --user and --password; a rejection without a reason points at them', { skip }, async () => {
  const scp = await startTestScp({ users, requireUserIdentity: true });
  const medge = (args: string[]) => runTool(process.execPath, [join(repoRoot(), 'bin', 'medge.js'), ...args]);
  const to = `MEDGE@127.0.0.1:${scp.port}`;
  try {
    const sent = await medge(['send', file!, '--to', to, '--user', 'ct-room-1', '--password', 's3cret']);
    assert.equal(sent.code, 0, sent.output);
    assert.equal(stored(scp), 1);
    const wrong = await medge(['send', file!, '--to', to, '--user', 'ct-room-1', '--password', 'nope']);
    assert.equal(wrong.code, 1);
    assert.match(wrong.output, /MEDGE_ERR_DIMSE_REJECTED.*it may not accept user ct-room-1 or its --password/, wrong.output);
    assert.equal((await medge(['echo', to, '--user', 'ct-room-1', '--password', 's3cret'])).code, 0);
    const none = await medge(['echo', to]);
    assert.match(none.output, /if it requires a DICOM user identity, add --user \(and --password\)/, none.output);
    const usage = await medge(['echo', to, '--password', 's3cret']);
    assert.equal(usage.code, 2);
    assert.match(usage.output, /--password goes with --user/);
  } finally {
    await scp.close();
  }
});

test('C-MOVE to a destination that requires a user identity: its dicom.remoteAes entry presents the user', { skip }, async () => {
  const dest = await startTestScp({ aeTitle: 'DEST', users, requireUserIdentity: true });
  const source = (user?: { username: string; passcode?: string }) => startTestScp({ remoteAes: [{ aeTitle: 'DEST', host: '127.0.0.1', port: dest.port, ...(user ? { user } : {}) }] });
  const move = (scp: TestScp) =>
    runTool('movescu', ['-v', '-S', '-aet', 'MOVESCU', '-aec', 'MEDGE', '-aem', 'DEST', '-k', '0008,0052=STUDY', '-k', '0020,000d=1.2.840.113619.2.30.1.1762295590.1623.978668949.886', '127.0.0.1', String(scp.port)]);
  const without = await source();
  const withUser = await source(users[0]);
  try {
    for (const scp of [without, withUser]) assert.equal((await store(scp, [])).code, 0);
    const refused = await move(without);
    assert.doesNotMatch(refused.output, /Final Move Response \(Success\)/, refused.output);
    assert.equal(stored(dest), 0);
    const moved = await move(withUser);
    assert.match(moved.output, /Final Move Response \(Success\)/, moved.output);
    assert.equal(stored(dest), 1);
  } finally {
    await Promise.all([dest.close(), without.close(), withUser.close()]);
  }
});
