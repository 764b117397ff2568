import { describe, expect, it } from 'vitest';
import { dashboardQueries, defaultVariableValues, substitute, type Substitution } from '../queries.ts';

const SUB: Substitution = { interval: '15s', rateInterval: '1m', range: '2h', variables: { job: 'myhero-.*', node: '.*', source: 'twin' } };

describe('substitute: Grafana macros and variables', () => {
  it('replaces every macro, the longest name first', () => {
    const now = 1_700_000_000_000;
    expect(substitute('rate(x[$__rate_interval]) $__interval $__interval_ms $__range $__range_s $__range_ms $__from $__to', SUB, now)).toBe(
      `rate(x[1m]) 15s 15000 2h 7200 7200000 ${now - 7_200_000} ${now}`,
    );
  });

  it('replaces $var, ${var}, ${var:format} and [[var]], and leaves label_replace references and unknown names alone', () => {
    expect(substitute('m{job=~"$job", a=~"${node}", b=~"${node:regex}", c="[[source]]"}', SUB)).toBe('m{job=~"myhero-.*", a=~".*", b=~".*", c="twin"}');
    expect(substitute('label_replace(m, "x", "$1", "y", "(.*)") + $unknown', SUB)).toBe('label_replace(m, "x", "$1", "y", "(.*)") + $unknown');
    // $job must not eat a longer name.
    expect(substitute('$jobs $job', SUB)).toBe('$jobs myhero-.*');
  });
});

const dashboard = {
  uid: 'x',
  templating: {
    list: [
      { type: 'datasource', name: 'datasource', query: 'prometheus' },
      { type: 'custom', name: 'source', query: 'twin,traefik', current: { text: 'traefik', value: 'traefik' } },
      { type: 'query', name: 'job', query: 'label_values(up{a="1"}, job)', includeAll: true, current: { value: '$__all' } },
      { type: 'query', name: 'node', query: { query: 'label_values(node_load1, instance)', refId: 'V' }, allValue: '.+' },
      { type: 'query', name: 'ns', query: 'label_values(namespace)' },
      { type: 'constant', name: 'k', query: '42' },
    ],
  },
  annotations: { list: [{ name: 'alerts', datasource: { uid: '${datasource}' }, expr: 'ALERTS' }, { name: 'tags', target: { type: 'tags' } }] },
  panels: [
    { id: 1, type: 'row', title: 'r', panels: [] },
    { id: 2, type: 'timeseries', title: 'a', targets: [{ refId: 'A', expr: 'up' }, { refId: 'B', expr: '' }] },
    { id: 3, type: 'row', title: 'collapsed', collapsed: true, panels: [{ id: 4, type: 'stat', title: 'inner', targets: [{ refId: 'A', expr: 'node_load1' }] }] },
  ],
};

describe('dashboardQueries and defaultVariableValues', () => {
  it('finds every panel query (also in collapsed rows), variable query and annotation query', () => {
    expect(dashboardQueries(dashboard).map((q) => [q.kind, q.where, q.expr])).toEqual([
      ['panel', 'panel 2 "a" query A', 'up'],
      ['panel', 'panel 4 "inner" query A', 'node_load1'],
      ['variable', 'variable $job', 'up{a="1"}'],
      ['variable', 'variable $node', 'node_load1'],
      ['annotation', 'annotation "alerts"', 'ALERTS'],
    ]);
  });

  it('opens with the custom choice, All for query variables, and constants', () => {
    expect(defaultVariableValues(dashboard)).toEqual({ source: 'traefik', job: '.*', node: '.+', ns: '.*', k: '42' });
  });
});
