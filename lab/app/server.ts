import { APP_MODES, BODIES, OPTIONS_CACHE_SECONDS, type AppMode, type TwinFlavour } from '../../lib/defaults.ts';
import { LABELS, TWIN } from '../../lib/catalog.ts';
import type { Logger } from '../../lib/log.ts';
import { CORS_HEADERS, DATA_TIMESTAMP_HEADER, OPTION_ERRORS, optionListOf, optionOf, parseJson } from '../api.ts';
import { checkKey, json, Router, serve, text, type Reply, type Request } from '../http.ts';
import { addMetricsRoute, createMetrics } from '../metrics.ts';
import { noTracing, type Tracing } from '../tracing.ts';
import { createDataClient, type DataAnswer } from './data-client.ts';
import { OptionsCache, type Clock } from './options-cache.ts';
import { directSink, originalQueueSink, queueSink, type VoteSink } from './votes.ts';

// myhero-app: the API the UI and the bot call. It checks the app key, caches
// the options for 300 s, and hands votes to data (direct) or to the broker (queue).

export interface AppOptions {
  host: string;
  port: number;
  key: string;
  mode: AppMode;
  dataUrl: string;
  dataKey: string;
  /** Bound on each call to data, and on waiting for the broker's PUBACK (original flavour: on connecting to the broker; data calls are unbounded). */
  timeoutMs: number;
  /** `original`: answers, fails and queues votes as the original does (see lab/README.md). */
  flavour?: TwinFlavour;
  /** Queue mode only. */
  mqttUrl: string;
  /** `<host>` in the vote topic; the original uses the container's hostname. */
  topicHost: string;
  log: Logger;
  tracing?: Tracing;
  /** Injectable for the options-cache tests. */
  clock?: Clock;
}

export interface AppServer {
  url: string;
  /** Graceful: stop accepting, answer in-flight requests, close the broker connection. */
  close(): Promise<void>;
}

const DATA_UNAVAILABLE = { Error: 'Data service unavailable.' };

/** Pass data's answer through as the original does: status, JSON body, and its data_timestamp header. */
const relay = (answer: DataAnswer): Reply => {
  const stamp = answer.headers.get(DATA_TIMESTAMP_HEADER);
  return json(answer.status, answer.body, stamp ? { [DATA_TIMESTAMP_HEADER]: stamp } : {});
};

