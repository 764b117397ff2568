import { APP_MODES, type AppMode, type TwinFlavour } from '../lib/defaults.ts';
import { startLab, type Lab, type StorageProfile } from '../lab/lab.ts';
import type { ModeProvider, ModeTarget } from './compare.ts';

// Two of the three ways to get direct and queue mode for a comparison: the lab
// twin, or two deployments the user already runs. Kubernetes is in k8s-mode.ts.

/** After Ctrl-C, how long to wait for the labs to stop before returning. */
const INTERRUPTED_STOP_MS = 1000;

/** Where a comparison sends one mode's load on a running lab twin (ernst restartable in queue mode). */
export const labTarget = (lab: Lab): ModeTarget => ({
  target: lab.appUrl,
  twinMetrics: lab.metricsTargets,
  conditions: { storageProfile: lab.storageProfile, flavour: lab.flavour },
  ...(lab.mode === 'queue' ? { restartConsumer: () => lab.restartErnst() } : {}),
});

/**
 * One lab twin per mode (both, or the `modes` given) on ephemeral loopback ports, all
 * started at the first acquire (in parallel: starting the four processes costs seconds)
 * and kept across trials; each run's before/after reconciliation makes earlier votes irrelevant.
 */
export function labModes(opts: { storageProfile: StorageProfile; flavour: TwinFlavour; modes?: readonly AppMode[] }): ModeProvider {
  const modes = opts.modes ?? APP_MODES;
  let labs: Promise<Partial<Record<AppMode, Lab>>> | undefined;
  // The services' own logs are not relayed, so they do not interleave with the progress
  // line and the results; their output stays with the lab for its error messages.
  const startAll = async (): Promise<Partial<Record<AppMode, Lab>>> => {
    const started = await Promise.allSettled(modes.map((mode) => startLab({ mode, dataPort: 0, appPort: 0, mqttPort: 0, storageProfile: opts.storageProfile, flavour: opts.flavour })));
    const failed = started.find((s) => s.status === 'rejected');
    if (failed) {
      await Promise.all(started.map((s) => (s.status === 'fulfilled' ? s.value.stop() : undefined)));
      throw (failed as PromiseRejectedResult).reason;
    }
    return Object.fromEntries(started.map((s, i) => [modes[i]!, (s as PromiseFulfilledResult<Lab>).value]));
  };
  const labOf = async (mode: AppMode): Promise<Lab> => {
    const lab = (await (labs ??= startAll()))[mode];
    if (!lab) throw new Error(`lab: no twin in ${mode} mode was started`);
    return lab;
  };
  return {
    describe: { source: `lab (myhero twin on loopback, ${modes.length > 1 ? 'one per mode, kept across trials' : `${modes[0]} mode`})`, storageProfile: opts.storageProfile, flavour: opts.flavour },
    acquire: async (mode: AppMode) => labTarget(await labOf(mode)),
    preflight: async () => Promise.all(modes.map(async (mode) => labTarget(await labOf(mode)))),
    async close(interrupted) {
      const running = await labs?.catch(() => undefined);
      if (!running) return;
      const stopped = Promise.all(Object.values(running).map((l) => l!.stop()));
      // After Ctrl-C give the services a moment, no more: each exits by itself when this process does (the lab's stdin lifeline).
      await (interrupted ? Promise.race([stopped, new Promise((r) => setTimeout(r, INTERRUPTED_STOP_MS).unref())]) : stopped);
    },
  };
}

/** Two deployments, one per mode, already running. */
export function urlModes(urls: Record<AppMode, string>): ModeProvider {
  return {
    describe: { source: 'two deployments', targets: urls },
    acquire: async (mode: AppMode) => ({ target: urls[mode] }),
    preflight: async () => APP_MODES.map((mode) => ({ target: urls[mode] })),
    close: async () => {},
  };
}
