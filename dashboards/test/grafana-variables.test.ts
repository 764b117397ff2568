import { describe, expect, it } from 'vitest';
import type { Listing, PrometheusApi, QueryAnswer } from '../../lib/prometheus-api.ts';
import { ALL_VALUE } from '../grafana-template.ts';
import { evaluateDashboards, queriesRun } from '../evaluate.ts';
import { applyRegexAndSort, defaultValue, grafanaRegex, resolveVariables, type VariableDef } from '../grafana-variables.ts';

// Variable resolution, Grafana's way. The Prometheus behind it is a recording
// stub here (what was asked, canned answers); the end-to-end tests resolve the
// same variables on a real Prometheus.

describe('regex and sort (grafana/scenes metricNamesToVariableValues)', () => {
  it('keeps the first capture group, drops non-matching values and duplicates', () => {
    expect(applyRegexAndSort(['pi-1:9100', 'pi-1:9243', 'pi-2:9100', ''], '/^([^:]+)/', 0)).toEqual(['pi-1', 'pi-2']);
    expect(applyRegexAndSort(['{node="pi-2"} 1 1700000000000', '{node="vm-3"} 1 1700000000000', '{other="x"} 1 0'], '/node="([^"]+)"/', 7)).toEqual(['pi-2', 'vm-3']);
  });

  it('prefers named groups, and takes every match of a global regex', () => {
    expect(applyRegexAndSort(['a:1', 'b:2'], '/(?<text>[a-z]+):(?<value>\\d+)/', 0)).toEqual(['1', '2']);
    expect(applyRegexAndSort(['x=1,x=2'], '/x=(\\d)/g', 0)).toEqual(['1', '2']);
  });

  it('reads a regex without slashes as a whole-value match', () => {
    expect(grafanaRegex('pi-.*').test('pi-1')).toBe(true);
    expect(grafanaRegex('pi-.*').test('a-pi-1')).toBe(false);
    expect(() => grafanaRegex('/unterminated')).toThrow(/not a valid regular expression/);
  });

  it('sorts naturally, alphabetically, numerically or not at all', () => {
    const v = ['node-10', 'Node-2', 'node-1'];
    expect(applyRegexAndSort(v, undefined, 7)).toEqual(['node-1', 'Node-2', 'node-10']);
    expect(applyRegexAndSort(v, undefined, 1)).toEqual(['Node-2', 'node-1', 'node-10']);
    expect(applyRegexAndSort(v, undefined, 3)).toEqual(['node-1', 'Node-2', 'node-10']);
    expect(applyRegexAndSort(v, undefined, 0)).toEqual(v);
  });
});

describe('the value Grafana settles on', () => {
  const def = (over: Partial<VariableDef>): VariableDef => ({ name: 'x', type: 'query', query: '', sort: 0, multi: true, includeAll: true, ...over });
  it('keeps All, keeps the saved values still offered, else takes the first option', () => {
    expect(defaultValue(def({ current: ALL_VALUE }), ['a', 'b'])).toBe(ALL_VALUE);
    expect(defaultValue(def({ current: ['b', 'gone'] }), ['a', 'b'])).toEqual(['b']);
    expect(defaultValue(def({ current: ['gone'] }), ['a', 'b'])).toEqual(['a']);
    expect(defaultValue(def({ multi: false, includeAll: false, current: 'gone' }), ['a', 'b'])).toBe('a');
  });
  it('with nothing found: All when offered, else nothing', () => {
    expect(defaultValue(def({ current: ['a'] }), [])).toBe(ALL_VALUE);
    expect(defaultValue(def({ includeAll: false }), [])).toEqual([]);
  });
});

/** A stand-in PrometheusApi answering from tables and recording every call. */
function stubApi(labels: Record<string, string[]>, instant: Record<string, QueryAnswer> = {}) {
  const calls: string[] = [];
  const listing = <T>(items: T[]): Promise<Listing<T>> => Promise.resolve({ items });
  const api: PrometheusApi = {
    url: 'stub',
    instant: (expr) => (calls.push(`query ${expr}`), Promise.resolve(instant[expr] ?? { result: [] })),
    range: (expr) => (calls.push(`query_range ${expr}`), Promise.resolve({ result: [] })),
    labelValues: (label, o) => (calls.push(`label ${label} ${o.match ?? ''}`), listing(labels[`${label} ${o.match ?? ''}`] ?? [])),
    series: () => listing([]),
    labelNames: () => listing([]),
  };
  return { api, calls };
}

const window = { from: 1_700_000_000_000, to: 1_700_003_600_000 };

