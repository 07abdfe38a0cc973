import { el, formatDecimal, tag, type DataElement } from '../dicom/dataset-writer.js';
import type { Code } from './ich-codes.js';
import { codeSequence } from './result-modules.js';

/**
 * SR content items (PS3.3 C.17.3, Document Content Macro and Document Relationship Macro) as a
 * small tree, encoded to dataset elements. Only the value types medge writes are here.
 */

export type Relationship = 'CONTAINS' | 'HAS OBS CONTEXT' | 'HAS ACQ CONTEXT' | 'HAS CONCEPT MOD' | 'HAS PROPERTIES' | 'INFERRED FROM';

interface Base {
  rel: Relationship;
  name: Code;
  children?: ContentItem[];
}

export type ContentItem =
  | (Base & { type: 'CONTAINER'; template?: string })
  | (Base & { type: 'TEXT'; text: string })
  | (Base & { type: 'CODE'; code: Code })
  | (Base & { type: 'NUM'; value: number; unit: Code })
  | (Base & { type: 'UIDREF'; uid: string })
  | (Base & { type: 'IMAGE'; sopClassUid: string; sopInstanceUid: string; frame?: number; segment?: number });

const VALUE_TYPE = tag(0x0040, 0xa040);
const RELATIONSHIP_TYPE = tag(0x0040, 0xa010);
const CONCEPT_NAME = tag(0x0040, 0xa043);
const CONTENT_SEQUENCE = tag(0x0040, 0xa730);
const CONTINUITY = tag(0x0040, 0xa050);
const CONTENT_TEMPLATE = tag(0x0040, 0xa504);

/** Content Template Sequence item (PS3.3 C.18.8, Template Identification Macro). */
export function templateSequence(id: string): DataElement {
  return el(CONTENT_TEMPLATE, 'SQ', [[el(tag(0x0008, 0x0105), 'CS', 'DCMR'), el(tag(0x0040, 0xdb00), 'CS', id)]]);
}

/** The root CONTAINER's attributes (they sit in the dataset itself, without a relationship). */
export function rootElements(name: Code, template: string, children: ContentItem[]): DataElement[] {
  return [
    el(VALUE_TYPE, 'CS', 'CONTAINER'),
    codeSequence(CONCEPT_NAME, name),
    el(CONTINUITY, 'CS', 'SEPARATE'),
    templateSequence(template),
    el(CONTENT_SEQUENCE, 'SQ', children.map(itemElements)),
  ];
}

function itemElements(item: ContentItem): DataElement[] {
  const out: DataElement[] = [
    el(RELATIONSHIP_TYPE, 'CS', item.rel),
    el(VALUE_TYPE, 'CS', item.type),
    codeSequence(CONCEPT_NAME, item.name),
  ];
  switch (item.type) {
    case 'CONTAINER':
      out.push(el(CONTINUITY, 'CS', 'SEPARATE'));
      if (item.template) out.push(templateSequence(item.template));
      break;
    case 'TEXT':
      out.push(el(tag(0x0040, 0xa160), 'UT', item.text));
      break;
    case 'CODE':
      out.push(codeSequence(tag(0x0040, 0xa168), item.code));
      break;
    case 'NUM':
      // Measured Value Sequence (C.18.1): DS is limited to 16 characters; FD keeps the full value.
      out.push(el(tag(0x0040, 0xa300), 'SQ', [[
        codeSequence(tag(0x0040, 0x08ea), item.unit),
        el(tag(0x0040, 0xa30a), 'DS', formatDecimal(item.value)),
        el(tag(0x0040, 0xa161), 'FD', item.value),
      ]]));
      break;
    case 'UIDREF':
      out.push(el(tag(0x0040, 0xa124), 'UI', item.uid));
      break;
    case 'IMAGE': {
      const ref: DataElement[] = [el(tag(0x0008, 0x1150), 'UI', item.sopClassUid), el(tag(0x0008, 0x1155), 'UI', item.sopInstanceUid)];
      if (item.frame !== undefined) ref.push(el(tag(0x0008, 0x1160), 'IS', item.frame));
      if (item.segment !== undefined) ref.push(el(tag(0x0062, 0x000b), 'US', item.segment));
      out.push(el(tag(0x0008, 0x1199), 'SQ', [ref]));
      break;
    }
  }
  if (item.children && item.children.length > 0) out.push(el(CONTENT_SEQUENCE, 'SQ', item.children.map(itemElements)));
  return out;
}

/** Shorthands for building trees. */
export const sr = {
  container: (rel: Relationship, name: Code, children: ContentItem[], template?: string): ContentItem =>
    template ? { type: 'CONTAINER', rel, name, children, template } : { type: 'CONTAINER', rel, name, children },
  text: (rel: Relationship, name: Code, text: string): ContentItem => ({ type: 'TEXT', rel, name, text }),
  code: (rel: Relationship, name: Code, code: Code, children?: ContentItem[]): ContentItem => ({ type: 'CODE', rel, name, code, ...(children ? { children } : {}) }),
  num: (rel: Relationship, name: Code, value: number, unit: Code, children?: ContentItem[]): ContentItem => ({ type: 'NUM', rel, name, value, unit, ...(children ? { children } : {}) }),
  uidref: (rel: Relationship, name: Code, uid: string): ContentItem => ({ type: 'UIDREF', rel, name, uid }),
};
