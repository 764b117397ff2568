import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { loadGameday, parseGameday } from '../experiment.ts';
import { describePlan } from '../plan.ts';
import { SCHEMA_FILE, schemaText } from '../schema/generate.ts';
import { ROOT } from './fixtures/cluster.ts';

const parse = (text: string, vars: Record<string, string> = {}) => parseGameday(text, 'x.yaml', { namespace: 'default', vars, env: {} });
const EXPERIMENTS = join(ROOT, 'chaos/experiments');
const shipped = readdirSync(EXPERIMENTS).map((f) => join(EXPERIMENTS, f));

/** The one-line message a file fails with. */
function mistake(text: string): string {
  let err: unknown;
  try {
    parse(text);
  } catch (e) {
    err = e;
  }
  expect(err, text).toBeInstanceOf(Error);
  expect((err as Error).message, text).not.toContain('\n');
  expect((err as { exitCode?: number }).exitCode, text).toBe(2);
  return (err as Error).message;
}

describe('game-day files', () => {
  it('every shipped experiment loads and prints its plan', () => {
    for (const f of shipped) {
      const plan = loadGameday(f, { namespace: 'default', vars: { MYHERO_APP_URL: 'http://127.0.0.1:30080', MYHERO_UI_URL: 'http://127.0.0.1:30080/' }, env: {} });
      expect(plan.method.length).toBeGreaterThan(0);
      expect(describePlan(plan).join('\n')).toContain('rollbacks: always run');
    }
    const hpa = loadGameday(join(EXPERIMENTS, 'hpa.yaml'), { namespace: 'default', vars: { MYHERO_APP_URL: 'http://127.0.0.1:30080' }, env: {} });
    expect(describePlan(hpa)).toEqual([
      'HPA scales myhero-app under load and back — namespace default',
      'load: 40 votes/s (open model) against http://127.0.0.1:30080, at most 15m',
      'steady state (before and after):',
      '  - myhero-app has a Ready replica: deployment myhero-app ready replicas >= 1',
      '  - the HPA can compute CPU utilisation: hpa myhero-app ScalingActive is true',
      'method:',
      '  1. start the background load',
      '  2. wait up to 5m for scales to the target under load: hpa myhero-app replicas >= 4',
      '  3. pause 1m',
      '  4. stop the background load',
      '  5. after the load: hpa myhero-app CPU below target within 2m, then scale-down after its stabilisation window (not waited for: reported as not observed)',
      'verdict probes:',
      '  - serves the load with errors within budget: vote error rate <= 0.01',
      'rollbacks: always run (success, failure, timeout, Ctrl-C)',
    ]);
  });

  it('fills ${VARS} into values from --set, then the environment, then defaults, and refuses unset ones', () => {
    const text = 'title: t\nload:\n  target: ${URL}\n  rate: ${RATE:-5}\n  duration: 1m\nmethod:\n  - pause: ${P:-2s} # ${NOT_FILLED} in a comment\n';
    const plan = parseGameday(text, 'x.yaml', { namespace: 'default', vars: { URL: 'http://a:1' }, env: { P: '3s' } });
    expect(plan.load).toMatchObject({ target: 'http://a:1', model: { kind: 'open', rate: 5 } });
    expect(plan.method).toEqual([{ kind: 'pause', spec: { ms: 3000 } }]);
    expect(() => parse(text)).toThrow('x.yaml: ${URL} is not set (pass --set URL=... or set it in the environment)');
  });

  it('a value can never change the file structure: it fills one scalar, as text', () => {
    const text = 'title: ${TITLE}\nmethod:\n  - pause: 1s\n';
    // Substituted into the raw text, this value would have added a pod-kill step to the method.
    const sneaky = 'x\nmethod:\n  - pod-kill: {selector: tier=app, percent: 100}';
    const plan = parse(text, { TITLE: sneaky });
    expect(plan.title).toBe(sneaky);
    expect(plan.method).toEqual([{ kind: 'pause', spec: { ms: 1000 } }]);
    // Inside a flow mapping a reference must be quoted; the YAML error says so.
    expect(mistake('title: t\nmethod:\n  - pod-kill: {selector: tier=app, count: ${N}}\n')).toContain('quote a ${VAR} inside {...} or [...]');
  });

  it('names the place of every mistake in one line, exit 2', () => {
    const cases: [string, string][] = [
      ['method:\n  - pause: 1s\n', 'x.yaml: title: is required'],
      ['title: t\nmethod: []\n', 'x.yaml: method: an experiment needs at least one step'],
      ['title: t\nmethod:\n  - explode: {}\n', 'x.yaml: method[0]: unknown field "explode" (allowed: pod-kill, node-drain, node-kill,'],
      ['title: t\nmethod:\n  - {pause: 1s, stop-load: {}}\n', 'x.yaml: method[0]: each step is exactly one of: pod-kill,'],
      ['title: t\nmethod:\n  - pod-kill: {selector: tier=app}\n', 'x.yaml: method[0].pod-kill: needs exactly one of count, percent'],
      ['title: t\nmethod:\n  - pod-kill: {selector: tier=app, percent: 150}\n', 'x.yaml: method[0].pod-kill.percent: expected a number ≤ 100'],
      // The blast radius and the API's integers: no fraction of a pod, no fractional grace period.
      ['title: t\nmethod:\n  - pod-kill: {selector: tier=app, count: 1.5}\n', 'x.yaml: method[0].pod-kill.count: expected a whole number, got 1.5'],
      ['title: t\nmethod:\n  - pod-kill: {selector: tier=app, count: 1, grace: 0.5}\n', 'x.yaml: method[0].pod-kill.grace: expected a whole number, got 0.5'],
      ['title: t\nmethod:\n  - pod-kill: {selector: tier=app, count: 1, gracee: 5}\n', 'x.yaml: method[0].pod-kill: unknown field "gracee" (allowed: selector, count, percent, grace, every, for, recoverWithin)'],
      ['title: t\nmethod:\n  - pod-kill: {selector: "tier=", count: 1, every: 1ms, for: 1m}\n', 'x.yaml: method[0].pod-kill.every: expected at least 1s, got 1ms'],
      ['title: t\nmethod:\n  - pod-kill: {selector: "tier in app", count: 1}\n', 'x.yaml: method[0].pod-kill.selector: expected a label selector'],
      ['title: t\nmethod:\n  - node-drain: {node: pi-1, retry: 0s}\n', 'x.yaml: method[0].node-drain.retry: expected at least 100ms, got 0s'],
      ['title: t\nmethod:\n  - node-drain: {node: "Pi 1"}\n', 'x.yaml: method[0].node-drain.node: expected a Kubernetes object name'],
      ['title: t\nmethod:\n  - pause: soon\n', 'x.yaml: method[0].pause: expected a duration such as 500ms, 30s, 2m, got "soon"'],
      ['title: t\nmethod:\n  - wait-for: {name: w, within: 1m, kubernetes: {deployment: a, readyReplicas: "lots"}}\n', 'x.yaml: method[0].wait-for.kubernetes.readyReplicas: invalid threshold "lots"'],
      ['title: t\nmethod:\n  - wait-for: {name: w, within: 1m, kubernetes: {hpa: a}}\n', 'x.yaml: method[0].wait-for.kubernetes: expected {deployment, readyReplicas}, {hpa, replicas}'],
      ['title: t\nmethod:\n  - start-load: {}\n', 'x.yaml: method: start-load/stop-load need a load section'],
      ['title: t\nmethod:\n  - http-fault: {service: myhero-app}\n', 'x.yaml: method[0].http-fault: needs exactly one of abort (an HTTP status) or delay (a duration)'],
      ['title: t\nmethod:\n  - http-fault: {service: myhero-app, abort: 500, delay: 5s}\n', 'x.yaml: method[0].http-fault: needs exactly one of abort'],
      ['title: t\nmethod:\n  - http-fault: {service: myhero-app, abort: 700}\n', 'x.yaml: method[0].http-fault.abort: expected a whole number ≤ 599'],
      ['title: t\nmethod:\n  - http-fault: {service: myhero-app, abort: 500, percent: 0}\n', 'x.yaml: method[0].http-fault.percent: expected a number ≥ 0.01'],
      ['title: t\nmethod:\n  - http-fault: {service: myhero-app, delay: 5s, duration: 10s}\n', 'x.yaml: method[0].http-fault.duration: must be longer than twice settle plus the delay (15s)'],
      ['title: t\nmethod:\n  - http-fault: {service: myhero-app, abort: 500, url: "http://u:pw@gw/"}\n', 'x.yaml: method[0].http-fault.url: invalid URL'],
      ['title: t\nmethod:\n  - start-load: {rate: 5}\n', 'x.yaml: method[0].start-load: takes no settings ({})'],
      ['title: t\nmethod:\n  - pause: 1s\nprobes:\n  - {name: p, load: {errorRate: "<= 1%"}}\n', 'x.yaml: probes: a load budget needs a load section'],
      ['title: t\nmethod:\n  - pause: 1s\nsteadyState:\n  - {name: p, load: {errorRate: "<= 1%"}}\n', 'x.yaml: steadyState[0]: unknown field "load"'],
      ['title: t\nmethod:\n  - pause: 1s\nprobes:\n  - {name: p, http: {url: "http://u:pw@host/health"}}\n', 'x.yaml: probes[0].http.url: invalid URL "http://[redacted]@host/health": expected a URL without user:password@'],
      ['title: t\nload: {target: "http://a:1", rate: 5, voters: 2, duration: 1m}\nmethod:\n  - pause: 1s\n', 'x.yaml: load: needs exactly one of rate (open model) or voters (closed model)'],
      ['title: t\nload: {target: "http://a:1", voters: 2.5, duration: 1m}\nmethod:\n  - pause: 1s\n', 'x.yaml: load.voters: expected a whole number, got 2.5'],
      ['title: t\ntypo: 1\nmethod:\n  - pause: 1s\n', 'x.yaml: top level: unknown field "typo"'],
      ['- just a list\n', 'x.yaml: top level: expected a mapping'],
      ['title: [unclosed\n', 'x.yaml is not valid YAML'],
    ];
    for (const [text, message] of cases) expect(mistake(text), text).toContain(message);
    // The yaml package's message goes on with the lines it cites; the one line ends at their place, not at a colon.
    expect(mistake('title: [unclosed\n')).toMatch(/^x\.yaml is not valid YAML: .* at line 2, column 1$/);
    expect(mistake('title: t\nmethod:\n  - pod-kill: {selector: tier=app, count: 1, grace: 0.5}\n')).not.toContain('0.5s');
    expect(() => parseGameday('title: t\nmethod:\n  - pause: 1s\n', 'x.yaml', { vars: {}, env: {} })).toThrow('x.yaml: no namespace: pass -n/--namespace');
  });
});

