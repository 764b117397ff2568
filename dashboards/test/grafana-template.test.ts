import { describe, expect, it } from 'vitest';
import {
  ALL_VALUE,
  interpolate,
  panelQueryTiming,
  rangeMacros,
  referencedNames,
  roundInterval,
  secondsToHms,
  type ResolvedVariable,
  type TemplateContext,
  type VariableValue,
} from '../grafana-template.ts';

// Expected strings follow Grafana's Prometheus data source (escaping.ts) and
// template service; the e2e tests send them to a real Prometheus.

const multi = (name: string, options: string[], current: VariableValue, allValue?: string): ResolvedVariable => ({
  name,
  type: 'query',
  multi: true,
  includeAll: true,
  options,
  current,
  ...(allValue ? { allValue } : {}),
});
const single = (name: string, value: string): ResolvedVariable => ({ name, type: 'custom', multi: false, includeAll: false, options: [value], current: value });

const ctx = (vars: ResolvedVariable[], macros: Record<string, string> = {}): TemplateContext => ({ variables: new Map(vars.map((v) => [v.name, v])), macros });

describe('interpolate: variables as the Prometheus data source formats them', () => {
  it('joins several values of a multi-value variable as a regex alternation', () => {
    expect(interpolate('m{instance=~"$node"}', ctx([multi('node', ['pi-1', 'pi-2'], ['pi-1', 'pi-2'])]))).toBe('m{instance=~"(pi-1|pi-2)"}');
  });

  it('escapes regex metacharacters twice (regex, then PromQL string) in multi-value and All-capable variables', () => {
    const v = multi('instance', ['10.0.0.1:9100'], ['10.0.0.1:9100']);
    expect(interpolate('m{instance=~"$instance"}', ctx([v]))).toBe('m{instance=~"10\\\\.0\\\\.0\\\\.1:9100"}');
    const odd = multi('x', [], ['a+b(c)|d$', 'back\\slash']);
    expect(interpolate('$x', ctx([odd]))).toBe('(a\\\\+b\\\\(c\\\\)\\\\|d\\\\$|back\\\\\\\\slash)');
  });

  it('sends All as every value found when there is no custom all value, and () when none was found', () => {
    expect(interpolate('up{job=~"$job"}', ctx([multi('job', ['arm-exporter', 'node.exporter'], ALL_VALUE)]))).toBe('up{job=~"(arm-exporter|node\\\\.exporter)"}');
    expect(interpolate('up{job=~"$job"}', ctx([multi('job', ['arm-exporter'], ALL_VALUE)]))).toBe('up{job=~"arm-exporter"}');
    expect(interpolate('up{job=~"$job"}', ctx([multi('job', [], ALL_VALUE)]))).toBe('up{job=~"()"}');
  });

  it('sends a custom all value as written, unescaped', () => {
    expect(interpolate('m{namespace=~"$namespace"}', ctx([multi('namespace', ['a', 'b'], ALL_VALUE, '.*')]))).toBe('m{namespace=~".*"}');
    expect(interpolate('${namespace:text}', ctx([multi('namespace', ['a', 'b'], ALL_VALUE, '.*')]))).toBe('a,b');
  });

  it('leaves single-value variables unescaped for regex, escaping backslashes only', () => {
    expect(interpolate('"$source" "$path"', ctx([single('source', 'twin'), single('path', 'C:\\x.y')]))).toBe('"twin" "C:\\\\x.y"');
  });

  it('honours the four reference syntaxes and explicit formats', () => {
    const c = ctx([multi('node', [], ['a.b', 'c'])]);
    expect(interpolate('${node} [[node]] ${node:regex} ${node:pipe} ${node:csv} ${node:raw} ${node:glob} ${node:doublequote} ${node:nosuch}', c)).toBe(
      '(a\\\\.b|c) (a\\\\.b|c) (a\\.b|c) a.b|c a.b,c a.b,c {a.b,c} "a.b","c" {a.b,c}',
    );
  });

  it('keeps unknown names, label_replace references and longer names as written', () => {
    const c = ctx([single('job', 'x')]);
    expect(interpolate('label_replace(m, "n", "$1", "i", "(.*)") + $jobs + $job + $unknown', c)).toBe('label_replace(m, "n", "$1", "i", "(.*)") + $jobs + x + $unknown');
  });

  it('fills in macros, in any syntax', () => {
    const c = ctx([], { __rate_interval: '60s', __range: '3600s', __range_s: '3600' });
    expect(interpolate('rate(x[$__rate_interval]) * ${__range_s} / increase(x[${__range}]) + [[__range_s]]', c)).toBe('rate(x[60s]) * 3600 / increase(x[3600s]) + 3600');
  });

  it('lists the names a text refers to', () => {
    expect(referencedNames('m{a=~"$job", b="${node:regex}"}[$__range] [[x]]')).toEqual(['job', 'node', '__range', 'x']);
  });
});

describe('intervals: what Grafana computes for a panel query', () => {
  it('rounds to its ladder of nice intervals and prints them its way', () => {
    expect([5, 12, 300, 3000, 3600, 86_400, 3_600_000].map(roundInterval)).toEqual([1, 10, 200, 2000, 5000, 60_000, 3_600_000]);
    expect([0.2, 1, 15, 90, 3600, 86_400 * 2].map(secondsToHms)).toEqual(['200ms', '1s', '15s', '1m', '1h', '2d']);
  });

  it('1 h on a 1000-pixel panel with the default 15 s scrape interval: step 15 s, rate window 60 s', () => {
    const t = panelQueryTiming({ window: { from: 0, to: 3_600_000 }, maxDataPoints: 1000, scrapeIntervalMs: 15_000 });
    expect(t.step).toBe(15);
    expect(t.macros).toMatchObject({ __interval: '15s', __interval_ms: '15000', __rate_interval: '60s', __range: '3600s', __range_s: '3600' });
  });

  it('24 h: the range sets the interval (1 m) and the rate window is interval + scrape interval', () => {
    const t = panelQueryTiming({ window: { from: 0, to: 86_400_000 }, maxDataPoints: 1000, scrapeIntervalMs: 15_000 });
    expect(t.macros).toMatchObject({ __interval: '1m', __rate_interval: '75s' });
  });

  it('a 1 s scrape interval over 5 min: 1 s steps and a 4 s rate window', () => {
    const t = panelQueryTiming({ window: { from: 0, to: 300_000 }, maxDataPoints: 1000, scrapeIntervalMs: 1000 });
    expect([t.step, t.macros.__interval, t.macros.__rate_interval]).toEqual([1, '1s', '4s']);
  });

  it("a query's Min step raises the step and is the rate window's scrape interval", () => {
    const t = panelQueryTiming({ window: { from: 0, to: 3_600_000 }, maxDataPoints: 1000, scrapeIntervalMs: 15_000, queryMinStepMs: 60_000 });
    expect([t.step, t.macros.__interval, t.macros.__rate_interval]).toEqual([60, '60s', '240s']);
  });

  it('a long range on a narrow panel never asks Prometheus for more than 11000 points', () => {
    const t = panelQueryTiming({ window: { from: 0, to: 30 * 86_400_000 }, maxDataPoints: 100_000, scrapeIntervalMs: 1000 });
    expect((30 * 86_400) / t.step).toBeLessThanOrEqual(11_000);
  });

  it('rounds $__range to whole seconds', () => {
    expect(rangeMacros({ from: 1000, to: 3_601_400 })).toMatchObject({ __range: '3600s', __range_s: '3600', __range_ms: '3600400', __from: '1000', __to: '3601400' });
  });
});
