import { setTimeout as sleep } from 'node:timers/promises';
import { EXIT, UserError, describeError } from '../lib/errors.ts';
import { podReady, podTerminating, type Kube } from '../lib/kube.ts';
import { connectionLine } from '../lib/kube-safety.ts';
import type { Logger } from '../lib/log.ts';
import { nodeDrain } from './actions/nodeDrain.ts';
import { nodeKill } from './actions/nodeKill.ts';
import { podKill } from './actions/podKill.ts';
import { removeReadinessProbe, rolloutRestart } from './actions/rollout.ts';
import { seconds, waitUntil, type ChaosContext } from './context.ts';
import { Journal, outcome, type JournalData, type JournalListener, type RunStatus, type Verdict } from './journal.ts';
import { observe } from './observe.ts';
import { describePlan, type Plan, type ProbeSpec, type Step } from './plan.ts';
import { diagnose } from './preflight.ts';
import { httpCheck, judgeLoadBudget, startBackgroundLoad, type BackgroundLoad } from './probes/http.ts';
import { probeKubernetes, type ProbeOutcome } from './probes/kubernetes.ts';
import { probePrometheus } from './probes/prometheus.ts';
import { Rollbacks } from './rollback.ts';

// The runner: steady state before → method (with background load, continuous
// probes and observation) → steady state after → verdict probes, and in every
// case the rollbacks, then the journal. Verdicts say pass or fail and why.

export interface RunEnv {
  kube: Kube;
  log: Logger;
  signal: AbortSignal;
  dryRun: boolean;
  /** `--allow-control-plane`: node actions may take a control-plane node. */
  allowControlPlane: boolean;
  pollMs: number;
  sampleMs: number;
  /** The whole run (method and waits) is bounded by this. */
  timeoutMs: number;
  rollbackTimeoutMs: number;
  say: (line: string) => void;
  random?: () => number;
  /** myhero-app key for the background load; never journaled. */
  loadKey?: string;
  /** Hears every journal entry as it happens (log lines, a progress line). */
  listener?: JournalListener;
}

interface RunState {
  cx: ChaosContext;
  plan: Plan;
  load?: BackgroundLoad;
  loadError?: string;
  loadStopped?: boolean;
  loadJudged: boolean;
}

const readyCount = async (cx: ChaosContext, selector: string): Promise<number> =>
  (await cx.kube.listPods(cx.namespace, { labelSelector: selector })).filter((p) => podReady(p) && !podTerminating(p)).length;

async function evaluate(st: RunState, p: ProbeSpec): Promise<ProbeOutcome> {
  const { cx } = st;
  if (p.kubernetes) return probeKubernetes(cx, p.kubernetes);
  if (p.http) return httpCheck(p.http, cx.signal);
  if (p.prometheus) return probePrometheus(p.prometheus, { signal: cx.signal, pollMs: cx.pollMs });
  if (p.load) {
    if (st.loadError) return { ok: false, value: 'error', reason: `the load failed: ${st.loadError}` };
    if (!st.load) return { ok: false, value: 'none', reason: 'no load ran (the experiment has no load section or it never started)' };
    return judgeLoadBudget(p.load, st.load.totals());
  }
  throw new UserError(`probe "${p.name}" has nothing to check`, EXIT.badInput);
}

/** Start the background load and wait until it is sending, so no step runs against a load still in its preflight. */
async function startLoad(st: RunState, env: RunEnv): Promise<void> {
  const { plan, cx } = st;
  if (st.load || !plan.load) return;
  if (!env.loadKey) throw new UserError('the experiment has a load section but no myhero-app key: pass --key-file or set MYHERO_APP_KEY', EXIT.badInput);
  if (cx.dryRun) {
    cx.say(`would start the load against ${plan.load.target}`);
    return;
  }
  st.load = startBackgroundLoad({ ...plan.load, key: env.loadKey, reconcile: false }, {
    signal: cx.signal,
    onError: (err) => (st.loadError = describeError(err)),
  });
  await st.load.sending;
  cx.journal.action({ name: 'start-load', detail: `load against ${plan.load.target}`, ok: st.loadError === undefined });
}

