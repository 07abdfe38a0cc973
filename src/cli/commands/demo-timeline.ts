/**
 * The study's timeline as `medge demo` prints it: one line per stage, in the order of the clock
 * (DESIGN.md, "The clock"), each relative to the moment the scanner started sending.
 */

/** GET /api/studies/{uid}, as far as the demo reads it (the timeline's shape is fixed by issue 4). */
export interface StudyView {
  timeline?: {
    firstReceivedAt?: string | null;
    lastReceivedAt?: string | null;
    readyAt?: string | null;
    readyTrigger?: string | null;
    analysisStartedAt?: string | null;
    analysisFinishedAt?: string | null;
    analysisStatus?: string | null;
    alerts?: {
      id: string;
      severity: string;
      headline?: string;
      dispatchedAt?: string | null;
      deliveries?: { channel: string; deliveredAt?: string | null }[];
      acknowledgedAt?: string | null;
      acknowledgedBy?: string | null;
    }[];
  };
}

export interface TimelineLine {
  /** Identifies the stage, so that a line is printed once. */
  key: string;
  text: string;
  /** ms since the epoch, for ordering. */
  t: number;
}

/**
 * Lines for the stages present so far; `finished` once the alert is dispatched (expectAlert) or
 * the analysis finished (no alert expected).
 */
export function timelineLines(view: StudyView, sentAt: number, expectAlert: boolean): { lines: TimelineLine[]; finished: boolean } {
  const t = view.timeline ?? {};
  const lines: TimelineLine[] = [];
  const at = (iso: string | null | undefined) => (iso ? `+${String(Date.parse(iso) - sentAt).padStart(6)} ms` : '');
  const add = (key: string, iso: string | null | undefined, text: string) => {
    if (iso) lines.push({ key, text: `  ${at(iso)}  ${text}`, t: Date.parse(iso) });
  };
  add('first', t.firstReceivedAt, 'first instance received');
  add('last', t.lastReceivedAt, 'last instance received');
  add('ready', t.readyAt, `series complete (${t.readyTrigger ?? 'unknown trigger'})`);
  add('started', t.analysisStartedAt, 'analysis started');
  add('finished', t.analysisFinishedAt, `analysis finished${t.analysisStatus ? `: ${t.analysisStatus}` : ''}`);
  for (const a of t.alerts ?? []) {
    add(`alert:${a.id}`, a.dispatchedAt, `ALERT ${a.severity.toUpperCase()}${a.headline ? `: ${a.headline}` : ''} (id ${a.id})`);
    if (a.dispatchedAt && t.lastReceivedAt) {
      const ms = Date.parse(a.dispatchedAt) - Date.parse(t.lastReceivedAt);
      lines.push({ key: `tta:${a.id}`, text: `             time-to-alert ${ms} ms (alert dispatched - last instance received)`, t: Date.parse(a.dispatchedAt) + 0.5 });
    }
    for (const d of a.deliveries ?? []) add(`delivered:${a.id}:${d.channel}`, d.deliveredAt, `delivered on ${d.channel}`);
    add(`ack:${a.id}`, a.acknowledgedAt, `acknowledged by ${a.acknowledgedBy ?? 'someone'}`);
  }
  lines.sort((x, y) => x.t - y.t);
  const finished = expectAlert ? (t.alerts ?? []).some((a) => !!a.dispatchedAt) : !!t.analysisFinishedAt;
  return { lines, finished };
}
