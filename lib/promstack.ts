import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { LOOPBACK } from './defaults.ts';
import { writeFiles } from './output.ts';
import { freePort, waitForHttp } from './net.ts';
import { findBinary, startService, type Service } from './proc.ts';
import { prometheusApi } from './prometheus-api.ts';

// The real Prometheus tools (Debian packages `prometheus` and `prometheus-alertmanager`):
// where their binaries are, and Prometheus and Alertmanager started on loopback with a
// config of the caller's, for `lab up --prometheus`, `alerts test` and the tests.

const INSTALL_PROM = 'install the Debian package "prometheus" (npm run setup does it)';
const INSTALL_AM = 'install the Debian package "prometheus-alertmanager" (npm run setup does it)';

export const prometheusBinary = () => findBinary(['prometheus'], INSTALL_PROM);
export const promtoolBinary = () => findBinary(['promtool'], INSTALL_PROM);
export const alertmanagerBinary = () => findBinary(['prometheus-alertmanager', 'alertmanager'], INSTALL_AM);
export const amtoolBinary = () => findBinary(['amtool'], INSTALL_AM);

/** Prometheus or Alertmanager on loopback, its files in `dir` (removed by `stop`). */
export interface RunningServer {
  url: string;
  dir: string;
  service: Service;
  stop(): Promise<void>;
}

/** One instant-vector sample from the query API. */
export interface Sample {
  metric: Record<string, string>;
  value: number;
}

export interface RunningPrometheus extends RunningServer {
  /** Instant query; throws on a PromQL error with Prometheus's own message. */
  query(expr: string, time?: number): Promise<Sample[]>;
  /** Poll `query(expr)` until `until(samples)` holds, or throw after `timeoutMs`. */
  waitFor(expr: string, until: (s: Sample[]) => boolean, timeoutMs?: number): Promise<Sample[]>;
}

export interface ServerOptions {
  /** prometheus.yml or alertmanager.yml, as an object or YAML text. Files named in it are resolved inside `dir`. */
  config: object | string;
  /** Extra files written next to it (rule files, targets, templates, secrets). */
  files?: Record<string, string>;
  /** Default: a free ephemeral port. */
  port?: number;
}

/** Start `bin` with its config in a temporary directory, on loopback; resolves once ready, throws with its output if it dies first. */
async function launch(
  what: 'prometheus' | 'alertmanager',
  bin: string,
  opts: ServerOptions,
  args: (dir: string) => string[],
): Promise<RunningServer> {
  const dir = mkdtempSync(join(tmpdir(), `myhero-${what}-`));
  const port = opts.port ?? (await freePort());
  const config = typeof opts.config === 'string' ? opts.config : stringify(opts.config);
  writeFiles(dir, { [`${what}.yml`]: config, ...opts.files });
  const url = `http://${LOOPBACK}:${port}`;
  const service = startService(
    bin,
    [`--config.file=${join(dir, `${what}.yml`)}`, `--web.listen-address=${LOOPBACK}:${port}`, ...args(dir)],
    { cwd: dir },
  );
  const stop = async () => {
    await service.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  const died = service.exited.then((code) => {
    throw new Error(`${what} exited (${code}) before it was ready:\n${service.output()}`);
  });
  try {
    await Promise.race([waitForHttp(`${url}/-/ready`, 20_000), died]);
  } catch (err) {
    await stop();
    throw err;
  }
  return { url, dir, service, stop };
}

export async function startPrometheus(opts: ServerOptions): Promise<RunningPrometheus> {
  const running = await launch('prometheus', prometheusBinary(), opts, (dir) => [`--storage.tsdb.path=${join(dir, 'data')}`]);
  const { url } = running;

  const api = prometheusApi(url);
  const query = async (expr: string, time = Date.now() / 1000): Promise<Sample[]> => {
    const answer = await api.instant(expr, time);
    if (answer.error) throw new Error(`PromQL error for ${expr}: ${answer.error}`);
    if (answer.resultType !== 'vector' && answer.resultType !== 'scalar') return [];
    return answer.result.map((r) => ({ metric: r.metric, value: Number(r.values[0]![1]) }));
  };

  return {
    ...running,
    query,
    async waitFor(expr, until, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      let last: Sample[] = [];
      while (Date.now() < deadline) {
        last = await query(expr);
        if (until(last)) return last;
        await new Promise((r) => setTimeout(r, 250));
      }
      throw new Error(`timed out after ${timeoutMs} ms waiting on ${expr}; last result ${JSON.stringify(last)}`);
    },
  };
}

export type RunningAlertmanager = RunningServer;

export function startAlertmanager(opts: ServerOptions): Promise<RunningAlertmanager> {
  // An empty cluster address turns gossip off: one standalone instance on loopback.
  return launch('alertmanager', alertmanagerBinary(), opts, (dir) => [`--storage.path=${join(dir, 'data')}`, '--cluster.listen-address=']);
}
