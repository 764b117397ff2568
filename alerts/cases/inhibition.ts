import { FAMILY_LABEL } from '../rule.ts';
import type { Selectors } from '../../lib/monitoring.ts';
import { sampleNamespace } from './case.ts';

// Alerts posted together to a real Alertmanager, and whether each must end up
// inhibited: a critical silences the warning of its own family on its own
// target, and nothing else.

export interface InhibitionCase {
  /** Why this alert is or is not inhibited. */
  why: string;
  labels: Record<string, string>;
  inhibited: boolean;
}

export function inhibitionCases(s: Selectors): InhibitionCase[] {
  const pi1 = { job: s.jobs.exporter, instance: 'pi-worker-1:9243' };
  const pi2 = { job: s.jobs.exporter, instance: 'pi-worker-2:9243' };
  const namespace = sampleNamespace(s);
  const temperature = { [FAMILY_LABEL]: 'PiCpuTemperature' };
  return [
    {
      why: 'the critical that inhibits',
      labels: { alertname: 'PiCpuTemperatureCritical', severity: 'critical', ...temperature, ...pi1 },
      inhibited: false,
    },
    {
      why: 'the warning of the same family on the same Pi',
      labels: { alertname: 'PiCpuTemperatureHigh', severity: 'warning', ...temperature, ...pi1 },
      inhibited: true,
    },
    {
      why: 'the same warning on another Pi',
      labels: { alertname: 'PiCpuTemperatureHigh', severity: 'warning', ...temperature, ...pi2 },
      inhibited: false,
    },
    {
      why: 'a warning of another family on the same Pi',
      labels: { alertname: 'PiUnderVoltageOccurred', severity: 'warning', [FAMILY_LABEL]: 'PiUnderVoltage', ...pi1, reason: 'under_voltage', period: 'since_boot' },
      inhibited: false,
    },
    {
      why: 'under-voltage now, on the second Pi',
      labels: { alertname: 'PiUnderVoltage', severity: 'critical', [FAMILY_LABEL]: 'PiUnderVoltage', ...pi2, reason: 'under_voltage', period: 'now' },
      inhibited: false,
    },
    {
      why: 'under-voltage since boot on that Pi: same family and target, though its period label differs',
      labels: { alertname: 'PiUnderVoltageOccurred', severity: 'warning', [FAMILY_LABEL]: 'PiUnderVoltage', ...pi2, reason: 'under_voltage', period: 'since_boot' },
      inhibited: true,
    },
    {
      why: 'the queue has no consumer',
      labels: { alertname: 'MyheroQueueNoConsumer', severity: 'critical', [FAMILY_LABEL]: 'MyheroQueue', namespace },
      inhibited: false,
    },
    {
      why: 'the backlog warning of that queue, whose cause the critical already names',
      labels: { alertname: 'MyheroQueueBacklogGrowing', severity: 'warning', [FAMILY_LABEL]: 'MyheroQueue', namespace },
      inhibited: true,
    },
    {
      why: 'the backlog warning of a queue in another namespace',
      labels: { alertname: 'MyheroQueueBacklogGrowing', severity: 'warning', [FAMILY_LABEL]: 'MyheroQueue', namespace: `${namespace}-2` },
      inhibited: false,
    },
    {
      why: 'a critical without a family',
      labels: { alertname: 'MyheroAppDown', severity: 'critical', namespace },
      inhibited: false,
    },
    {
      why: 'a warning without a family in the same namespace as that critical',
      labels: { alertname: 'MyheroLatencyP99High', severity: 'warning', namespace, job: s.jobs.app },
      inhibited: false,
    },
  ];
}
