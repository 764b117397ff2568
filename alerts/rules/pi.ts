import { NODE, PROMETHEUS, RPI, type ThrottlePeriod, type ThrottleReason } from '../../lib/catalog.ts';
import { PI_THERMAL } from '../../lib/defaults.ts';
import { ARM_MACHINES, exporterMatchers, nodeExporterMatchers } from '../../lib/monitoring.ts';
import { rate, sel } from '../../lib/promql.ts';
import type { Alert, RuleContext, RuleGroup } from '../rule.ts';

// Raspberry Pi hardware, from the ARM exporter (arm_exporter's metric names).
// Evaluated every 30 s: a Pi heats from 70 to 80 °C in well under a minute
// under load, and the critical alert waits only two.

/** `rpi_throttled` flags are 0/1 per `reason` and `period` (vcgencmd get_throttled bits). */
function throttledFlag(ctx: RuleContext, reason: ThrottleReason, period: ThrottlePeriod): string {
  return `${sel(RPI.throttled, { ...exporterMatchers(ctx.selectors), reason, period })} == 1`;
}

/**
 * The hottest reading of the last minute above `threshold`. A board the
 * firmware holds at its limit hovers around it (79.9, 80.8, 79.9 …): a plain
 * `temperature > 80` would restart `for` at every dip and never fire, while the
 * minute's peak stays above it as long as the board keeps touching the limit.
 */
const hotEveryMinute = (temperature: string, threshold: number) => `max_over_time(${temperature}[1m]) > ${threshold}`;

/**
 * Where Pi alerts that fire on absence apply: clusters where node-exporter
 * reports an ARM node, or where node-exporter does not run at all (then nothing
 * tells, and a Pi cluster must not lose the alert). A cloud cluster whose
 * node-exporter reports only x86_64 nodes gets none of them.
 */
function armNodesOrUnknown(ctx: RuleContext): string {
  const node = nodeExporterMatchers(ctx.selectors);
  return `(count(${sel(NODE.unameInfo, { ...node, machine: { re: ARM_MACHINES.join('|') } })}) > 0 or absent(${sel(NODE.unameInfo, node)}))`;
}

