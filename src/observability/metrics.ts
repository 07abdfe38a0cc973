/**
 * A minimal Prometheus registry: counters and gauges with labels, rendered in the text exposition
 * format 0.0.4, with histograms for the timeline's stages. Small on purpose.
 */

type Labels = Record<string, string>;

interface Family {
  name: string;
  help: string;
  type: 'counter' | 'gauge' | 'histogram';
  values: Map<string, { labels: Labels; value: number }>;
  /** Histograms: upper bounds and, per label set, cumulative-by-render bucket counts and the sum. */
  buckets?: number[];
  histograms?: Map<string, { labels: Labels; counts: number[]; sum: number; count: number }>;
  collect?: () => void;
}

export interface Histogram {
  /** Records one observation (in the histogram's unit, e.g. seconds). */
  observe(labels: Labels, value: number): void;
}

/** Bucket bounds for latencies in seconds: 10 ms to 2 minutes, dense around the 1 s goal. */
export const LATENCY_BUCKETS_S = [0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1, 1.5, 2, 5, 10, 30, 60, 120];

export interface Counter {
  inc(labels?: Labels, by?: number): void;
}

export interface Gauge {
  set(labels: Labels, value: number): void;
}

export class MetricsRegistry {
  private readonly families = new Map<string, Family>();

  counter(name: string, help: string): Counter {
    const family = this.family(name, help, 'counter');
    return {
      inc: (labels = {}, by = 1) => {
        const key = labelKey(labels);
        const entry = family.values.get(key);
        if (entry) entry.value += by;
        else family.values.set(key, { labels, value: by });
      },
    };
  }

  /** A gauge whose value is read by `collect` each time /metrics is rendered. */
  gauge(name: string, help: string, collect?: (g: Gauge) => void): Gauge {
    const family = this.family(name, help, 'gauge');
    const gauge: Gauge = { set: (labels, value) => family.values.set(labelKey(labels), { labels, value }) };
    if (collect) family.collect = () => collect(gauge);
    return gauge;
  }

  /** A histogram with fixed upper bounds (ascending); +Inf is implied. */
  histogram(name: string, help: string, buckets: number[] = LATENCY_BUCKETS_S): Histogram {
    const family = this.family(name, help, 'histogram');
    family.buckets ??= [...buckets];
    family.histograms ??= new Map();
    const bounds = family.buckets;
    const series = family.histograms;
    return {
      observe: (labels, value) => {
        const key = labelKey(labels);
        let h = series.get(key);
        if (!h) series.set(key, (h = { labels, counts: new Array<number>(bounds.length).fill(0), sum: 0, count: 0 }));
        const i = bounds.findIndex((b) => value <= b);
        if (i >= 0) h.counts[i]!++;
        h.sum += value;
        h.count++;
      },
    };
  }

  /** Observations of one histogram series (count and sum), for tests. */
  histogramValue(name: string, labels: Labels = {}): { count: number; sum: number } {
    const h = this.families.get(name)?.histograms?.get(labelKey(labels));
    return { count: h?.count ?? 0, sum: h?.sum ?? 0 };
  }

  /** Current value of one series, for tests and the health endpoint. */
  value(name: string, labels: Labels = {}): number {
    return this.families.get(name)?.values.get(labelKey(labels))?.value ?? 0;
  }

  render(): string {
    const lines: string[] = [];
    for (const f of this.families.values()) {
      f.collect?.();
      lines.push(`# HELP ${f.name} ${f.help}`, `# TYPE ${f.name} ${f.type}`);
      if (f.values.size === 0 && f.type === 'counter') lines.push(`${f.name} 0`);
      for (const { labels, value } of f.values.values()) lines.push(`${f.name}${renderLabels(labels)} ${value}`);
      for (const h of f.histograms?.values() ?? []) {
        let cumulative = 0;
        f.buckets!.forEach((le, i) => {
          cumulative += h.counts[i]!;
          lines.push(`${f.name}_bucket${renderLabels({ ...h.labels, le: String(le) })} ${cumulative}`);
        });
        lines.push(`${f.name}_bucket${renderLabels({ ...h.labels, le: '+Inf' })} ${h.count}`);
        lines.push(`${f.name}_sum${renderLabels(h.labels)} ${h.sum}`, `${f.name}_count${renderLabels(h.labels)} ${h.count}`);
      }
    }
    return lines.join('\n') + '\n';
  }

  private family(name: string, help: string, type: Family['type']): Family {
    const existing = this.families.get(name);
    if (existing) return existing;
    const created: Family = { name, help, type, values: new Map() };
    this.families.set(name, created);
    return created;
  }
}

function labelKey(labels: Labels): string {
  return Object.keys(labels).sort().map((k) => `${k}=${labels[k]}`).join(',');
}

function renderLabels(labels: Labels): string {
  const keys = Object.keys(labels).sort();
  if (keys.length === 0) return '';
  const esc = (v: string) => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
  return `{${keys.map((k) => `${k}="${esc(labels[k]!)}"`).join(',')}}`;
}
