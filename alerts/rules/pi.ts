import { PROMETHEUS, RPI } from '../../lib/catalog.ts';
import { PI_THERMAL } from '../../lib/defaults.ts';
import type { RuleContext, RuleGroup } from '../rule.ts';
import { exporterMatchers } from '../../lib/monitoring.ts';
import { sel } from '../../lib/promql.ts';

// Raspberry Pi hardware, from the ARM exporter (arm_exporter's metric names).
// Evaluated every 30 s: a Pi heats from 70 to 80 °C in well under a minute
// under load, and the critical alert waits only one minute.

/** `rpi_throttled` flags are 0/1 per `reason` and `period` (vcgencmd get_throttled bits). */
function throttledFlag(ctx: RuleContext, reason: 'throttled' | 'under_voltage', period: 'now' | 'since_boot'): string {
  return `${sel(RPI.throttled, { ...exporterMatchers(ctx.selectors), reason, period })} == 1`;
}

export function piRules(ctx: RuleContext): RuleGroup {
  const exporter = exporterMatchers(ctx.selectors);
  const temperature = sel(RPI.cpuTemperature, exporter);
  const up = sel(PROMETHEUS.up, exporter);
  return {
    name: 'myhero-ops.pi',
    interval: '30s',
    alerts: [
      {
        name: 'PiCpuTemperatureHigh',
        family: 'PiCpuTemperature',
        expr: `${temperature} > ${PI_THERMAL.warning}`,
        for: '5m',
        severity: 'warning',
        summary: 'Pi {{ $labels.instance }} CPU is at {{ $value | humanize }} °C',
        description: `The CPU of {{ $labels.instance }} has been above ${PI_THERMAL.warning} °C for 5 minutes ({{ $value | humanize }} °C now). The firmware throttles at ${PI_THERMAL.throttle} °C.`,
      },
      {
        name: 'PiCpuTemperatureCritical',
        family: 'PiCpuTemperature',
        expr: `${temperature} > ${PI_THERMAL.throttle}`,
        for: '1m',
        severity: 'critical',
        summary: 'Pi {{ $labels.instance }} CPU is at {{ $value | humanize }} °C and throttling',
        description: `The CPU of {{ $labels.instance }} has been above ${PI_THERMAL.throttle} °C for 1 minute ({{ $value | humanize }} °C now): the firmware is throttling it, and hard-limits it at ${PI_THERMAL.hardLimit} °C.`,
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
        expr: `absent(${up})`,
        for: '15m',
        severity: 'warning',
        summary: 'No ARM exporter target (job {{ $labels.job }})',
        description:
          'Prometheus has had no target for job {{ $labels.job }} for 15 minutes: the exporter DaemonSet, its Service or ServiceMonitor is missing, so no Pi temperature is watched.',
      },
    ],
  };
}
