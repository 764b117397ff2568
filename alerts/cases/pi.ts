import { NODE, PROMETHEUS, RPI } from '../../lib/catalog.ts';
import { PI_THERMAL } from '../../lib/defaults.ts';
import type { RuleContext } from '../rule.ts';
import { input, type AlertCase } from './case.ts';

const INSTANCE = 'pi-worker-1:9243';

export function piCases({ selectors: s, piAlerts }: RuleContext): AlertCase[] {
  const job = s.jobs.exporter;
  const target = { job, instance: INSTANCE };
  const warm = PI_THERMAL.warning + 5;
  const hot = PI_THERMAL.throttle + 5;
  const temperature = (values: string) => input(RPI.cpuTemperature, target, values);
  const flag = (reason: string, period: string, values: string) => input(RPI.throttled, { ...target, reason, period }, values);
  const critical = (peak: number) => ({
    labels: { ...target, severity: 'critical', alertgroup: 'PiCpuTemperature' },
    summary: `Pi ${INSTANCE} CPU peaks at ${peak} °C and throttles`,
    description: `The CPU of ${INSTANCE} has gone above ${PI_THERMAL.throttle} °C every minute for 2 minutes (peak of the last minute: ${peak} °C): the firmware is throttling it, and hard-limits it at ${PI_THERMAL.hardLimit} °C.`,
  });
  // A board the firmware holds at its limit, sampled every 30 s: just under, just over, for 10 minutes.
  const below = PI_THERMAL.throttle - 0.1;
  const above = PI_THERMAL.throttle + 0.8;
  const hovering = Array.from({ length: 20 }, (_, i) => (i % 2 ? above : below)).join(' ');
  const uname = (machine: string) => input(NODE.unameInfo, { job: s.jobs.nodeExporter, instance: 'pi-worker-1:9100', machine, nodename: 'pi-worker-1' }, '1x20');
  const absentAlert = {
    labels: { job, severity: 'warning' },
    summary: `No ARM exporter target (job ${job})`,
    description: `Prometheus has had no target for job ${job} for 15 minutes: the exporter DaemonSet, its Service or ServiceMonitor is missing, so no Pi temperature is watched.`,
  };

  return [
    {
      alert: 'PiCpuTemperatureHigh',
      name: `fires after 5 m above ${PI_THERMAL.warning} °C`,
      series: [temperature(`60 ${warm}x10`)],
      evalTime: '8m',
      expect: [
        {
          labels: { ...target, severity: 'warning', alertgroup: 'PiCpuTemperature' },
          summary: `Pi ${INSTANCE} CPU peaks at ${warm} °C`,
          description: `The CPU of ${INSTANCE} has gone above ${PI_THERMAL.warning} °C every minute for 5 minutes (peak of the last minute: ${warm} °C). The firmware throttles at ${PI_THERMAL.throttle} °C.`,
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
      name: `fires after 2 m above ${PI_THERMAL.throttle} °C`,
      series: [temperature(`70 ${hot}x5`)],
      evalTime: '3m',
      expect: [critical(hot)],
    },
    {
      alert: 'PiCpuTemperatureCritical',
      name: `fires on a board the firmware holds at the limit, hovering ${below}/${above} °C`,
      interval: '30s',
      series: [temperature(hovering)],
      evalTime: '4m',
      expect: [critical(above)],
    },
    {
      alert: 'PiCpuTemperatureCritical',
      name: 'does not fire on one hot reading, nor on a board steady just below the limit',
      series: [temperature(`70 ${hot} 70x5`), input(RPI.cpuTemperature, { job, instance: 'pi-worker-2:9243' }, `${below}x10`)],
      evalTime: '4m',
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
      alert: 'PiSoftTemperatureLimit',
      name: 'fires when the soft temperature limit holds for 5 m',
      series: [flag('soft_temp_limit', 'now', '0 1x8'), flag('soft_temp_limit', 'since_boot', '0 1x8')],
      evalTime: '7m',
      expect: [
        {
          labels: { ...target, reason: 'soft_temp_limit', period: 'now', severity: 'warning' },
          summary: `Pi ${INSTANCE} is at its soft temperature limit`,
          description: `The firmware of ${INSTANCE} has held its soft temperature limit for 5 minutes (vcgencmd get_throttled bit 3; from ${PI_THERMAL.softLimit} °C on a Pi 3B+): the ARM clock is lowered, below the ${PI_THERMAL.warning} °C warning.`,
        },
      ],
    },
    {
      alert: 'PiSoftTemperatureLimit',
      name: 'does not fire when it only happened earlier since boot, nor on a flag that flaps',
      series: [flag('soft_temp_limit', 'since_boot', '1x8'), flag('soft_temp_limit', 'now', '0 1 1 0 1 1 1 0 1')],
      evalTime: '8m',
      expect: [],
    },
    {
      alert: 'PiFrequencyCapped',
      name: 'fires when the ARM frequency is capped for 5 m',
      series: [flag('arm_frequency_capped', 'now', '0 1x8')],
      evalTime: '7m',
      expect: [
        {
          labels: { ...target, reason: 'arm_frequency_capped', period: 'now', severity: 'warning' },
          summary: `Pi ${INSTANCE} has its ARM frequency capped`,
          description: `The firmware of ${INSTANCE} has capped the ARM frequency for 5 minutes (vcgencmd get_throttled bit 1), from heat or low voltage: pods on this node run slower.`,
        },
      ],
    },
    {
      alert: 'PiFrequencyCapped',
      name: 'does not fire when capping only happened earlier since boot',
      series: [flag('arm_frequency_capped', 'now', '0x8'), flag('arm_frequency_capped', 'since_boot', '1x8')],
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
      alert: 'PiExporterCollectorFailing',
      name: 'fires when a collector fails every scrape for 10 m while the target is up',
      interval: '30s',
      series: [input(PROMETHEUS.up, target, '1x40'), input(RPI.collectorErrors, { ...target, collector: 'thermal' }, '0+1x40'), input(RPI.collectorErrors, { ...target, collector: 'freq' }, '0x40')],
      evalTime: '15m',
      expect: [
        {
          labels: { ...target, collector: 'thermal', severity: 'warning' },
          summary: `ARM exporter ${INSTANCE} cannot read its thermal sources`,
          description: `For 10 minutes the thermal collector of the ARM exporter at ${INSTANCE} has failed to read its sources (a /sys mount, a board without thermal zones, vcgencmd without /dev/vchiq): its series are missing although the target is up, so the alerts that read them are blind.`,
        },
      ],
    },
    {
      alert: 'PiExporterCollectorFailing',
      name: 'does not fire on errors that stopped, nor on one failed read',
      interval: '30s',
      series: [input(RPI.collectorErrors, { ...target, collector: 'thermal' }, '0+1x10 10x30'), input(RPI.collectorErrors, { ...target, collector: 'vcgencmd' }, '0x20 1x20')],
      evalTime: '20m',
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
      name: 'fires after 15 m without any exporter target on a cluster with ARM nodes',
      series: [input(PROMETHEUS.up, { job: s.jobs.app, instance: '10.42.0.7:5000' }, '1x20'), uname('aarch64')],
      evalTime: '16m',
      expect: [absentAlert],
    },
    {
      alert: 'PiExporterAbsent',
      name: 'fires without any exporter target where node-exporter does not tell the architecture',
      series: [input(PROMETHEUS.up, { job: s.jobs.app, instance: '10.42.0.7:5000' }, '1x20')],
      evalTime: '16m',
      expect: [absentAlert],
    },
    {
      alert: 'PiExporterAbsent',
      name:
        piAlerts === 'on'
          ? 'fires on a cluster without ARM nodes too when Pi alerts are on'
          : 'does not fire on a cloud cluster whose node-exporter reports only x86_64 nodes',
      series: [input(PROMETHEUS.up, { job: s.jobs.app, instance: '10.42.0.7:5000' }, '1x20'), uname('x86_64')],
      evalTime: '16m',
      expect: piAlerts === 'on' ? [absentAlert] : [],
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
