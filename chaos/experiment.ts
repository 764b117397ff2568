import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { UserError, describeError } from '../lib/errors.ts';
import { duration as parseDuration, url as parseUrl } from '../lib/parse.ts';
import { parseComparison } from './compare.ts';
import type { ProbeSpec, Plan, Step } from './plan.ts';
import type { BlastRadius } from './safety.ts';

// Game-day files (chaostoolkit's experiment, in YAML): title, optional load,
// steady-state hypothesis, method, verdict probes. `${NAME}` / `${NAME:-default}`
// are filled from --set NAME=VALUE, then the environment, so one file serves a
// Pi cluster, a cloud cluster and the simulated one in the tests. Every field is
// checked; a mistake is one line naming its place in the file.

type Obj = Record<string, unknown>;

/** Defaults for the fields a game-day file may leave out. */
export const GAMEDAY_DEFAULTS = {
  steadyStateRecoveryMs: 120_000,
  rolloutWithinMs: 300_000,
  evictionTimeoutMs: 120_000,
  evictionRetryMs: 5_000,
  nodeNotReadyTimeoutMs: 120_000,
  nodeRecoverTimeoutMs: 600_000,
  hookTimeoutMs: 60_000,
  hpaMetricWithinMs: 120_000,
  nodeKillSelector: 'app=myhero',
} as const;

export function substitute(text: string, vars: Record<string, string>, env: NodeJS.ProcessEnv, file: string): string {
  return text.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g, (_, name: string, def: string | undefined) => {
    const v = vars[name] ?? env[name] ?? def;
    if (v === undefined) throw new UserError(`${file}: \${${name}} is not set (pass --set ${name}=... or set it in the environment)`, 2);
    return v;
  });
}

class Reader {
  constructor(readonly file: string) {}

  fail(path: string, msg: string): never {
    throw new UserError(`${this.file}: ${path}: ${msg}`, 2);
  }

  obj(v: unknown, path: string, allowed: readonly string[]): Obj {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) this.fail(path, 'expected a mapping');
    for (const k of Object.keys(v as Obj)) if (!allowed.includes(k)) this.fail(path, `unknown field "${k}" (allowed: ${allowed.join(', ')})`);
    return v as Obj;
  }

  str(v: unknown, path: string): string {
    if (typeof v !== 'string' || !v.trim()) this.fail(path, 'expected a non-empty string');
    return (v as string).trim();
  }

  optStr(v: unknown, path: string): string | undefined {
    return v === undefined ? undefined : this.str(v, path);
  }

  num(v: unknown, path: string, min = 0): number {
    const n = typeof v === 'number' ? v : typeof v === 'string' ? Number(v) : NaN;
    if (!Number.isFinite(n) || n < min) this.fail(path, `expected a number ≥ ${min}`);
    return n;
  }

  ms(v: unknown, path: string): number {
    if (typeof v === 'number') return v * 1000;
    try {
      return parseDuration(this.str(v, path), path);
    } catch (err) {
      return this.fail(path, describeError(err));
    }
  }

  optMs(v: unknown, path: string, def: number): number;
  optMs(v: unknown, path: string): number | undefined;
  optMs(v: unknown, path: string, def?: number): number | undefined {
    return v === undefined ? def : this.ms(v, path);
  }

  threshold(v: unknown, path: string): string {
    const s = typeof v === 'number' ? String(v) : this.str(v, path);
    try {
      parseComparison(s, path);
    } catch (err) {
      this.fail(path, describeError(err));
    }
    return s;
  }

  list(v: unknown, path: string): unknown[] {
    if (v === undefined) return [];
    if (!Array.isArray(v)) this.fail(path, 'expected a list');
    return v as unknown[];
  }
}

