import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ENV, KEYS, LOOPBACK, PORTS, type AppMode, type TwinFlavour } from '../lib/defaults.ts';
import type { Logger } from '../lib/log.ts';
import { assertPortFree } from '../lib/net.ts';
import { startService, type Service } from '../lib/proc.ts';
import { LAB_CHILD_ENV, type ReadyLine } from './child.ts';
import type { StorageProfile } from './data/store.ts';

// The lab orchestrator: the myhero twin as separate processes — the embedded
// broker (queue mode, unless an external one is given), data, ernst (queue
// mode) and app — started in dependency order, each announcing readiness on
// stdout. Separate processes keep a load generator off the twin's event loops
// and make "kill ernst" a real kill.

export type { StorageProfile, TwinFlavour };
/** The storage profiles the twin's data tier emulates, for the commands that start a lab. */
export { STORAGE, STORAGE_PROFILES } from './data/store.ts';

export interface LabOptions {
  mode: AppMode;
  /** Default 127.0.0.1. */
  host?: string;
  /** Default PORTS.data; 0 = ephemeral (tests always pass 0). */
  dataPort?: number;
  /** Default PORTS.app; 0 = ephemeral. */
  appPort?: number;
  /** Embedded Aedes port, default PORTS.mqtt; 0 = ephemeral. */
  mqttPort?: number;
  /** ernst's /metrics port; default 0 (ephemeral). `lab up` uses PORTS.ernstMetrics. */
  ernstMetricsPort?: number;
  /** External broker (e.g. Mosquitto) instead of the embedded one. */
  mqttUrl?: string;
  /** Default: a fresh temporary directory, removed by stop(). */
  dataDir?: string;
  storageProfile?: StorageProfile;
  /** `original`: data, app and ernst behave on the wire as the original services (default `hardened`). */
  flavour?: TwinFlavour;
  appKey?: string;
  dataKey?: string;
  /** How long the app waits for data (direct) or a PUBACK (queue) before "vote submission failed"; default 2 s. */
  timeoutMs?: number;
  /** Extra environment for the services, e.g. OTEL_EXPORTER_OTLP_ENDPOINT. */
  env?: Record<string, string>;
  /** Receives the services' log lines (tagged with `service`); without it they are kept only for error messages. */
  log?: Logger;
}

export interface Lab {
  mode: AppMode;
  appUrl: string;
  dataUrl: string;
  /** The broker in use; empty in direct mode (no broker, as in the original direct deployment). */
  mqttUrl: string;
  dataDir: string;
  storageProfile: StorageProfile;
  flavour: TwinFlavour;
  /** Every /metrics endpoint of the twin, for Prometheus scrape configs. */
  metricsTargets: { service: string; url: string }[];
  /** kill -9 style loss of the consumer, then start a new one (queue mode). */
  restartErnst(): Promise<void>;
  /** Graceful stop of data (SIGTERM); startData() brings it back on the same port and directory. */
  stopData(): Promise<void>;
  startData(): Promise<void>;
  stop(): Promise<void>;
}

type ServiceName = ReadyLine['ready'];

const TSX_LOADER = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
const SERVICE_MAIN = fileURLToPath(new URL('./service-main.ts', import.meta.url));
const READY_TIMEOUT_MS = 30_000;
const PINO_LEVELS: Record<number, 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal'> = {
  10: 'trace',
  20: 'debug',
  30: 'info',
  40: 'warn',
  50: 'error',
  60: 'fatal',
};

interface Running {
  service: Service;
  ready: ReadyLine;
}

/** Re-log a service's pino JSON line through the lab's logger, tagged with the service name. */
function relayLog(log: Logger, name: ServiceName, line: string): void {
  try {
    const { level, msg, time: _t, pid: _p, hostname: _h, name: _n, ...fields } = JSON.parse(line) as Record<string, unknown>;
    log[PINO_LEVELS[level as number] ?? 'info']({ service: name, ...fields }, String(msg ?? ''));
  } catch {
    log.info({ service: name }, line);
  }
}

async function spawnService(name: ServiceName, flags: string[], env: Record<string, string>, log?: Logger): Promise<Running> {
  const service = startService(process.execPath, ['--import', TSX_LOADER, SERVICE_MAIN, name, ...flags], {
    env: { ...process.env, LOG_LEVEL: log?.level ?? 'warn', ...env, [LAB_CHILD_ENV]: '1' },
    // stdin stays open as a lifeline: the service exits when the lab's end of the pipe closes.
    stdio: ['pipe', 'pipe', 'pipe'],
    // Its own process group: a Ctrl-C in the terminal reaches only the lab, which then stops the
    // services in order (app first) instead of all at once.
    detached: true,
  });
  if (log) {
    let partial = '';
    service.child.stderr?.on('data', (chunk: Buffer) => {
      const lines = (partial + chunk.toString()).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) if (line.trim()) relayLog(log, name, line);
    });
  }
  const ready = await new Promise<ReadyLine>((resolve, reject) => {
    let buffered = '';
    const timer = setTimeout(() => {
      service.child.kill('SIGKILL');
      reject(new Error(`lab: ${name} not ready after ${READY_TIMEOUT_MS} ms:\n${service.output()}`));
    }, READY_TIMEOUT_MS);
    service.child.stdout?.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      for (const line of buffered.split('\n').slice(0, -1)) {
        if (!line.startsWith('{"ready"')) continue;
        clearTimeout(timer);
        resolve(JSON.parse(line) as ReadyLine);
      }
    });
    void service.exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`lab: ${name} exited (${code}) before it was ready:\n${service.output()}`));
    });
  });
  return { service, ready };
}

