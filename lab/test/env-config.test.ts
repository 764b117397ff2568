import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../lib/log.ts';
import { startBroker, type Broker } from '../broker.ts';
import { startData, type DataServer } from '../data/server.ts';
import type { ReadyLine } from '../child.ts';

// A service configured only by the original env var names (no flags but the port),
// and the wire format of a queued vote as another MQTT client sees it.

const SERVICE_MAIN = fileURLToPath(new URL('../service-main.ts', import.meta.url));
const TSX = createRequire(import.meta.url).resolve('tsx');

let dir: string;
let broker: Broker;
let data: DataServer;
let app: ChildProcess | undefined;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'myhero-env-test-'));
  broker = await startBroker({ host: '127.0.0.1', port: 0, log: silentLogger });
  data = await startData({ host: '127.0.0.1', port: 0, dataDir: dir, key: 'SecureData', storageProfile: 'none', log: silentLogger });
});
afterAll(async () => {
  if (app && app.exitCode === null) {
    app.kill('SIGTERM');
    await new Promise((r) => app!.once('exit', r));
  }
  await data.close();
  await broker.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('app configured by myhero_* env vars, queue mode', () => {
  it('publishes the plain hero name, QoS 1, not retained, to MyHero-Votes/<host>-<digit>/<vote id>', async () => {
    const watcher = await mqtt.connectAsync(broker.url);
    await watcher.subscribeAsync('MyHero-Votes/#', { qos: 1 });
    const seen = new Promise<{ topic: string; payload: string; qos: number; retain: boolean }>((resolve) =>
      watcher.once('message', (topic, payload, packet) => resolve({ topic, payload: payload.toString(), qos: packet.qos, retain: packet.retain })),
    );

    const { port, hostname } = new URL(broker.url);
    app = spawn(process.execPath, ['--import', TSX, SERVICE_MAIN, 'app', '--port', '0', '--topic-host', 'myhero-app-7d9f'], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...process.env,
        LOG_LEVEL: 'warn',
        myhero_app_mode: 'queue',
        myhero_app_key: 'SecureApp',
        myhero_data_server: data.url,
        myhero_data_key: 'SecureData',
        myhero_mqtt_host: hostname,
        myhero_mqtt_port: port,
      },
    });
    const ready = await new Promise<ReadyLine>((resolve, reject) => {
      let out = '';
      app!.stdout!.on('data', (c: Buffer) => {
        out += c.toString();
        const line = out.split('\n').find((l) => l.startsWith('{"ready"'));
        if (line) resolve(JSON.parse(line) as ReadyLine);
      });
      app!.once('exit', (code) => reject(new Error(`app exited ${code}`)));
    });

    const refused = await fetch(`${ready.url}/vote/Hulk`, { method: 'POST', headers: { key: 'DevApp' } });
    expect(refused.status).toBe(401);
    const res = await fetch(`${ready.url}/vote/Hulk`, { method: 'POST', headers: { key: 'SecureApp' } });
    expect(await res.json()).toEqual({ result: 'vote submitted' });
    const msg = await seen;
    expect(msg.payload).toBe('Hulk');
    expect(msg.qos).toBe(1);
    expect(msg.retain).toBe(false);
    expect(msg.topic).toMatch(/^MyHero-Votes\/myhero-app-7d9f-[0-9]\/[0-9a-f-]{36}$/);
    // The data key from the env reaches data: results through the app work.
    const results = await fetch(`${ready.url}/v2/results`, { headers: { key: 'SecureApp' } });
    expect(results.status).toBe(200);
    await watcher.endAsync();
  });
});
