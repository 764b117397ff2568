import type { TwinFlavour } from '../../lib/defaults.ts';
import type { Logger } from '../../lib/log.ts';
import { LABELS, TWIN } from '../../lib/catalog.ts';
import { DATA_TIMESTAMP_HEADER, IDEMPOTENCY_HEADER, OPTION_ERRORS, optionListOf, optionOf, parseJson, pythonNow } from '../api.ts';
import { checkKey, json, Router, serve, type Reply, type Request } from '../http.ts';
import { addMetricsRoute, createMetrics } from '../metrics.ts';
import type { Tracing } from '../tracing.ts';
import { ALREADY_LISTED, OptionsFile } from './options.ts';
import { STORAGE_PROFILES, VoteStore, type StorageProfile } from './store.ts';
import { resultsV1, resultsV2, tally } from './tally.ts';

// myhero-data: the hero options and the votes, in plain text files, behind the
// original HTTP API. Votes and options changes need the data key; /hero_list
// (the probe path) and the results do not, as in the original.

export interface DataOptions {
  host: string;
  port: number;
  dataDir: string;
  key: string;
  storageProfile: StorageProfile;
  /** `original`: answers as the original Flask service does on the wire (see lab/README.md). */
  flavour?: TwinFlavour;
  log: Logger;
  tracing?: Tracing;
}

export interface DataServer {
  url: string;
  store: VoteStore;
  /** Graceful: stop accepting, answer in-flight requests, flush the votes file. */
  close(): Promise<void>;
}

/** The original answers option changes with the list (or the "already listed" text) under `options`. */
const optionsReply = (status: number, options: string[] | string): Reply => json(status, { options });

export async function startData(opts: DataOptions): Promise<DataServer> {
  const metrics = createMetrics('data');
  const recorded = metrics.counter(TWIN.votesRecorded, 'Votes durably appended to the votes file.');
  const duplicates = metrics.counter(TWIN.votesDuplicate, 'Redelivered votes ignored because their idempotency key was already recorded.');
  const profile = metrics.gauge(TWIN.storageProfile, 'Storage profile in force (1) or not (0).', [LABELS.profile]);
  for (const p of STORAGE_PROFILES) profile.set({ [LABELS.profile]: p }, p === opts.storageProfile ? 1 : 0);

  const store = await VoteStore.open(opts.dataDir, opts.storageProfile);
  const options = new OptionsFile(opts.dataDir);
  const keyed = (handler: (req: Request) => Promise<Reply>) => (req: Request) => checkKey(req, opts.key) ?? handler(req);
  const original = opts.flavour === 'original';
  /** The original stamps its options and results answers with when the data was read. */
  const stamped = (r: Reply): Reply => (original ? { ...r, headers: { ...r.headers, [DATA_TIMESTAMP_HEADER]: pythonNow() } } : r);

  const router = new Router()
    .on('GET', '/hero_list', async () => json(200, { heros: await options.list() }))
    .on(
      'POST',
      '/vote/:hero',
      keyed(async (req) => {
        const hero = req.params.hero!;
        // One line per vote: a hero name with a line break would split into two votes.
        if (/[\r\n]/.test(hero)) return json(400, { Error: 'Hero name must not contain a line break.' });
        const outcome = await store.append(hero, req.header(IDEMPOTENCY_HEADER));
        (outcome === 'recorded' ? recorded : duplicates).inc();
        return json(200, { result: '1' });
      }),
    )
    .on('GET', '/results', async () => json(200, resultsV1(tally(await store.read()))))
    // The original also sends a "Total Votes" header; a space is not allowed in an HTTP header name (Node
    // refuses it) and no client reads it, so the twin leaves it out.
    .on('GET', '/v2/results', async () => stamped(json(200, resultsV2(tally(await store.read()), original ? 'full' : 'truncated'))))
    .on('GET', '/options', keyed(async () => stamped(optionsReply(200, await options.list()))))
    .on(
      'PUT',
      '/options',
      keyed(async (req) => {
        const option = optionOf(parseJson(await req.text()));
        if (option === undefined) return json(400, OPTION_ERRORS.put);
        const result = await options.add(option);
        return optionsReply(201, result === ALREADY_LISTED ? ALREADY_LISTED : result);
      }),
    )
    .on(
      'POST',
      '/options',
      keyed(async (req) => {
        const list = optionListOf(parseJson(await req.text()));
        if (list === undefined) return json(400, OPTION_ERRORS.post);
        return optionsReply(201, await options.replace(list));
      }),
    )
    .on('DELETE', '/options/:option', keyed(async (req) => optionsReply(202, await options.remove(req.params.option!))));
  addMetricsRoute(router, metrics.registry);

  const http = await serve({
    host: opts.host,
    port: opts.port,
    router,
    ...(opts.flavour ? { flavour: opts.flavour } : {}),
    tracing: opts.tracing,
    onResponse: metrics.observe,
    onError: (err) => opts.log.error({ err }, 'data request failed'),
  });
  opts.log.info({ url: http.url, dataDir: opts.dataDir, storageProfile: opts.storageProfile }, 'myhero-data listening');
  return {
    url: http.url,
    store,
    async close() {
      await http.close();
      await store.close();
    },
  };
}
