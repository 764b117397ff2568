import { setTimeout as sleep } from 'node:timers/promises';
import { EXIT, UserError } from '../../lib/errors.ts';
import { isNotFound, type CustomObject, type CustomResource } from '../../lib/kube.ts';
import { LATENCY_BUCKETS_S } from '../../loadtests/engine.ts';
import { GAMEDAY_DEFAULTS as D, STEP_LIMIT_SLACK_MS } from '../defaults.ts';
import { secs, type ChaosContext } from '../context.ts';
import { judgeRecovered, judgeShare, type Share } from '../fault-verdict.ts';
import {
  ISTIO_GROUP,
  RUN_LABEL,
  checkMesh,
  describeFault,
  faultPatch,
  faultVirtualService,
  restorePatch,
  routesToService,
  virtualServices,
  type Fault,
} from '../mesh.ts';
import { startSampler, type SampledRequest } from '../probes/sampler.ts';
import { duration, httpUrl, mapping, objectName, positiveNumber, wholeNumber } from '../schema/fields.ts';
import { defineStep, type Rollback, type StepContext } from './step.ts';

// HTTP fault injection through Istio, as the tutorial's service-mesh part does it by
// hand (a 5 s delay on myhero-ui, HTTP 500 aborts from myhero-app), but measured and
// always removed. The fault goes into the VirtualService(s) that route the Service
// (their HTTP routes get a `fault`), or into one made for it when none does. It stays
// for `duration`, then the step removes it (its rollback, run early) and watches the
// traffic return; the rollback still runs at the end if the step was cut short. The
// traffic is the game day's background load (votes), or the step's own GETs of `url`
// for a route the load does not touch (the UI's page). Verdicts: the share of requests
// that carried the fault matches the one asked for (fault-verdict.ts says how), and
// after the removal it is back where it was.

export interface HttpFaultSpec {
  service: string;
  fault: Fault;
  durationMs: number;
  /** How long the mesh may take to apply or remove the fault; left out of the verdicts at both ends of the fault. */
  settleMs: number;
  /** How long the step watches the traffic after removing the fault. */
  recoveryMs: number;
  /** Measure by GETs of this URL (through the mesh) instead of the background load. */
  url?: string;
  ratePerSec: number;
  /** Widest half-interval a verdict may rest on (a share, 0.1 = ±10 points). */
  precision: number;
}

interface Target {
  vs: CustomObject;
  routes: number[];
}

interface FaultState {
  resource: CustomResource;
  /** VirtualServices that route the Service: the fault goes into them. */
  targets: Target[];
  /** The VirtualService to create when none routes it. */
  create?: CustomObject;
  /** What the action wrote, by name: the objects as the API returned them (their resourceVersion is the restore's precondition). */
  applied: Map<string, CustomObject>;
  /** Closes the fault's window on the timeline (when the last change is undone). */
  closeWindow?: () => void;
}

const isDelay = (f: Fault): f is { delayMs: number; percent: number } => 'delayMs' in f;

/** What the vote load's per-second histograms can tell apart: votes slower than the largest bucket bound within 90 % of the delay. */
const delayBoundS = (delayMs: number): number | undefined => [...LATENCY_BUCKETS_S].reverse().find((b) => b * 1000 <= delayMs * 0.9);

/** The traffic a verdict is judged on: shares of requests that carried the fault's mark, by window. */
interface Traffic {
  /** What a marked request is, for the verdicts' wording. */
  what: string;
  /** Counted by completion (the load's seconds): a delayed request shows up a delay later. */
  byCompletion: boolean;
  share(fromMs: number, toMs: number): Share;
  stop(): Promise<void>;
}

function loadTraffic(cx: StepContext, fault: Fault): Traffic | undefined {
  const load = cx.run.load();
  if (!load) return undefined;
  const bound = isDelay(fault) ? delayBoundS(fault.delayMs) : undefined;
  const slowFrom = bound === undefined ? -1 : LATENCY_BUCKETS_S.indexOf(bound as (typeof LATENCY_BUCKETS_S)[number]) + 1;
  return {
    what: isDelay(fault) ? `took over ${bound ?? '?'} s or timed out` : `answered ${fault.abort}`,
    byCompletion: true,
    share(from, to) {
      const out: Share = { n: 0, k: 0 };
      for (const s of load.samplesBetween(from, to)) {
        out.n += s.attempted - (s.errors.aborted ?? 0);
        out.k += isDelay(fault)
          ? s.latencyBuckets.slice(slowFrom).reduce((a, b) => a + b, 0) + (s.errors.timeout ?? 0)
          : (s.errors[`http_${fault.abort}`] ?? 0);
      }
      return out;
    },
    stop: async () => undefined,
  };
}