async function stopLoad(st: RunState): Promise<void> {
  if (!st.load || st.loadStopped) return;
  st.loadStopped = true;
  const result = await st.load.stop();
  const totals = st.load.totals();
  st.cx.journal.action({
    name: 'stop-load',
    detail: `${totals.attempted} votes sent, ${totals.failed} failed${result ? `, ${result.acceptedPerSec.toFixed(1)} accepted/s` : ''}`,
    ok: true,
  });
  st.cx.journal.measure('votesAttempted', totals.attempted);
  st.cx.journal.measure('votesFailed', totals.failed);
}

async function podKillStep(st: RunState, step: Extract<Step, { kind: 'pod-kill' }>): Promise<void> {
  const { cx } = st;
  const before = await readyCount(cx, step.spec.selector);
  // Rounds on a fixed schedule (start + k × every), so slow API calls do not stretch it.
  const start = Date.now();
  let round = 0;
  for (;;) {
    round += 1;
    await podKill(cx, step.spec);
    if (cx.dryRun) {
      if (step.everyMs) cx.say(`would repeat every ${seconds(step.everyMs)} until ${seconds(step.forMs ?? 0)} have passed`);
      return;
    }
    const next = start + round * (step.everyMs ?? 0);
    if (!step.everyMs || next > start + (step.forMs ?? 0)) break;
    await sleep(Math.max(0, next - Date.now()), undefined, { signal: cx.signal });
  }
  cx.journal.measure('podKillRounds', round);
  // Recovery: the selector back to the Ready count it had before the first kill.
  const recoveryMs = step.spec.recoverWithinMs;
  if (recoveryMs === undefined) return;
  const back = await waitUntil(() => readyCount(cx, step.spec.selector), (n) => n >= before, { timeoutMs: recoveryMs, pollMs: cx.pollMs, signal: cx.signal });
  if (back.ok) cx.journal.measure('recoveryMs', back.elapsedMs);
  cx.journal.verdict({
    name: `pods matching ${step.spec.selector} recover`,
    outcome: outcome(back.ok),
    reason: back.ok
      ? `${before} Ready again ${seconds(back.elapsedMs)} after the last kill`
      : `${back.value} of ${before} Ready ${seconds(back.elapsedMs)} after the last kill`,
  });
}

/**
 * After the load: the HPA's CPU utilisation falls below its target (judged), then
 * the scale-down, which comes only after the stabilisation window. The scale-down
 * is judged only when the step waits for it (`within`); otherwise it is reported
 * as not observed, with the time it is due.
 */
async function hpaScaleDown(st: RunState, step: Extract<Step, { kind: 'hpa-scale-down' }>): Promise<void> {
  const { cx } = st;
  const cpuName = `hpa ${step.hpa} CPU below target after the load`;
  const downName = `hpa ${step.hpa} scales down after its stabilisation window`;
  const hpa = await cx.kube.getHpa(cx.namespace, step.hpa);
  if (cx.dryRun) return;
  const target = hpa.spec?.metrics?.find((m) => m.type === 'Resource' && m.resource?.name === 'cpu')?.resource?.target.averageUtilization;
  const windowS = hpa.spec?.behavior?.scaleDown?.stabilizationWindowSeconds ?? 300;
  const min = hpa.spec?.minReplicas ?? 1;
  const peak = hpa.status?.currentReplicas ?? 0;
  cx.journal.measure('hpaStabilizationWindowS', windowS);
  const util = (h: typeof hpa) => h.status?.currentMetrics?.find((m) => m.type === 'Resource')?.resource?.current.averageUtilization;
  const below = await waitUntil(
    () => cx.kube.getHpa(cx.namespace, step.hpa),
    (h) => target !== undefined && (util(h) ?? Infinity) < target,
    { timeoutMs: step.metricWithinMs, pollMs: cx.pollMs, signal: cx.signal },
  );
  cx.journal.verdict({
    name: cpuName,
    outcome: outcome(below.ok),
    reason: below.ok
      ? `CPU fell to ${util(below.value)}% (target ${target}%) ${seconds(below.elapsedMs)} after the load stopped`
      : `CPU utilisation still ${util(below.value) ?? 'unknown'}% (target ${target ?? '?'}%) ${seconds(below.elapsedMs)} after the load stopped`,
  });
  if (peak <= min) {
    cx.journal.verdict({ name: downName, outcome: 'not observed', reason: `no scale-down to observe: ${peak} replica(s), at its minimum (${min})` });
    return;
  }
  if (!below.ok) {
    cx.journal.verdict({ name: downName, outcome: 'not observed', reason: `not waited for: CPU never fell below target, so no scale-down is due` });
    return;
  }
  if (!step.withinMs) {
    const dueAt = new Date(Date.now() + windowS * 1000).toISOString();
    cx.journal.verdict({
      name: downName,
      outcome: 'not observed',
      reason: `not waited for: a scale-down from ${peak} is due after the ${windowS} s stabilisation window, around ${dueAt} (set the step's within to wait for it)`,
    });
    return;
  }
  const down = await waitUntil(() => cx.kube.getHpa(cx.namespace, step.hpa), (h) => (h.status?.currentReplicas ?? peak) < peak, {
    timeoutMs: step.withinMs,
    pollMs: cx.pollMs,
    signal: cx.signal,
  });
  const now = down.value.status?.currentReplicas;
  if (down.ok) cx.journal.measure('hpaScaleDownMs', below.elapsedMs + down.elapsedMs);
  cx.journal.verdict({
    name: downName,
    outcome: outcome(down.ok),
    reason: down.ok
      ? `scaled from ${peak} to ${now} ${seconds(below.elapsedMs + down.elapsedMs)} after the load stopped (stabilisation window ${windowS} s, minimum ${min})`
      : `still ${now} replicas ${seconds(below.elapsedMs + down.elapsedMs)} after the load stopped (stabilisation window ${windowS} s)`,
  });
}

