import { context, propagation, SpanKind, SpanStatusCode, trace, type Context } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { NodeSDK } from '@opentelemetry/sdk-node';
import type { SpanKindName, Tracing } from './tracing.ts';

// The OpenTelemetry SDK for one twin service, loaded only when
// OTEL_EXPORTER_OTLP_ENDPOINT is set. The exporter reads the standard OTEL_*
// env vars (endpoint, headers, OTEL_BSP_SCHEDULE_DELAY, ...).

const KINDS: Record<SpanKindName, SpanKind> = {
  server: SpanKind.SERVER,
  client: SpanKind.CLIENT,
  producer: SpanKind.PRODUCER,
  consumer: SpanKind.CONSUMER,
};

export function startOtel(serviceName: string): Tracing {
  const sdk = new NodeSDK({ serviceName, traceExporter: new OTLPTraceExporter(), instrumentations: [] });
  sdk.start();
  const tracer = trace.getTracer('myhero-ops-lab');
  return {
    span(name, kind, parent, fn) {
      const base: Context = parent ? propagation.extract(context.active(), { traceparent: parent }) : context.active();
      return tracer.startActiveSpan(name, { kind: KINDS[kind] }, base, async (span) => {
        const carrier: Record<string, string> = {};
        propagation.inject(context.active(), carrier);
        try {
          return await fn(carrier.traceparent);
        } catch (err) {
          span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) });
          throw err;
        } finally {
          span.end();
        }
      });
    },
    shutdown: () => sdk.shutdown(),
  };
}
