import { createServer, type Server } from 'node:http';
import { Counter, Gauge, Registry, type Metric } from 'prom-client';
import { LABELS, LOADTEST } from '../lib/catalog.ts';
import { listen, urlHost } from '../lib/net.ts';
import { LATENCY_BUCKETS_S } from './accounting.ts';
import type { IntervalSample } from './engine.ts';

// Live Prometheus metrics of a running load test, so the load-test dashboard can
// watch it. Fed from the engine's per-second samples (which also come from
// worker threads), labelled with the mode being measured.

export interface LiveMetrics {
  url: string;
  /** Add one second of a run. */
  observe(mode: string, sample: IntervalSample): void;
  setBacklog(mode: string, votes: number): void;
  close(): Promise<void>;
}

/**
 * The latency histogram, built from the bucket counts each sample carries (the
 * shards bucket their own latencies, so no per-request value crosses threads).
 * Exposed through prom-client's registry, which only calls get() on a metric.
 */
class BucketHistogram {
  readonly name = LOADTEST.latency;
  readonly help = 'Vote latency measured by the load runner (from the intended send time in the open model).';
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  private byMode = new Map<string, { buckets: number[]; sum: number; count: number }>();

  add(mode: string, buckets: readonly number[], sumMs: number): void {
    const h = this.byMode.get(mode) ?? this.byMode.set(mode, { buckets: new Array<number>(LATENCY_BUCKETS_S.length + 1).fill(0), sum: 0, count: 0 }).get(mode)!;
    buckets.forEach((c, i) => (h.buckets[i]! += c));
    h.sum += sumMs / 1000;
    h.count += buckets.reduce((a, b) => a + b, 0);
  }

  get() {
    const values = [...this.byMode].flatMap(([mode, h]) => {
      let cumulative = 0;
      const les = [...LATENCY_BUCKETS_S.map(String), '+Inf'];
      return [
        ...les.map((le, i) => ({ metricName: `${this.name}_bucket`, labels: { [LABELS.mode]: mode, le }, value: (cumulative += h.buckets[i]!) })),
        { metricName: `${this.name}_sum`, labels: { [LABELS.mode]: mode }, value: h.sum },
        { metricName: `${this.name}_count`, labels: { [LABELS.mode]: mode }, value: h.count },
      ];
    });
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }
}

/** Serve the metrics on host:port; port 0 means no endpoint (the returned object only counts). */
export async function startLiveMetrics(host: string, port: number): Promise<LiveMetrics> {
  const registry = new Registry();
  const labelNames = [LABELS.mode];
  const attempted = new Counter({ name: LOADTEST.votesAttempted, help: 'Votes the load runner sent.', labelNames, registers: [registry] });
  const accepted = new Counter({ name: LOADTEST.votesAccepted, help: 'Votes answered HTTP 200 "vote submitted".', labelNames, registers: [registry] });
  const errors = new Counter({
    name: LOADTEST.errors,
    help: 'Failed votes by class (http_<status>, vote_failed, timeout, refused, reset, other, aborted) and failed reads (read).',
    labelNames: [LABELS.mode, LABELS.errorClass],
    registers: [registry],
  });
  const requests = new Counter({ name: LOADTEST.requests, help: 'Requests the load runner sent (votes and reads).', labelNames, registers: [registry] });
  const voters = new Gauge({ name: LOADTEST.voters, help: 'Active voters (closed model) or target requests/s (open model).', labelNames, registers: [registry] });
  const backlog = new Gauge({ name: LOADTEST.backlog, help: 'Votes accepted but not yet recorded.', labelNames, registers: [registry] });
  const latency = new BucketHistogram();
  registry.registerMetric(latency as unknown as Metric);

  let server: Server | undefined;
  let url = '';
  if (port !== 0) {
    server = createServer((req, res) => {
      if (req.url !== '/metrics') {
        res.writeHead(404).end('see /metrics\n');
        return;
      }
      registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
        (err: Error) => res.writeHead(500).end(err.message),
      );
    });
    const bound = await listen(server, port, host, 'the live metrics of the load test; pass another --metrics-port, or 0 for none');
    url = `http://${urlHost(host)}:${bound}/metrics`;
  }

  return {
    url,
    observe(mode, s) {
      const m = { [LABELS.mode]: mode };
      attempted.inc(m, s.attempted);
      accepted.inc(m, s.accepted);
      requests.inc(m, s.requests);
      for (const [cls, n] of Object.entries(s.errors)) errors.inc({ ...m, [LABELS.errorClass]: cls }, n);
      if (s.readErrors) errors.inc({ ...m, [LABELS.errorClass]: 'read' }, s.readErrors);
      latency.add(mode, s.latencyBuckets, s.latencySumMs);
      voters.set(m, s.level);
      if (s.backlog !== undefined) backlog.set(m, s.backlog);
    },
    setBacklog: (mode, n) => backlog.set({ [LABELS.mode]: mode }, n),
    close: () => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())),
  };
}
