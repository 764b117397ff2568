import { setTimeout as sleep } from 'node:timers/promises';
import { describeError } from '../lib/errors.ts';
import type { CoreV1Event } from '../lib/kube.ts';
import type { ChaosContext } from './context.ts';
import type { Sample } from './journal.ts';

// While a run lasts: sample the target's ready replicas and HPA replicas for the
// timeline, and collect the Kubernetes events of the namespace (polled, deduped
// by uid and count) into the journal. Polling keeps the RBAC needs to get/list.

export interface ObserveTargets {
  deployment?: string;
  hpa?: string;
  /** Latest load figures, merged into each sample. */
  load?: () => Pick<Sample, 'errorRate' | 'requests'> | undefined;
}

export interface Observer {
  stop(): Promise<void>;
}

function eventTime(e: CoreV1Event): number {
  const at = e.lastTimestamp ?? e.eventTime ?? e.firstTimestamp ?? e.metadata?.creationTimestamp;
  return at ? new Date(at).getTime() : 0;
}

export function observe(cx: ChaosContext, targets: ObserveTargets, everyMs: number): Observer {
  const stop = new AbortController();
  const seen = new Map<string, number>();
  const since = cx.journal.startMs - 1000;

  const pollEvents = async () => {
    for (const e of await cx.kube.listEvents(cx.namespace)) {
      const uid = e.metadata?.uid ?? `${e.metadata?.name}`;
      const count = e.count ?? 1;
      if (seen.get(uid) === count || eventTime(e) < since) continue;
      seen.set(uid, count);
      const at = eventTime(e);
      cx.journal.event({
        t: Math.max(0, at - cx.journal.startMs),
        at: new Date(at).toISOString(),
        type: e.type ?? 'Normal',
        reason: e.reason ?? '',
        object: `${e.involvedObject.kind?.toLowerCase()}/${e.involvedObject.name}`,
        message: e.message ?? '',
        count,
      });
    }
  };

  const takeSample = async () => {
    const s: Sample = { t: cx.journal.now() };
    if (targets.deployment) {
      const d = await cx.kube.getDeployment(cx.namespace, targets.deployment);
      s.readyReplicas = d.status?.readyReplicas ?? 0;
    }
    if (targets.hpa) {
      const h = await cx.kube.getHpa(cx.namespace, targets.hpa);
      s.hpaReplicas = h.status?.currentReplicas;
      s.hpaDesiredReplicas = h.status?.desiredReplicas;
    }
    Object.assign(s, targets.load?.());
    cx.journal.sample(s);
  };

  const loop = (async () => {
    let warned = false;
    while (!stop.signal.aborted) {
      try {
        await Promise.all([takeSample(), pollEvents()]);
      } catch (err) {
        // Observation must not end the run (the API may be what is being disturbed); say it once.
        if (!warned) cx.log.warn({ err: describeError(err) }, 'observation failed; timeline may have gaps');
        warned = true;
      }
      await sleep(everyMs, undefined, { signal: stop.signal }).catch(() => undefined);
    }
  })();

  return {
    async stop() {
      stop.abort();
      await loop;
      // One last look so the events caused by the rollbacks are in the journal too.
      await Promise.all([takeSample(), pollEvents()]).catch(() => undefined);
    },
  };
}
