import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import type { Interval } from './accounting.ts';
import { prepareShard, type ShardResult, type ShardSpec } from './shard.ts';

// A shard on its own thread, for targets one thread cannot saturate. Both ends of
// the message protocol live here: spawnShard (main thread) and the worker body.
// autocannon's own `workers` option was not used: its hooks must be module paths
// require()d in the worker and only aggregate histograms come back, so per-answer
// body classification and the pacing of the open model would be lost.

type ToWorker = { type: 'start'; startAt: number } | { type: 'abort' };
type FromWorker = { type: 'ready' } | { type: 'interval'; interval: Interval } | { type: 'result'; result: ShardResult } | { type: 'error'; message: string };

export interface ShardThread {
  /** Resolves once the worker has loaded, opened its connections and waits for `start`. */
  ready: Promise<void>;
  start(startAt: number): Promise<ShardResult>;
  abort(): void;
  terminate(): Promise<void>;
}

/** Start a worker thread for one shard. The worker loads this TypeScript file through tsx. */
export function spawnShard(spec: ShardSpec, onInterval: (i: Interval) => void): ShardThread {
  const entry = new URL(import.meta.url).href;
  const boot = `import('tsx/esm/api').then((m) => { m.register(); return import(${JSON.stringify(entry)}); })`;
  const worker = new Worker(boot, { eval: true, workerData: spec });
  let onResult: (r: ShardResult) => void = () => {};
  let onError: (e: Error) => void = () => {};
  const done = new Promise<ShardResult>((resolve, reject) => {
    onResult = resolve;
    onError = reject;
  });
  let markReady: () => void = () => {};
  const ready = new Promise<void>((resolve, reject) => {
    markReady = resolve;
    worker.once('error', reject);
  });
  worker.on('message', (m: FromWorker) => {
    if (m.type === 'ready') markReady();
    else if (m.type === 'interval') onInterval(m.interval);
    else if (m.type === 'result') onResult(m.result);
    else onError(new Error(m.message));
  });
  worker.on('error', (e) => onError(e));
  worker.on('exit', (code) => onError(new Error(`load worker exited with code ${code}`)));
  const post = (m: ToWorker) => worker.postMessage(m);
  return {
    ready,
    start(startAt) {
      post({ type: 'start', startAt });
      return done;
    },
    abort: () => post({ type: 'abort' }),
    terminate: async () => {
      await worker.terminate();
    },
  };
}

if (!isMainThread && parentPort && (workerData as ShardSpec | undefined)?.target) {
  const port = parentPort;
  const spec = workerData as ShardSpec;
  const abort = new AbortController();
  const send = (m: FromWorker) => port.postMessage(m);
  // Connections open now; the main thread starts every shard at the same time.
  const shard = prepareShard(spec, (interval) => send({ type: 'interval', interval }), abort.signal);
  port.on('message', (m: ToWorker) => {
    if (m.type === 'abort') abort.abort();
    else
      shard.start(m.startAt).then(
        (result) => send({ type: 'result', result }),
        (err: unknown) => send({ type: 'error', message: err instanceof Error ? err.message : String(err) }),
      );
  });
  void shard.connected.then(() => send({ type: 'ready' }));
}
