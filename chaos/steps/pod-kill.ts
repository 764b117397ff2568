import { setTimeout as sleep } from 'node:timers/promises';
import { podReady, podTerminating } from '../../lib/kube.ts';
import { MIN_INTERVAL_MS, STEP_LIMIT_SLACK_MS } from '../defaults.ts';
import { outcome } from '../journal.ts';
import { seconds, secs, waitUntil, type ChaosContext } from '../context.ts';
import { pickVictimPods, type BlastRadius } from '../safety.ts';
import { duration, graceSeconds, labelSelector, mapping, positiveNumber, wholeNumber } from '../schema/fields.ts';
import { defineStep } from './step.ts';

// Pod kill: delete pods chosen at random among a selector's live pods, never
// more than the blast radius allows, once or in rounds on a fixed schedule. The
// ReplicaSet replaces them; how fast (the selector back to its Ready count) is
// the step's verdict.

export interface PodKillSpec {
  selector: string;
  radius: BlastRadius;
  /** Grace period for the delete; undefined = the pod's own terminationGracePeriodSeconds. */
  graceSeconds?: number;
  /** After the last kill, wait this long for the selector's Ready count to come back (a verdict). */
  recoverWithinMs?: number;
  /** Repeat a round this often, until `forMs` has passed. */
  everyMs?: number;
  forMs?: number;
}

const readyCount = async (cx: ChaosContext, selector: string): Promise<number> =>
  (await cx.kube.listPods(cx.namespace, { labelSelector: selector })).filter((p) => podReady(p) && !podTerminating(p)).length;

const detailOf = (cx: ChaosContext, name: string, s: PodKillSpec) => `pod ${cx.namespace}/${name}${s.graceSeconds === undefined ? '' : ` (grace ${s.graceSeconds} s)`}`;

/** The pods of one round (the blast radius applied to the selector's live pods). */
async function victims(cx: ChaosContext, s: PodKillSpec): Promise<string[]> {
  const pods = await cx.kube.listPods(cx.namespace, { labelSelector: s.selector });
  return pickVictimPods(pods, s.radius, s.selector, cx.random).map((p) => p.metadata!.name!);
}

/** One round of kills; returns the names of the pods deleted. */
export async function podKillRound(cx: ChaosContext, s: PodKillSpec): Promise<string[]> {
  const names = await victims(cx, s);
  for (const name of names) {
    const detail = detailOf(cx, name, s);
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

export const podKill = defineStep({
  kind: 'pod-kill',
  schema: mapping({
    selector: labelSelector,
    count: wholeNumber(1).optional(),
    percent: positiveNumber(1, 100).optional(),
    grace: graceSeconds.optional(),
    every: duration(MIN_INTERVAL_MS.podKillEvery).optional(),
    for: duration().optional(),
    recoverWithin: duration().optional(),
  })
    .meta({ id: 'pod-kill', oneOf: [{ required: ['count'] }, { required: ['percent'] }] })
    .superRefine((b, ctx) => {
      if ((b.count === undefined) === (b.percent === undefined)) ctx.addIssue({ code: 'custom', input: b, message: 'needs exactly one of count, percent' });
      if ((b.every === undefined) !== (b.for === undefined)) ctx.addIssue({ code: 'custom', input: b, message: 'every and for go together' });
    })
    .transform(
      (b): PodKillSpec => ({
        selector: b.selector,
        radius: b.count !== undefined ? { count: b.count } : { percent: b.percent! },
        graceSeconds: b.grace,
        recoverWithinMs: b.recoverWithin || undefined,
        everyMs: b.every,
        forMs: b.for,
      }),
    ),
  describe(s) {
    const how = 'count' in s.radius ? `${s.radius.count} pod(s)` : `${s.radius.percent}% of the pods`;
    const grace = s.graceSeconds === undefined ? '' : ` with grace ${s.graceSeconds} s`;
    return `delete ${how} chosen at random among pods matching ${s.selector}${grace}${s.everyMs ? `, every ${secs(s.everyMs)} for ${secs(s.forMs ?? 0)}` : ''}`;
  },
  limitMs: (s) => (s.forMs ?? 0) + (s.recoverWithinMs ?? 0) + STEP_LIMIT_SLACK_MS,
  /** The selector's Ready count before the first kill: what recovery means. */
  prepare: (cx, s) => readyCount(cx, s.selector),
  async dryRun(cx, s) {
    for (const name of await victims(cx, s)) {
      const detail = detailOf(cx, name, s);
      cx.say(`would delete ${detail}`);
      cx.journal.action({ name: 'pod-kill', detail, ok: true, dryRun: true });
    }
    if (s.everyMs) cx.say(`would repeat every ${seconds(s.everyMs)} until ${seconds(s.forMs ?? 0)} have passed`);
  },
  async run(cx, s, before) {
    // Rounds on a fixed schedule (start + k × every), so slow API calls do not stretch it.
    const start = Date.now();
    let round = 0;
    for (;;) {
      round += 1;
      await podKillRound(cx, s);
      const next = start + round * (s.everyMs ?? 0);
      if (!s.everyMs || next > start + (s.forMs ?? 0)) break;
      await sleep(Math.max(0, next - Date.now()), undefined, { signal: cx.signal });
    }
    cx.journal.measure('podKillRounds', round);
    if (s.recoverWithinMs === undefined) return;
    const back = await waitUntil(() => readyCount(cx, s.selector), (n) => n >= before, { timeoutMs: s.recoverWithinMs, pollMs: cx.pollMs, signal: cx.signal });
    if (back.ok) cx.journal.measure('recoveryMs', back.elapsedMs);
    cx.journal.verdict({
      name: `pods matching ${s.selector} recover`,
      outcome: outcome(back.ok),
      reason: back.ok ? `${before} Ready again ${seconds(back.elapsedMs)} after the last kill` : `${back.value} of ${before} Ready ${seconds(back.elapsedMs)} after the last kill`,
    });
  },
});
