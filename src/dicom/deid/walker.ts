import type { TextCleaner } from './clean-text.js';
import { deriveUid } from './keys.js';
import { resolveAction, type Action, type DeidOptions } from './profile.js';
import type { RawElement } from './raw-dataset.js';
import { dummyValue, FREE_TEXT_VRS, isEmptyValue, shiftDates, textValue, textValues } from './values.js';

/** What one instance's de-identification did, by action (elements, nested ones included). */
export interface DeidStats {
  removed: number;
  zeroed: number;
  dummied: number;
  uidsReplaced: number;
  cleaned: number;
  datesShifted: number;
  privateRemoved: number;
  /** Patient's Name and Patient ID replaced by the pseudonym. */
  pseudonymized: number;
}

export function emptyStats(): DeidStats {
  return { removed: 0, zeroed: 0, dummied: 0, uidsReplaced: 0, cleaned: 0, datesShifted: 0, privateRemoved: 0, pseudonymized: 0 };
}

/** The instance-wide facts the walk needs, computed once by the caller. */
export interface WalkContext {
  secret: Uint8Array;
  options: DeidOptions;
  pseudonym: string;
  /** Days the Modified Dates option moves this patient's dates (negative). */
  shiftDays: number;
  /** Built on first use: only the clean actions need it. */
  cleaner: () => TextCleaner;
  stats: DeidStats;
  /** Original UID -> replacement, for the mapping table. */
  uids: Map<string, string>;
}

const PATIENT_NAME = 0x00100010;
const PATIENT_ID = 0x00100020;
const TEXT_VRS: ReadonlySet<string> = new Set([...FREE_TEXT_VRS, 'AE']);

/**
 * Applies the profile to a list of elements and, recursively, to every item of every sequence
 * kept. `inDummySequence`: inside a sequence whose action is D (Content Sequence, Verifying
 * Observer Sequence, Person Identification Code Sequence...), where free text that the table does
 * not name (a code value, a text value) is replaced by a dummy too, and an element whose VR is
 * unknown (Implicit VR, not in the dictionary) is removed, since it cannot be judged.
 */
export function walkElements(elements: readonly RawElement[], ctx: WalkContext, inDummySequence: boolean): RawElement[] {
  const out: RawElement[] = [];
  for (const e of elements) {
    const kept = walkElement(e, ctx, inDummySequence);
    if (kept) out.push(kept);
  }
  return out;
}

function walkElement(e: RawElement, ctx: WalkContext, inDummySequence: boolean): RawElement | undefined {
  const { stats } = ctx;
  if ((e.tag >>> 16) % 2 === 1) {
    // PS3.15 E.3.10 not implemented: every private element goes, creators included.
    stats.privateRemoved++;
    return undefined;
  }
  // Group Length (gggg,0000) is retired (PS3.5 7.2) and wrong once values change.
  if ((e.tag & 0xffff) === 0) return undefined;
  if (isOverlay(e.tag)) {
    // Table E.1-1 removes Overlay Data and Overlay Comments (X); the rest of the Overlay Plane
    // (PS3.3 C.9.2) would then describe an overlay whose Type 1 data is missing: it all goes.
    stats.removed++;
    return undefined;
  }
  if (e.tag === PATIENT_NAME || e.tag === PATIENT_ID) {
    // Z in Table E.1-1; the profile allows a dummy instead, and a consistent pseudonym is one.
    stats.pseudonymized++;
    return { tag: e.tag, vr: e.vr, value: textValue(ctx.pseudonym) };
  }
  const resolved = resolveAction(e.tag, ctx.options);
  if (!resolved) {
    if (e.items) return { ...e, items: walkItems(e, ctx, inDummySequence) };
    if (!inDummySequence) return e;
    if (e.vr === 'UN') {
      stats.removed++;
      return undefined;
    }
    if (FREE_TEXT_VRS.has(e.vr) && !isEmptyValue(e.value)) {
      stats.dummied++;
      return { tag: e.tag, vr: e.vr, value: dummyValue(e.vr, e.value!)! };
    }
    return e;
  }
  // Implicit VR: the table knows the VR the stream does not say.
  const vr = e.vr === 'UN' && resolved.vr && !resolved.vr.includes(' ') ? resolved.vr : e.vr;
  if (vr === 'SQ' && !e.items) {
    // A sequence that could not be read as one (a damaged UN): it cannot be walked, so it goes.
    stats.removed++;
    return undefined;
  }
  return apply(e, vr, applicable(resolved.action, vr, e), ctx, inDummySequence);
}

/** Clean and shift apply to text and dates; elsewhere the Basic Profile's action stands. */
function applicable(action: Action, vr: string, e: RawElement): Action {
  // TM and the UTC offset (SH) carry no date: with the dates moved they stay as they are.
  if (action === 'shift' && vr !== 'DA' && vr !== 'DT') return vr === 'TM' || vr === 'SH' ? 'keep' : basic(e);
  if (action === 'clean' && vr === 'CS') return 'keep'; // coded, and '*' is no CS character
  if (action === 'clean' && !e.items && !TEXT_VRS.has(vr)) return basic(e);
  return action;
}

