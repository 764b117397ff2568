import { PROMETHEUS, RPI } from '../../lib/catalog.ts';
import { PI_THERMAL } from '../../lib/defaults.ts';
import type { RuleContext } from '../rule.ts';
import { input, type AlertCase } from './case.ts';

const INSTANCE = 'pi-worker-1:9243';

export function piCases({ selectors: s }: RuleContext): AlertCase[] {
  const job = s.jobs.exporter;
  const target = { job, instance: INSTANCE };
  const warm = PI_THERMAL.warning + 5;
  const hot = PI_THERMAL.throttle + 5;
  const temperature = (values: string) => input(RPI.cpuTemperature, target, values);
  const flag = (reason: string, period: string, values: string) => input(RPI.throttled, { ...target, reason, period }, values);

  return [
    {
      alert: 'PiCpuTemperatureHigh',
      name: `fires after 5 m above ${PI_THERMAL.warning} °C`,
      series: [temperature(`60 ${warm}x10`)],
      evalTime: '8m',
      expect: [
        {
          labels: { ...target, severity: 'warning', alertgroup: 'PiCpuTemperature' },
          summary: `Pi ${INSTANCE} CPU is at ${warm} °C`,
          description: `The CPU of ${INSTANCE} has been above ${PI_THERMAL.warning} °C for 5 minutes (${warm} °C now). The firmware throttles at ${PI_THERMAL.throttle} °C.`,
        },
      ],
    },
    {
      alert: 'PiCpuTemperatureHigh',
      name: 'does not fire before 5 m',
      series: [temperature(`60 ${warm}x10`)],
      evalTime: '4m',
      expect: [],
    },
    {
      alert: 'PiCpuTemperatureHigh',
      name: 'does not fire just below the threshold',
      series: [temperature(`${PI_THERMAL.warning - 0.1}x20`)],
      evalTime: '15m',
      expect: [],
    },
    {
      alert: 'PiCpuTemperatureCritical',
      name: `fires after 1 m above ${PI_THERMAL.throttle} °C`,
      series: [temperature(`70 ${hot}x5`)],
      evalTime: '3m',
      expect: [
        {
          labels: { ...target, severity: 'critical', alertgroup: 'PiCpuTemperature' },
          summary: `Pi ${INSTANCE} CPU is at ${hot} °C and throttling`,
          description: `The CPU of ${INSTANCE} has been above ${PI_THERMAL.throttle} °C for 1 minute (${hot} °C now): the firmware is throttling it, and hard-limits it at ${PI_THERMAL.hardLimit} °C.`,
        },
      ],
    },
    {
      alert: 'PiCpuTemperatureCritical',
      name: 'does not fire on a spike shorter than 1 m',
      series: [temperature(`70 ${hot} 70x5`)],
      evalTime: '1m30s',
      expect: [],
    },
    {
      alert: 'PiCpuTemperatureCritical',
      name: 'does not fire at a warm but unthrottled temperature',
      series: [temperature(`${warm}x10`)],
      evalTime: '8m',
      expect: [],
    },
    {
      alert: 'PiThrottled',
      name: 'fires when throttled for 2 m',
      series: [flag('throttled', 'now', '0 1x5'), flag('throttled', 'since_boot', '0 1x5')],
      evalTime: '4m',
      expect: [
        {
          labels: { ...target, reason: 'throttled', period: 'now', severity: 'warning' },
          summary: `Pi ${INSTANCE} is throttled`,
          description: `The firmware of ${INSTANCE} has throttled its CPU for 2 minutes (vcgencmd get_throttled bit 2), from heat or low voltage: pods on this node run slower.`,
        },
      ],
    },
    {
      alert: 'PiThrottled',
      name: 'does not fire on a flag that flaps, nor on the soft temperature limit',
      series: [flag('throttled', 'now', '0 1 0 1 0 1'), flag('soft_temp_limit', 'now', '1x5')],
      evalTime: '5m',
      expect: [],
    },
    {
      alert: 'PiUnderVoltage',
      name: 'fires when under-voltage for 1 m',
      series: [flag('under_voltage', 'now', '0 1x3'), flag('under_voltage', 'since_boot', '0 1x3')],
      evalTime: '3m',
      expect: [
        {
          labels: { ...target, reason: 'under_voltage', period: 'now', severity: 'critical', alertgroup: 'PiUnderVoltage' },
          summary: `Pi ${INSTANCE} is under-voltage`,
          description: `The supply of ${INSTANCE} has been below 4.63 V for 1 minute (vcgencmd get_throttled bit 0): the board throttles and its SD card risks corruption.`,
        },
      ],
    },
    {
      alert: 'PiUnderVoltage',
      name: 'does not fire when it only happened earlier since boot',
      series: [flag('under_voltage', 'now', '0x5'), flag('under_voltage', 'since_boot', '1x5')],
      evalTime: '5m',
      expect: [],
    },
    {
      alert: 'PiUnderVoltageOccurred',
      name: 'fires once the since-boot flag is set',
      series: [flag('under_voltage', 'since_boot', '0 1x5')],
      evalTime: '3m',
      expect: [
        {
          labels: { ...target, reason: 'under_voltage', period: 'since_boot', severity: 'warning', alertgroup: 'PiUnderVoltage' },
          summary: `Pi ${INSTANCE} has been under-voltage since boot`,
          description: `The supply of ${INSTANCE} has dropped below 4.63 V at least once since the last boot (vcgencmd get_throttled bit 16): the power supply or cable is marginal under load.`,
        },
      ],
    },
    {
      alert: 'PiUnderVoltageOccurred',
      name: 'does not fire on a healthy supply',
      series: [flag('under_voltage', 'since_boot', '0x5'), flag('arm_frequency_capped', 'since_boot', '1x5')],
      evalTime: '5m',
      expect: [],
    },
    {
      alert: 'PiExporterDown',
      name: 'fires after 5 m of failed scrapes',
      series: [input(PROMETHEUS.up, target, '1 0x10')],
      evalTime: '7m',
      expect: [
        {
          labels: { ...target, severity: 'warning' },
          summary: `ARM exporter ${INSTANCE} is down`,
          description: `Prometheus has failed to scrape the ARM exporter at ${INSTANCE} (job ${job}) for 5 minutes: temperature, throttling and voltage alerts for that Pi are blind.`,
        },
      ],
    },
    {
      alert: 'PiExporterDown',
      name: 'does not fire when scrapes recover within 5 m',
      series: [input(PROMETHEUS.up, target, '1 0x3 1x5')],
      evalTime: '7m',
      expect: [],
    },
    {
      alert: 'PiExporterAbsent',
      name: 'fires after 15 m without any exporter target',
      series: [input(PROMETHEUS.up, { job: s.jobs.app, instance: '10.42.0.7:5000' }, '1x20')],
      evalTime: '16m',
      expect: [
        {
          labels: { job, severity: 'warning' },
          summary: `No ARM exporter target (job ${job})`,
          description: `Prometheus has had no target for job ${job} for 15 minutes: the exporter DaemonSet, its Service or ServiceMonitor is missing, so no Pi temperature is watched.`,
        },
      ],
    },
    {
      alert: 'PiExporterAbsent',
      name: 'does not fire while a target exists, even a failing one',
      series: [input(PROMETHEUS.up, target, '0x20')],
      evalTime: '16m',
      expect: [],
    },
  ];
}
