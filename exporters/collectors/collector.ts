// What every collector is: a named set of gauges and a read of their sources at scrape time.

export const COLLECTORS = ['cpu', 'thermal', 'freq', 'vcgencmd'] as const;
export type CollectorName = (typeof COLLECTORS)[number];

export interface GaugeDef {
  name: string;
  help: string;
  labelNames: readonly string[];
}

export interface Sample {
  metric: string;
  labels: Record<string, string>;
  value: number;
}

/** One read: the samples of every source that could be read, and why the others could not. */
export interface Reading {
  samples: Sample[];
  errors: string[];
}

export interface Collector {
  name: CollectorName;
  gauges: readonly GaugeDef[];
  read(): Promise<Reading>;
}

const message = (err: unknown) => (err instanceof Error ? err.message : String(err));

type Source = () => Sample[] | Promise<Sample[]>;

/** Read independent sources concurrently: each one that fails is left out and reported, the rest still count. */
export async function readSources(sources: Source[]): Promise<Reading> {
  const results = await Promise.allSettled(sources.map(async (s) => s()));
  const reading: Reading = { samples: [], errors: [] };
  for (const r of results) {
    if (r.status === 'fulfilled') reading.samples.push(...r.value);
    else reading.errors.push(message(r.reason));
  }
  return reading;
}

/** One source per item that `list` finds (a zone, a CPU); when listing itself fails, that is the one error. */
export async function readEach<T>(list: () => T[], read: (item: T) => Sample[]): Promise<Reading> {
  let items: T[];
  try {
    items = list();
  } catch (err) {
    return { samples: [], errors: [message(err)] };
  }
  return readSources(items.map((item) => () => read(item)));
}