function sampledTraffic(cx: StepContext, s: HttpFaultSpec): Traffic {
  const f = s.fault;
  const sampler = startSampler(s.url!, { ratePerSec: s.ratePerSec, timeoutMs: (isDelay(f) ? f.delayMs : 0) + 10_000, signal: cx.signal });
  const marked = (r: SampledRequest) => (isDelay(f) ? r.error === 'timeout' || r.latencyMs >= 0.9 * f.delayMs : r.status === f.abort);
  return {
    what: isDelay(f) ? `took at least ${+((0.9 * f.delayMs) / 1000).toFixed(3)} s` : `answered ${f.abort}`,
    byCompletion: false,
    share(from, to) {
      const window = sampler.records.filter((r) => r.sentAt >= from && r.sentAt < to);
      return { n: window.length, k: window.filter(marked).length };
    },
    stop: () => sampler.stop(),
  };
}

/** Refuse (one line per missing piece, each with its fix) unless Istio, injection and sidecars are there. */
async function preflight(cx: StepContext, s: HttpFaultSpec): Promise<string> {
  const [istio, namespace] = await Promise.all([cx.kube.apiGroup(ISTIO_GROUP), cx.kube.getNamespace(cx.namespace)]);
  const service = await cx.kube.getService(cx.namespace, s.service);
  const selector = Object.entries(service.spec?.selector ?? {}).map(([k, v]) => `${k}=${v}`).join(',');
  const pods = istio && selector ? await cx.kube.listPods(cx.namespace, { labelSelector: selector }) : [];
  const missing = checkMesh({ istio, namespace, service: s.service, pods });
  for (const f of missing) {
    cx.say(`preflight: ${f.message}${f.fix ? `; fix: ${f.fix}` : ''}`);
    cx.journal.action({ name: 'preflight', detail: f.message, ok: false, dryRun: cx.dryRun });
  }
  if (missing.length) throw new UserError(`http-fault on ${s.service}: ${missing.map((f) => f.message).join('; ')}`, EXIT.badInput);
  return istio!.preferred;
}

const kubectlVs = (cx: ChaosContext, ...args: string[]) => cx.kube.kubectl('-n', cx.namespace, ...args.slice(0, 1), `virtualservices.${ISTIO_GROUP}`, ...args.slice(1));

function rollbacksOf(cx: StepContext, state: FaultState): Rollback[] {
  const { resource, applied } = state;
  /** One written object undone; the fault's window closes with the last. */
  const undone = (name: string) => {
    applied.delete(name);
    if (applied.size === 0) state.closeWindow?.();
  };
  const out: Rollback[] = state.targets.map(({ vs }) => {
    const name = vs.metadata.name;
    const original = vs.spec ?? {};
    return {
      name: `restore VirtualService ${name}`,
      command: kubectlVs(cx, 'patch', name, '--type', 'merge', '-p', JSON.stringify(restorePatch(original, vs))),
      undo: async (signal) => {
        const written = applied.get(name);
        if (!written) return; // never changed
        const now = await cx.kube.getCustom(resource, cx.namespace, name, signal);
        const rv = now.metadata.resourceVersion;
        // A status write bumps the resourceVersion too; only a change of what we wrote is someone else's edit.
        const same = JSON.stringify(now.spec) === JSON.stringify(written.spec) && now.metadata.labels?.[RUN_LABEL] === cx.runId;
        if (rv !== written.metadata.resourceVersion && !same) {
          throw new Error(`VirtualService ${cx.namespace}/${name} was changed by someone else after the fault went in (resourceVersion ${written.metadata.resourceVersion}, now ${rv}): not restored over their change`);
        }
        await cx.kube.patchCustom(resource, cx.namespace, name, restorePatch(original, now, rv), signal);
        undone(name);
      },
    };
  });
  if (state.create) {
    const name = state.create.metadata.name;
    out.push({
      name: `delete VirtualService ${name}`,
      command: kubectlVs(cx, 'delete', name),
      undo: async (signal) => {
        await cx.kube.deleteCustom(resource, cx.namespace, name, signal).catch((err: unknown) => {
          if (!isNotFound(err)) throw err;
        });
        undone(name);
      },
    });
  }
  return out;
}

