import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadGameday, parseGameday } from '../experiment.ts';
import { describePlan } from '../plan.ts';
import { ROOT } from './fixtures/cluster.ts';

const parse = (text: string, vars: Record<string, string> = {}) => parseGameday(text, 'x.yaml', { namespace: 'default', vars, env: {} });

describe('game-day files', () => {
  it('every shipped experiment loads and prints its plan', () => {
    const dir = join(ROOT, 'chaos/experiments');
    for (const f of readdirSync(dir)) {
      const plan = loadGameday(join(dir, f), { namespace: 'default', vars: { MYHERO_APP_URL: 'http://127.0.0.1:30080' }, env: {} });
      expect(plan.method.length).toBeGreaterThan(0);
      expect(describePlan(plan).join('\n')).toContain('rollbacks: always run');
    }
    const hpa = loadGameday(join(dir, 'hpa.yaml'), { namespace: 'default', vars: { MYHERO_APP_URL: 'http://127.0.0.1:30080' }, env: {} });
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
      '  5. after the load: hpa myhero-app CPU below target within 2m, then scale-down after its stabilisation window (reported, not waited)',
      'verdict probes:',
      '  - serves the load with errors within budget: vote error rate <= 0.01',
      'rollbacks: always run (success, failure, timeout, Ctrl-C)',
    ]);
  });

  it('fills ${VARS} from --set, then the environment, then defaults, and refuses unset ones', () => {
    const text = 'title: t\nload: {target: "${URL}", rate: ${RATE:-5}, duration: 1m}\nmethod:\n  - pause: ${P:-2s} # ${NOT_FILLED} in a comment\n';
    const plan = parseGameday(text, 'x.yaml', { namespace: 'default', vars: { URL: 'http://a:1' }, env: { P: '3s' } });
    expect(plan.load).toMatchObject({ target: 'http://a:1', model: { kind: 'open', rate: 5 } });
    expect(plan.method).toEqual([{ kind: 'pause', ms: 3000 }]);
    expect(() => parse(text)).toThrow('x.yaml: ${URL} is not set (pass --set URL=... or set it in the environment)');
  });

  it('names the place of every mistake in one line', () => {
    const cases: [string, string][] = [
      ['method:\n  - pause: 1s\n', 'x.yaml: title: expected a non-empty string'],
      ['title: t\nmethod: []\n', 'x.yaml: method: an experiment needs at least one step'],
      ['title: t\nmethod:\n  - explode: {}\n', 'x.yaml: method[0]: unknown field "explode"'],
      ['title: t\nmethod:\n  - pod-kill: {selector: tier=app}\n', 'x.yaml: method[0].pod-kill: needs exactly one of count, percent'],
      ['title: t\nmethod:\n  - pod-kill: {selector: tier=app, percent: 150}\n', 'x.yaml: method[0].pod-kill.percent: expected at most 100'],
      ['title: t\nmethod:\n  - pause: soon\n', 'x.yaml: method[0].pause: invalid method[0].pause "soon": expected a duration such as 500ms, 30s, 2m'],
      ['title: t\nmethod:\n  - wait-for: {name: w, within: 1m, kubernetes: {deployment: a, readyReplicas: "lots"}}\n', 'x.yaml: method[0].wait-for.kubernetes.readyReplicas: invalid threshold "lots"'],
      ['title: t\nmethod:\n  - start-load: {}\n', 'x.yaml: method: start-load/stop-load need a load section'],
      ['title: t\nmethod:\n  - pause: 1s\nprobes:\n  - {name: p, load: {errorRate: "<= 1%"}}\n', 'x.yaml: probes: a load budget needs a load section'],
      ['title: t\ntypo: 1\nmethod:\n  - pause: 1s\n', 'x.yaml: top level: unknown field "typo"'],
      ['title: [unclosed\n', 'x.yaml is not valid YAML'],
    ];
    for (const [text, message] of cases) {
      let err: unknown;
      try {
        parse(text);
      } catch (e) {
        err = e;
      }
      expect((err as Error)?.message, text).toContain(message);
      expect((err as Error).message).not.toContain('\n');
    }
    expect(() => parseGameday('title: t\nmethod:\n  - pause: 1s\n', 'x.yaml', { vars: {}, env: {} })).toThrow('x.yaml: no namespace: pass -n/--namespace');
  });
});
