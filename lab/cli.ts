import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { defineCommand, defineGroup } from '../lib/cli.ts';
import { setting } from '../lib/config.ts';
import { APP_MODES, ENV, KEYS, LOOPBACK, PORTS, type AppMode } from '../lib/defaults.ts';
import { assertPortFree } from '../lib/net.ts';
import { bool, int, oneOf, string, url } from '../lib/parse.ts';
import { STORAGE, STORAGE_PROFILES, type StorageProfile } from './data/store.ts';
import { startLab, type Lab } from './lab.ts';
import { prometheusBinary, startPrometheus, type RunningPrometheus } from '../lib/promstack.ts';
import { TWIN_JOB, twinScrapeConfig } from './scrape.ts';
import { durationText, flavour, ms, registerLabServices } from './service-cli.ts';

const portSetting = (flag: string, def: number, what: string) =>
  setting({ flag: `${flag} <n>`, describe: `port for ${what} (0 = any free port)`, default: def, parse: int(0, 65535) });

/** What `lab up` prints: where everything is, and one command to try. */
function describeLab(lab: Lab, appKey: string, prometheusUrl?: string): string {
  const shownKey = appKey === KEYS.appDev ? appKey : `$${ENV.appKey}`;
  const lines = [
    `myhero lab up: mode ${lab.mode}, storage profile ${lab.storageProfile}, flavour ${lab.flavour}`,
    `  app       ${lab.appUrl}`,
    `  data      ${lab.dataUrl}`,
    ...(lab.mqttUrl ? [`  broker    ${lab.mqttUrl}`] : []),
    `  data dir  ${lab.dataDir}`,
    ...(lab.storageProfile === 'pi-sd'
      ? [`  storage   pi-sd: data emulates a Raspberry Pi SD card (one ${STORAGE['pi-sd'].syncLatencyMs} ms sync per vote, serialized) — state it with any result`]
      : []),
    '  metrics',
    ...lab.metricsTargets.map((t) => `    ${t.service.padEnd(7)} ${t.url}`),
    ...(prometheusUrl ? [`  prometheus ${prometheusUrl} (job ${TWIN_JOB})`] : []),
    `  try: curl -H 'key: ${shownKey}' -X POST ${lab.appUrl}/vote/Deadpool`,
    `       curl -H 'key: ${shownKey}' ${lab.appUrl}/v2/results`,
    'Press Ctrl-C to stop.',
  ];
  return lines.join('\n');
}

export function registerLab(program: Command): void {
  const lab = defineGroup(program, 'lab', 'The local lab: a faithful myhero twin, an MQTT broker, Prometheus and Alertmanager');

  defineCommand(lab, {
    name: 'up',
    summary: 'Start the myhero twin (data, app, and in queue mode ernst and the broker) in the foreground',
    help:
      'Start the myhero twin on the docker-compose workstation ports, each service its own process, and stop them all on Ctrl-C.\n' +
      'Direct mode runs data and app; queue mode adds the embedded MQTT broker (or --mqtt-url) and ernst.\n' +
      'Every service serves Prometheus metrics on /metrics. See lab/README.md.',
    section: 'lab',
    spec: {
      mode: setting<AppMode>({ flag: '--mode <mode>', describe: `vote processing: ${APP_MODES.join('|')}`, default: 'direct', parse: oneOf(APP_MODES), env: [ENV.appMode] }),
      host: setting({ flag: '--host <addr>', describe: 'address every service listens on', default: LOOPBACK, parse: string }),
      dataPort: portSetting('--data-port', PORTS.data, 'myhero-data'),
      appPort: portSetting('--app-port', PORTS.app, 'myhero-app'),
      mqttPort: portSetting('--mqtt-port', PORTS.mqtt, 'the embedded MQTT broker'),
      ernstMetricsPort: portSetting('--ernst-metrics-port', PORTS.ernstMetrics, "ernst's /metrics"),
      mqttUrl: setting({ flag: '--mqtt-url <url>', describe: 'use this MQTT broker (e.g. Mosquitto) instead of the embedded one', default: '', parse: url }),
      dataDir: setting({ flag: '--data-dir <dir>', describe: 'where data keeps votes.txt and the options (default: a fresh temporary directory, kept on exit)', default: '', parse: string }),
      storageProfile: setting<StorageProfile>({ flag: '--storage-profile <name>', describe: `storage emulation for data: ${STORAGE_PROFILES.join('|')} (pi-sd: a Raspberry Pi SD card)`, default: 'none', parse: oneOf(STORAGE_PROFILES) }),
      flavour: flavour(),
      timeout: setting({ flag: '--timeout <duration>', describe: 'how long the app waits for data or the broker before "vote submission failed"', default: '2s', parse: durationText }),
      appKey: setting({ flag: '--app-key <key>', describe: 'key myhero-app expects', default: KEYS.appDev, parse: string, env: [ENV.appKey], secret: true }),
      dataKey: setting({ flag: '--data-key <key>', describe: 'key myhero-data expects', default: KEYS.dataDev, parse: string, env: [ENV.dataKey], secret: true }),
      prometheus: setting({ flag: '--prometheus', describe: `also run the real Prometheus, scraping the twin, on port ${PORTS.labPrometheus}`, default: false, parse: bool }),
      json: setting({ flag: '--json', describe: 'print the lab (URLs, metrics targets) as one JSON line instead of text', default: false, parse: bool }),
    },
    async run(cfg, ctx) {
      if (cfg.prometheus) {
        prometheusBinary(); // a missing binary is one clear line before anything starts
        await assertPortFree(cfg.host, PORTS.labPrometheus, 'the lab Prometheus');
      }
      const dataDir = cfg.dataDir || mkdtempSync(join(tmpdir(), 'myhero-lab-'));
      const running = await startLab({
        mode: cfg.mode,
        host: cfg.host,
        dataPort: cfg.dataPort,
        appPort: cfg.appPort,
        mqttPort: cfg.mqttPort,
        ernstMetricsPort: cfg.ernstMetricsPort,
        mqttUrl: cfg.mqttUrl || undefined,
        dataDir,
        storageProfile: cfg.storageProfile,
        flavour: cfg.flavour,
        timeoutMs: ms(cfg.timeout, '--timeout'),
        appKey: cfg.appKey,
        dataKey: cfg.dataKey,
        log: ctx.log,
      }).catch((err: unknown) => {
        if (!cfg.dataDir) rmSync(dataDir, { recursive: true, force: true });
        throw err;
      });
      let prometheus: RunningPrometheus | undefined;
      try {
        if (cfg.prometheus) prometheus = await startPrometheus({ config: twinScrapeConfig(running.metricsTargets), port: PORTS.labPrometheus });
      } catch (err) {
        await running.stop();
        throw err;
      }
      if (cfg.json) {
        const { restartErnst: _r, stopData: _s, startData: _d, stop: _t, ...described } = running;
        ctx.out(JSON.stringify({ ...described, prometheusUrl: prometheus?.url }));
      } else ctx.out(describeLab(running, cfg.appKey, prometheus?.url));
      await new Promise<void>((resolve) => {
        if (ctx.signal.aborted) resolve();
        else ctx.signal.addEventListener('abort', () => resolve(), { once: true });
      });
      await prometheus?.stop();
      await running.stop();
      ctx.log.info({ dataDir }, 'lab stopped; the votes stay in the data directory');
      return 0;
    },
  });

  registerLabServices(defineGroup(lab, 'service', 'Run one twin service (data, app, ernst, broker) in the foreground'));
}