export async function startApp(opts: AppOptions): Promise<AppServer> {
  const tracing = opts.tracing ?? noTracing;
  const metrics = createMetrics('app');
  const accepted = metrics.counter(TWIN.votesAccepted, 'Votes answered "vote submitted".', [LABELS.mode]);
  const failed = metrics.counter(TWIN.votesFailed, 'Votes answered "vote submission failed".', [LABELS.mode, LABELS.reason]);
  const published = metrics.counter(TWIN.votesPublished, 'Votes acknowledged by the MQTT broker (queue mode).');
  const modeGauge = metrics.gauge(TWIN.appMode, 'The vote processing mode in force (1).', [LABELS.mode]);
  for (const m of APP_MODES) modeGauge.set({ [LABELS.mode]: m }, m === opts.mode ? 1 : 0);
  // Initialised so that rate() and absent-series alerts see them from the first scrape.
  accepted.inc({ [LABELS.mode]: opts.mode }, 0);
  published.inc(0);

  const original = opts.flavour === 'original';
  // The original sets no timeout on its calls to data: under overload a vote waits.
  const data = createDataClient(opts.dataUrl, opts.dataKey, original ? undefined : opts.timeoutMs);
  const queueOptions = { mqttUrl: opts.mqttUrl, host: opts.topicHost, timeoutMs: opts.timeoutMs, tracing, log: opts.log, onPublished: () => published.inc() };
  const sink: VoteSink = opts.mode === 'direct' ? directSink(data, tracing) : original ? originalQueueSink(queueOptions) : await queueSink(queueOptions);
  const cache = new OptionsCache<Reply>(OPTIONS_CACHE_SECONDS * 1000, opts.clock);

  /** A data outage becomes a 502 (hardened); the original does not catch it and answers Werkzeug's HTML 500. */
  const guarded = (handler: (req: Request) => Promise<Reply>) => async (req: Request) => {
    try {
      return await handler(req);
    } catch (err) {
      opts.log.warn({ err: (err as Error).message, route: req.route }, 'data service call failed');
      if (original) throw err;
      return json(502, DATA_UNAVAILABLE);
    }
  };
  const keyed = (handler: (req: Request) => Promise<Reply>) => async (req: Request) => checkKey(req, opts.key) ?? guarded(handler)(req);
  const fromData = (method: string, path: string, body?: unknown) =>
    tracing.span(`${method} ${path}`, 'client', undefined, (traceparent) => data.call(method, path, body, traceparent ? { traceparent } : {}));
  /** Forward an /options call to data; data's answer becomes the cached list when it reports `okStatus`. */
  const optionsFromData = async (method: string, okStatus: number, body?: unknown) => {
    const reply = relay(await fromData(method, '/options', body));
    if (reply.status === okStatus) cache.set({ ...reply, status: 200 });
    return reply;
  };

  const router = new Router()
    .on('GET', '/health', () => text(200, BODIES.health))
    // The probe path of data, forwarded as the original app does (no key).
    .on('GET', '/hero_list', guarded(async () => relay(await fromData('GET', '/hero_list'))))
    .on(
      'POST',
      '/vote/:hero',
      keyed(async (req) => {
        const outcome = await sink.submit(req.params.hero!);
        if (outcome.ok) {
          accepted.inc({ [LABELS.mode]: opts.mode });
          return json(200, BODIES.voteSubmitted);
        }
        failed.inc({ [LABELS.mode]: opts.mode, [LABELS.reason]: outcome.reason });
        if (original && outcome.raised) throw new Error(`vote not submitted: ${outcome.reason}`);
        return json(200, BODIES.voteFailed);
      }),
    )
    .on('GET', '/v2/results', keyed(async () => relay(await fromData('GET', '/v2/results'))))
    .on(
      'GET',
      '/options',
      keyed(async () => {
        return cache.get() ?? optionsFromData('GET', 200);
      }),
    )
    .on(
      'PUT',
      '/options',
      keyed(async (req) => {
        const option = optionOf(parseJson(await req.text()));
        if (option === undefined) return json(400, OPTION_ERRORS.put);
        return optionsFromData('PUT', 201, { option });
      }),
    )
    .on(
      'POST',
      '/options',
      keyed(async (req) => {
        const options = optionListOf(parseJson(await req.text()));
        if (options === undefined) return json(400, OPTION_ERRORS.post);
        return optionsFromData('POST', 201, { options });
      }),
    )
    // As in the original, a delete does not refresh the cache: GET /options may list the option for up to 300 s.
    .on('DELETE', '/options/:option', keyed(async (req) => relay(await fromData('DELETE', `/options/${encodeURIComponent(req.params.option!)}`))));
  // The browser UI calls the app from another origin and sends a `key` header: answer the preflight.
  for (const template of ['/vote/:hero', '/v2/results', '/options', '/options/:option']) router.on('OPTIONS', template, () => text(200, ''));
  addMetricsRoute(router, metrics.registry);

  const http = await serve({
    host: opts.host,
    port: opts.port,
    router,
    headers: CORS_HEADERS,
    tracing,
    ...(opts.flavour ? { flavour: opts.flavour } : {}),
    onResponse: metrics.observe,
    onError: (err) => opts.log.error({ err }, 'app request failed'),
  });
  opts.log.info({ url: http.url, mode: opts.mode, dataUrl: opts.dataUrl }, 'myhero-app listening');
  return {
    url: http.url,
    async close() {
      await http.close();
      await sink.close();
    },
  };
}