function readProbe(r: Reader, v: unknown, path: string, allowLoad: boolean): ProbeSpec {
  const o = r.obj(v, path, ['name', 'kubernetes', 'http', 'prometheus', 'load', 'mode']);
  const p: ProbeSpec = { name: r.str(o.name, `${path}.name`) };
  const kinds = ['kubernetes', 'http', 'prometheus', 'load'].filter((k) => o[k] !== undefined);
  if (kinds.length !== 1) r.fail(path, 'needs exactly one of kubernetes, http, prometheus, load');
  if (o.mode !== undefined) {
    if (o.mode !== 'continuous' && o.mode !== 'end') r.fail(`${path}.mode`, 'expected continuous or end');
    p.mode = o.mode;
  }
  if (o.kubernetes !== undefined) {
    const k = r.obj(o.kubernetes, `${path}.kubernetes`, ['deployment', 'readyReplicas', 'hpa', 'replicas', 'scalingActive', 'rollout']);
    const kp = `${path}.kubernetes`;
    if (k.deployment !== undefined) p.kubernetes = { deployment: r.str(k.deployment, `${kp}.deployment`), readyReplicas: r.threshold(k.readyReplicas, `${kp}.readyReplicas`) };
    else if (k.hpa !== undefined && k.replicas !== undefined) p.kubernetes = { hpa: r.str(k.hpa, `${kp}.hpa`), replicas: r.threshold(k.replicas, `${kp}.replicas`) };
    else if (k.hpa !== undefined && typeof k.scalingActive === 'boolean') p.kubernetes = { hpa: r.str(k.hpa, `${kp}.hpa`), scalingActive: k.scalingActive };
    else if (k.rollout !== undefined) p.kubernetes = { rollout: r.str(k.rollout, `${kp}.rollout`) };
    else r.fail(kp, 'expected {deployment, readyReplicas}, {hpa, replicas}, {hpa, scalingActive} or {rollout}');
  }
  if (o.http !== undefined) {
    const h = r.obj(o.http, `${path}.http`, ['url', 'status', 'timeout']);
    p.http = { url: parseUrl(r.str(h.url, `${path}.http.url`), `${path}.http.url`), status: h.status === undefined ? undefined : r.num(h.status, `${path}.http.status`, 100), timeoutMs: r.optMs(h.timeout, `${path}.http.timeout`) };
  }
  if (o.prometheus !== undefined) {
    const q = r.obj(o.prometheus, `${path}.prometheus`, ['url', 'query', 'expect', 'within']);
    p.prometheus = {
      url: parseUrl(r.str(q.url, `${path}.prometheus.url`), `${path}.prometheus.url`),
      query: r.str(q.query, `${path}.prometheus.query`),
      expect: q.expect === undefined ? undefined : r.threshold(q.expect, `${path}.prometheus.expect`),
      withinMs: r.optMs(q.within, `${path}.prometheus.within`),
    };
  }
  if (o.load !== undefined) {
    if (!allowLoad) r.fail(`${path}.load`, 'load budgets belong in probes, judged over the method');
    const l = r.obj(o.load, `${path}.load`, ['errorRate', 'p99Ms']);
    p.load = {
      errorRate: l.errorRate === undefined ? undefined : r.threshold(l.errorRate, `${path}.load.errorRate`),
      p99Ms: l.p99Ms === undefined ? undefined : r.threshold(l.p99Ms, `${path}.load.p99Ms`),
    };
  }
  return p;
}

function readRadius(r: Reader, o: Obj, path: string): BlastRadius {
  if ((o.count === undefined) === (o.percent === undefined)) r.fail(path, 'needs exactly one of count, percent');
  if (o.count !== undefined) return { count: r.num(o.count, `${path}.count`, 1) };
  const percent = r.num(o.percent, `${path}.percent`, 1);
  if (percent > 100) r.fail(`${path}.percent`, 'expected at most 100');
  return { percent };
}

