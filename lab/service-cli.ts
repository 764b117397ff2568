import { mkdirSync, mkdtempSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { defineCommand, type RunContext } from '../lib/cli.ts';
import { setting } from '../lib/config.ts';
import { APP_MODES, ENV, KEYS, LOOPBACK, PORTS, TWIN_FLAVOURS, type AppMode, type TwinFlavour } from '../lib/defaults.ts';
import { assertPortFree } from '../lib/net.ts';
import { duration, int, oneOf, string, url, type Parser } from '../lib/parse.ts';
import { startApp } from './app/server.ts';
import { startBroker } from './broker.ts';
import { LAB_CHILD_ENV, type ReadyLine } from './child.ts';
import { startData } from './data/server.ts';
import { STORAGE_PROFILES, type StorageProfile } from './data/store.ts';
import { startErnst } from './ernst/consumer.ts';
import { mqttUrlOf } from './mqtt.ts';
import { startTracing } from './tracing.ts';

// `lab service <data|app|ernst|broker>`: one twin service in the foreground,
// configured by flags or by the original env var names. The lab orchestrator
// runs each as its own process; each prints one JSON line `{"ready": ...}` on
// stdout once it serves, and shuts down gracefully on SIGTERM/Ctrl-C.

const port = (def: number, what: string) =>
  setting({ flag: '--port <n>', describe: `TCP port for ${what} (0 = any free port)`, default: def, parse: int(0, 65535) });
const host = () => setting({ flag: '--host <addr>', describe: 'address to listen on', default: LOOPBACK, parse: string });
const dataKey = () =>
  setting({ flag: '--data-key <key>', describe: 'key myhero-data expects', default: KEYS.dataDev, parse: string, env: [ENV.dataKey], secret: true });
/** Durations stay text in the settings (so help shows "2s"), validated on parse; `ms()` converts them. */
export const durationText: Parser<string> = (raw, name) => (duration(raw, name), raw.trim());
export const ms = (text: string, name: string) => duration(text, name);
const timeout = (what: string) => setting({ flag: '--timeout <duration>', describe: what, default: '2s', parse: durationText });
/** `--flavour hardened|original`, shared with `lab up`. */
export const flavour = () =>
  setting<TwinFlavour>({
    flag: '--flavour <name>',
    describe: `${TWIN_FLAVOURS.join('|')}: hardened, or behaving on the wire as the original services (Connection: close, HTML 500s, QoS 0 retained votes; see lab/README.md)`,
    default: 'hardened',
    parse: oneOf(TWIN_FLAVOURS),
  });
const dataSettings = () => ({
  dataServer: setting({ flag: '--data-server <url>', describe: `myhero-data URL (default: http://${LOOPBACK}:${PORTS.data})`, default: '', parse: url, env: [ENV.dataServer] }),
  dataSrv: setting({ flag: '--data-srv <host[:port]>', describe: 'myhero-data service name, used when no URL is given', default: '', parse: string, env: [ENV.dataSrv] }),
  dataKey: dataKey(),
});
const mqttSettings = () => ({
  mqttUrl: setting({ flag: '--mqtt-url <url>', describe: 'MQTT broker URL; overrides --mqtt-host/--mqtt-port', default: '', parse: url }),
  mqttHost: setting({ flag: '--mqtt-host <host>', describe: 'MQTT broker host', default: LOOPBACK, parse: string, env: [ENV.mqttHost] }),
  mqttPort: setting({ flag: '--mqtt-port <n>', describe: 'MQTT broker port', default: PORTS.mqtt, parse: int(1, 65535), env: [ENV.mqttPort] }),
});

/** The data URL as the original resolves it: explicit URL first, then the service name. */
const dataUrlOf = (cfg: { dataServer: string; dataSrv: string }) =>
  cfg.dataServer || (cfg.dataSrv ? `http://${cfg.dataSrv}` : `http://${LOOPBACK}:${PORTS.data}`);

/** Announce readiness, then hold until Ctrl-C/SIGTERM (or the lab's pipe closing), then close gracefully. */
async function serveUntilStopped(ctx: RunContext, ready: ReadyLine, close: () => Promise<void>): Promise<number> {
  ctx.out(JSON.stringify(ready));
  await new Promise<void>((resolve) => {
    if (ctx.signal.aborted) return resolve();
    ctx.signal.addEventListener('abort', () => resolve(), { once: true });
    if (process.env[LAB_CHILD_ENV]) {
      process.stdin.once('end', resolve).once('close', resolve).resume();
    }
  });
  ctx.log.info({ service: ready.ready }, 'stopping: no new requests, finishing in-flight ones');
  // A close that hangs (a peer already gone) must not leave the service running after the lab is gone.
  setTimeout(() => {
    ctx.log.warn({ service: ready.ready, afterMs: STOP_DEADLINE_MS }, 'graceful stop did not finish: exiting');
    process.exit(0);
  }, STOP_DEADLINE_MS).unref();
  await close();
  return 0;
}

/** How long a service may take to stop gracefully before it exits anyway (the lab waits up to 10 s). */
const STOP_DEADLINE_MS = 8000;

export function registerLabServices(parent: Command): void {
  defineCommand(parent, {
    name: 'data',
    summary: 'Run myhero-data: hero options and votes in plain text files',
    help:
      'Run the twin of myhero-data. Votes are appended to <data-dir>/votes.txt and acknowledged only once on disk.\n' +
      'The pi-sd storage profile emulates a Raspberry Pi SD card (one 25 ms sync per vote, serialized); see lab/README.md.',
    section: 'lab-data',
    spec: {
      host: host(),
      port: port(PORTS.data, 'myhero-data'),
      dataDir: setting({ flag: '--data-dir <dir>', describe: 'directory for votes.txt and myhero_options.txt (default: a fresh temporary directory)', default: '', parse: string, env: ['myhero_data_dir'] }),
      key: setting({ flag: '--key <key>', describe: 'key clients must send', default: KEYS.dataDev, parse: string, env: [ENV.dataKey], secret: true }),
      storageProfile: setting<StorageProfile>({ flag: '--storage-profile <name>', describe: `storage emulation: ${STORAGE_PROFILES.join('|')}`, default: 'none', parse: oneOf(STORAGE_PROFILES) }),
      flavour: flavour(),
    },
    async run(cfg, ctx) {
      await assertPortFree(cfg.host, cfg.port, 'myhero-data');
      const dataDir = cfg.dataDir || mkdtempSync(join(tmpdir(), 'myhero-data-'));
      mkdirSync(dataDir, { recursive: true });
      const tracing = await startTracing('data');
      const data = await startData({ ...cfg, dataDir, log: ctx.log, tracing });
      return serveUntilStopped(ctx, { ready: 'data', url: data.url, metricsUrl: `${data.url}/metrics` }, async () => {
        await data.close();
        await tracing.shutdown();
      });
    },
  });

  defineCommand(parent, {
    name: 'app',
    summary: 'Run myhero-app: the voting API, in direct or queue mode',
    help: 'Run the twin of myhero-app. direct: each vote is posted to data; queue: each vote is published to the MQTT broker (QoS 1).',
    section: 'lab-app',
    spec: {
      host: host(),
      port: port(PORTS.app, 'myhero-app'),
      key: setting({ flag: '--key <key>', describe: 'key clients must send', default: KEYS.appDev, parse: string, env: [ENV.appKey], secret: true }),
      mode: setting<AppMode>({ flag: '--mode <mode>', describe: `vote processing: ${APP_MODES.join('|')}`, default: 'direct', parse: oneOf(APP_MODES), env: [ENV.appMode] }),
      ...dataSettings(),
      ...mqttSettings(),
      timeout: timeout('how long to wait for data (direct) or the broker (queue) before answering "vote submission failed" (original flavour: for the broker only)'),
      flavour: flavour(),
      topicHost: setting({ flag: '--topic-host <name>', describe: '<host> in the vote topic MyHero-Votes/<host>-<digit>', default: hostname(), parse: string }),
    },
    async run(cfg, ctx) {
      await assertPortFree(cfg.host, cfg.port, 'myhero-app');
      const tracing = await startTracing('app');
      const app = await startApp({
        host: cfg.host,
        port: cfg.port,
        key: cfg.key,
        mode: cfg.mode,
        dataUrl: dataUrlOf(cfg),
        dataKey: cfg.dataKey,
        timeoutMs: ms(cfg.timeout, '--timeout'),
        mqttUrl: mqttUrlOf(cfg.mqttUrl, cfg.mqttHost, cfg.mqttPort),
        topicHost: cfg.topicHost,
        flavour: cfg.flavour,
        log: ctx.log,
        tracing,
      });
      return serveUntilStopped(ctx, { ready: 'app', url: app.url, metricsUrl: `${app.url}/metrics` }, async () => {
        await app.close();
        await tracing.shutdown();
      });
    },
  });

  defineCommand(parent, {
    name: 'ernst',
    summary: 'Run myhero-ernst: takes votes off MQTT and posts them to data',
    help: 'Run the twin of myhero-ernst: a persistent QoS 1 subscription to MyHero-Votes/#; a vote is acknowledged to the broker only after data recorded it.',
    section: 'lab-ernst',
    spec: {
      host: host(),
      port: port(PORTS.ernstMetrics, "ernst's /metrics"),
      ...dataSettings(),
      ...mqttSettings(),
      clientId: setting({ flag: '--client-id <id>', describe: 'MQTT client id of the persistent session', default: 'myhero-ernst', parse: string }),
      timeout: timeout('bound on each post to data'),
      retryMax: setting({ flag: '--retry-max <duration>', describe: 'longest pause between retries while data is unavailable', default: '5s', parse: durationText }),
      flavour: flavour(),
    },
    async run(cfg, ctx) {
      await assertPortFree(cfg.host, cfg.port, "myhero-ernst's /metrics");
      const tracing = await startTracing('ernst');
      const ernst = await startErnst({
        mqttUrl: mqttUrlOf(cfg.mqttUrl, cfg.mqttHost, cfg.mqttPort),
        dataUrl: dataUrlOf(cfg),
        dataKey: cfg.dataKey,
        clientId: cfg.clientId,
        metricsHost: cfg.host,
        metricsPort: cfg.port,
        timeoutMs: ms(cfg.timeout, '--timeout'),
        retryMaxMs: ms(cfg.retryMax, '--retry-max'),
        flavour: cfg.flavour,
        log: ctx.log,
        tracing,
      });
      return serveUntilStopped(ctx, { ready: 'ernst', url: ernst.metricsUrl.replace(/\/metrics$/, ''), metricsUrl: ernst.metricsUrl }, async () => {
        await ernst.close();
        await tracing.shutdown();
      });
    },
  });

  defineCommand(parent, {
    name: 'broker',
    summary: 'Run the embedded MQTT broker (Aedes)',
    help: 'Run the zero-install MQTT 3.1.1 broker of the lab (Aedes, in-memory sessions).',
    section: 'lab-broker',
    spec: { host: host(), port: port(PORTS.mqtt, 'MQTT') },
    async run(cfg, ctx) {
      await assertPortFree(cfg.host, cfg.port, 'the MQTT broker');
      const broker = await startBroker({ ...cfg, log: ctx.log });
      return serveUntilStopped(ctx, { ready: 'broker', url: broker.url }, () => broker.close());
    },
  });
}