function basic(e: RawElement): Action {
  return resolveAction(e.tag, {})!.action;
}

function apply(e: RawElement, vr: string, action: Action, ctx: WalkContext, inDummySequence: boolean): RawElement | undefined {
  const { stats } = ctx;
  const empty = !e.items && isEmptyValue(e.value) && !e.encapsulated;
  switch (action) {
    case 'remove':
      stats.removed++;
      return undefined;
    case 'zero':
      stats.zeroed++;
      return zero(e);
    case 'remove-or-zero':
      if (e.items) return removeOrZeroSequence(e, stats);
      stats.zeroed++;
      return zero(e);
    case 'keep':
      return e.items ? { ...e, items: walkItems(e, ctx, inDummySequence) } : e;
    case 'walk':
      if (e.items) return { ...e, items: walkItems(e, ctx, inDummySequence) };
      return vr === 'UI' ? replaceUids(e, ctx) : e;
    case 'uid':
      return vr === 'UI' ? replaceUids(e, ctx) : dummy(e, vr, ctx);
    case 'dummy':
      if (e.items) return { ...e, items: walkItems(e, ctx, true) };
      if (vr === 'UI') return replaceUids(e, ctx);
      return empty ? e : dummy(e, vr, ctx);
    case 'zero-or-dummy':
    case 'remove-or-dummy':
      // A sequence's dummy would be invented items: none (X), or empty (Z) where Type 2.
      if (e.items) return removeOrZeroSequence(e, stats);
      if (vr === 'UI') return replaceUids(e, ctx);
      return empty ? e : dummy(e, vr, ctx);
    case 'clean':
      if (e.items) return { ...e, items: walkItems(e, ctx, inDummySequence) };
      if (empty) return e;
      stats.cleaned++;
      return { tag: e.tag, vr: e.vr, value: clean(e.value!, vr, ctx) };
    case 'shift':
      if (empty) return e;
      stats.datesShifted++;
      return { tag: e.tag, vr: e.vr, value: shiftDates(e.value!, vr as 'DA' | 'DT', ctx.shiftDays) };
  }
}

/**
 * X/Z, X/D, X/Z/D on a sequence with items. Z (an empty sequence) is right for a Type 2 sequence
 * and an error for a Type 3 one (dciodvfy: "Bad Sequence number of Items 0"), X the other way
 * round. Of the sequences so marked in Table E.1-1 only Acquisition Context Sequence is Type 2
 * (PS3.3 C.7.6.14); the others (Referenced Study, Referenced Performed Procedure Step,
 * Institution Code, Operator Identification) are Type 3 wherever they appear in image IODs.
 */
function removeOrZeroSequence(e: RawElement, stats: DeidStats): RawElement | undefined {
  if (e.items!.length === 0) return e;
  if (TYPE2_SEQUENCES.has(e.tag)) {
    stats.zeroed++;
    return zero(e);
  }
  stats.removed++;
  return undefined;
}
const TYPE2_SEQUENCES: ReadonlySet<number> = new Set([0x00400555]);

/** PS3.5 7.6: the repeating groups 6000-601E (even) of overlays. */
function isOverlay(tag: number): boolean {
  const group = tag >>> 16;
  return group >= 0x6000 && group <= 0x601e && group % 2 === 0;
}

function walkItems(e: RawElement, ctx: WalkContext, inDummySequence: boolean): RawElement[][] {
  return e.items!.map((item) => walkElements(item, ctx, inDummySequence));
}

function zero(e: RawElement): RawElement {
  return e.items ? { ...e, items: [] } : { tag: e.tag, vr: e.vr, value: Buffer.alloc(0) };
}

function dummy(e: RawElement, vr: string, ctx: WalkContext): RawElement {
  ctx.stats.dummied++;
  const original = e.value ?? Buffer.alloc(0);
  return { tag: e.tag, vr: e.vr, value: dummyValue(vr, original) ?? Buffer.alloc(0) };
}

function clean(value: Buffer, vr: string, ctx: WalkContext): Buffer {
  const cleaner = ctx.cleaner();
  const values = textValues(value, vr).map((v) => cleaner.clean(v));
  return textValue(values.join('\\'));
}

/** U: each value replaced by its keyed derivation (keys.ts), the same wherever it appears. */
function replaceUids(e: RawElement, ctx: WalkContext): RawElement {
  const values = textValues(e.value, 'UI').map((v) => {
    const original = v.trim();
    if (!original) return '';
    let replacement = ctx.uids.get(original);
    if (!replacement) {
      replacement = deriveUid(ctx.secret, original);
      ctx.uids.set(original, replacement);
    }
    return replacement;
  });
  if (values.length) ctx.stats.uidsReplaced++;
  return { tag: e.tag, vr: e.vr, value: textValue(values.join('\\'), 'UI') };
}