function readStep(r: Reader, v: unknown, path: string): Step {
  const kinds = ['pod-kill', 'node-drain', 'node-kill', 'rollout-restart', 'remove-readiness-probe', 'pause', 'wait-for', 'start-load', 'stop-load', 'hpa-scale-down'];
  const o = r.obj(v, path, kinds);
  const keys = Object.keys(o);
  if (keys.length !== 1) r.fail(path, `each step is one of: ${kinds.join(', ')}`);
  const kind = keys[0]!;
  const body = o[kind];
  const p = `${path}.${kind}`;
  const D = GAMEDAY_DEFAULTS;
  switch (kind) {
    case 'pod-kill': {
      const b = r.obj(body, p, ['selector', 'count', 'percent', 'grace', 'every', 'for', 'recoverWithin']);
      const everyMs = r.optMs(b.every, `${p}.every`);
      const forMs = r.optMs(b.for, `${p}.for`);
      if ((everyMs === undefined) !== (forMs === undefined)) r.fail(p, 'every and for go together');
      return {
        kind,
        spec: {
          selector: r.str(b.selector, `${p}.selector`),
          radius: readRadius(r, b, p),
          graceSeconds: b.grace === undefined ? undefined : r.num(b.grace, `${p}.grace`),
          recoverWithinMs: r.optMs(b.recoverWithin, `${p}.recoverWithin`),
        },
        everyMs,
        forMs,
      };
    }
    case 'node-drain': {
      const b = r.obj(body, p, ['node', 'evictionTimeout', 'retry', 'hold', 'grace']);
      return {
        kind,
        spec: {
          node: r.str(b.node, `${p}.node`),
          evictionTimeoutMs: r.optMs(b.evictionTimeout, `${p}.evictionTimeout`, D.evictionTimeoutMs),
          retryMs: r.optMs(b.retry, `${p}.retry`, D.evictionRetryMs),
          graceSeconds: b.grace === undefined ? undefined : r.num(b.grace, `${p}.grace`),
        },
        holdMs: r.optMs(b.hold, `${p}.hold`, 0),
      };
    }
    case 'node-kill': {
      const b = r.obj(body, p, ['node', 'exec', 'restore', 'selector', 'notReadyTimeout', 'recoverTimeout', 'hookTimeout']);
      return {
        kind,
        spec: {
          node: r.str(b.node, `${p}.node`),
          exec: r.str(b.exec, `${p}.exec`),
          restore: r.str(b.restore, `${p}.restore`),
          selector: r.optStr(b.selector, `${p}.selector`) ?? D.nodeKillSelector,
          notReadyTimeoutMs: r.optMs(b.notReadyTimeout, `${p}.notReadyTimeout`, D.nodeNotReadyTimeoutMs),
          recoverTimeoutMs: r.optMs(b.recoverTimeout, `${p}.recoverTimeout`, D.nodeRecoverTimeoutMs),
          hookTimeoutMs: r.optMs(b.hookTimeout, `${p}.hookTimeout`, D.hookTimeoutMs),
        },
      };
    }
    case 'rollout-restart': {
      const b = r.obj(body, p, ['deployment', 'within']);
      return { kind, deployment: r.str(b.deployment, `${p}.deployment`), withinMs: r.optMs(b.within, `${p}.within`, D.rolloutWithinMs) };
    }
    case 'remove-readiness-probe': {
      const b = r.obj(body, p, ['deployment']);
      return { kind, deployment: r.str(b.deployment, `${p}.deployment`) };
    }
    case 'pause':
      return { kind, ms: r.ms(body, p) };
    case 'wait-for': {
      const b = r.obj(body, p, ['name', 'within', 'kubernetes', 'http', 'prometheus']);
      const { within, ...probe } = b;
      return { kind, probe: readProbe(r, probe, p, false), withinMs: r.ms(within, `${p}.within`) };
    }
    case 'start-load':
    case 'stop-load':
      if (body !== null && body !== undefined && !(typeof body === 'object' && Object.keys(body as Obj).length === 0)) r.fail(p, 'takes no settings ({})');
      return { kind };
    case 'hpa-scale-down': {
      const b = r.obj(body, p, ['hpa', 'metricWithin', 'within']);
      return {
        kind,
        hpa: r.str(b.hpa, `${p}.hpa`),
        metricWithinMs: r.optMs(b.metricWithin, `${p}.metricWithin`, D.hpaMetricWithinMs),
        withinMs: r.optMs(b.within, `${p}.within`),
      };
    }
  }
  return r.fail(path, `unknown step ${kind}`);
}