async function execStep(st: RunState, step: Step, env: RunEnv): Promise<void> {
  const { cx } = st;
  switch (step.kind) {
    case 'pod-kill':
      return podKillStep(st, step);
    case 'node-drain': {
      const r = await nodeDrain(cx, step.spec);
      if (!cx.dryRun) {
        cx.journal.measure('evicted', r.evicted.length);
        cx.journal.measure('evictionRefusals', r.refusals);
        if (step.holdMs) await sleep(step.holdMs, undefined, { signal: cx.signal });
      }
      return;
    }
    case 'node-kill':
      await nodeKill(cx, step.spec);
      return;
    case 'rollout-restart': {
      await rolloutRestart(cx, step.deployment);
      if (cx.dryRun) return;
      const start = Date.now();
      try {
        await cx.kube.waitForRollout(cx.namespace, step.deployment, { timeoutMs: step.withinMs, pollMs: cx.pollMs, signal: cx.signal });
        cx.journal.measure('rolloutMs', Date.now() - start);
        cx.journal.verdict({ name: `rollout of ${step.deployment} completes`, outcome: 'pass', reason: `complete after ${seconds(Date.now() - start)}` });
      } catch (err) {
        if (cx.signal.aborted) throw err;
        cx.journal.verdict({ name: `rollout of ${step.deployment} completes`, outcome: 'fail', reason: describeError(err) });
      }
      return;
    }
    case 'remove-readiness-probe':
      return removeReadinessProbe(cx, step.deployment);
    case 'pause':
      if (cx.dryRun) return;
      await sleep(step.ms, undefined, { signal: cx.signal });
      return;
    case 'wait-for': {
      if (cx.dryRun) return;
      const r = await waitUntil(() => evaluate(st, step.probe), (o) => o.ok, { timeoutMs: step.withinMs, pollMs: cx.pollMs, signal: cx.signal });
      cx.journal.probe({ name: step.probe.name, phase: 'during', ok: r.ok, value: r.value.value, reason: r.value.reason });
      cx.journal.verdict({
        name: step.probe.name,
        outcome: outcome(r.ok),
        reason: r.ok ? `${r.value.reason}, after ${seconds(r.elapsedMs)}` : `not within ${seconds(step.withinMs)}: ${r.value.reason}`,
      });
      return;
    }
    case 'start-load':
      return startLoad(st, env);
    case 'stop-load':
      await stopLoad(st);
      await judgeLoadProbes(st);
      return;
    case 'hpa-scale-down':
      return hpaScaleDown(st, step);
  }
}