describe('the JSON Schema for editors (chaos/experiment.schema.json)', () => {
  const schema = JSON.parse(readFileSync(SCHEMA_FILE, 'utf8')) as object;
  const validate = new Ajv({ strict: false, allErrors: true }).compile(schema);

  it('is generated from the zod schema and up to date (npm run chaos:schema)', () => {
    expect(readFileSync(SCHEMA_FILE, 'utf8')).toBe(schemaText());
  });

  it('every shipped experiment points at it and validates against it as written, ${VARS} and all', () => {
    for (const f of shipped) {
      const text = readFileSync(f, 'utf8');
      expect(text.split('\n')[0], f).toBe('# yaml-language-server: $schema=../experiment.schema.json');
      expect(validate(parseYaml(text)), `${f}: ${JSON.stringify(validate.errors?.slice(0, 3))}`).toBe(true);
    }
  });

  it('flags in the editor what the loader refuses (negative control)', () => {
    const bad = (step: string) => parseYaml(`title: t\nmethod:\n  - ${step}\n`) as unknown;
    for (const step of ['pod-kill: {selector: tier=app, count: 1.5}', 'pod-kill: {selector: tier=app, count: 1, grace: 0.5}', 'pod-kill: {selector: tier=app, count: 1, typo: 1}', 'explode: {}', 'pod-kill: {selector: tier=app}']) {
      expect(validate(bad(step)), step).toBe(false);
    }
    expect(validate(bad('pod-kill: {selector: tier=app, count: 1}'))).toBe(true);
  });
});