/** Parse a game-day file into a plan. `namespace` (from -n) wins over the file's. */
export function loadGameday(file: string, opts: { namespace?: string; vars?: Record<string, string>; env?: NodeJS.ProcessEnv }): Plan {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new UserError(`cannot read game-day file ${file}: ${describeError(err)}`, 2);
  }
  return parseGameday(text, file, opts);
}

export function parseGameday(text: string, file: string, opts: { namespace?: string; vars?: Record<string, string>; env?: NodeJS.ProcessEnv }): Plan {
  // Substitute only outside comments, so documentation may mention ${VARS} freely.
  const filled = text
    .split('\n')
    .map((line) => {
      const hash = line.search(/(^|\s)#/);
      return hash < 0 ? substitute(line, opts.vars ?? {}, opts.env ?? process.env, file) : substitute(line.slice(0, hash), opts.vars ?? {}, opts.env ?? process.env, file) + line.slice(hash);
    })
    .join('\n');
  let doc: unknown;
  try {
    doc = parseYaml(filled);
  } catch (err) {
    throw new UserError(`${file} is not valid YAML: ${describeError(err).split('\n')[0]}`, 2);
  }
  const r = new Reader(file);
  const o = r.obj(doc, 'top level', ['title', 'description', 'namespace', 'observe', 'load', 'steadyState', 'steadyStateRecovery', 'method', 'probes']);
  const namespace = opts.namespace ?? r.optStr(o.namespace, 'namespace');
  if (!namespace) throw new UserError(`${file}: no namespace: pass -n/--namespace (or set namespace: in the file)`, 2);
  const observe = o.observe === undefined ? {} : r.obj(o.observe, 'observe', ['deployment', 'hpa']);
  let load: Plan['load'];
  if (o.load !== undefined) {
    const l = r.obj(o.load, 'load', ['target', 'rate', 'voters', 'duration', 'timeout', 'workers']);
    if ((l.rate === undefined) === (l.voters === undefined)) r.fail('load', 'needs exactly one of rate (open model) or voters (closed model)');
    load = {
      target: parseUrl(r.str(l.target, 'load.target'), 'load.target'),
      model: l.rate !== undefined ? { kind: 'open', rate: r.num(l.rate, 'load.rate', 1) } : { kind: 'closed', voters: r.num(l.voters, 'load.voters', 1) },
      durationMs: r.ms(l.duration, 'load.duration'),
      timeoutMs: r.optMs(l.timeout, 'load.timeout'),
      workers: l.workers === undefined ? 1 : r.num(l.workers, 'load.workers', 1),
    };
  }
  const method = r.list(o.method, 'method').map((s, i) => readStep(r, s, `method[${i}]`));
  if (method.length === 0) r.fail('method', 'an experiment needs at least one step');
  const plan: Plan = {
    title: r.str(o.title, 'title'),
    description: r.optStr(o.description, 'description'),
    command: `gameday ${file}`,
    namespace,
    observe: { deployment: r.optStr(observe.deployment, 'observe.deployment'), hpa: r.optStr(observe.hpa, 'observe.hpa') },
    load,
    steadyState: r.list(o.steadyState, 'steadyState').map((p, i) => readProbe(r, p, `steadyState[${i}]`, false)),
    steadyStateRecoveryMs: r.optMs(o.steadyStateRecovery, 'steadyStateRecovery', GAMEDAY_DEFAULTS.steadyStateRecoveryMs),
    method,
    probes: r.list(o.probes, 'probes').map((p, i) => readProbe(r, p, `probes[${i}]`, true)),
  };
  if (plan.probes.some((p) => p.load) && !plan.load) r.fail('probes', 'a load budget needs a load section');
  if (method.some((s) => s.kind === 'start-load' || s.kind === 'stop-load') && !plan.load) r.fail('method', 'start-load/stop-load need a load section');
  return plan;
}
