import type { Db } from './index-db.js';
import { ATTRIBUTE_BY_KEYWORD, LEVEL_ORDER, attributesUpTo, type QueryAttribute, type QueryLevel } from './query-attributes.js';

/** Matching keys by keyword, values as DICOM matching strings (PS3.4 C.2.2.2). '' is universal. */
export type QueryKeys = Record<string, string>;

export interface QueryOptions {
  limit?: number;
  offset?: number;
}

/** One answer: keyword to string value ('' when absent), for every attribute up to the level. */
export type QueryRow = Record<string, string>;

const FROM: Record<QueryLevel, string> = {
  PATIENT: 'patients p',
  STUDY: 'studies st JOIN patients p ON p.pk = st.patient_pk',
  SERIES: 'series se JOIN studies st ON st.study_uid = se.study_uid JOIN patients p ON p.pk = st.patient_pk',
  IMAGE:
    'instances i JOIN series se ON se.series_uid = i.series_uid JOIN studies st ON st.study_uid = se.study_uid JOIN patients p ON p.pk = st.patient_pk',
};

const ORDER: Record<QueryLevel, string> = {
  PATIENT: 'p.patient_id, p.pk',
  STUDY: 'st.last_received_at DESC, st.study_uid',
  SERIES: 'CAST(se.series_number AS INTEGER), se.series_uid',
  IMAGE: 'CAST(i.instance_number AS INTEGER), i.sop_uid',
};

/**
 * Runs a Study Root query at `level` against the index. Keys of unknown attributes are ignored
 * (PS3.4 C.2.2.1.2 lets an SCP skip unsupported keys); keys at levels below `level` are ignored.
 * Matching (PS3.4 C.2.2.2): single value, UID list, wildcard * and ?, date/time range, universal.
 * PN matching is case-insensitive, as most archives do.
 */
export function runQuery(db: Db, level: QueryLevel, keys: QueryKeys, options: QueryOptions = {}): QueryRow[] {
  const where: string[] = [];
  const params: unknown[] = [];
  for (const [keyword, value] of Object.entries(keys)) {
    const attr = ATTRIBUTE_BY_KEYWORD.get(keyword);
    if (!attr || attr.computed || LEVEL_ORDER[attr.level] > LEVEL_ORDER[level] || value === '' || value === '*') continue;
    const clause = matchClause(attr, value, params);
    if (clause) where.push(clause);
  }
  const attrs = attributesUpTo(level);
  const select = attrs.map((a) => `${a.column} AS "${a.keyword}"`).join(', ');
  const sql =
    `SELECT ${select} FROM ${FROM[level]}` +
    (where.length ? ` WHERE ${where.join(' AND ')}` : '') +
    ` ORDER BY ${ORDER[level]} LIMIT ? OFFSET ?`;
  params.push(options.limit ?? -1, options.offset ?? 0);
  const rows = db.prepare(sql).all(...params) as Record<string, unknown>[];
  return rows.map((row) => {
    const out: QueryRow = {};
    for (const a of attrs) out[a.keyword] = formatValue(a, row[a.keyword]);
    return out;
  });
}

function formatValue(attr: QueryAttribute, v: unknown): string {
  if (v === null || v === undefined) return '';
  if (attr.keyword === 'ModalitiesInStudy') return String(v).split(',').filter(Boolean).join('\\');
  return String(v);
}

function matchClause(attr: QueryAttribute, value: string, params: unknown[]): string | undefined {
  const col = attr.column;
  if (attr.vr === 'UI' && value.includes('\\')) {
    const uids = value.split('\\').filter(Boolean);
    params.push(...uids);
    return `${col} IN (${uids.map(() => '?').join(',')})`;
  }
  if ((attr.vr === 'DA' || attr.vr === 'TM') && value.includes('-')) {
    const [from, to] = value.split('-').map((s) => s.trim());
    const parts: string[] = [];
    if (from) {
      parts.push(`${col} >= ?`);
      params.push(from);
    }
    if (to) {
      parts.push(`${col} <= ?`);
      params.push(attr.vr === 'TM' ? `${to}\uffff` : to);
    }
    return parts.length ? `(${parts.join(' AND ')})` : undefined;
  }
  const hasWildcard = /[*?]/.test(value);
  if (attr.vr === 'PN') {
    // LIKE is case-insensitive for ASCII in SQLite; escape its own wildcards first.
    params.push(value.replace(/[\\%_]/g, (c) => `\\${c}`).replace(/\*/g, '%').replace(/\?/g, '_'));
    return `${col} LIKE ? ESCAPE '\\'`;
  }
  if (hasWildcard) {
    params.push(value.replace(/[[\]]/g, (c) => `[${c}]`));
    return `${col} GLOB ?`;
  }
  params.push(value);
  return `${col} = ?`;
}
