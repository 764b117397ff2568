// Optional OpenTelemetry tracing for the twin. With OTEL_EXPORTER_OTLP_ENDPOINT
// unset nothing is imported and every span call just runs its function; when
// it is set, lab/otel.ts starts the OpenTelemetry SDK for the service.
//
// Context crosses process boundaries as a W3C `traceparent`: in an HTTP header
// (app → data, ernst → data) and in the vote topic (app → broker → ernst).

export type SpanKindName = 'server' | 'client' | 'producer' | 'consumer';

export interface Tracing {
  /**
   * Run `fn` inside a new span. `parent` is a traceparent to continue (from a header or topic);
   * without one the span is a child of the current span. `fn` gets the new span's traceparent
   * to pass on, or undefined when tracing is off.
   */
  span<T>(name: string, kind: SpanKindName, parent: string | undefined, fn: (traceparent: string | undefined) => Promise<T>): Promise<T>;
  /** Flush spans not yet exported. */
  shutdown(): Promise<void>;
}

export const noTracing: Tracing = {
  span: (_name, _kind, _parent, fn) => fn(undefined),
  shutdown: async () => {},
};

export async function startTracing(service: string, env: NodeJS.ProcessEnv = process.env): Promise<Tracing> {
  if (!env.OTEL_EXPORTER_OTLP_ENDPOINT) return noTracing;
  const { startOtel } = await import('./otel.ts');
  return startOtel(`myhero-${service}`);
}