/** Budget probes are judged on the load's window, once, when it stops. */
async function judgeLoadProbes(st: RunState): Promise<void> {
  if (st.loadJudged || st.cx.dryRun) return;
  st.loadJudged = true;
  for (const p of st.plan.probes.filter((x) => x.load)) {
    const o = await evaluate(st, p);
    st.cx.journal.probe({ name: p.name, phase: 'during', ok: o.ok, value: o.value, reason: o.reason });
    st.cx.journal.verdict({ name: p.name, outcome: outcome(o.ok), reason: o.reason });
  }
}

/** Continuous probes, checked every sample while the method runs; the first miss is what the verdict reports. */
function watchContinuous(st: RunState, everyMs: number): { stop(): Promise<void> } {
  const probes = st.plan.probes.filter((p) => p.mode === 'continuous' && !p.load);
  const stop = new AbortController();
  const checks = new Map(probes.map((p) => [p.name, { n: 0, miss: undefined as string | undefined }]));
  const loop = (async () => {
    while (!stop.signal.aborted && probes.length) {
      for (const p of probes) {
        const c = checks.get(p.name)!;
        try {
          const o = await evaluate(st, p);
          c.n += 1;
          if (!o.ok && !c.miss) {
            c.miss = `failed at ${seconds(st.cx.journal.now())}: ${o.reason}`;
            st.cx.journal.probe({ name: p.name, phase: 'during', ok: false, value: o.value, reason: o.reason });
          }
        } catch (err) {
          if (st.cx.signal.aborted) return;
          c.miss ??= `could not be checked: ${describeError(err)}`;
        }
      }
      await sleep(everyMs, undefined, { signal: stop.signal }).catch(() => undefined);
    }
  })();
  return {
    async stop() {
      stop.abort();
      await loop;
      for (const p of probes) {
        const c = checks.get(p.name)!;
        st.cx.journal.verdict({ name: p.name, outcome: outcome(!c.miss), reason: c.miss ?? `held at all ${c.n} checks during the method` });
      }
    },
  };
}

async function checkSteadyState(st: RunState, phase: 'before' | 'after', withinMs: number): Promise<boolean> {
  const { cx } = st;
  let all = true;
  for (const p of st.plan.steadyState) {
    const r = await waitUntil(() => evaluate(st, p), (o) => o.ok, { timeoutMs: withinMs, pollMs: cx.pollMs, signal: cx.signal });
    cx.journal.probe({ name: p.name, phase, ok: r.ok, value: r.value.value, reason: r.value.reason });
    if (!r.ok) all = false;
    if (phase === 'after' || !r.ok) {
      cx.journal.verdict({
        name: `steady state ${phase === 'before' ? 'before the method' : 'restored after the method'}: ${p.name}`,
        outcome: outcome(r.ok),
        reason: r.ok ? `${r.value.reason}${r.elapsedMs > 0 ? `, after ${seconds(r.elapsedMs)}` : ''}` : r.value.reason,
      });
    }
  }
  return all;
}

