/**
 * A minimal Prometheus registry: counters and gauges with labels, rendered in the text exposition
 * format 0.0.4. Small on purpose; histograms arrive with the pipeline timeline.
 */

type Labels = Record<string, string>;

interface Family {
  name: string;
  help: string;
  type: 'counter' | 'gauge';
  values: Map<string, { labels: Labels; value: number }>;
  collect?: () => void;
}

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