export const httpFault = defineStep({
  kind: 'http-fault',
  schema: mapping({
    service: objectName.meta({ description: 'the Service whose traffic gets the fault (its VirtualService is patched, or one is made)' }),
    abort: wholeNumber(200, 599).optional().meta({ description: 'abort requests with this HTTP status' }),
    delay: duration(1).optional().meta({ description: 'delay requests by this much (fixed delay)' }),
    percent: positiveNumber(0.01, 100).optional().meta({ description: 'share of requests that get the fault (default 100)' }),
    duration: duration(1000).optional().meta({ description: 'how long the fault stays (default 2m)' }),
    settle: duration().optional().meta({ description: 'how long the mesh may take to apply or remove it, left out of the verdicts (default 5s)' }),
    recovery: duration(1000).optional().meta({ description: 'how long to watch the traffic after the fault is removed (default 15s)' }),
    url: httpUrl.optional().meta({ description: 'measure with GETs of this URL (through the mesh) instead of the background load' }),
    rate: positiveNumber(0.1, 50).optional().meta({ description: 'GETs per second of url (default 5)' }),
    precision: positiveNumber(0.5, 50).optional().meta({ description: 'widest ± (percentage points) a verdict may rest on (default 10)' }),
  })
    .meta({ id: 'http-fault', oneOf: [{ required: ['abort'] }, { required: ['delay'] }] })
    .superRefine((b, ctx) => {
      if ((b.abort === undefined) === (b.delay === undefined)) ctx.addIssue({ code: 'custom', input: b, message: 'needs exactly one of abort (an HTTP status) or delay (a duration)' });
      const settle = b.settle ?? D.httpFaultSettleMs;
      if ((b.duration ?? D.httpFaultDurationMs) <= 2 * settle + (b.delay ?? 0)) {
        ctx.addIssue({ code: 'custom', input: b, path: ['duration'], message: `must be longer than twice settle plus the delay (${secs(2 * settle + (b.delay ?? 0))}), or nothing is measured` });
      }
    })
    .transform(
      (b): HttpFaultSpec => ({
        service: b.service,
        fault: b.abort !== undefined ? { abort: b.abort, percent: b.percent ?? 100 } : { delayMs: b.delay!, percent: b.percent ?? 100 },
        durationMs: b.duration ?? D.httpFaultDurationMs,
        settleMs: b.settle ?? D.httpFaultSettleMs,
        recoveryMs: b.recovery ?? D.httpFaultRecoveryMs,
        url: b.url,
        ratePerSec: b.rate ?? D.httpFaultSampleRate,
        precision: b.precision !== undefined ? b.precision / 100 : D.httpFaultPrecision,
      }),
    ),
  describe: (s) =>
    `inject a ${describeFault(s.fault)} to service ${s.service} through Istio for ${secs(s.durationMs)}, measured ${s.url ? `by ${s.ratePerSec} GET/s of ${s.url}` : 'on the background load'}; removed after it (and on rollback)`,
  limitMs: (s) => 2 * s.settleMs + s.durationMs + s.recoveryMs + (isDelay(s.fault) ? 2 * s.fault.delayMs : 0) + STEP_LIMIT_SLACK_MS,
  async prepare(cx, s): Promise<FaultState> {
    const version = await preflight(cx, s);
    const resource = virtualServices(version);
    const targets = (await cx.kube.listCustom(resource, cx.namespace))
      .map((vs) => ({ vs, routes: routesToService(vs, s.service, cx.namespace) }))
      .filter((t) => t.routes.length > 0);
    const leftover = targets.find((t) => t.vs.metadata.labels?.[RUN_LABEL]);
    if (leftover) {
      const run = leftover.vs.metadata.labels![RUN_LABEL];
      throw new UserError(`VirtualService ${cx.namespace}/${leftover.vs.metadata.name} still carries a fault of chaos run ${run}: run myhero-ops chaos cleanup -n ${cx.namespace} first`, EXIT.badInput);
    }
    const create = targets.length ? undefined : faultVirtualService(version, s.service, cx.namespace, s.fault, cx.runId);
    return { resource, targets, create, applied: new Map() };
  },
  dryRun(cx, s, state) {
    for (const t of state.targets) {
      cx.say(`would patch VirtualService ${cx.namespace}/${t.vs.metadata.name}: ${describeFault(s.fault)} in ${t.routes.length} HTTP route(s); its spec restored afterwards`);
      cx.journal.action({ name: 'http-fault', detail: `patch VirtualService ${t.vs.metadata.name}`, ok: true, dryRun: true });
    }
    if (state.create) {
      cx.say(`would create VirtualService ${cx.namespace}/${state.create.metadata.name} (${state.resource.group}/${state.resource.version}) for ${s.service}: ${describeFault(s.fault)}; deleted afterwards`);
      cx.say(`note: a VirtualService without gateways applies to traffic inside the mesh; traffic from outside it (NodePort, an ingress) gets the fault only through a Gateway's VirtualService that routes to ${s.service}`);
      cx.journal.action({ name: 'http-fault', detail: `create VirtualService ${state.create.metadata.name}`, ok: true, dryRun: true });
    }
  },
  rollbacks: (cx, _s, state) => rollbacksOf(cx, state),
  async run(cx, s, state) {
    const traffic = s.url ? sampledTraffic(cx, s) : loadTraffic(cx, s.fault);
    const since = Date.now();
    try {
      // The sampler's own baseline; the background load has been running since before the step.
      if (s.url) await sleep(s.settleMs, undefined, { signal: cx.signal });
      const writing = Date.now();
      for (const t of state.targets) {
        const written = await cx.kube.patchCustom(state.resource, cx.namespace, t.vs.metadata.name, faultPatch(t.vs, t.routes, s.fault, cx.runId), cx.signal);
        state.applied.set(t.vs.metadata.name, written);
        cx.journal.action({ name: 'http-fault', detail: `VirtualService ${t.vs.metadata.name}: ${describeFault(s.fault)} in ${t.routes.length} HTTP route(s)`, ok: true });
      }
      if (state.create) {
        state.applied.set(state.create.metadata.name, state.create); // a create whose answer is lost still gets deleted
        state.applied.set(state.create.metadata.name, await cx.kube.createCustom(state.resource, cx.namespace, state.create, cx.signal));
        cx.journal.action({ name: 'http-fault', detail: `VirtualService ${state.create.metadata.name} created: ${describeFault(s.fault)}`, ok: true });
      }
      // In force from here (as far as the API is concerned; the mesh takes up to `settle` more).
      const appliedAt = Date.now();
      state.closeWindow = cx.journal.window(`${describeFault(s.fault)}: ${s.service}`);
      await sleep(s.durationMs, undefined, { signal: cx.signal });
      const removing = Date.now();
      const removed = await cx.restore();
      const removedAt = Date.now();
      cx.journal.action({ name: 'http-fault-removed', detail: `${describeFault(s.fault)} on ${s.service}`, ok: removed });
      // Counted by completion, a delayed request shows up a delay later than it was sent.
      const lag = s.settleMs + (traffic?.byCompletion && isDelay(s.fault) ? s.fault.delayMs : 0);
      if (traffic) await sleep(lag + s.recoveryMs + (traffic.byCompletion ? 1100 : 0), undefined, { signal: cx.signal });
      await traffic?.stop();
      // Requests sent just before the removal race it: the window ends a settle earlier too.
      judge(cx, s, traffic, { since, writing, from: appliedAt + lag, to: removing - s.settleMs, afterFrom: removedAt + lag, afterTo: removedAt + lag + s.recoveryMs }, removed);
    } finally {
      await traffic?.stop();
    }
  },
});

