import { setTimeout as sleep } from 'node:timers/promises';
import { EXIT, UserError, describeError } from '../lib/errors.ts';
import type { Kube } from '../lib/kube.ts';
import { connectionLine } from '../lib/kube-safety.ts';
import type { Logger } from '../lib/log.ts';
import { seconds, waitUntil, type ChaosContext } from './context.ts';
import { Journal, outcome, type JournalData, type JournalListener, type RunStatus, type Verdict } from './journal.ts';
import { observe } from './observe.ts';
import { describePlan, type Plan, type ProbeSpec } from './plan.ts';
import { diagnose } from './preflight.ts';
import { httpCheck, judgeLoadBudget, startBackgroundLoad, type BackgroundLoad } from './probes/http.ts';
import { probeKubernetes, type ProbeOutcome } from './probes/kubernetes.ts';
import { probePrometheus } from './probes/prometheus.ts';
import { Rollbacks } from './rollback.ts';
import { executeStep } from './steps/execute.ts';
import { STEPS, type StepRegistry } from './steps/index.ts';
import type { AnyStep, RunServices } from './steps/step.ts';

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
  /** The step kinds the plan's method names (default: the built-in registry). */
  steps?: StepRegistry;
}

interface RunState {
  cx: ChaosContext;
  plan: Plan<AnyStep>;
  load?: BackgroundLoad;
  loadError?: string;
  loadStopped?: boolean;
  loadJudged: boolean;
}

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

/** A run's id, as a label value: its start time and a random suffix (`20250301-141502-k3x9`). */
const runIdOf = (at: Date): string =>
  `${at.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15)}-${Math.random().toString(36).slice(2, 6)}`;

/** What the steps may ask of this run: the background load and the probes. */
function servicesOf(st: RunState, env: RunEnv): RunServices {
  return {
    startLoad: () => startLoad(st, env),
    async stopLoad() {
      await stopLoad(st);
      await judgeLoadProbes(st);
    },
    load: () => st.load,
    evaluate: (p) => evaluate(st, p),
  };
}

/** Run a plan to its end; the returned journal holds the verdicts. Never leaves a change behind. */
export async function runPlan(plan: Plan<AnyStep>, env: RunEnv): Promise<JournalData> {
  const steps = env.steps ?? STEPS;
  const journal = new Journal({
    title: plan.title,
    command: plan.command,
    namespace: plan.namespace,
    context: env.kube.context,
    server: env.kube.server,
    dryRun: env.dryRun,
    plan: describePlan(plan, steps),
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
  const rollbacks = new Rollbacks(journal, env.rollbackTimeoutMs);
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
    runId: runIdOf(new Date(journal.startMs)),
  };
  journal.data.conditions.runId = cx.runId;
  const st: RunState = { cx, plan, loadJudged: false };
  const services = servicesOf(st, env);
  const runMethod = async () => {
    for (const [i, step] of plan.method.entries()) await executeStep(cx, services, steps, step, i + 1);
  };
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
      await runMethod();
    } else if (!(await checkSteadyState(st, 'before', 0))) {
      status = 'aborted';
      error = 'steady state not met before the method: no chaos injected';
    } else {
      const continuous = watchContinuous(st, env.sampleMs);
      try {
        if (plan.load && !plan.method.some((s) => s.kind === 'start-load')) await services.startLoad();
        await runMethod();
        await services.stopLoad();
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
    await rollbacks.runAll();
    await observer?.stop();
    const failed = journal.data.rollbacks.filter((r) => !r.ok);
    if (failed.length) {
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