/** Run a plan to its end; the returned journal holds the verdicts. Never leaves a change behind. */
export async function runPlan(plan: Plan, env: RunEnv): Promise<JournalData> {
  const journal = new Journal({
    title: plan.title,
    command: plan.command,
    namespace: plan.namespace,
    context: env.kube.context,
    server: env.kube.server,
    dryRun: env.dryRun,
    plan: describePlan(plan),
    conditions: {
      pollMs: env.pollMs,
      sampleMs: env.sampleMs,
      timeoutS: env.timeoutMs / 1000,
      ...(plan.load
        ? {
            loadTarget: plan.load.target,
            loadModel: plan.load.model.kind,
            loadLevel: plan.load.model.kind === 'open' ? plan.load.model.rate : plan.load.model.voters,
          }
        : {}),
    },
  }, env.listener);
  const timeout = AbortSignal.timeout(env.timeoutMs);
  const signal = AbortSignal.any([env.signal, timeout]);
  const rollbacks = new Rollbacks();
  const cx: ChaosContext = {
    kube: env.kube,
    namespace: plan.namespace,
    journal,
    rollbacks,
    signal,
    log: env.log,
    dryRun: env.dryRun,
    pollMs: env.pollMs,
    allowControlPlane: env.allowControlPlane,
    say: env.say,
    random: env.random,
  };
  const st: RunState = { cx, plan, loadJudged: false };
  env.say(connectionLine(env.kube, plan.namespace));
  for (const line of journal.data.plan) env.say(line);
  if (env.dryRun) env.say('dry run: reading the cluster only; these are the actions it would take:');

  const version = await env.kube.version().catch(() => undefined);
  if (version) journal.data.conditions.kubernetes = version;
  const observer = env.dryRun ? undefined : observe(cx, { ...plan.observe, load: () => st.load?.latest() }, env.sampleMs);
  let status: RunStatus = 'completed';
  let error: string | undefined;
  /** What the error means for the exit code (a refusal at run time is bad input; an unreachable API, not judged). */
  let errorCode: number = EXIT.unjudged;
  try {
    if (env.dryRun) {
      for (const step of plan.method) await execStep(st, step, env);
    } else if (!(await checkSteadyState(st, 'before', 0))) {
      status = 'aborted';
      error = 'steady state not met before the method: no chaos injected';
    } else {
      const continuous = watchContinuous(st, env.sampleMs);
      try {
        if (plan.load && !plan.method.some((s) => s.kind === 'start-load')) await startLoad(st, env);
        for (const step of plan.method) await execStep(st, step, env);
        await stopLoad(st);
        await judgeLoadProbes(st);
      } finally {
        await continuous.stop();
      }
      await checkSteadyState(st, 'after', plan.steadyStateRecoveryMs);
      for (const p of plan.probes.filter((x) => x.mode !== 'continuous' && !x.load)) {
        const o = await evaluate(st, p);
        journal.probe({ name: p.name, phase: 'after', ok: o.ok, value: o.value, reason: o.reason });
        journal.verdict({ name: p.name, outcome: outcome(o.ok), reason: o.reason });
      }
    }
  } catch (err) {
    if (env.signal.aborted) {
      status = 'interrupted';
      error = 'interrupted (Ctrl-C): stopped, rolled back';
    } else if (timeout.aborted) {
      status = 'failed';
      error = `run time limit of ${seconds(env.timeoutMs)} reached`;
    } else {
      status = 'failed';
      error = describeError(err);
      if (err instanceof UserError) errorCode = err.exitCode;
    }
  } finally {
    await st.load?.stop().catch(() => undefined);
    const rolledBack = await rollbacks.runAll(journal, env.rollbackTimeoutMs);
    await observer?.stop();
    if (!rolledBack) {
      const failed = journal.data.rollbacks.filter((r) => !r.ok);
      journal.verdict({ name: 'rollbacks', outcome: 'fail', reason: failed.map((r) => `${r.name}: ${r.error}; restore by hand: ${r.command}`).join('; ') });
    }
  }
  const code = exitCodeOf(status, journal.data.verdicts, errorCode);
  if (status !== 'completed' && error) journal.verdict({ name: 'run', outcome: 'fail', reason: error });
  if (!env.dryRun && plan.observe.deployment && journal.data.verdicts.some((v) => v.outcome === 'fail')) {
    // Name the likely cause next to the failure: what preflight says about the target.
    const causes = await diagnose(env.kube, plan.namespace, plan.observe.deployment).catch(() => []);
    if (causes.length) journal.verdict({ name: 'likely cause', outcome: 'fail', reason: causes.join('; ') });
  }
  journal.finish(status, error, code);
  return journal.data;
}

/**
 * A run's exit code (EXIT): 130 interrupted; 1 when a verdict failed (the steady
 * state before the method included); otherwise a run stopped by an error exits
 * with that error's code (2 a refusal or bad input found at run time, 3 the API
 * or a hook failed, or the time limit came first); 0 when every observed verdict
 * passed. Verdicts not observed do not fail a run; they are reported as such.
 */
export function exitCodeOf(status: RunStatus, verdicts: readonly Verdict[], errorCode: number): number {
  if (status === 'interrupted') return EXIT.interrupted;
  if (verdicts.some((v) => v.outcome === 'fail')) return EXIT.failed;
  if (status === 'failed') return errorCode;
  return status === 'aborted' ? EXIT.failed : EXIT.passed;
}
