import { describe, expect, it } from 'vitest';
import { metricNames } from '../metric-names.ts';

describe('metricNames: the metrics a PromQL expression reads', () => {
  const cases: [string, string[]][] = [
    ['up', ['up']],
    ['rate(http_requests_total{job="api", path=~"/a|/b"}[5m])', ['http_requests_total']],
    // Strings holding braces, commas, quotes and metric-like words are not selectors.
    ['foo{a="x{y,z}", b=\'q"uote\', c=`raw\\`} + bar', ['bar', 'foo']],
    ['label_replace(up, "node", "$1", "instance", "(node_load1):.*")', ['up']],
    // Aggregations with grouping before or after, grouping lists are labels not metrics.
    ['sum by (le, service) (rate(x_bucket[1m])) / ignoring(le) group_left(instance) sum without (cpu) (y)', ['x_bucket', 'y']],
    ['sum(rate(a[5m])) by (job) and on() vector(1) unless on (x) b', ['a', 'b']],
    ['topk(5, count_values("value", build_info)) or quantile(0.9, c)', ['build_info', 'c']],
    // Keywords, numbers, durations, offsets, @, subqueries.
    ['a offset 5m > bool 1e3 or b @ 1609746000 or max_over_time(c[1h:30s]) > Inf or d != NaN or 0x1F', ['a', 'b', 'c', 'd']],
    ['histogram_quantile(0.99, sum by (le) (rate(d_bucket[1h30m])))', ['d_bucket']],
    // __name__ matchers name metrics too; a label-only selector names none.
    ['{__name__="node_load1", instance="x"} + {job="y"}', ['node_load1']],
    // Grafana variables and macros anywhere.
    ['rate(m{instance=~"$node(:[0-9]+)?", job=~"${job:regex}"}[$__rate_interval]) * $__range_s / [[scale]]', ['m']],
    ['time() - kube_pod_created < bool 300', ['kube_pod_created']],
    ['ALERTS{alertstate="firing"}', ['ALERTS']],
    ['# a comment naming fake_metric\nreal_metric', ['real_metric']],
    ['absent(up{job="x"}) or scalar(z) > 0', ['up', 'z']],
    ['(a:recording:rule - b) / count by (instance) (c)', ['a:recording:rule', 'b', 'c']],
  ];
  it.each(cases)('%s', (expr, expected) => {
    expect(metricNames(expr)).toEqual(expected);
  });
});