function judge(
  cx: StepContext,
  s: HttpFaultSpec,
  traffic: Traffic | undefined,
  w: { since: number; writing: number; from: number; to: number; afterFrom: number; afterTo: number },
  removed: boolean,
): void {
  const name = `http-fault on ${s.service}: ${describeFault(s.fault)}`;
  const goneName = `http-fault on ${s.service}: gone after the rollback`;
  if (!traffic) {
    const reason = 'no traffic was measured: give the step a url to sample, or run it in a game day with a load';
    cx.journal.verdict({ name, outcome: 'not observed', reason });
    cx.journal.verdict({ name: goneName, outcome: 'not observed', reason });
    return;
  }
  const baseline = traffic.share(s.url ? w.since : 0, w.writing);
  const during = traffic.share(w.from, w.to);
  const after = traffic.share(w.afterFrom, w.afterTo);
  cx.journal.measure('httpFaultRequests', during.n);
  cx.journal.measure('httpFaultMarked', during.k);
  cx.journal.measure('httpFaultAfterRequests', after.n);
  cx.journal.measure('httpFaultAfterMarked', after.k);
  const v = judgeShare(during, s.fault.percent, traffic.what, { baseline, precision: s.precision });
  cx.journal.verdict({ name, ...v });
  if (!removed) {
    cx.journal.verdict({ name: goneName, outcome: 'fail', reason: 'the fault could not be removed (see the rollbacks for the command that removes it)' });
    return;
  }
  cx.journal.verdict({ name: goneName, ...judgeRecovered(after, traffic.what, baseline) });
}
