import { test } from 'node:test';
import assert from 'node:assert/strict';
import { textDecoder } from './charset.js';

/** Patient's Name bytes and Specific Character Set of pydicom's charset test files (their FileInfo.txt), and the names they spell. */
const CASES: [string, string, string][] = [
  ['ISO_IR 100', 'Buc^J\xe9r\xf4me', 'Buc^Jérôme'],
  ['ISO_IR 100', '\xc4neas^R\xfcdiger', 'Äneas^Rüdiger'],
  ['ISO_IR 127', '\xe2\xc8\xc7\xe6\xea^\xe4\xe6\xd2\xc7\xd1', 'قباني^لنزار'],
  ['ISO_IR 126', '\xc4\xe9\xef\xed\xf5\xf3\xe9\xef\xf2', 'Διονυσιος'],
  ['ISO_IR 138', '\xf9\xf8\xe5\xef^\xe3\xe1\xe5\xf8\xe4', 'שרון^דבורה'],
  ['ISO_IR 144', '\xbb\xee\xdace\xdc\xd1yp\xd3', 'Люкceмбypг'],
  ['ISO_IR 192', 'Wang^XiaoDong=\xe7\x8e\x8b^\xe5\xb0\x8f\xe6\x9d\xb1=', 'Wang^XiaoDong=王^小東='],
  ['GB18030', 'Wang^XiaoDong=\xcd\xf5^\xd0\xa1\xb6\xab=', 'Wang^XiaoDong=王^小东='],
  ['\\ISO 2022 IR 87', 'Yamada^Tarou=\x1b$B;3ED\x1b(B^\x1b$BB@O:\x1b(B=\x1b$B$d$^$@\x1b(B^\x1b$B$?$m$&\x1b(B', 'Yamada^Tarou=山田^太郎=やまだ^たろう'],
  ['ISO 2022 IR 13\\ISO 2022 IR 87', '\xd4\xcf\xc0\xde^\xc0\xdb\xb3=\x1b$B;3ED\x1b(J^\x1b$BB@O:\x1b(J=\x1b$B$d$^$@\x1b(J^\x1b$B$?$m$&\x1b(J', 'ﾔﾏﾀﾞ^ﾀﾛｳ=山田^太郎=やまだ^たろう'],
  ['\\ISO 2022 IR 149', 'Hong^Gildong=\x1b$)C\xfb\xf3^\x1b$)C\xd1\xce\xd4\xd7=\x1b$)C\xc8\xab^\x1b$)C\xb1\xe6\xb5\xbf', 'Hong^Gildong=洪^吉洞=홍^길동'],
];

test('text decodes in its Specific Character Set (PS3.5 6.1): single-byte sets, UTF-8, GB18030 and ISO 2022 code extensions', () => {
  for (const [charset, latin1, expected] of CASES) {
    assert.equal(textDecoder(charset)(Buffer.from(latin1, 'latin1')), expected, charset);
  }
});

test('no Specific Character Set reads the default repertoire (and any stray high byte as ISO 8859-1, not lost)', () => {
  assert.equal(textDecoder(undefined)(Buffer.from('DOE^JOHN')), 'DOE^JOHN');
  assert.equal(textDecoder('')(Buffer.from('M\xfcller', 'latin1')), 'Müller');
  assert.equal(textDecoder('ISO 2022 IR 6')(Buffer.from('A\xe9', 'latin1')), 'Aé', 'an ISO 2022 value with a high byte and no G1');
});

test('in ISO 2022, a value and every person-name component group start again in the initial sets (PS3.5 6.1.2.5.3)', () => {
  // G1 designated KS X 1001 in the first value; after '\\' it is the initial G1 again (none here:
  // the byte is kept as ISO 8859-1 rather than read as half a Korean character).
  assert.equal(textDecoder('\\ISO 2022 IR 149')(Buffer.from('\x1b$)C\xfb\xf3\\\xe9', 'latin1')), '洪\\é');
  // Inside a two-byte G0 set, 5CH is half a character, not a delimiter (a writer switches back first).
  assert.equal(textDecoder('\\ISO 2022 IR 87')(Buffer.from('\x1b$B;3ED\x1b(B\\ABC', 'latin1')), '山田\\ABC');
});
