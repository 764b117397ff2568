import { Counter, Gauge, Registry } from 'prom-client';
import { RPI } from '../lib/catalog.ts';
import type { ExporterLog } from './log.ts';
import type { Collector, CollectorName, Sample } from './collectors/collector.ts';
import { memoize } from './memo.ts';

// The exporter's own prom-client Registry (never the global one, and no Node process
// metrics: a Pi's dashboards want the board, not the exporter's heap). Every gauge reads
// its values in collect(), at scrape time, from one shared read of all collectors: the
// metrics of one scrape, and of scrapes that arrive while it runs, come from one read.

interface Snapshot {
  samples: Map<string, Sample[]>;
}

export function createExporterRegistry(collectors: Collector[], opts: { version: string; log?: ExporterLog }): Registry {
  const registry = new Registry();
  const lastErrors = new Map<CollectorName, string>();

  const errors = new Counter({
    name: RPI.collectorErrors,
    help: 'Scrapes in which a collector could not read all of its sources (those series were left out).',
    labelNames: ['collector'],
    registers: [],
    // The self-metrics wait for the scrape's read, so they describe this scrape rather than the last.
    collect: async () => void (await snapshot()),
  });
  const duration = new Gauge({
    name: RPI.collectorDuration,
    help: 'How long each collector took to read its sources in the last scrape, in seconds.',
    labelNames: ['collector'],
    registers: [],
    collect: async () => void (await snapshot()),
  });

  const readOne = async (c: Collector): Promise<Sample[]> => {
    const started = performance.now();
    const reading = await c.read();
    duration.set({ collector: c.name }, (performance.now() - started) / 1000);
    if (reading.errors.length > 0) errors.inc({ collector: c.name });
    // Log when a collector's trouble starts, changes or ends, not on every scrape.
    const summary = reading.errors.join('; ');
    if (summary !== (lastErrors.get(c.name) ?? '')) {
      if (summary) opts.log?.warn({ collector: c.name, errors: [...new Set(reading.errors)] }, 'collector left out series it could not read');
      else opts.log?.info({ collector: c.name }, 'collector reads all of its sources again');
      lastErrors.set(c.name, summary);
    }
    return reading.samples;
  };

  const snapshot = memoize(async (): Promise<Snapshot> => {
    const samples = new Map<string, Sample[]>();
    for (const s of (await Promise.all(collectors.map(readOne))).flat()) {
      samples.set(s.metric, [...(samples.get(s.metric) ?? []), s]);
    }
    return { samples };
  }, 0);

  for (const c of collectors) {
    for (const def of c.gauges) {
      registry.registerMetric(
        new Gauge({
          name: def.name,
          help: def.help,
          labelNames: def.labelNames,
          registers: [],
          async collect() {
            const { samples } = await snapshot();
            this.reset();
            // An unlabelled gauge resets to 0; a source that could not be read must be absent instead.
            if (def.labelNames.length === 0) this.remove();
            for (const s of samples.get(def.name) ?? []) this.set(s.labels, s.value);
          },
        }),
      );
    }
    // Present from the start, so rate() and increase() see the first error.
    errors.inc({ collector: c.name }, 0);
  }

  registry.registerMetric(errors);
  registry.registerMetric(duration);
  const buildInfo = new Gauge({
    name: RPI.buildInfo,
    help: 'Version of the exporter; always 1.',
    labelNames: ['version'],
    registers: [registry],
  });
  buildInfo.set({ version: opts.version }, 1);
  return registry;
}
