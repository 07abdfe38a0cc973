/**
 * Reads an HL7 v2 acknowledgement (HL7 v2.5.1 2.9 and 2.15.8 MSA): MSA-1 the acknowledgment code
 * (table 0008), MSA-2 the control id of the message it answers, MSA-3 the text. The delimiters are
 * the ACK's own (MSH-1, MSH-2), not assumed.
 */

/** Table 0008: original mode AA/AE/AR, enhanced mode (commit) CA/CE/CR. */
export type AckCode = 'AA' | 'AE' | 'AR' | 'CA' | 'CE' | 'CR';

export interface ParsedAck {
  code: AckCode;
  /** MSA-2: the MSH-10 of the acknowledged message. */
  controlId: string;
  /** MSA-3 (or ERR-8 when MSA-3 is empty), unescaped; '' when absent. */
  text: string;
}

const ACK_CODES: ReadonlySet<string> = new Set(['AA', 'AE', 'AR', 'CA', 'CE', 'CR']);

/** The outcome class of an acknowledgment code, for retry decisions. */
export function ackOutcome(code: AckCode): 'accepted' | 'error' | 'rejected' {
  if (code === 'AA' || code === 'CA') return 'accepted';
  if (code === 'AE' || code === 'CE') return 'error';
  return 'rejected';
}

/** Parses an ACK; returns null when it is not one (no MSH or MSA, or an unknown MSA-1 code). */
export function parseAck(text: string): ParsedAck | null {
  const segments = text.split(/\r\n|\r|\n/).filter((s) => s.length > 0);
  const msh = segments[0];
  if (!msh || !msh.startsWith('MSH') || msh.length < 8) return null;
  const fieldSep = msh[3]!;
  const [component = '^', repetition = '~', escape = '\\', subcomponent = '&'] = msh.slice(4, 8);
  const msa = segments.find((s) => s.startsWith(`MSA${fieldSep}`));
  if (!msa) return null;
  const f = msa.split(fieldSep);
  const code = (f[1] ?? '').split(component)[0]!.trim().toUpperCase();
  if (!ACK_CODES.has(code)) return null;
  let message = f[3] ?? '';
  if (!message) {
    // 2.5.1 deprecates MSA-3 in favour of ERR; ERR-8 is the user message.
    const err = segments.find((s) => s.startsWith(`ERR${fieldSep}`));
    message = err?.split(fieldSep)[8] ?? '';
  }
  const unescape = (s: string) =>
    s.replace(new RegExp(`${re(escape)}([FSTRE])${re(escape)}`, 'g'), (_, c: string) => ({ F: fieldSep, S: component, T: subcomponent, R: repetition, E: escape })[c]!);
  return { code: code as AckCode, controlId: unescape(f[2] ?? ''), text: unescape(message) };
}

function re(ch: string): string {
  return ch.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
