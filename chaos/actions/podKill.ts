import type { ChaosContext } from '../context.ts';
import { pickVictimPods, type BlastRadius } from '../safety.ts';

// Pod kill: delete pods chosen at random among a selector's live pods, never
// more than the blast radius allows. The ReplicaSet replaces them; how fast is
// what the run measures.

export interface PodKillSpec {
  selector: string;
  radius: BlastRadius;
  /** Grace period for the delete; undefined = the pod's own terminationGracePeriodSeconds. */
  graceSeconds?: number;
  /** After the last kill, wait this long for the selector's Ready count to come back (a verdict). */
  recoverWithinMs?: number;
}

export function describePodKill(s: PodKillSpec): string {
  const how = 'count' in s.radius ? `${s.radius.count} pod(s)` : `${s.radius.percent}% of the pods`;
  const grace = s.graceSeconds === undefined ? '' : ` with grace ${s.graceSeconds} s`;
  return `delete ${how} chosen at random among pods matching ${s.selector}${grace}`;
}

/** One round of kills; returns the names of the pods deleted (or that would be). */
export async function podKill(cx: ChaosContext, s: PodKillSpec): Promise<string[]> {
  const pods = await cx.kube.listPods(cx.namespace, { labelSelector: s.selector });
  const victims = pickVictimPods(pods, s.radius, s.selector, cx.random);
  const names = victims.map((p) => p.metadata!.name!);
  for (const name of names) {
    const detail = `pod ${cx.namespace}/${name}${s.graceSeconds === undefined ? '' : ` (grace ${s.graceSeconds} s)`}`;
    if (cx.dryRun) {
      cx.say(`would delete ${detail}`);
      cx.journal.action({ name: 'pod-kill', detail, ok: true, dryRun: true });
      continue;
    }
    try {
      await cx.kube.deletePod(cx.namespace, name, s.graceSeconds);
      cx.journal.action({ name: 'pod-kill', detail, ok: true });
      cx.log.info({ pod: name }, 'pod deleted');
    } catch (err) {
      cx.journal.action({ name: 'pod-kill', detail, ok: false, error: (err as Error).message });
      throw err;
    }
  }
  return names;
}
