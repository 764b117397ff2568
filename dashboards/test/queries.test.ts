import { describe, expect, it } from 'vitest';
import { dashboardQueries, parseVariableQuery, variableExpression } from '../queries.ts';

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

describe('dashboardQueries', () => {
  it('finds every panel query (also in collapsed rows), variable query and annotation query', () => {
    expect(dashboardQueries(dashboard).map((q) => [q.kind, q.where, q.expr])).toEqual([
      ['panel', 'panel 2 "a" query A', 'up'],
      ['panel', 'panel 4 "inner" query A', 'node_load1'],
      ['variable', 'variable $job', 'up{a="1"}'],
      ['variable', 'variable $node', 'node_load1'],
      ['annotation', 'annotation "alerts"', 'ALERTS'],
    ]);
  });
});

describe('parseVariableQuery: the forms of a Prometheus variable query, read with Grafana\'s own patterns', () => {
  it.each([
    ['label_values(job)', { kind: 'label_values', label: 'job' }],
    ['label_values({}, job)', { kind: 'label_values', label: 'job' }],
    ['label_values(up{job=~"$job"}, instance)', { kind: 'label_values', label: 'instance', match: 'up{job=~"$job"}' }],
    // The last comma splits: a selector with commas stays whole.
    ['label_values(m{a="x", b="y"}, a)', { kind: 'label_values', label: 'a', match: 'm{a="x", b="y"}' }],
    ['label_names()', { kind: 'label_names' }],
    ['metrics(node_.*)', { kind: 'metrics', pattern: 'node_.*' }],
    ['query_result(topk(5, rate(y[5m])))', { kind: 'query_result', expr: 'topk(5, rate(y[5m]))' }],
    // Anything else (a leading space included, as in Grafana) is a series selector.
    [' query_result(x)', { kind: 'series', match: ' query_result(x)' }],
    ['up{job="a"}', { kind: 'series', match: 'up{job="a"}' }],
  ])('%s', (query, parsed) => {
    expect(parseVariableQuery(query)).toEqual(parsed);
  });
});

describe('variableExpression: the PromQL a variable query selects series with', () => {
  it.each([
    ['label_values(up{job=~"$job"}, instance)', 'up{job=~"$job"}'],
    ['label_values(sum by (a, b) (x), b)', 'sum by (a, b) (x)'],
    ['label_values(m{a="x,y"}, a)', 'm{a="x,y"}'],
    ['query_result(topk(5, rate(y[5m])))', 'topk(5, rate(y[5m]))'],
    ['up', 'up'],
  ])('%s → %s', (query, expr) => {
    expect(variableExpression(query)).toBe(expr);
  });
  it.each(['label_values(namespace)', 'label_names()', 'metrics(node_.*)', ''])('%s selects no series', (query) => {
    expect(variableExpression(query)).toBeUndefined();
  });
});