export function piRules(ctx: RuleContext): RuleGroup {
  const exporter = exporterMatchers(ctx.selectors);
  const temperature = sel(RPI.cpuTemperature, exporter);
  const up = sel(PROMETHEUS.up, exporter);
  const absent = `absent(${up})`;
  const alerts: Alert[] = [
    {
      name: 'PiCpuTemperatureHigh',
      family: 'PiCpuTemperature',
      expr: hotEveryMinute(temperature, PI_THERMAL.warning),
      for: '5m',
      severity: 'warning',
      summary: 'Pi {{ $labels.instance }} CPU peaks at {{ $value | humanize }} °C',
      description: `The CPU of {{ $labels.instance }} has gone above ${PI_THERMAL.warning} °C every minute for 5 minutes (peak of the last minute: {{ $value | humanize }} °C). The firmware throttles at ${PI_THERMAL.throttle} °C.`,
    },
    {
      name: 'PiCpuTemperatureCritical',
      family: 'PiCpuTemperature',
      expr: hotEveryMinute(temperature, PI_THERMAL.throttle),
      for: '2m',
      severity: 'critical',
      summary: 'Pi {{ $labels.instance }} CPU peaks at {{ $value | humanize }} °C and throttles',
      description: `The CPU of {{ $labels.instance }} has gone above ${PI_THERMAL.throttle} °C every minute for 2 minutes (peak of the last minute: {{ $value | humanize }} °C): the firmware is throttling it, and hard-limits it at ${PI_THERMAL.hardLimit} °C.`,
    },
    {
      name: 'PiSoftTemperatureLimit',
      expr: throttledFlag(ctx, 'soft_temp_limit', 'now'),
      for: '5m',
      severity: 'warning',
      summary: 'Pi {{ $labels.instance }} is at its soft temperature limit',
      description: `The firmware of {{ $labels.instance }} has held its soft temperature limit for 5 minutes (vcgencmd get_throttled bit 3; from ${PI_THERMAL.softLimit} °C on a Pi 3B+): the ARM clock is lowered, below the ${PI_THERMAL.warning} °C warning.`,
    },
    {
      name: 'PiFrequencyCapped',
      expr: throttledFlag(ctx, 'arm_frequency_capped', 'now'),
      for: '5m',
      severity: 'warning',
      summary: 'Pi {{ $labels.instance }} has its ARM frequency capped',
      description:
        'The firmware of {{ $labels.instance }} has capped the ARM frequency for 5 minutes (vcgencmd get_throttled bit 1), from heat or low voltage: pods on this node run slower.',
    },
    {
      name: 'PiThrottled',
      expr: throttledFlag(ctx, 'throttled', 'now'),
      for: '2m',
      severity: 'warning',
      summary: 'Pi {{ $labels.instance }} is throttled',
      description:
        'The firmware of {{ $labels.instance }} has throttled its CPU for 2 minutes (vcgencmd get_throttled bit 2), from heat or low voltage: pods on this node run slower.',
    },
    {
      name: 'PiUnderVoltage',
      family: 'PiUnderVoltage',
      expr: throttledFlag(ctx, 'under_voltage', 'now'),
      for: '1m',
      severity: 'critical',
      summary: 'Pi {{ $labels.instance }} is under-voltage',
      description:
        'The supply of {{ $labels.instance }} has been below 4.63 V for 1 minute (vcgencmd get_throttled bit 0): the board throttles and its SD card risks corruption.',
    },
    {
      name: 'PiUnderVoltageOccurred',
      family: 'PiUnderVoltage',
      expr: throttledFlag(ctx, 'under_voltage', 'since_boot'),
      for: '1m',
      severity: 'warning',
      summary: 'Pi {{ $labels.instance }} has been under-voltage since boot',
      description:
        'The supply of {{ $labels.instance }} has dropped below 4.63 V at least once since the last boot (vcgencmd get_throttled bit 16): the power supply or cable is marginal under load.',
    },
    {
      name: 'PiExporterCollectorFailing',
      // Errors count scrapes in which a collector could not read a source; `up` stays 1 meanwhile.
      expr: `${rate(sel(RPI.collectorErrors, exporter), '5m')} > 0`,
      for: '10m',
      severity: 'warning',
      summary: 'ARM exporter {{ $labels.instance }} cannot read its {{ $labels.collector }} sources',
      description:
        'For 10 minutes the {{ $labels.collector }} collector of the ARM exporter at {{ $labels.instance }} has failed to read its sources (a /sys mount, a board without thermal zones, vcgencmd without /dev/vchiq): its series are missing although the target is up, so the alerts that read them are blind.',
    },
    {
      name: 'PiExporterDown',
      expr: `${up} == 0`,
      for: '5m',
      severity: 'warning',
      summary: 'ARM exporter {{ $labels.instance }} is down',
      description:
        'Prometheus has failed to scrape the ARM exporter at {{ $labels.instance }} (job {{ $labels.job }}) for 5 minutes: temperature, throttling and voltage alerts for that Pi are blind.',
    },
    {
      name: 'PiExporterAbsent',
      expr: ctx.piAlerts === 'on' ? absent : `${absent}\nand on ()\n${armNodesOrUnknown(ctx)}`,
      for: '15m',
      severity: 'warning',
      summary: 'No ARM exporter target (job {{ $labels.job }})',
      description:
        'Prometheus has had no target for job {{ $labels.job }} for 15 minutes: the exporter DaemonSet, its Service or ServiceMonitor is missing, so no Pi temperature is watched.',
    },
  ];
  return { name: 'myhero-ops.pi', interval: '30s', alerts: alerts.map((a) => ({ ...a, outsideNamespace: true })) };
}
