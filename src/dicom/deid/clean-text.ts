import type { RawElement } from './raw-dataset.js';
import { resolveAction } from './profile.js';
import { FREE_TEXT_VRS, textValues } from './values.js';

/**
 * "Clean" of the Clean Descriptors option (PS3.15 E.3.5): a description or comment is kept with
 * its identifying content replaced. What counts as identifying here: every value, and every word
 * of three characters or more, of the attributes of this dataset that the profile removes or
 * replaces (names, IDs, addresses, institutions, physicians, operators, dates...), in any letter
 * case; and, whatever the dataset, anything that looks like a date, a long number (IDs, phone
 * numbers: five digits or more) or an e-mail address. Each is replaced by '*', so the value never
 * grows past its VR's maximum. This is pattern matching, not understanding: a name that appears
 * nowhere else in the dataset is not found. docs/deid.md says so.
 */
export class TextCleaner {
  private readonly pattern: RegExp | undefined;

  constructor(identifying: Iterable<string>) {
    const words = [...new Set(identifying)].filter((w) => w.length >= 3).sort((a, b) => b.length - a.length);
    this.pattern = words.length ? new RegExp(words.map(escapeRegExp).join('|'), 'gi') : undefined;
  }

  clean(text: string): string {
    let out = this.pattern ? text.replace(this.pattern, '*') : text;
    for (const p of GENERIC_PATTERNS) out = out.replace(p, '*');
    return out;
  }
}

const GENERIC_PATTERNS: readonly RegExp[] = [
  /[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}/g, // e-mail
  /\b\d{1,4}[./-]\d{1,2}[./-]\d{1,4}\b/g, // 12.03.2021, 2021-03-12, 3/12/21
  /\+?\d[\d ()-]{5,}\d/g, // phone numbers and IDs with separators
  /\d{5,}/g, // IDs, DA values, long numbers
];

/** Words of addresses and names that identify nobody and would blank half a description. */
const STOP_WORDS: ReadonlySet<string> = new Set(['THE', 'AND', 'FOR', 'WITH', 'VON', 'VAN', 'DER', 'DEN', 'DEL', 'DES', 'DIE', 'LOS', 'LAS', 'STREET', 'ROAD']);

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * The identifying words of a dataset, nested sequences included: values of the attributes whose
 * basic action removes or replaces them (not UIDs, which are never found in free text as words,
 * nor the descriptors being cleaned themselves), split into name components and words.
 */
export function identifyingWords(elements: readonly RawElement[]): string[] {
  const out: string[] = [];
  collect(elements, out);
  return out;
}

function collect(elements: readonly RawElement[], out: string[]): void {
  for (const e of elements) {
    if (e.items) {
      for (const item of e.items) collect(item, out);
      continue;
    }
    const resolved = resolveAction(e.tag, {});
    if (!resolved || resolved.action === 'uid' || resolved.action === 'keep') continue;
    const vr = e.vr === 'UN' ? resolved.vr : e.vr;
    if (!FREE_TEXT_VRS.has(vr) && vr !== 'DA' && vr !== 'AE') continue;
    // The descriptors themselves are what is cleaned: their words are not identifying by default.
    if (resolveAction(e.tag, { cleanDescriptors: true, retainPatientCharacteristics: true })?.action === 'clean') continue;
    for (const v of textValues(e.value, vr)) {
      const value = v.trim();
      if (!value) continue;
      out.push(value);
      for (const word of value.split(/[\^=\s,;:/\\()]+/)) if (word.length >= 3 && !STOP_WORDS.has(word.toUpperCase())) out.push(word);
    }
  }
}