describe('resolveVariables', () => {
  const dash = {
    templating: {
      list: [
        { type: 'datasource', name: 'datasource', query: 'prometheus' },
        { type: 'custom', name: 'source', query: 'twin,traefik : tr', current: { value: 'twin' } },
        { type: 'query', name: 'job', query: 'label_values(rpi_cpu_temperature_celsius, job)', multi: true, includeAll: true, sort: 7, current: { value: '$__all' } },
        {
          type: 'query',
          name: 'node',
          query: 'query_result(group by (node) (label_replace(last_over_time(m{job=~"$job"}[$__range]), "node", "$1", "instance", "(.*)")))',
          regex: '/node="([^"]+)"/',
          multi: true,
          includeAll: true,
          sort: 7,
          current: { value: '$__all' },
        },
      ],
    },
  };
  const nodes: QueryAnswer = {
    resultType: 'vector',
    result: ['pi-2', 'pi-1'].map((node) => ({ metric: { node }, values: [[1_700_003_600, '1']] as [number, string][] })),
  };
  const nodeQuery =
    'group by (node) (label_replace(last_over_time(m{job=~"(arm-exporter|arm\\\\.exporter\\\\.2)"}[3600s]), "node", "$1", "instance", "(.*)"))';

  it('runs each query with the values chosen before it, Grafana-formatted, and the variable macros', async () => {
    const { api, calls } = stubApi({ 'job rpi_cpu_temperature_celsius': ['arm.exporter.2', 'arm-exporter'] }, { [nodeQuery]: nodes });
    const { variables, runs } = await resolveVariables(api, dash, { window, scrapeIntervalMs: 15_000 });
    expect(calls).toEqual(['label job rpi_cpu_temperature_celsius', `query ${nodeQuery}`]);
    expect(variables.get('source')).toMatchObject({ options: ['twin', 'tr'], current: 'twin' });
    expect(variables.get('job')).toMatchObject({ options: ['arm-exporter', 'arm.exporter.2'], current: ALL_VALUE });
    expect(variables.get('node')).toMatchObject({ options: ['pi-1', 'pi-2'], current: ALL_VALUE });
    expect(runs.map((r) => [r.name, r.options.length, r.error])).toEqual([
      ['job', 2, undefined],
      ['node', 2, undefined],
    ]);
  });

  it('lets a chooser pick values, and reports a regex Grafana would reject', async () => {
    const { api } = stubApi({ 'job rpi_cpu_temperature_celsius': ['arm-exporter'] });
    const bad = structuredClone(dash);
    bad.templating.list[3]!.regex = '/(/';
    const { variables, runs } = await resolveVariables(api, bad, { window, scrapeIntervalMs: 15_000, choose: (d, o) => (d.name === 'job' ? [o[0]!] : undefined) });
    expect(variables.get('job')!.current).toEqual(['arm-exporter']);
    expect(runs.find((r) => r.name === 'node')!.error).toMatch(/^regex \/\(\/: /);
  });
});

describe('evaluateDashboards', () => {
  it('runs a panel once when later selections pick what an earlier one did, and counts only what it sent', async () => {
    const { api, calls } = stubApi({});
    // No variable to vary: All, one and two are the same selection.
    const dash = { title: 't', time: { from: 'now-1h' }, panels: [{ id: 1, type: 'timeseries', title: 'p', gridPos: { w: 12 }, targets: [{ refId: 'A', expr: 'up' }] }] };
    const evals = await evaluateDashboards(api, [{ name: 'd', json: dash }], { now: window.to, selections: ['all', 'one', 'two'] });
    expect(calls.filter((c) => c.startsWith('query_range'))).toEqual(['query_range up']);
    expect(evals[0]!.selections.map((s) => [s.kind, s.sameAs])).toEqual([
      ['all', undefined],
      ['one', 'all'],
      ['two', 'all'],
    ]);
    expect(queriesRun(evals)).toBe(1);
  });

  it('lists the metric names once per time window, not once per dashboard', async () => {
    const { api, calls } = stubApi({});
    const dash = (from: string) => ({ title: from, time: { from }, panels: [{ id: 1, type: 'stat', title: 'p', targets: [{ refId: 'A', expr: 'up', instant: true }] }] });
    await evaluateDashboards(api, ['now-1h', 'now-1h', 'now-15m', 'now-1h'].map((from, i) => ({ name: `d${i}`, json: dash(from) })));
    expect(calls.filter((c) => c.startsWith('label __name__'))).toHaveLength(2);
  });
});
