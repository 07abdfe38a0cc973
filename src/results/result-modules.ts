import { createHash } from 'node:crypto';
import { el, tag, type DataElement } from '../dicom/dataset-writer.js';
import type { Code } from './ich-codes.js';
import { CODES } from './ich-codes.js';
import type { ResultsContext } from './results-context.js';

/** Modules every result object shares, and small helpers for writing them. */

export const MANUFACTURER = 'medge';

/** What identifies the analysis that made the objects. */
export interface Provenance {
  analyzer: { id: string; version: string };
  softwareVersion: string;
  now: Date;
}

/** DA and TM (PS3.5 6.2) of a date in local time, as the scanner's own dates are. */
export function dateTime(d: Date): { date: string; time: string; dateTime: string } {
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  const date = `${d.getFullYear()}${p(d.getMonth() + 1)}${p(d.getDate())}`;
  const time = `${p(d.getHours())}${p(d.getMinutes())}${p(d.getSeconds())}`;
  return { date, time, dateTime: `${date}${time}` };
}

/** A Code Sequence Macro item (PS3.3 8.8, Table 8.8-1a). */
export function codeItem(c: Code): DataElement[] {
  return [
    el(tag(0x0008, 0x0100), 'SH', c.value),
    el(tag(0x0008, 0x0102), 'SH', c.scheme),
    el(tag(0x0008, 0x0104), 'LO', c.meaning),
  ];
}

export function codeSequence(t: number, ...codes: Code[]): DataElement {
  return el(t, 'SQ', codes.map(codeItem));
}

/**
 * A UID for the algorithm as a device (TID 1004 Device Observer UID): the same for every analysis
 * of one analyzer version, so that reports can be grouped by the device that made them. 2.25 form
 * from a name-based hash (PS3.5 B.2, as a UUID version 5 would be derived).
 */
export function deviceUid(analyzer: { id: string; version: string }): string {
  const h = createHash('sha1').update(`medge:analyzer:${analyzer.id}:${analyzer.version}`).digest();
  h[6] = (h[6]! & 0x0f) | 0x50;
  h[8] = (h[8]! & 0x3f) | 0x80;
  return `2.25.${BigInt(`0x${h.subarray(0, 16).toString('hex')}`).toString()}`;
}

/** Algorithm name as the objects show it. */
export function algorithmName(analyzer: { id: string }): string {
  return `medge ${analyzer.id}`;
}

/**
 * Patient, General Study, Patient Study (copied), a new series of the same study (General Series
 * or SR Document Series), General Equipment, and SOP Common with Contributing Equipment naming the
 * algorithm (PS3.3 C.12.1, Table C.12-1; purpose of reference from CID 7005).
 */
export function commonElements(o: {
  ctx: ResultsContext;
  prov: Provenance;
  sopClassUid: string;
  sopInstanceUid: string;
  seriesInstanceUid: string;
  modality: string;
  seriesNumber: number;
  seriesDescription: string;
  instanceNumber: number;
}): DataElement[] {
  const { date, time, dateTime: dt } = dateTime(o.prov.now);
  const hasCharset = o.ctx.patientStudy.some((e) => e.tag === tag(0x0008, 0x0005));
  return [
    ...o.ctx.patientStudy,
    // Our own text is ASCII, which every character set repertoire includes.
    ...(hasCharset ? [] : [el(tag(0x0008, 0x0005), 'CS', 'ISO_IR 100')]),
    el(tag(0x0008, 0x0012), 'DA', date), // Instance Creation Date
    el(tag(0x0008, 0x0013), 'TM', time),
    el(tag(0x0008, 0x0016), 'UI', o.sopClassUid),
    el(tag(0x0008, 0x0018), 'UI', o.sopInstanceUid),
    el(tag(0x0008, 0x0021), 'DA', date), // Series Date
    el(tag(0x0008, 0x0031), 'TM', time),
    el(tag(0x0008, 0x0023), 'DA', date), // Content Date
    el(tag(0x0008, 0x0033), 'TM', time),
    el(tag(0x0008, 0x0060), 'CS', o.modality),
    el(tag(0x0008, 0x0070), 'LO', MANUFACTURER),
    el(tag(0x0008, 0x103e), 'LO', o.seriesDescription),
    el(tag(0x0008, 0x1090), 'LO', algorithmName(o.prov.analyzer)), // Manufacturer's Model Name
    el(tag(0x0018, 0x1020), 'LO', [o.prov.softwareVersion, `${o.prov.analyzer.id} ${o.prov.analyzer.version}`]), // Software Versions
    el(tag(0x0018, 0xa001), 'SQ', [[
      codeSequence(tag(0x0040, 0xa170), CODES.processingEquipment),
      el(tag(0x0008, 0x0070), 'LO', MANUFACTURER),
      el(tag(0x0008, 0x1090), 'LO', algorithmName(o.prov.analyzer)),
      el(tag(0x0018, 0x1020), 'LO', [o.prov.softwareVersion, `${o.prov.analyzer.id} ${o.prov.analyzer.version}`]),
      el(tag(0x0018, 0xa002), 'DT', dt), // Contribution DateTime
      el(tag(0x0018, 0xa003), 'ST', 'Automated analysis; not for diagnosis'),
    ]]),
    el(tag(0x0020, 0x000d), 'UI', o.ctx.studyInstanceUid),
    el(tag(0x0020, 0x000e), 'UI', o.seriesInstanceUid),
    el(tag(0x0020, 0x0011), 'IS', o.seriesNumber),
    el(tag(0x0020, 0x0013), 'IS', o.instanceNumber),
  ];
}

/**
 * Series numbers of the result series: high and fixed per object kind so that they sort after the
 * scanner's series and are recognisable; DICOM does not require them to be unique (PS3.3 C.7.3.1).
 */
export const SERIES_NUMBERS = { sr: 9901, seg: 9902, keyImage: 9903 } as const;
