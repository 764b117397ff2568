import type { AppMode } from '../lib/defaults.ts';
import type { Logger } from '../lib/log.ts';
import { startLab, type StorageProfile } from '../lab/lab.ts';
import type { ModeProvider } from './compare.ts';

// Two of the three ways to get direct and queue mode for a comparison: the lab
// twin (a fresh one per run, so every run starts from an empty votes file), or
// two deployments the user already runs. Kubernetes is in k8s-mode.ts.

/** A fresh lab twin per run, on ephemeral loopback ports, stopped after the run. */
export function labModes(opts: { storageProfile: StorageProfile; log?: Logger }): ModeProvider {
  return {
    describe: { source: 'lab (myhero twin on loopback, one fresh twin per run)', storageProfile: opts.storageProfile },
    async acquire(mode: AppMode) {
      const lab = await startLab({ mode, dataPort: 0, appPort: 0, mqttPort: 0, storageProfile: opts.storageProfile, ...(opts.log ? { log: opts.log.child({}, { level: 'warn' }) } : {}) });
      return {
        target: lab.appUrl,
        twinMetrics: lab.metricsTargets,
        conditions: { storageProfile: lab.storageProfile },
        release: () => lab.stop(),
      };
    },
    close: async () => {},
  };
}

/** Two deployments, one per mode, already running. */
export function urlModes(urls: Record<AppMode, string>): ModeProvider {
  return {
    describe: { source: 'two deployments', targets: urls },
    acquire: async (mode: AppMode) => ({ target: urls[mode], release: async () => {} }),
    close: async () => {},
  };
}