const portOf = (url: string) => Number(new URL(url).port);

export async function startLab(opts: LabOptions): Promise<Lab> {
  const host = opts.host ?? LOOPBACK;
  const queue = opts.mode === 'queue';
  const embeddedBroker = queue && !opts.mqttUrl;
  const storageProfile = opts.storageProfile ?? 'none';
  const flavour = opts.flavour ?? 'hardened';
  const flavourFlags = ['--flavour', flavour];
  const ownDir = !opts.dataDir;
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'myhero-lab-'));
  mkdirSync(dataDir, { recursive: true });
  const dataKey = opts.dataKey ?? KEYS.dataDev;
  const appKey = opts.appKey ?? KEYS.appDev;
  const timeoutMs = opts.timeoutMs ?? 2000;
  const env = { ...opts.env, [ENV.dataKey]: dataKey, [ENV.appKey]: appKey };

  let dataPort = opts.dataPort ?? PORTS.data;
  const appPort = opts.appPort ?? PORTS.app;
  const mqttPort = opts.mqttPort ?? PORTS.mqtt;
  let ernstPort = opts.ernstMetricsPort ?? 0;
  await assertPortFree(host, dataPort, 'myhero-data');
  await assertPortFree(host, appPort, 'myhero-app');
  if (embeddedBroker) await assertPortFree(host, mqttPort, 'the MQTT broker');
  if (queue) await assertPortFree(host, ernstPort, "myhero-ernst's /metrics");

  const running = new Map<ServiceName, Running>();
  const stopService = async (name: ServiceName) => {
    const r = running.get(name);
    running.delete(name);
    await r?.service.stop(10_000);
  };
  const stopAll = async () => {
    // Front to back: no new votes, then the consumer (it finishes the vote in hand), then storage and broker.
    await stopService('app');
    await stopService('ernst');
    await Promise.all([stopService('data'), stopService('broker')]);
  };
  const start = async (name: ServiceName, flags: string[]) => {
    const r = await spawnService(name, ['--host', host, ...flags], env, opts.log);
    running.set(name, r);
    void r.service.exited.then((code) => {
      // Stops and restarts take the service out of `running` first: anything else is a crash.
      if (running.get(name) !== r) return;
      running.delete(name);
      opts.log?.error({ service: name, code, output: r.service.output() }, 'lab service exited unexpectedly');
    });
    return r.ready;
  };

  const metricsTargets: Lab['metricsTargets'] = [];
  let mqttUrl = opts.mqttUrl ?? '';
  let dataUrl = '';
  const startDataService = async () => {
    dataUrl = (await start('data', ['--port', String(dataPort), '--data-dir', dataDir, '--storage-profile', storageProfile, ...flavourFlags])).url;
    dataPort = portOf(dataUrl);
  };
  const ernstFlags = (port: number) => ['--port', String(port), '--data-server', dataUrl, '--mqtt-url', mqttUrl, '--timeout', `${timeoutMs}ms`, ...flavourFlags];
  const startErnst = async () => {
    let ready: ReadyLine;
    try {
      ready = await start('ernst', ernstFlags(ernstPort));
    } catch (err) {
      // An ephemeral port freed by the killed ernst may be taken by another process before the new one binds it.
      if (opts.ernstMetricsPort || !/in use|EADDRINUSE/.test(String(err))) throw err;
      ready = await start('ernst', ernstFlags(0));
    }
    ernstPort = portOf(ready.url);
    const target = metricsTargets.find((t) => t.service === 'ernst');
    if (target) target.url = ready.metricsUrl!;
  };

  try {
    // Broker and data need nothing from each other: start them together.
    const [broker] = await Promise.all([embeddedBroker ? start('broker', ['--port', String(mqttPort)]) : undefined, startDataService()]);
    if (broker) mqttUrl = broker.url;
    if (queue) await startErnst();
    const appFlags = ['--port', String(appPort), '--mode', opts.mode, '--data-server', dataUrl, '--timeout', `${timeoutMs}ms`, ...flavourFlags];
    if (queue) appFlags.push('--mqtt-url', mqttUrl);
    await start('app', appFlags);
  } catch (err) {
    await stopAll();
    if (ownDir) rmSync(dataDir, { recursive: true, force: true });
    throw err;
  }

  const appUrl = running.get('app')!.ready.url;
  metricsTargets.push(
    ...(['app', 'data', 'ernst'] as const).filter((s) => running.has(s)).map((service) => ({ service, url: running.get(service)!.ready.metricsUrl! })),
  );

  // Lifecycle calls run one after another: two overlapping restarts would otherwise leave two ernsts fighting over one session.
  let lifecycle: Promise<unknown> = Promise.resolve();
  const serially = <T>(fn: () => Promise<T>): Promise<T> => {
    const next = lifecycle.then(fn, fn);
    lifecycle = next.catch(() => undefined);
    return next;
  };

  return {
    mode: opts.mode,
    appUrl,
    dataUrl,
    mqttUrl,
    dataDir,
    storageProfile,
    flavour,
    metricsTargets,
    restartErnst: () =>
      serially(async () => {
        if (!queue) throw new Error('lab: ernst runs only in queue mode');
        const ernst = running.get('ernst');
        if (ernst) {
          running.delete('ernst');
          ernst.service.child.kill('SIGKILL');
          await ernst.service.exited;
        }
        await startErnst();
      }),
    stopData: () => serially(() => stopService('data')),
    startData: () =>
      serially(async () => {
        if (!running.has('data')) await startDataService();
      }),
    stop: () =>
      serially(async () => {
        await stopAll();
        if (ownDir) rmSync(dataDir, { recursive: true, force: true });
      }),
  };
}
