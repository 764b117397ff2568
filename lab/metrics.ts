import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { LABELS, TWIN } from '../lib/catalog.ts';
import { text, type Router } from './http.ts';

// One Prometheus registry per twin service, labelled `service`, with the RED
// metrics every route records and a /metrics route. Vote counters are created
// by the service that owns them, through the helpers below, so names always
// come from the catalogue.

/** Buckets reaching down to 1 ms: loopback answers are fast until storage or a timeout slows them. */
const DURATION_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export interface ServiceMetrics {
  registry: Registry;
  /** RED hook for lab/http.ts `serve({ onResponse })`. */
  observe(route: string, method: string, status: number, seconds: number): void;
  counter<L extends string>(name: string, help: string, labelNames?: readonly L[]): Counter<L>;
  gauge<L extends string>(name: string, help: string, labelNames?: readonly L[]): Gauge<L>;
}

export function createMetrics(service: 'data' | 'app' | 'ernst'): ServiceMetrics {
  const registry = new Registry();
  registry.setDefaultLabels({ [LABELS.service]: service });
  collectDefaultMetrics({ register: registry });
  const labelNames = [LABELS.route, LABELS.method, LABELS.code] as const;
  const requests = new Counter({
    name: TWIN.httpRequests,
    help: 'HTTP requests answered, by route template, method and status code.',
    labelNames,
    registers: [registry],
  });
  const duration = new Histogram({
    name: TWIN.httpDuration,
    help: 'Time to answer an HTTP request, by route template, method and status code.',
    labelNames,
    buckets: DURATION_BUCKETS,
    registers: [registry],
  });
  return {
    registry,
    observe(route, method, status, seconds) {
      const labels = { [LABELS.route]: route, [LABELS.method]: method, [LABELS.code]: String(status) };
      requests.inc(labels);
      duration.observe(labels, seconds);
    },
    counter: (name, help, names = []) => new Counter({ name, help, labelNames: names, registers: [registry] }),
    gauge: (name, help, names = []) => new Gauge({ name, help, labelNames: names, registers: [registry] }),
  };
}

/** Add `GET /metrics` to a router. */
export function addMetricsRoute(router: Router, registry: Registry): Router {
  return router.on('GET', '/metrics', async () => text(200, await registry.metrics(), registry.contentType));
}
